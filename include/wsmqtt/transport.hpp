// One interface for every way to reach a broker: ws://, wss://, mqtt:// (TCP), mqtts:// (TLS).
#pragma once

#include "wsmqtt/config.hpp"
#include "wsmqtt/exit_code.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace wsmqtt {

/// Bytes to send, in pieces: packets and the large payloads attached to them (written in place).
using send_buffers = std::vector<boost::asio::const_buffer>;

/// Bytes received, valid until the next read; or why nothing more will come.
struct read_result {
    std::span<std::uint8_t const> data;
    std::optional<failure> error;
    /// The read took all there was (it did not fill the buffer): stdout is written now. Over
    /// TLS a read ends with a TLS record (16 KiB at most), so there it may be a record that
    /// ended, with more waiting: stdout is then written once per record, not per message. A
    /// read through Beast's WebSocket stream (--compress) ends at each message: never drained.
    bool drained = false;
};

/// A byte pipe to the broker. One read and one write may be in flight at once.
class transport {
public:
    transport() = default;
    transport(transport const&) = delete;
    transport& operator=(transport const&) = delete;
    virtual ~transport() = default;

    /// Resolves, connects and runs the TLS and WebSocket handshakes, within the connect timeout.
    virtual boost::asio::awaitable<std::optional<failure>> connect() = 0;
    /// Waits for the next bytes from the broker.
    virtual boost::asio::awaitable<read_result> read() = 0;
    /// Sends all of `data` (one WebSocket binary message for ws/wss).
    virtual boost::asio::awaitable<std::optional<failure>> write(send_buffers const& data) = 0;
    /// Sends `data` as one part of a message that ends with the part marked `last` (for ws/wss,
    /// WebSocket fragments of one binary message): large writes in steps, for --progress.
    virtual boost::asio::awaitable<std::optional<failure>> write_part(send_buffers const& data, bool last) = 0;
    /// Closes politely (WebSocket close, TLS close_notify), bounded in time; errors ignored.
    virtual boost::asio::awaitable<void> close() = 0;
    /// Aborts everything now: pending operations complete with an error.
    virtual void cancel() noexcept = 0;
};

/// The transport for the configured endpoint. TLS state is created only for wss:// and mqtts://.
[[nodiscard]] std::unique_ptr<transport> make_transport(boost::asio::any_io_executor executor, config const& cfg);

} // namespace wsmqtt

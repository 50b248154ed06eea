// One interface for every way to reach a broker: ws://, wss://, mqtt:// (TCP), mqtts:// (TLS).
#pragma once

#include "wsmqtt/net/endpoint.hpp"
#include "wsmqtt/net/transport_error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace wsmqtt {

/// When each step of connect() ended (wsmqtt bench times them apart); a step not taken stays
/// at its default.
struct connect_marks {
    std::chrono::steady_clock::time_point tcp{};       ///< resolved and connected (and the proxy's handshake)
    std::chrono::steady_clock::time_point tls{};       ///< the TLS handshake
    std::chrono::steady_clock::time_point websocket{}; ///< the upgrade's answer
};

/// What a transport needs to know: where to, through what, and how (not the whole config).
struct transport_options {
    wsmqtt::endpoint endpoint;
    std::optional<wsmqtt::proxy> proxy;
    tls_options tls;
    websocket_options ws;    ///< its subprotocol already chosen (mqtt, or mqttv3.1 for MQTT 3.1)
    std::chrono::milliseconds connect_timeout{std::chrono::seconds{10}};
    std::uint64_t max_frame = 0; ///< longer WebSocket frames from the broker are refused (0: any)
    /// Diagnostic lines (-d): where we connect, the WebSocket upgrade's answer. Empty: none.
    std::function<void(std::string const&)> trace;
    /// The local address to connect from (IP_BIND_ADDRESS_NO_PORT: the port is chosen per
    /// destination, so that each address has its own ports). Empty: the kernel's choice.
    std::string bind_address;
    /// Connect to this address instead of resolving the endpoint's host, which the Host header,
    /// SNI and the certificate check still use (wsmqtt bench resolves once, not per client).
    std::string address;
    /// Reads land in a buffer this big (the pages a read touches stay resident: wsmqtt bench's
    /// thousands of clients take less than the 64 KiB one client reads with). Made at the first
    /// read that needs it.
    std::size_t buffer_size = 64 * 1024;
    /// mqtt:// only: read_when_ready() reads into this buffer, shared by every transport of the
    /// thread, instead of one of its own (wsmqtt bench: an idle connection holds no buffer).
    std::span<std::uint8_t> shared_buffer;
    /// WebSocket: outgoing messages go in frames this long at most (Beast's write buffer: smaller
    /// frames cost a write each, larger ones memory for every client that writes).
    std::size_t frame_size = 64 * 1024;
    /// Where connect() notes when each step ended; none when null. It must outlive connect().
    connect_marks* marks = nullptr;
    /// wss:// and mqtts://: a TLS context made once for many transports (make_tls_context());
    /// when null, each transport makes its own from `tls`.
    std::shared_ptr<boost::asio::ssl::context> tls_context;
};

/// Bytes to send, in pieces: packets and the large payloads attached to them (written in place).
using send_buffers = std::vector<boost::asio::const_buffer>;

/// Bytes received, valid until the next read; or why nothing more will come.
struct read_result {
    std::span<std::uint8_t const> data;
    std::optional<transport_error> error;
};

/// A byte pipe to the broker. One read and one write may be in flight at once.
class transport {
public:
    transport() = default;
    transport(transport const&) = delete;
    transport& operator=(transport const&) = delete;
    virtual ~transport() = default;

    /// Resolves, connects and runs the proxy, TLS and WebSocket handshakes, within the connect
    /// timeout.
    virtual boost::asio::awaitable<std::optional<transport_error>> connect() = 0;
    /// Waits for the next bytes from the broker: all that one read of the socket brought.
    virtual boost::asio::awaitable<read_result> read() = 0;
    /// read() without a coroutine, for callers that keep thousands of idle connections (wsmqtt
    /// bench): `done` gets the next bytes, valid until it returns; never called inside this
    /// call. mqtt:// takes no buffer until the socket is readable
    /// (transport_options::shared_buffer). One read_when_ready() or read() at a time.
    virtual void read_when_ready(std::function<void(read_result const&)> done) = 0;
    /// Sends all of `data` (ws/wss: as one binary message).
    virtual boost::asio::awaitable<std::optional<transport_error>> write(send_buffers const& data) = 0;
    /// Our side is done (after DISCONNECT): the WebSocket close frame, then FIN where it can be
    /// sent; errors are ignored. True when the broker's end is worth waiting for (read() then
    /// reports it): WebSocket's closing handshake (RFC 6455 §7.1.1). Over TCP and TLS the
    /// connection may be closed at once [MQTT-3.14.4-1].
    virtual boost::asio::awaitable<bool> shutdown() = 0;
    /// We fail the connection: the WebSocket close frame says why (1002 protocol error, 1009
    /// too big; RFC 6455 §7.4.1), best effort.
    virtual boost::asio::awaitable<void> fail(std::uint16_t ws_status) = 0;
    /// Closes the socket now: every pending operation completes with an error.
    virtual void cancel() noexcept = 0;
};

/// The transport for the endpoint. TLS state is created only for wss:// and mqtts://.
[[nodiscard]] std::unique_ptr<transport> make_transport(boost::asio::any_io_executor executor, transport_options options);

/// The TLS client context for `tls`, to share among transports (transport_options::tls_context):
/// wsmqtt bench loads the trusted certificates once, not once a connection (1 MiB and 25 ms of
/// CPU each with the system's CA store). A bad option sets `error`.
[[nodiscard]] std::shared_ptr<boost::asio::ssl::context> make_tls_context(tls_options const& tls, std::optional<transport_error>& error);

} // namespace wsmqtt

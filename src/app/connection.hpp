// One connection to the broker: a transport, and the session's reader, writer and timer, which
// start together and end together; run() says how it ended.
#pragma once

#include "../net/race.hpp"
#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/mqtt/session.hpp"
#include "wsmqtt/net/transport.hpp"

#include <boost/asio/steady_timer.hpp>

#include <optional>

namespace wsmqtt {

/// The bytes of the session's output with its attached payloads in place, into `pieces`.
void gather_pieces(send_buffers& pieces, mqtt::bytes const& bytes, std::vector<mqtt::session::attachment> const& attached);

/// What the connection's owner does with what the session produces.
class connection_handler {
public:
    /// One session event, in order. It may call connection::end().
    virtual void on_event(mqtt::event& e) = 0;
    /// Every event of one read (or timer) is handled: the moment to write stdout.
    virtual void after_events() = 0;
    /// `bytes` more were written to the transport.
    virtual void on_sent(std::size_t bytes) = 0;

protected:
    ~connection_handler() = default;
};

class connection {
public:
    /// `write_step`: writes larger than this go out in parts of it (so that progress can be
    /// shown); 0: whole.
    connection(boost::asio::any_io_executor const& ex, transport& t, mqtt::session& s, connection_handler& h, std::size_t write_step = 0);
    connection(connection const&) = delete;
    connection& operator=(connection const&) = delete;

    /// Sends CONNECT and runs until the connection ends, every coroutine of it finished.
    /// Returns why it ended (a transport's error in words: describe()); nullopt when it was the
    /// end we asked for (DISCONNECT sent, or end() without a reason).
    boost::asio::awaitable<std::optional<failure>> run();

    /// What the transport said when it ended the connection (nullopt: it did not end it).
    [[nodiscard]] std::optional<transport_errc> transport_reason() const
    {
        if (end_asked_ || disconnect_sent_) return std::nullopt;
        if (read_error_) return read_error_->code;
        if (write_error_) return write_error_->code;
        return std::nullopt;
    }
    /// The session has bytes to send.
    void wake_writer() { wakeup_writer_.notify(); }
    /// Ends the connection now: `why` (nullopt: as asked). With `send_queued`, what the session
    /// has queued goes out first (an MQTT 5 DISCONNECT saying why); then `ws_status` (1002,
    /// 1009), when it is not 0, tells a WebSocket broker why we close. Each within close_timeout.
    void end(std::optional<failure> why, std::uint16_t ws_status = 0, bool send_queued = false);

private:
    boost::asio::awaitable<void> read_loop();
    boost::asio::awaitable<void> write_loop();
    boost::asio::awaitable<void> timer_loop();
    boost::asio::awaitable<void> end_loop();
    /// Returns once the session's output is written.
    boost::asio::awaitable<void> written();
    /// Runs `loop`; when it ends, however, the transport is closed, so that the others end too.
    boost::asio::awaitable<void> closing(boost::asio::awaitable<void> loop);
    /// Takes the session's events to the handler, then wakes the writer and the timer as needed.
    void deliver();
    boost::asio::awaitable<std::optional<transport_error>> write(send_buffers const& pieces);

    transport& transport_;
    mqtt::session& session_;
    connection_handler& handler_;
    std::size_t const write_step_;
    wakeup wakeup_writer_;
    wakeup wakeup_end_;
    wakeup wakeup_written_; ///< a write has finished
    bool writing_ = false;
    boost::asio::steady_timer timer_;
    std::optional<std::chrono::steady_clock::time_point> armed_; ///< the timer's deadline
    bool end_asked_ = false;
    std::optional<failure> end_reason_;
    std::uint16_t end_ws_status_ = 0;
    bool end_sends_queued_ = false;
    std::optional<transport_error> read_error_;
    std::optional<transport_error> write_error_;
    bool disconnect_sent_ = false;
};

} // namespace wsmqtt

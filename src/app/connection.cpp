// One connection: the transport's bytes into the session, the session's bytes out through one
// write at a time, its deadlines on a timer. Four coroutines in one race(): the first to end
// ends the others, and an exception in any of them reaches run()'s caller.
#include "connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace wsmqtt {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;

/// How long the broker has to close the connection after our DISCONNECT, or after a failed
/// write for the reader to say what happened.
constexpr auto close_timeout = std::chrono::seconds{2};

/// `whole` cut into consecutive parts of at most `step` bytes.
std::vector<send_buffers> split(send_buffers const& whole, std::size_t step)
{
    std::vector<send_buffers> parts(1);
    std::size_t room = step;
    for (auto piece : whole) {
        while (piece.size() > 0) {
            if (room == 0) {
                parts.emplace_back();
                room = step;
            }
            auto const n = std::min(room, piece.size());
            parts.back().emplace_back(piece.data(), n);
            piece += n;
            room -= n;
        }
    }
    return parts;
}


} // namespace

void gather_pieces(send_buffers& pieces, mqtt::bytes const& bytes, std::vector<mqtt::session::attachment> const& attached)
{
    pieces.clear();
    std::size_t from = 0;
    for (auto const& a : attached) {
        if (a.at > from) pieces.emplace_back(bytes.data() + from, a.at - from);
        pieces.emplace_back(a.payload->data(), a.payload->size());
        from = a.at;
    }
    if (bytes.size() > from) pieces.emplace_back(bytes.data() + from, bytes.size() - from);
}

connection::connection(net::any_io_executor const& ex, transport& t, mqtt::session& s, connection_handler& h, std::size_t write_step)
    : transport_{t}
    , session_{s}
    , handler_{h}
    , write_step_{write_step}
    , wakeup_writer_{ex}
    , wakeup_end_{ex}
    , wakeup_written_{ex}
    , timer_{ex}
{
}

net::awaitable<std::optional<failure>> connection::run()
{
    session_.start(clock::now()); // CONNECT [MQTT-3.1.0-1]
    wakeup_writer_.notify();
    // The writer first: CONNECT leads whatever the reader may have to answer (a PING).
    co_await race(closing(write_loop()), closing(read_loop()), closing(timer_loop()), closing(end_loop()));
    if (end_asked_) co_return end_reason_;
    if (disconnect_sent_) co_return std::nullopt; // the broker closing after our DISCONNECT
    // The reader's words first: a TLS alert about our certificate comes with the reset that
    // made a write fail.
    co_return describe(read_error_.value_or(write_error_.value_or(transport_error{transport_errc::closed})));
}

void connection::end(std::optional<failure> why, std::uint16_t ws_status, bool send_queued)
{
    if (end_asked_) return;
    end_asked_ = true;
    end_reason_ = std::move(why);
    end_ws_status_ = ws_status;
    end_sends_queued_ = send_queued;
    wakeup_end_.notify();
}

net::awaitable<void> connection::closing(net::awaitable<void> loop)
{
    struct closer {
        transport& t;
        ~closer() { t.cancel(); }
    } const guard{transport_};
    co_await std::move(loop);
}

net::awaitable<void> connection::read_loop()
{
    while (true) {
        auto r = co_await transport_.read();
        if (r.error) {
            read_error_ = std::move(r.error);
            co_return;
        }
        session_.receive(r.data, clock::now());
        deliver();
    }
}

net::awaitable<void> connection::write_loop()
{
    mqtt::bytes buffer; // what is being written; the session fills a fresh one meanwhile
    std::vector<mqtt::session::attachment> attached;
    send_buffers pieces;
    while (true) {
        auto& pending = session_.output();
        if (pending.empty()) {
            if (disconnect_sent_) {
                // DISCONNECT is out: end our side and close [MQTT-3.14.4-1]. Over WebSocket the
                // broker's close frame comes first (RFC 6455 §7.1.1): the reader ends the
                // connection when it sees it, or after close_timeout we do.
                bool const wait = co_await transport_.shutdown();
                auto const state = co_await boost::asio::this_coro::cancellation_state;
                if (wait && !cancelled(state)) co_await sleep(close_timeout); // ended already: no await, no throw
                co_return;
            }
            co_await wakeup_writer_.wait();
            auto const state = co_await boost::asio::this_coro::cancellation_state;
            if (cancelled(state)) co_return;
            continue;
        }
        bool const disconnect = session_.is_disconnecting(); // DISCONNECT is the last packet queued
        buffer.clear();
        std::swap(buffer, pending);
        attached.clear();
        std::swap(attached, session_.attachments());
        gather_pieces(pieces, buffer, attached);
        writing_ = true;
        auto f = co_await write(pieces);
        writing_ = false;
        wakeup_written_.notify();
        if (f) {
            write_error_ = std::move(f);
            co_await sleep(close_timeout); // the reader ends sooner, with better words if it has them
            co_return;
        }
        if (disconnect) disconnect_sent_ = true;
    }
}

net::awaitable<std::optional<transport_error>> connection::write(send_buffers const& pieces)
{
    auto const size = net::buffer_size(pieces);
    if (write_step_ == 0 || size <= write_step_) {
        auto f = co_await transport_.write(pieces);
        if (!f) handler_.on_sent(size);
        co_return f;
    }
    // In parts (over WebSocket, a message each: MQTT packets may span them [MQTT-6.0.0-2]).
    for (auto const& part : split(pieces, write_step_)) {
        if (auto f = co_await transport_.write(part)) co_return f;
        handler_.on_sent(net::buffer_size(part));
    }
    co_return std::nullopt;
}

net::awaitable<void> connection::timer_loop()
{
    while (true) {
        armed_ = session_.next_deadline();
        timer_.expires_at(armed_.value_or(clock::time_point::max()));
        auto [ec] = co_await timer_.async_wait(use_tuple);
        auto const state = co_await boost::asio::this_coro::cancellation_state;
        if (cancelled(state)) co_return;
        if (!ec) {
            session_.on_timer(clock::now());
            deliver();
        }
        // Cancelled by deliver(): the deadline moved earlier. Arm again.
    }
}

net::awaitable<void> connection::end_loop()
{
    co_await wakeup_end_.wait();
    auto const state = co_await boost::asio::this_coro::cancellation_state;
    if (cancelled(state)) co_return;
    // What the session queued last (a DISCONNECT with its reason) goes out first, within bounds.
    if (end_sends_queued_ && (!session_.output().empty() || writing_)) {
        co_await race(written(), sleep(close_timeout));
        auto const after = co_await boost::asio::this_coro::cancellation_state;
        if (cancelled(after)) co_return;
    }
    // Tell a WebSocket broker why (a close frame), within bounds.
    if (end_ws_status_ != 0) co_await race(transport_.fail(end_ws_status_), sleep(close_timeout));
}

net::awaitable<void> connection::written()
{
    while (!session_.output().empty() || writing_) {
        co_await wakeup_written_.wait();
        auto const state = co_await boost::asio::this_coro::cancellation_state;
        if (cancelled(state)) co_return;
    }
}

void connection::deliver()
{
    // Events are taken one by one: a message taken is acknowledged, so none is taken once the
    // connection is ending.
    while (!end_asked_) {
        auto e = session_.poll_event();
        if (!e) break;
        handler_.on_event(*e);
    }
    handler_.after_events();
    if (!session_.output().empty()) wakeup_writer_.notify();
    // Sending moves the keepalive deadline later, and waking early is harmless: re-arm the
    // timer only for an earlier deadline.
    if (auto const next = session_.next_deadline(); next && (!armed_ || *next < *armed_)) timer_.cancel();
}

} // namespace wsmqtt

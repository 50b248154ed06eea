// One client of `wsmqtt bench` (bench_client.hpp).
#include "bench_client.hpp"

#include "connection.hpp"
#include "wsmqtt/output.hpp"
#include "wsmqtt/session_words.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace wsmqtt {
namespace {

namespace net = boost::asio;
using bench::figure;

} // namespace

bench_client::bench_client(net::any_io_executor const& ex, bench_shared& shared, std::uint64_t number, std::uint64_t limit,
                           std::string const& bind_address)
    : shared_{shared}
    , options_{shared.cfg.bench}
    , number_{number}
    , limit_{limit}
    , bind_address_{bind_address}
    , session_{[&] {
        auto o = shared.session;
        o.connect.client_id = options_.prefix + std::to_string(number);
        return o;
    }()}
    , timer_{ex}
{
}

std::string bench_client::expand(std::string const& pattern) const
{
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '%' && i + 1 < pattern.size() && (pattern[i + 1] == 'i' || pattern[i + 1] == 'c')) {
            out += pattern[i + 1] == 'i' ? std::to_string(number_) : session_.client_id();
            ++i;
        } else {
            out += pattern[i];
        }
    }
    return out;
}

namespace {

/// The client's transport (not in run(): its options would stay in the coroutine's frame).
std::unique_ptr<transport> make_client_transport(net::any_io_executor const& ex, transport_options const& shared, connect_marks& marks,
                                                 std::string const& bind_address)
{
    auto options = shared;
    options.marks = &marks;
    options.bind_address = bind_address;
    return make_transport(ex, std::move(options));
}

} // namespace

net::awaitable<void> bench_client::run(clock::time_point publish_from, clock::duration stagger)
{
    publish_from_ = publish_from;
    stagger_ = stagger;
    transport_ = make_client_transport(co_await net::this_coro::executor, shared_.transport, marks_, bind_address_);
    started_ = clock::now();
    auto const refused = co_await transport_->connect();
    if (refused || closing_) { // closing_: stopped or ended while connecting, not a failure
        if (refused && !closing_) {
            ++shared_.counters.connect_failed;
            fail(describe(*refused));
        }
        transport_.reset();
        finish();
        co_return;
    }
    connect_sent_ = clock::now();
    session_.start(connect_sent_); // CONNECT [MQTT-3.1.0-1]
    open_ = true;
    shared_.started();
    read_next();
    poke();
}

void bench_client::read_next()
{
    reading_ = true;
    transport_->read_when_ready([this](read_result const& r) { on_read(r); });
}

void bench_client::on_read(read_result const& r)
{
    reading_ = false;
    try {
        if (r.error) {
            if (lost_words_.empty()) lost_words_ = describe(*r.error).message;
            close();
        } else {
            auto const now = clock::now();
            session_.receive(r.data, now);
            deliver(now);
            if (!closing_) read_next();
        }
    } catch (...) {
        shared_.caught(std::current_exception());
        close();
    }
    settle();
}

void bench_client::close()
{
    if (closing_) return;
    closing_ = true;
    if (transport_) transport_->cancel(); // a connect under way, or a pending read or write, ends
    timer_.cancel();                      // a sender asleep ends
}

void bench_client::settle()
{
    if (!open_ || !closing_ || reading_ || sending_ || settling_) return;
    settling_ = true;
    // On the next turn: the transport is not destroyed inside its own completion.
    net::post(timer_.get_executor(), [this] {
        open_ = false;
        if (connected_) --shared_.open_connections;
        if (!stop_asked_ && !end_asked_) {
            ++(connected_ ? shared_.counters.disconnected : shared_.counters.connect_failed);
            fail({exit_code::network, lost_words_.empty() ? "the broker closed the connection" : lost_words_});
        }
        transport_.reset();
        finish();
        shared_.ended(nullptr);
    });
}

void bench_client::stop()
{
    if (stop_asked_) return;
    stop_asked_ = true;
    if (!connected_) close(); // a connect under way, or a CONNACK not come yet, ends, not as a failure
    poke();
}

void bench_client::end()
{
    end_asked_ = true;
    close();
}

void bench_client::poke()
{
    poked_ = true;
    if (sending_) {
        timer_.cancel();
        return;
    }
    if (!open_ || closing_) return;
    // On the next turn of the loop, not inside whatever poked (the reader's deliver()).
    sending_ = true;
    net::post(timer_.get_executor(), [this] {
        if (closing_) {
            sending_ = false;
            return settle();
        }
        shared_.started();
        net::co_spawn(timer_.get_executor(), send_loop(), [this](std::exception_ptr e) {
            sending_ = false;
            shared_.ended(e);
            if (e) close();
            settle();
        });
    });
}

void bench_client::tick(clock::time_point now)
{
    if (!open_ || closing_) return;
    if (auto const due = session_.next_deadline(); due && *due <= now) {
        session_.on_timer(now);
        deliver(now);
    }
}

void bench_client::publish_due(clock::time_point now)
{
    auto const qos = shared_.cfg.qos;
    auto const overrun = schedule_->overrun();
    // At most 64 KiB a write: a client that fell behind keeps its backlog in the schedule (late
    // messages, counted from their planned time), not in memory.
    constexpr std::size_t batch_bytes = 64 * 1024;
    while ((qos == mqtt::qos::at_most_once || in_flight_.size() < options_.inflight) && session_.output().size() < batch_bytes) {
        auto const p = schedule_->take(now);
        if (!p) break;
        auto const planned_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(p->due.time_since_epoch() + shared_.system_offset);
        bench::stamp(payload_, {static_cast<std::uint32_t>(number_), p->sequence, planned_ns.count()});
        auto const r = session_.publish({topic_, payload_, qos, false, false, 0, shared_.cfg.v5.publish}, now);
        if (r.ec) {
            fail({exit_code::usage, "cannot publish to " + topic_ + ": " + r.ec.message()});
            end();
            return;
        }
        ++shared_.counters.published;
        shared_.counters.bytes_out += payload_.size();
        if (qos == mqtt::qos::at_most_once) unwritten_.push_back(p->due);
        else in_flight_.emplace_back(r.packet_id, p->due);
    }
    shared_.counters.overrun += schedule_->overrun() - overrun;
    if (!schedule_->next_due() && in_flight_.empty()) finish(); // every message out and acknowledged
}

net::awaitable<void> bench_client::send_loop()
{
    mqtt::bytes buffer;
    std::vector<mqtt::session::attachment> attached;
    std::vector<clock::time_point> writing;
    send_buffers pieces;
    while (!closing_) {
        auto const now = clock::now();
        bool const window_open = shared_.cfg.qos == mqtt::qos::at_most_once || in_flight_.size() < options_.inflight;
        if (schedule_ && !stop_asked_ && window_open) publish_due(now);
        // Stopped: DISCONNECT once what is in flight is acknowledged (the run's grace bounds it).
        if (stop_asked_ && !disconnect_queued_ && in_flight_.empty() && session_.is_connected()) {
            session_.disconnect(now);
            disconnect_queued_ = true;
        }
        auto& pending = session_.output();
        if (pending.empty()) {
            if (disconnect_sent_) {
                // DISCONNECT is out: our side ends [MQTT-3.14.4-1] (WebSocket: Beast's close).
                (void)co_await transport_->shutdown();
                close();
                co_return;
            }
            if (std::exchange(poked_, false)) continue;
            std::optional<clock::time_point> due;
            if (schedule_ && !stop_asked_ && window_open) due = schedule_->next_due();
            if (!due) co_return; // nothing to write until poked: an idle connection holds no coroutine
            timer_.expires_at(*due);
            auto [ec] = co_await timer_.async_wait(use_tuple);
            (void)ec; // poked, or due: look again
            continue;
        }
        bool const disconnect = session_.is_disconnecting();
        buffer.clear();
        std::swap(buffer, pending);
        attached.clear();
        std::swap(attached, session_.attachments());
        gather_pieces(pieces, buffer, attached);
        writing.clear();
        std::swap(writing, unwritten_);
        if (auto f = co_await transport_->write(pieces)) {
            if (lost_words_.empty()) lost_words_ = describe(*f).message;
            close();
            co_return;
        }
        // QoS 0: a message is as good as sent once the socket took it.
        auto const written = clock::now();
        for (auto const planned : writing) shared_.record(figure::publish, written - planned);
        if (disconnect) disconnect_sent_ = true;
    }
}

void bench_client::deliver(clock::time_point now)
{
    while (auto e = session_.poll_event()) {
        if (auto* c = std::get_if<mqtt::connected>(&*e)) {
            (void)c;
            on_connected(now);
        } else if (auto* m = std::get_if<mqtt::message_received>(&*e)) {
            ++shared_.counters.received;
            ++received_;
            auto const& payload = m->message.payload;
            shared_.counters.bytes_in += payload.size();
            if (auto const h = bench::read_header({reinterpret_cast<std::uint8_t const*>(payload.data()), payload.size()})) {
                auto const now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
                shared_.record(figure::e2e, std::chrono::nanoseconds{now_ns.count() - h->planned_ns});
                // Skipped numbers count as lost when the gap shows; one that comes later is out
                // of order, and the summary's loss is the difference.
                auto const skipped = tracker_.lost();
                auto const verdict = tracker_.take(h->publisher, h->sequence);
                if (verdict == bench::sequence_tracker::verdict::gap) shared_.counters.lost += tracker_.lost() - skipped;
                else if (verdict == bench::sequence_tracker::verdict::late) ++shared_.counters.out_of_order;
                else if (verdict == bench::sequence_tracker::verdict::duplicate) ++shared_.counters.duplicated;
            }
            if (limit_ != 0 && received_ == limit_) finish();
        } else if (auto* a = std::get_if<mqtt::publish_complete>(&*e)) {
            auto const it = std::find_if(in_flight_.begin(), in_flight_.end(), [&](auto const& f) { return f.first == a->packet_id; });
            if (it != in_flight_.end()) {
                shared_.record(figure::publish, now - it->second);
                *it = in_flight_.back();
                in_flight_.pop_back();
            }
            ++shared_.counters.acked;
            if (a->reason_code >= 0x80) fail({exit_code::message_refused, "the broker refused a message to " + topic_});
            if (schedule_ && !schedule_->next_due() && in_flight_.empty()) finish();
            poke(); // a place in the window
        } else if (auto* s = std::get_if<mqtt::subscribe_complete>(&*e)) {
            shared_.record(figure::suback, now - subscribe_sent_);
            if (std::any_of(s->return_codes.begin(), s->return_codes.end(), [](auto code) { return code >= 0x80; })) {
                fail({exit_code::subscription_refused, "the broker refused the subscription to " + expand(shared_.cfg.topics.front())});
                end();
            } else if (++shared_.subscribed == shared_.subscribers && !shared_.cfg.quiet) {
                // What a script waits for before it starts the publishers.
                write_stderr(fmt::format("wsmqtt bench: {} of {} subscribed\n", shared_.subscribed, shared_.subscribers));
            }
        } else if (auto* f = std::get_if<mqtt::session_failed>(&*e)) {
            auto const& cfg = shared_.cfg;
            auto words = describe(*f, {host_and_port(cfg.endpoint), cfg.connect_timeout, cfg.keepalive, cfg.max_packet_size, cfg.username.has_value(),
                                       cfg.version, {}});
            if (lost_words_.empty()) lost_words_ = words.message;
            fail(std::move(words));
            end();
        }
    }
    if (!session_.output().empty()) poke();
}

void bench_client::on_connected(clock::time_point now)
{
    connected_ = true;
    ++shared_.counters.connected;
    ++shared_.open_connections;
    shared_.record(figure::connect, now - started_);
    auto step_start = started_;
    if (marks_.tcp != clock::time_point{}) {
        shared_.record(figure::tcp, marks_.tcp - step_start);
        step_start = marks_.tcp;
    }
    if (marks_.tls != clock::time_point{}) {
        shared_.record(figure::tls, marks_.tls - step_start);
        step_start = marks_.tls;
    }
    if (marks_.websocket != clock::time_point{}) shared_.record(figure::websocket, marks_.websocket - step_start);
    shared_.record(figure::connack, now - connect_sent_);
    if (options_.what == bench_options::mode::sub) {
        subscribe_sent_ = now;
        (void)session_.subscribe({{expand(shared_.cfg.topics.front()), shared_.cfg.qos}}, now, shared_.cfg.v5.subscribe);
    }
    if (options_.what == bench_options::mode::pub) {
        // Message k at start + stagger + k × interval, whatever happens.
        topic_ = expand(shared_.cfg.topics.front());
        payload_ = bench::make_payload({}, options_.size);
        schedule_.emplace(std::max(now, publish_from_) + stagger_, options_.interval, limit_);
    }
    poke();
}

void bench_client::fail(failure f)
{
    if (!shared_.first_failure) shared_.first_failure = std::move(f);
}

void bench_client::finish()
{
    if (finished_) return;
    finished_ = true;
    ++shared_.finished;
    shared_.progress.notify();
}

} // namespace wsmqtt

// One client of `wsmqtt bench`: a transport and a session, lean enough for thousands on one
// loop. An idle connection holds no coroutine (and over mqtt:// no read buffer of its own;
// bench/results/2026-12-06-bench.md has where its memory goes): run() connects and returns; the
// reader is a callback (transport::read_when_ready()); the sender is a coroutine started when
// there is something to write (poke()) that ends when there is nothing left, or sleeps on the
// client's one timer while a publisher's next message is due. The run counts the connection
// and each sender (bench_shared::started(), ended()) and sees their exceptions; when the
// connection closes and neither is left, settle() counts it out. Keepalive and the CONNACK wait
// run off the run's one-second tick (tick()), not a timer per client.
#pragma once

#include "../net/race.hpp"
#include "wsmqtt/bench/payload.hpp"
#include "wsmqtt/bench/report.hpp"
#include "wsmqtt/bench/schedule.hpp"
#include "wsmqtt/config.hpp"
#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/mqtt/session.hpp"
#include "wsmqtt/net/transport.hpp"

#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace wsmqtt {

/// What every client of a run shares: the settings, and what they measure this second.
struct bench_shared {
    bench_shared(config const& c, transport_options t, mqtt::session_options s, boost::asio::any_io_executor const& ex)
        : cfg{c}, transport{std::move(t)}, session{std::move(s)}, progress{ex}
    {
    }

    config const& cfg;
    transport_options transport;
    mqtt::session_options session;
    std::chrono::nanoseconds system_offset{}; ///< system_clock minus steady_clock, for the header's planned time
    bench::counters counters;                 ///< this second
    std::array<bench::histogram, bench::figure_count> latency; ///< this second
    std::uint64_t open_connections = 0;
    std::uint64_t finished = 0;               ///< clients whose work is done (-L reached, or gone)
    std::uint64_t subscribers = 0;            ///< sub: clients of this shard that will subscribe
    std::uint64_t subscribed = 0;             ///< sub: of them, those whose SUBACK came
    std::optional<failure> first_failure;     ///< how the first failed attempt or lost connection failed
    wakeup progress;                          ///< notified when a client finishes or a coroutine ends
    /// Where the clients' mqtt:// reads land (transport_options::shared_buffer): one loop, one
    /// read at a time, consumed before the next.
    std::vector<std::uint8_t> read_buffer = std::vector<std::uint8_t>(64 * 1024);
    /// What the run waits for: each client's connection, connect and senders are counted here
    /// when they start and end, and the first exception is kept for the run to rethrow; nothing
    /// runs unobserved.
    std::uint64_t live = 0;
    std::exception_ptr error;
    void started() noexcept { ++live; }
    void caught(std::exception_ptr e) noexcept
    {
        if (e && !error) error = e;
        progress.notify();
    }
    void ended(std::exception_ptr e) noexcept
    {
        --live;
        caught(e);
    }

    void record(bench::figure f, std::chrono::steady_clock::duration d) noexcept
    {
        auto const us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
        latency[static_cast<unsigned>(f)].record(us > 0 ? static_cast<std::uint64_t>(us) : 0);
    }
};

class bench_client {
public:
    using clock = std::chrono::steady_clock;

    /// Client `number` (-n + its index); `limit`: messages it publishes (pub) or waits for (sub),
    /// 0 for no limit; `start`: when its schedule begins at the earliest (pub).
    bench_client(boost::asio::any_io_executor const& ex, bench_shared& shared, std::uint64_t number, std::uint64_t limit,
                 std::string const& bind_address);
    bench_client(bench_client const&) = delete;
    bench_client& operator=(bench_client const&) = delete;

    /// Connects, then starts the reader and the sender, which run until stopped, done or failed.
    /// A publisher's schedule starts at `publish_from` or once connected, whichever is later,
    /// plus `stagger`.
    boost::asio::awaitable<void> run(clock::time_point publish_from, clock::duration stagger);
    /// Polite end: in-flight messages are acknowledged first (the run's grace bounds it), then
    /// DISCONNECT.
    void stop();
    /// Ends now.
    void end();
    /// The run's second: keepalive and the CONNACK wait.
    void tick(clock::time_point now);

private:
    /// The reader: a callback a read, the next one asked for when this one is handled.
    void read_next();
    void on_read(read_result const& r);
    /// The sender: writes what the session has, publishes what the schedule says is due, and
    /// sleeps on the timer until the next message is due or it is poked; ends when nothing is.
    boost::asio::awaitable<void> send_loop();
    /// The connection is over, or will not be made (failed, lost, stopped while connecting,
    /// ended, or our DISCONNECT out): the transport is cancelled, so that a connect, read or
    /// write under way ends too.
    void close();
    /// Once closed with no read and no sender left: the connection is counted out.
    void settle();
    /// Publishes every message due at `now` that the in-flight window lets go.
    void publish_due(clock::time_point now);
    void poke();
    void deliver(clock::time_point now);
    void on_connected(clock::time_point now);
    void fail(failure f);
    void finish();
    [[nodiscard]] std::string expand(std::string const& pattern) const;

    bench_shared& shared_;
    bench_options const& options_;
    std::uint64_t const number_;
    std::uint64_t const limit_;
    std::string const& bind_address_;
    std::unique_ptr<transport> transport_;
    mqtt::session session_;
    connect_marks marks_;
    clock::time_point started_{};      ///< the attempt began
    clock::time_point connect_sent_{}; ///< CONNECT handed to the transport
    clock::time_point subscribe_sent_{};
    boost::asio::steady_timer timer_;  ///< the sender's sleep
    bool poked_ = false;
    bool open_ = false;      ///< connected: counted in bench_shared::live until settle()
    bool connected_ = false; ///< CONNACK came
    bool finished_ = false;
    bool stop_asked_ = false;
    bool end_asked_ = false;
    bool reading_ = false;   ///< a read_when_ready() pending
    bool sending_ = false;   ///< the sender runs, or is about to
    bool closing_ = false;   ///< close() was called
    bool settling_ = false;
    bool disconnect_queued_ = false;
    bool disconnect_sent_ = false;
    std::uint64_t received_ = 0;
    std::string lost_words_; ///< why the connection ended, when it was not our doing
    bench::sequence_tracker tracker_;
    // Publisher
    std::optional<bench::schedule> schedule_;
    std::string topic_;
    std::string payload_;
    clock::time_point publish_from_{};
    clock::duration stagger_{};
    std::vector<std::pair<std::uint16_t, clock::time_point>> in_flight_; ///< QoS 1/2: packet id, planned time
    std::vector<clock::time_point> unwritten_;                           ///< QoS 0: planned times not yet written
};

} // namespace wsmqtt

// One client of `wsmqtt bench`: a transport and a session, lean enough for thousands on one
// loop. Two coroutines a client: run() connects and then reads; the sender it spawns writes.
// Both are counted in bench_shared (started(), ended()), which bench.cpp awaits, so that it
// sees every end and every exception; each closes the transport as it ends, so that the other
// ends too, and the second to end closes the books (ended_one()). Keepalive and the CONNACK wait run off the
// run's one-second tick (tick()), not a timer per client.
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
    /// The run's coroutines: each client's two are counted here when they start and end, and the
    /// first exception is kept for the run to rethrow; nothing runs unobserved.
    std::uint64_t live = 0;
    std::exception_ptr error;
    void started() noexcept { ++live; }
    void ended(std::exception_ptr e) noexcept
    {
        if (e && !error) error = e;
        --live;
        progress.notify();
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

    /// Connects and runs until stopped, done or failed. A publisher's schedule starts at
    /// `publish_from` or once connected, whichever is later, plus `stagger`.
    boost::asio::awaitable<void> run(clock::time_point publish_from, clock::duration stagger);
    /// Polite end: in-flight messages are acknowledged first (the run's grace bounds it), then
    /// DISCONNECT.
    void stop();
    /// Ends now.
    void end();
    /// The run's second: keepalive and the CONNACK wait.
    void tick(clock::time_point now);

private:
    /// Two coroutines a client, one timer: the reader, and the sender, which writes what the
    /// session has, publishes what the schedule says is due, and sleeps on the timer until the
    /// next message is due or it is poked.
    boost::asio::awaitable<void> read_loop();
    boost::asio::awaitable<void> send_loop();
    /// One of the two coroutines ended: the transport closes, and after the second the
    /// connection is counted out.
    void ended_one();
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
    bool connected_ = false;
    bool finished_ = false;
    bool stop_asked_ = false;
    bool end_asked_ = false;
    int running_ = 0;      ///< of the reader and the sender
    bool closing_ = false; ///< one of them ended
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

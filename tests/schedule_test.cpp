// The open-loop schedule with an injected clock: no drift, nothing skipped, and a stall shows in
// the latency of every message that was due during it.
#include <catch2/catch.hpp>

#include "wsmqtt/bench/histogram.hpp"
#include "wsmqtt/bench/schedule.hpp"

using namespace wsmqtt::bench;
using namespace std::chrono_literals;
using time_point = schedule::clock::time_point;

namespace {

time_point at(std::chrono::microseconds us) { return time_point{} + 1h + us; }

} // namespace

TEST_CASE("schedule: message k is due at start + k × interval, and the plan never drifts", "[schedule]")
{
    schedule s{at(0us), 1ms, 3};
    auto const first = s.take(at(0us));
    REQUIRE(first);
    CHECK(first->sequence == 0);
    CHECK_FALSE(s.take(at(999us)));             // not yet
    CHECK(s.next_due() == at(1000us));
    auto const second = s.take(at(1700us));      // sent 0.7 ms late...
    REQUIRE(second);
    CHECK(second->due == at(1000us));
    CHECK(s.next_due() == at(2000us));           // ...and the next is still due at 2 ms
    CHECK(s.take(at(2000us))->sequence == 2);
    CHECK_FALSE(s.next_due());                   // the limit
    CHECK_FALSE(s.take(at(10'000us)));
    CHECK(s.overrun() == 0);
}

TEST_CASE("schedule: a 1 s stall at 1000 msg/s shows in p99, because latency counts from the planned time", "[schedule]")
{
    // A publisher that sends whatever is due each time it runs, and cannot run for 1 s at 2 s.
    // Each message's latency is its send time minus its planned time (the broker answers at once).
    schedule s{at(0us), 1ms, 10'000};
    histogram latency;
    for (auto now = at(0us); s.next_due(); now += 100us) {
        if (now >= at(2'000'000us) && now < at(3'000'000us)) continue; // stalled: nothing runs
        while (auto const m = s.take(now))
            latency.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - m->due).count()));
    }
    CHECK(latency.count() == 10'000);        // nothing skipped
    CHECK(latency.value_at(99) >= 800'000);  // p99 ≥ 0.8 s: the stall is in the figures
    CHECK(latency.value_at(50) < 200);       // most messages were on time
    CHECK(latency.max() >= 990'000);
    CHECK(s.overrun() >= 990);               // the messages due during the stall went late
    // Timed from the actual send instead, every latency would be about 0: the stall would hide.
}

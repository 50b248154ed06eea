// pub's pacing (--pace recorded, --speed, --rate) and loop guard with an injected clock: the
// times are checked exactly, with no waiting and no wall clock.
#include <catch2/catch.hpp>

#include "../src/app/pacing.hpp"

using namespace wsmqtt;
using namespace std::chrono_literals;
using time_point = pacer::clock::time_point;

namespace {

time_point at(std::chrono::milliseconds ms) { return time_point{} + 1h + ms; }

} // namespace

TEST_CASE("pacing: --pace recorded keeps the recorded spacing from the first message sent, over --speed", "[pacing]")
{
    pacer p{true, 2.0, 0};
    // Recorded at 100.0, 100.4 and 100.8 s; the first goes out at 1 h + 5 ms.
    CHECK_FALSE(p.due(at(5ms), 100.0));          // the origin: now
    auto const second = p.due(at(6ms), 100.4);   // 0.4 s later, twice as fast: 0.2 s after the first
    REQUIRE(second);
    CHECK(*second == at(205ms));
    CHECK(p.due(at(205ms), 100.8) == at(405ms)); // from the origin, not from when the last one went
    CHECK_FALSE(p.due(at(900ms), 100.8));        // late (the broker stalled): due at once, never skipped
    CHECK_FALSE(p.due(at(901ms), 99.0));         // a time before the origin: at once
}

TEST_CASE("pacing: --rate spaces messages 1/N s apart, and a late one does not take the next one's slot", "[pacing]")
{
    pacer p{false, 1.0, 10};
    CHECK_FALSE(p.due(at(0ms), std::nullopt));
    CHECK(p.due(at(0ms), std::nullopt) == at(100ms));
    CHECK(p.due(at(100ms), std::nullopt) == at(200ms));
    CHECK_FALSE(p.due(at(1000ms), std::nullopt)); // after a stall: at once...
    CHECK(p.due(at(1000ms), std::nullopt) == at(1100ms)); // ...and the next 1/N s after it
    CHECK_FALSE(pacer(false, 1.0, 0).active());
    CHECK(p.active());
}

TEST_CASE("pacing: --rate caps a recording that goes faster than the rate", "[pacing]")
{
    pacer p{true, 1.0, 2};
    CHECK_FALSE(p.due(at(0ms), 50.0));
    CHECK(p.due(at(0ms), 50.1) == at(500ms)); // recorded 0.1 s later, but 2 a second at most
    CHECK(p.due(at(500ms), 52.0) == at(2000ms)); // recorded 2 s after the first: its own time
}

TEST_CASE("loop guard: 1000 echoes in a row of what this pub just published is a loop, a repeated recording is not", "[pacing]")
{
    using wall = loop_guard::wall_clock;
    auto const now = wall::time_point{} + std::chrono::hours{24 * 365 * 50};
    auto const seconds = [](wall::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); };
    mqtt::publish const m{"loop/x", "seed", mqtt::qos::at_most_once, false, false, 0, {}};
    loop_guard echoes;
    bool warned = false;
    for (int i = 0; i < 1001; ++i) {
        auto const t = now + std::chrono::milliseconds{i};
        warned = echoes.echo(m, seconds(t), t) || warned; // received (tst) just as it was sent again
        if (i == 999) CHECK_FALSE(warned); // the first was no echo: 999 so far
    }
    CHECK(warned);
    loop_guard recording;
    for (int i = 0; i < 1500; ++i) {
        auto const t = now + std::chrono::milliseconds{i};
        CHECK_FALSE(recording.echo(m, seconds(now) - 3600, t)); // recorded an hour before: the past
    }
}

// The open-loop schedule of a `wsmqtt bench` publisher: message k is due at start + k × interval,
// whatever happened before. A publisher that falls behind (a broker that stalls, a full socket)
// sends late, never skips and never slows the schedule down, and each message's latency is
// measured from its planned time: a stall shows in every message that was due during it, as
// wrk2 measures HTTP (no coordinated omission). Time is given, never read: tested with an
// injected clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace wsmqtt::bench {

class schedule {
public:
    using clock = std::chrono::steady_clock;

    struct planned {
        std::uint64_t sequence = 0;  ///< 0, 1, 2 … of this publisher
        clock::time_point due{};     ///< when it should go: latencies count from here
    };

    /// `interval` between messages from `start`; `limit` messages in all (0: no limit).
    schedule(clock::time_point start, clock::duration interval, std::uint64_t limit = 0) noexcept
        : start_{start}, interval_{interval}, limit_{limit}
    {
    }

    /// The next message if it is due at `now` (oldest first: call again until nullopt); a
    /// message taken more than one interval after its time counts as an overrun.
    [[nodiscard]] std::optional<planned> take(clock::time_point now) noexcept;
    /// When the next message is due (for the timer); nullopt when all are taken.
    [[nodiscard]] std::optional<clock::time_point> next_due() const noexcept;

    [[nodiscard]] std::uint64_t taken() const noexcept { return next_; }
    [[nodiscard]] std::uint64_t overrun() const noexcept { return overrun_; }

private:
    clock::time_point start_;
    clock::duration interval_;
    std::uint64_t limit_;
    std::uint64_t next_ = 0;
    std::uint64_t overrun_ = 0;
};

} // namespace wsmqtt::bench

// When pub's next message is due, and whether pub --json publishes its own echo: pure logic over
// times it is given (an injected clock), tested without waiting (pacing_test.cpp).
#pragma once

#include "wsmqtt/mqtt/packet.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

namespace wsmqtt {

/// --pace recorded [--speed N] and --rate N: the time each message is due.
class pacer {
public:
    using clock = std::chrono::steady_clock;

    /// `recorded`: keep the lines' tst spacing, divided by `speed`; `max_rate`: at most this
    /// many messages a second (0: no cap).
    pacer(bool recorded, double speed, double max_rate) : recorded_{recorded}, speed_{speed}, max_rate_{max_rate} {}

    /// When the next message is due, at `now`; `tst`: its line's time (seconds since the epoch),
    /// if it has one. nullopt: now. The first message with a tst sets the origin: the pace counts
    /// from the first message that goes, not from the input.
    [[nodiscard]] std::optional<clock::time_point> due(clock::time_point now, std::optional<double> tst);

    [[nodiscard]] bool active() const noexcept { return recorded_ || max_rate_ > 0; }

private:
    bool recorded_;
    double speed_;
    double max_rate_;
    std::optional<std::pair<double, clock::time_point>> origin_; ///< the first tst, and when it went
    clock::time_point rate_next_{};                             ///< --rate: the next free slot
};

/// `sub --json | pub --json` on one broker, with a filter that takes what is published: each
/// message comes back at once, for ever. Seen as lines that are, one after the other, messages
/// published here moments before, received (their tst) after that.
class loop_guard {
public:
    using wall_clock = std::chrono::system_clock;
    static constexpr std::size_t threshold = 1000;

    /// A --json line about to be published at `now`, with its tst (seconds since the epoch);
    /// true once, when the last `threshold` lines were all echoes of this run's own messages.
    bool echo(mqtt::publish const& m, std::optional<double> tst, wall_clock::time_point now);

private:
    struct sent {
        std::size_t key = 0;
        wall_clock::time_point at{};
    };
    std::array<sent, 4096> sent_{};
    std::size_t run_ = 0;
};

} // namespace wsmqtt

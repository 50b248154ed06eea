// pub's pacing and loop guard (pacing.hpp): no clock of their own.
#include "pacing.hpp"

#include <algorithm>
#include <functional>
#include <string_view>

namespace wsmqtt {

std::optional<pacer::clock::time_point> pacer::due(clock::time_point now, std::optional<double> tst)
{
    std::optional<clock::time_point> due;
    if (recorded_ && tst) {
        if (!origin_) origin_ = std::pair{*tst, now};
        auto const offset = std::chrono::duration<double>((*tst - origin_->first) / speed_);
        due = origin_->second + std::chrono::round<clock::duration>(std::max(offset, std::chrono::duration<double>{0}));
    }
    if (max_rate_ > 0) {
        auto const slot = std::chrono::round<clock::duration>(std::chrono::duration<double>(1.0 / max_rate_));
        auto const next = std::max(rate_next_, now);
        rate_next_ = std::max(next, due.value_or(next)) + slot;
        if (!due || next > *due) due = next;
    }
    if (due && *due <= now) return std::nullopt;
    return due;
}

bool loop_guard::echo(mqtt::publish const& m, std::optional<double> tst, wall_clock::time_point now)
{
    auto const key = std::hash<std::string_view>{}(m.topic) * 31 + std::hash<std::string_view>{}(m.payload);
    // What was published lately, by hash, in a table of fixed size (no allocation per line; a
    // collision only forgets a message, which at worst delays the warning).
    auto& slot = sent_[key % sent_.size()];
    bool is_echo = false;
    if (slot.key == key && now - slot.at < std::chrono::seconds{5} && tst) {
        // Received after we sent it: not a recording of the past.
        is_echo = *tst >= std::chrono::duration<double>(slot.at.time_since_epoch()).count() - 0.5;
    }
    run_ = is_echo ? run_ + 1 : 0;
    slot = {key, now};
    return run_ == threshold;
}

} // namespace wsmqtt

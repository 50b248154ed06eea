// The open-loop schedule (schedule.hpp).
#include "wsmqtt/bench/schedule.hpp"

namespace wsmqtt::bench {

std::optional<schedule::clock::time_point> schedule::next_due() const noexcept
{
    if (limit_ != 0 && next_ >= limit_) return std::nullopt;
    return start_ + interval_ * static_cast<clock::rep>(next_);
}

std::optional<schedule::planned> schedule::take(clock::time_point now) noexcept
{
    auto const due = next_due();
    if (!due || *due > now) return std::nullopt;
    if (now - *due > interval_) ++overrun_;
    return planned{next_++, *due};
}

} // namespace wsmqtt::bench

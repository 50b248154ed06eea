// HdrHistogram's log-linear buckets (histogram.hpp). With 2^(half_bits+1) sub-buckets, bucket b
// covers values [2^(b+7), 2^(b+8)) in steps of 2^b; bucket 0 also covers [0, 128) in steps of 1.
#include "wsmqtt/bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>

namespace wsmqtt::bench {
namespace {

constexpr std::uint64_t half_count = histogram::sub_buckets / 2;
constexpr std::uint64_t sub_bucket_mask = histogram::sub_buckets - 1;

/// The power-of-two bucket of a value.
constexpr unsigned bucket_of(std::uint64_t value) noexcept
{
    return static_cast<unsigned>(64 - std::countl_zero(value | sub_bucket_mask)) - (histogram::half_bits + 1);
}

constexpr std::uint32_t buckets_needed() noexcept
{
    std::uint64_t smallest_untrackable = histogram::sub_buckets;
    std::uint32_t buckets = 1;
    while (smallest_untrackable <= histogram::highest) {
        smallest_untrackable <<= 1;
        ++buckets;
    }
    return static_cast<std::uint32_t>((buckets + 1) * half_count);
}

} // namespace

histogram::histogram() : counts_(buckets_needed(), 0) {}

std::uint32_t histogram::bucket_count() noexcept { return buckets_needed(); }

std::uint32_t histogram::index_of(std::uint64_t value) noexcept
{
    value = std::clamp<std::uint64_t>(value, 1, highest);
    auto const b = bucket_of(value);
    auto const sub = value >> b;
    return static_cast<std::uint32_t>(((std::uint64_t{b} + 1) << half_bits) + sub - half_count);
}

std::uint64_t histogram::lowest_of(std::uint32_t index) noexcept
{
    auto b = static_cast<int>(index >> half_bits) - 1;
    auto sub = static_cast<std::uint64_t>(index & (half_count - 1)) + half_count;
    if (b < 0) {
        sub -= half_count;
        b = 0;
    }
    return sub << b;
}

std::uint64_t histogram::highest_of(std::uint32_t index) noexcept
{
    auto const low = lowest_of(index);
    return low + (std::uint64_t{1} << bucket_of(low)) - 1;
}

void histogram::record(std::uint64_t value, std::uint64_t times) noexcept
{
    if (times == 0) return;
    value = std::clamp<std::uint64_t>(value, 1, highest);
    counts_[index_of(value)] += times;
    total_ += times;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
    exact_ = true;
    sum_ += static_cast<long double>(value) * static_cast<long double>(times);
}

void histogram::add_bucket(std::uint32_t index, std::uint64_t times)
{
    if (times == 0) return;
    counts_.at(index) += times;
    total_ += times;
    bounds_min_ = std::min(bounds_min_, lowest_of(index));
    bounds_max_ = std::max(bounds_max_, highest_of(index));
    sum_ += (static_cast<long double>(lowest_of(index)) + static_cast<long double>(highest_of(index))) / 2 * static_cast<long double>(times);
}

void histogram::set_extremes(std::uint64_t least, std::uint64_t greatest) noexcept
{
    min_ = std::min(min_, least);
    max_ = std::max(max_, greatest);
    exact_ = true;
}

void histogram::clear() noexcept
{
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = 0;
    min_ = highest;
    max_ = 0;
    exact_ = false;
    bounds_min_ = highest;
    bounds_max_ = 0;
    sum_ = 0;
}

void histogram::merge(histogram const& other)
{
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    if (other.exact_) set_extremes(other.min_, other.max_);
    bounds_min_ = std::min(bounds_min_, other.bounds_min_);
    bounds_max_ = std::max(bounds_max_, other.bounds_max_);
    sum_ += other.sum_;
}

double histogram::mean() const noexcept { return total_ ? static_cast<double>(sum_ / static_cast<long double>(total_)) : 0; }

std::uint64_t histogram::value_at(double percent) const noexcept
{
    if (total_ == 0) return 0;
    if (percent >= 100) return max();
    auto const wanted = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(percent / 100 * static_cast<double>(total_))));
    std::uint64_t seen = 0;
    for (std::uint32_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= wanted) return std::min(highest_of(i), max());
    }
    return max();
}

std::vector<std::pair<std::uint32_t, std::uint64_t>> histogram::nonzero() const
{
    std::vector<std::pair<std::uint32_t, std::uint64_t>> out;
    for (std::uint32_t i = 0; i < counts_.size(); ++i)
        if (counts_[i]) out.emplace_back(i, counts_[i]);
    return out;
}

std::string histogram::hgrm(double unit_ratio) const
{
    // As HdrHistogram's outputPercentileDistribution: 5 ticks per half of the distance left to
    // 100 %; value, percentile, count at or below, 1/(1-percentile).
    std::string out = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n";
    char line[160];
    double sq = 0;
    for (std::uint32_t i = 0; i < counts_.size(); ++i) {
        if (!counts_[i]) continue;
        auto const middle = (static_cast<double>(lowest_of(i)) + static_cast<double>(highest_of(i))) / 2 - mean();
        sq += middle * middle * static_cast<double>(counts_[i]);
    }
    for (double percent = 0; total_ > 0;) {
        auto const value = value_at(percent);
        std::uint64_t at_or_below = 0;
        for (std::uint32_t i = 0; i < counts_.size() && lowest_of(i) <= value; ++i) at_or_below += counts_[i];
        if (at_or_below >= total_ || percent >= 100) {
            std::snprintf(line, sizeof line, "%12.3f %14.12f %10llu\n", static_cast<double>(max()) / unit_ratio, 1.0,
                          static_cast<unsigned long long>(total_));
            out += line;
            break;
        }
        std::snprintf(line, sizeof line, "%12.3f %14.12f %10llu %14.2f\n", static_cast<double>(value) / unit_ratio, percent / 100,
                      static_cast<unsigned long long>(at_or_below), 1 / (1 - percent / 100));
        out += line;
        auto const ticks = 5 * std::pow(2.0, std::floor(std::log2(100 / (100 - percent))) + 1);
        percent += 100 / ticks;
    }
    std::snprintf(line, sizeof line, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mean() / unit_ratio,
                  total_ ? std::sqrt(sq / static_cast<double>(total_)) / unit_ratio : 0.0);
    out += line;
    std::snprintf(line, sizeof line, "#[Max     = %12.3f, Total count    = %12llu]\n", static_cast<double>(max()) / unit_ratio,
                  static_cast<unsigned long long>(total_));
    out += line;
    std::snprintf(line, sizeof line, "#[Buckets = %12u, SubBuckets     = %12llu]\n",
                  static_cast<unsigned>(bucket_count() / half_count - 1), static_cast<unsigned long long>(sub_buckets));
    out += line;
    return out;
}

} // namespace wsmqtt::bench

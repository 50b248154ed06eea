// Latency histograms for `wsmqtt bench`: HdrHistogram's log-linear buckets, written here (no
// package has them). Two significant digits: 256 sub-buckets a power of two, so a value is
// known to within 1/128 (0.78 %), from 1 µs to 1 hour. Histograms of the same layout add up
// exactly, so shards' histograms merge without loss. Standard library only.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace wsmqtt::bench {

class histogram {
public:
    static constexpr std::uint64_t highest = 3'600'000'000; ///< 1 hour, in µs: larger values count as this
    static constexpr unsigned half_bits = 7;                 ///< 128 sub-buckets in each half-bucket
    static constexpr std::uint64_t sub_buckets = std::uint64_t{1} << (half_bits + 1);

    histogram();

    /// Counts `value` µs (0 counts as 1, above `highest` as `highest`), `times` times.
    void record(std::uint64_t value, std::uint64_t times = 1) noexcept;
    /// Adds `times` to bucket `index` (a bucket of a histogram of the same layout: a merge).
    void add_bucket(std::uint32_t index, std::uint64_t times);
    /// The exact least and greatest values a shard recorded, as its JSON gives them beside its
    /// buckets (without them, min() and max() are the buckets' bounds).
    void set_extremes(std::uint64_t least, std::uint64_t greatest) noexcept;
    /// Empty again, its buckets kept (a run empties this second's histograms every second).
    void clear() noexcept;
    /// Adds every bucket of `other`.
    void merge(histogram const& other);

    [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
    [[nodiscard]] std::uint64_t min() const noexcept { return total_ == 0 ? 0 : exact_ ? min_ : bounds_min_; }
    [[nodiscard]] std::uint64_t max() const noexcept { return total_ == 0 ? 0 : exact_ ? max_ : bounds_max_; }
    [[nodiscard]] double mean() const noexcept;
    /// The value at `percent` (0–100): the highest value of the bucket where the running count
    /// reaches that share of all counts (HdrHistogram's definition); the exact max at 100.
    [[nodiscard]] std::uint64_t value_at(double percent) const noexcept;
    /// The nonzero buckets, (index, count), in order: what JSON Lines carry, exact and mergeable.
    [[nodiscard]] std::vector<std::pair<std::uint32_t, std::uint64_t>> nonzero() const;
    /// HdrHistogram's percentile distribution text (.hgrm), values in `unit_ratio` µs per unit
    /// (1000: milliseconds), for HdrHistogram's plotters.
    [[nodiscard]] std::string hgrm(double unit_ratio = 1000) const;

    /// The bucket of a value, and the lowest and highest value a bucket stands for.
    [[nodiscard]] static std::uint32_t index_of(std::uint64_t value) noexcept;
    [[nodiscard]] static std::uint64_t lowest_of(std::uint32_t index) noexcept;
    [[nodiscard]] static std::uint64_t highest_of(std::uint32_t index) noexcept;
    [[nodiscard]] static std::uint32_t bucket_count() noexcept;

private:
    std::vector<std::uint64_t> counts_;
    std::uint64_t total_ = 0;
    std::uint64_t min_ = highest;
    std::uint64_t max_ = 0;
    bool exact_ = false;              ///< min_ and max_ hold values recorded or given (set_extremes)
    std::uint64_t bounds_min_ = highest; ///< the buckets' bounds, for buckets added without extremes
    std::uint64_t bounds_max_ = 0;
    long double sum_ = 0; ///< for the mean; a merge adds the buckets' middles
};

} // namespace wsmqtt::bench

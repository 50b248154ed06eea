// wsmqtt bench's latency histograms: the error bound, percentiles against sorted samples, and
// merges that are exact.
#include <catch2/catch.hpp>

#include "wsmqtt/bench/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using wsmqtt::bench::histogram;

TEST_CASE("histogram: every value from 1 µs to 1 hour lands in a bucket within 1 % of it", "[histogram]")
{
    std::mt19937_64 random{21};
    std::vector<std::uint64_t> values{1, 2, 127, 128, 129, 255, 256, 257, 1000, 65'535, 1'000'000, histogram::highest};
    for (int i = 0; i < 100'000; ++i) values.push_back(1 + random() % histogram::highest);
    for (auto const v : values) {
        auto const i = histogram::index_of(v);
        REQUIRE(i < histogram::bucket_count());
        auto const low = histogram::lowest_of(i), high = histogram::highest_of(i);
        CHECK(low <= v);
        CHECK(v <= high);
        CHECK(static_cast<double>(high - low) <= 0.01 * static_cast<double>(v) + 1e-9); // ≤ 1 % relative error
    }
    CHECK(histogram::index_of(0) == histogram::index_of(1));
    CHECK(histogram::index_of(histogram::highest * 2) == histogram::index_of(histogram::highest)); // clamped, counted
    // Buckets follow each other without gaps or overlaps.
    for (std::uint32_t i = 1; i < histogram::bucket_count(); ++i) CHECK(histogram::lowest_of(i) == histogram::highest_of(i - 1) + 1);
}

TEST_CASE("histogram: percentiles agree with sorted samples to within 1 %", "[histogram]")
{
    std::mt19937_64 random{7};
    std::lognormal_distribution<double> latency{6.0, 1.5}; // µs: a long tail
    std::vector<std::uint64_t> samples;
    histogram h;
    for (int i = 0; i < 200'000; ++i) {
        auto const v = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(latency(random)));
        samples.push_back(v);
        h.record(v);
    }
    std::sort(samples.begin(), samples.end());
    CHECK(h.count() == samples.size());
    CHECK(h.min() == samples.front());
    CHECK(h.max() == samples.back());
    for (double const p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
        auto const rank = static_cast<std::size_t>(std::llround(p / 100 * static_cast<double>(samples.size()))) - 1;
        auto const exact = static_cast<double>(samples[rank]);
        INFO("p" << p << " exact " << exact << " histogram " << h.value_at(p));
        CHECK(std::abs(static_cast<double>(h.value_at(p)) - exact) <= 0.01 * exact);
    }
    CHECK(h.value_at(100) == samples.back());
}

TEST_CASE("histogram: shards merge exactly, directly or through their nonzero buckets", "[histogram]")
{
    std::mt19937_64 random{3};
    histogram all, a, b, rebuilt;
    for (int i = 0; i < 50'000; ++i) {
        auto const v = 1 + random() % 5'000'000;
        all.record(v);
        (i % 3 ? a : b).record(v);
    }
    histogram merged = a;
    merged.merge(b);
    CHECK(merged.nonzero() == all.nonzero());
    CHECK(merged.count() == all.count());
    CHECK(merged.max() == all.max());
    // As bench merge reads JSON Lines: each shard's buckets, then its exact extremes.
    for (auto const* shard : {&a, &b}) {
        for (auto const& [index, times] : shard->nonzero()) rebuilt.add_bucket(index, times);
        rebuilt.set_extremes(shard->min(), shard->max());
    }
    CHECK(rebuilt.nonzero() == all.nonzero());
    CHECK(rebuilt.max() == all.max());
    CHECK(rebuilt.min() == all.min());
    for (double const p : {50.0, 99.0, 99.9}) CHECK(rebuilt.value_at(p) == all.value_at(p));
}

TEST_CASE("histogram: the .hgrm text has HdrHistogram's columns and footer", "[histogram]")
{
    histogram h;
    for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v * 1000); // 1 ms to 1 s
    auto const text = h.hgrm(1000);
    CHECK(text.rfind("       Value     Percentile TotalCount 1/(1-Percentile)\n\n", 0) == 0);
    CHECK(text.find("   1000.000 1.000000000000       1000\n") != std::string::npos); // the last line: the max, 100 %
    CHECK(text.find("#[Max     =     1000.000, Total count    =         1000]\n") != std::string::npos);
    CHECK(text.find("#[Buckets =") != std::string::npos);
    CHECK(histogram{}.hgrm().find("Total count    =            0") != std::string::npos);
}

TEST_CASE("histogram: clear() empties it for the next second, extremes included", "[histogram]")
{
    histogram h;
    h.record(5);
    h.record(90'000);
    h.clear();
    CHECK(h.count() == 0);
    CHECK(h.max() == 0);
    CHECK(h.nonzero().empty());
    h.record(300);
    CHECK(h.min() == 300);
    CHECK(h.max() == 300);
    CHECK(h.value_at(50) == 300); // a bucket's top, capped at the exact max
}

// What a `wsmqtt bench` shard reports: counters and latency histograms, second by second as JSON
// Lines (--json), and at the end as a summary (a table on stderr, --summary-json, .hgrm files).
// The lines carry each histogram's nonzero buckets and its exact extremes, so that `bench merge`
// adds the shards' seconds up exactly. Standard library only.
#pragma once

#include "wsmqtt/bench/histogram.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsmqtt::bench {

/// The latencies measured, in µs. connect: from the start of the attempt to CONNACK, and its
/// steps: tcp (resolve and TCP), tls, websocket (the upgrade), connack (CONNECT to CONNACK).
/// publish: from the planned time to PUBACK/PUBCOMP (QoS 0: to the socket write). e2e: from the
/// publisher's planned time to the subscriber's receipt.
enum class figure : unsigned { connect, tcp, tls, websocket, connack, suback, publish, e2e };
inline constexpr std::size_t figure_count = 8;
[[nodiscard]] char const* figure_name(figure f) noexcept;

struct counters {
    std::uint64_t connected = 0;      ///< connections made (CONNACK accepted)
    std::uint64_t connect_failed = 0; ///< attempts that failed
    std::uint64_t disconnected = 0;   ///< connections lost after CONNACK
    std::uint64_t published = 0;      ///< messages handed to the transport
    std::uint64_t acked = 0;          ///< QoS 1/2 messages acknowledged (PUBACK, PUBCOMP)
    std::uint64_t received = 0;       ///< messages received by subscribers
    std::uint64_t lost = 0;           ///< sequence numbers skipped when the gap showed
    std::uint64_t duplicated = 0;
    std::uint64_t out_of_order = 0;   ///< skipped ones that came later: the loss is lost - out_of_order
    [[nodiscard]] std::uint64_t net_lost() const noexcept { return lost > out_of_order ? lost - out_of_order : 0; }
    std::uint64_t overrun = 0;        ///< messages sent more than one interval after their time
    std::uint64_t bytes_out = 0;      ///< payload bytes published
    std::uint64_t bytes_in = 0;       ///< payload bytes received
    void add(counters const& o) noexcept;
    bool operator==(counters const&) const = default;
};

/// One histogram as JSON carries it: its nonzero buckets and exact extremes.
struct sparse_histogram {
    std::uint64_t min = 0;
    std::uint64_t max = 0;
    std::vector<std::pair<std::uint32_t, std::uint64_t>> buckets;
    [[nodiscard]] std::uint64_t count() const noexcept;
    /// Adds it to `h` (exactly: same layout).
    void add_to(histogram& h) const;
    [[nodiscard]] static sparse_histogram of(histogram const& h);
    /// Adds `o` bucket by bucket.
    void merge(sparse_histogram const& o);
};

/// One second of one shard (or of several, merged): the JSON Lines record.
struct interval {
    std::int64_t time = 0;        ///< Unix seconds at the end of the second: the key of a merge
    std::uint32_t shard = 0;
    std::uint32_t shards = 1;
    std::uint32_t merged = 1;     ///< how many shard records were added into this one
    std::uint8_t qos = 0;         ///< of the run's messages: a loss at 1 or 2 is an error
    std::uint64_t connections = 0; ///< open at the end of the second (a gauge: shards add up)
    counters delta;               ///< what happened during the second
    std::array<sparse_histogram, figure_count> latency;
    void merge(interval const& o);
};

[[nodiscard]] std::string to_json_line(interval const& r);
/// A line that to_json_line wrote (unknown members are skipped); nullopt with `error` set.
[[nodiscard]] std::optional<interval> parse_json_line(std::string_view line, std::string& error);

/// Everything a run (or a merge) measured.
struct summary {
    counters total;
    std::uint64_t peak_connections = 0;
    std::uint32_t shards = 1;
    std::uint8_t qos = 0;
    double seconds = 0; ///< how long it ran
    std::array<histogram, figure_count> latency;
    void add(interval const& r);
};

/// The table printed at the end: one row per figure that has values (count, p50 … max in ms).
[[nodiscard]] std::string summary_table(summary const& s);
/// The same for scripts: {"connect":{"count":…,"p50":…,…},…,"published":…} in µs.
[[nodiscard]] std::string summary_json(summary const& s);
/// `%s` in a file name stands for the shard index.
[[nodiscard]] std::string shard_file_name(std::string_view pattern, std::uint32_t shard);

} // namespace wsmqtt::bench

// What a `wsmqtt bench` message carries, and what a subscriber makes of it. The payload starts
// with a header: publisher number, sequence number and the planned send time (ns since the Unix
// epoch, so that a subscriber on another machine can time it: clocks must be synchronised), the
// rest is filler up to -s. The subscriber's sequence tracker counts, per publisher, what was
// lost, duplicated or came out of order. Standard library only.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace wsmqtt::bench {

struct header {
    std::uint32_t publisher = 0; ///< the publishing client's number (-n + its index)
    std::uint64_t sequence = 0;  ///< 0, 1, 2 … of that publisher
    std::int64_t planned_ns = 0; ///< when it was due: ns since the Unix epoch
    bool operator==(header const&) const = default;
};

/// "WB1" and the three numbers, little-endian: the bytes of a header.
inline constexpr std::size_t header_size = 3 + 4 + 8 + 8;

/// A payload of `size` bytes (at least header_size) that starts with `h`.
[[nodiscard]] std::string make_payload(header const& h, std::size_t size);
/// Writes `h` over the first header_size bytes of `payload` (a payload made once, reused).
void stamp(std::string& payload, header const& h) noexcept;
/// The header of a payload, or nullopt when it has none (not a bench message).
[[nodiscard]] std::optional<header> read_header(std::span<std::uint8_t const> payload) noexcept;

/// Loss, duplicates and order, per publisher, as one subscriber sees them.
class sequence_tracker {
public:
    enum class verdict { in_order, gap, late, duplicate };
    /// Takes message `sequence` of `publisher`. A jump forward counts the skipped ones as lost
    /// until they come (late: out of order, no longer lost); one seen before is a duplicate.
    verdict take(std::uint32_t publisher, std::uint64_t sequence);

    [[nodiscard]] std::uint64_t lost() const noexcept { return lost_; }
    [[nodiscard]] std::uint64_t duplicated() const noexcept { return duplicated_; }
    [[nodiscard]] std::uint64_t out_of_order() const noexcept { return out_of_order_; }

private:
    struct stream {
        std::uint64_t next = 0;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> missing; ///< [from, to) not yet seen, in order
    };
    std::unordered_map<std::uint32_t, stream> streams_;
    std::uint64_t lost_ = 0;
    std::uint64_t duplicated_ = 0;
    std::uint64_t out_of_order_ = 0;
};

} // namespace wsmqtt::bench

// The bench message header and the subscriber's sequence tracker (payload.hpp).
#include "wsmqtt/bench/payload.hpp"

#include <algorithm>
#include <cstring>

namespace wsmqtt::bench {
namespace {

constexpr char magic[3] = {'W', 'B', '1'};

template <class T>
void put(char* at, T value) noexcept
{
    for (std::size_t i = 0; i < sizeof(T); ++i) at[i] = static_cast<char>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff);
}

template <class T>
T get(std::uint8_t const* at) noexcept
{
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v |= std::uint64_t{at[i]} << (8 * i);
    return static_cast<T>(v);
}

} // namespace

std::string make_payload(header const& h, std::size_t size)
{
    std::string payload(std::max(size, header_size), 'x');
    stamp(payload, h);
    return payload;
}

void stamp(std::string& payload, header const& h) noexcept
{
    if (payload.size() < header_size) return;
    std::memcpy(payload.data(), magic, sizeof magic);
    put(payload.data() + 3, h.publisher);
    put(payload.data() + 7, h.sequence);
    put(payload.data() + 15, h.planned_ns);
}

std::optional<header> read_header(std::span<std::uint8_t const> payload) noexcept
{
    if (payload.size() < header_size || std::memcmp(payload.data(), magic, sizeof magic) != 0) return std::nullopt;
    return header{get<std::uint32_t>(payload.data() + 3), get<std::uint64_t>(payload.data() + 7), get<std::int64_t>(payload.data() + 15)};
}

sequence_tracker::verdict sequence_tracker::take(std::uint32_t publisher, std::uint64_t sequence)
{
    auto& s = streams_[publisher];
    if (sequence == s.next) {
        ++s.next;
        return verdict::in_order;
    }
    if (sequence > s.next) {
        s.missing.emplace_back(s.next, sequence);
        lost_ += sequence - s.next;
        s.next = sequence + 1;
        return verdict::gap;
    }
    // Before the next expected one: a gap filled late, or a repeat.
    auto it = std::find_if(s.missing.begin(), s.missing.end(), [&](auto const& r) { return sequence >= r.first && sequence < r.second; });
    if (it == s.missing.end()) {
        ++duplicated_;
        return verdict::duplicate;
    }
    --lost_;
    ++out_of_order_;
    auto const [from, to] = *it;
    if (sequence == from && sequence + 1 == to) {
        s.missing.erase(it);
    } else if (sequence == from) {
        it->first = sequence + 1;
    } else if (sequence + 1 == to) {
        it->second = sequence;
    } else {
        it->second = sequence;
        s.missing.insert(it + 1, {sequence + 1, to});
    }
    return verdict::late;
}

} // namespace wsmqtt::bench

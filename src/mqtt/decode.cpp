// MQTT incremental decoder: 3.1.1 and 3.1 (chapters 2 and 3 of 3.1.1), and 5.0 with its
// properties and reason codes (chapters 2 and 3 of 5.0). The encoder is in codec.cpp.
#include "overloaded.hpp"
#include "wsmqtt/mqtt/codec.hpp"

#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/properties.hpp"
#include "wsmqtt/mqtt/topic.hpp"
#include "wire.hpp"

#include <algorithm>
#include <string_view>
#include <type_traits>

namespace wsmqtt::mqtt {

struct fixed_header {
    std::uint8_t type = 0;
    std::uint8_t flags = 0;
    std::size_t header_size = 0;      ///< 1 + number of Remaining Length bytes
    std::size_t remaining_length = 0;
};

namespace {

// ---------------------------------------------------------------------------------------------
// Decoding

// Reserved flags per type [MQTT-2.2.2-1]; PUBLISH (3) is checked on its own.
constexpr std::uint8_t required_flags(std::uint8_t type) noexcept
{
    return (type == 6 || type == 8 || type == 10) ? 0x02 : 0x00;
}

std::error_code decode_connect(reader& r, connect& c)
{
    std::string name;
    std::uint8_t level = 0;
    std::uint8_t flags = 0;
    if (!r.str(name) || !r.u8(level) || !r.u8(flags) || !r.u16(c.keep_alive))
        return errc::malformed_packet;
    if (name == "MQTT" && level == 4) c.version = protocol_version::v311;
    else if (name == "MQTT" && level == 5) c.version = protocol_version::v5;
    else if (name == "MQIsdp" && level == 3) c.version = protocol_version::v31;
    else return errc::malformed_packet;
    bool const v5 = c.version == protocol_version::v5;
    if (flags & 0x01) return errc::malformed_packet; // [MQTT-3.1.2-3]
    c.clean_session = (flags & 0x02) != 0;
    bool const has_will = (flags & 0x04) != 0;
    auto const will_qos = static_cast<std::uint8_t>((flags >> 3) & 0x03);
    bool const will_retain = (flags & 0x20) != 0;
    if (will_qos == 3) return errc::invalid_qos; // [MQTT-3.1.2-14]
    if (!has_will && (will_qos != 0 || will_retain)) return errc::malformed_packet; // [MQTT-3.1.2-11]
    if (v5)
        if (auto ec = r.props(1, c.props)) return ec;
    if (!r.str(c.client_id)) return errc::malformed_packet;
    if (!is_valid_utf8(c.client_id)) return errc::invalid_utf8;
    if (has_will) {
        will w{{}, {}, static_cast<qos>(will_qos), will_retain, {}};
        if (v5)
            if (auto ec = r.props(will_properties, w.props)) return ec;
        if (!r.str(w.topic) || !r.str(w.payload)) return errc::malformed_packet;
        if (auto ec = check_topic_name(w.topic)) return ec;
        c.will = std::move(w);
    }
    if (flags & 0x80) {
        c.username.emplace();
        if (!r.str(*c.username)) return errc::malformed_packet;
        if (!is_valid_utf8(*c.username)) return errc::invalid_utf8;
    }
    if (flags & 0x40) {
        if (!(flags & 0x80) && !v5) return errc::malformed_packet; // [MQTT-3.1.2-22]
        c.password.emplace();
        if (!r.str(*c.password)) return errc::malformed_packet;
    }
    return {};
}

/// PUBLISH flags and variable header (topic, packet id, MQTT 5 properties): all but the payload.
std::error_code decode_publish_head(std::uint8_t flags, reader& r, publish& m, protocol_version v)
{
    m.dup = (flags & 0x08) != 0;
    auto const q = static_cast<std::uint8_t>((flags >> 1) & 0x03);
    if (q == 3) return errc::invalid_qos; // [MQTT-3.3.1-4]
    m.qos = static_cast<qos>(q);
    m.retain = (flags & 0x01) != 0;
    if (m.dup && m.qos == qos::at_most_once) return errc::invalid_flags; // [MQTT-3.3.1-2]
    if (!r.str(m.topic)) return errc::malformed_packet;
    if (m.qos != qos::at_most_once) {
        if (!r.u16(m.packet_id)) return errc::malformed_packet;
        if (m.packet_id == 0) return errc::zero_packet_id; // [MQTT-2.3.1-1]
    }
    if (v == protocol_version::v5)
        if (auto ec = r.props(3, m.props)) return ec;
    // MQTT 5: an empty topic stands for the one its Topic Alias was set to (§3.3.2.3.4); the
    // session resolves it.
    if (m.topic.empty() && find(m.props, property_id::topic_alias)) return {};
    return check_topic_name(m.topic); // [MQTT-3.3.2-1/2, MQTT-1.5.3-1]
}

/// The reason codes each MQTT 5 packet may carry (§3.2.2.2, §3.4.2.1 … §3.15.2.1). A failure
/// code of §2.4 that the packet may not carry (PUBACK 0x95, which brokers send) is taken as the
/// failure it names, so that the user reads "0x95 packet too large", not a protocol error; a
/// code §2.4 does not define is still an error.
bool listed_reason(std::uint8_t type, std::uint8_t code) noexcept
{
    auto const one_of = [code](std::initializer_list<int> codes) {
        return std::find(codes.begin(), codes.end(), code) != codes.end();
    };
    switch (type) {
    case 2: return one_of({0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A,
                           0x9B, 0x9C, 0x9D, 0x9F});
    case 4:
    case 5: return one_of({0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99});
    case 6:
    case 7: return one_of({0x00, 0x92});
    case 9: return one_of({0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2});
    case 11: return one_of({0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91});
    case 14: return one_of({0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95,
                            0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2});
    case 15: return one_of({0x00, 0x18, 0x19});
    default: return false;
    }
}

/// A reason code taken from the broker: one its packet may carry, or a failure code of §2.4 that
/// the packet may not (PUBACK 0x95, which brokers send), taken as the failure it names so that
/// the user reads "0x95 packet too large", not a protocol error. A code §2.4 does not define,
/// and a failure in AUTH, are errors.
bool valid_reason(std::uint8_t type, std::uint8_t code) noexcept
{
    if (listed_reason(type, code)) return true;
    return type != 15 && code >= 0x80 && is_reason_code(code);
}

std::error_code decode_body(std::uint8_t type, std::uint8_t flags, reader& r, packet& out, protocol_version v)
{
    bool const v5 = v == protocol_version::v5;
    auto const packet_id = [&](std::uint16_t& id) -> std::error_code {
        if (!r.u16(id)) return errc::malformed_packet;
        if (id == 0) return errc::zero_packet_id; // [MQTT-2.3.1-1]
        return {};
    };
    auto const empty = [&]() -> std::error_code {
        return r.left() == 0 ? std::error_code{} : make_error_code(errc::malformed_packet);
    };
    // MQTT 5: a reason code (0 when left out) and properties (none when left out), then nothing.
    auto const reason_and_props = [&](auto& a) -> std::error_code {
        if (r.left() == 0) return {};
        if (!r.u8(a.reason_code)) return errc::malformed_packet;
        if (!valid_reason(type, a.reason_code)) return errc::invalid_return_code;
        if (r.left() == 0) return {};
        if (auto ec = r.props(type, a.props)) return ec;
        return empty();
    };
    auto const ack = [&](auto& a) -> std::error_code {
        if (!v5 && r.left() != 2) return errc::malformed_packet; // Remaining Length exactly 2 (§3.4-3.7, 3.11)
        if (auto ec = packet_id(a.packet_id)) return ec;
        if constexpr (requires { a.reason_code; })
            if (v5) return reason_and_props(a);
        return std::error_code{};
    };
    auto const codes = [&](std::vector<std::uint8_t>& out_codes, bool suback_codes) -> std::error_code {
        if (r.left() == 0) return errc::malformed_packet;
        while (r.left() > 0) {
            std::uint8_t code = 0;
            (void)r.u8(code);
            bool const ok = v5 ? valid_reason(type, code) : (code <= 2 || code == suback_failure);
            if (!ok || (!v5 && !suback_codes)) return errc::invalid_return_code; // [MQTT-3.9.3-2]
            out_codes.push_back(code);
        }
        return {};
    };

    switch (type) {
    case 1: {
        if (auto ec = decode_connect(r, out.emplace<connect>())) return ec;
        return empty();
    }
    case 2: {
        auto& c = out.emplace<connack>();
        std::uint8_t ack_flags = 0;
        if ((!v5 && r.left() != 2) || !r.u8(ack_flags) || !r.u8(c.return_code)) return errc::malformed_packet;
        if (ack_flags & 0xFE) return errc::invalid_connack_flags; // bits 7-1 reserved (§3.2.2.1)
        c.session_present = (ack_flags & 0x01) != 0;
        if (!v5) return c.return_code > 5 ? make_error_code(errc::invalid_return_code) : std::error_code{}; // 6-255 reserved (§3.2.2.3)
        // A broker of MQTT 3.1.1 only answers our MQTT 5 CONNECT in its own terms: 20 02 00 01,
        // "unacceptable protocol version", which MQTT 5 calls 0x84 (§3.1.2.2, a Server MAY).
        if (r.left() == 0 && c.return_code == 0x01) {
            c.return_code = 0x84;
            return {};
        }
        if (!valid_reason(type, c.return_code)) return errc::invalid_return_code;
        if (auto ec = r.props(type, c.props)) return ec;
        return empty();
    }
    case 3: {
        auto& m = out.emplace<publish>();
        if (auto ec = decode_publish_head(flags, r, m, v)) return ec;
        r.rest(m.payload);
        return {};
    }
    case 4: return ack(out.emplace<puback>());
    case 5: return ack(out.emplace<pubrec>());
    case 6: return ack(out.emplace<pubrel>());
    case 7: return ack(out.emplace<pubcomp>());
    case 8: {
        auto& s = out.emplace<subscribe>();
        if (auto ec = packet_id(s.packet_id)) return ec;
        if (v5)
            if (auto ec = r.props(type, s.props)) return ec;
        while (r.left() > 0) {
            subscription sub;
            std::uint8_t options = 0;
            if (!r.str(sub.filter) || !r.u8(options)) return errc::malformed_packet;
            if (auto ec = check_topic_filter(sub.filter)) return ec;
            if ((options & 0x03) > 2) return errc::invalid_qos; // [MQTT-3-8.3-4]
            if (options & (v5 ? 0xC0 : 0xFC)) return errc::malformed_packet; // reserved bits [MQTT-3.8.3-5]
            sub.qos = static_cast<qos>(options & 0x03);
            sub.no_local = (options & 0x04) != 0;
            sub.retain_as_published = (options & 0x08) != 0;
            sub.retain_handling = static_cast<std::uint8_t>((options >> 4) & 0x03);
            if (sub.retain_handling == 3) return errc::malformed_packet; // §3.8.3.1
            s.subscriptions.push_back(std::move(sub));
        }
        if (s.subscriptions.empty()) return errc::empty_subscription_list; // [MQTT-3.8.3-3]
        return {};
    }
    case 9: {
        auto& s = out.emplace<suback>();
        if (auto ec = packet_id(s.packet_id)) return ec;
        if (v5)
            if (auto ec = r.props(type, s.props)) return ec;
        return codes(s.return_codes, true);
    }
    case 10: {
        auto& u = out.emplace<unsubscribe>();
        if (auto ec = packet_id(u.packet_id)) return ec;
        if (v5)
            if (auto ec = r.props(type, u.props)) return ec;
        while (r.left() > 0) {
            std::string f;
            if (!r.str(f)) return errc::malformed_packet;
            if (auto ec = check_topic_filter(f)) return ec;
            u.filters.push_back(std::move(f));
        }
        if (u.filters.empty()) return errc::empty_subscription_list; // [MQTT-3.10.3-2]
        return {};
    }
    case 11: {
        auto& u = out.emplace<unsuback>();
        if (!v5) return ack(u);
        if (auto ec = packet_id(u.packet_id)) return ec;
        if (auto ec = r.props(type, u.props)) return ec;
        return codes(u.reason_codes, false);
    }
    case 12: out.emplace<pingreq>(); return empty();
    case 13: out.emplace<pingresp>(); return empty();
    case 14: {
        auto& d = out.emplace<disconnect>();
        return v5 ? reason_and_props(d) : empty();
    }
    case 15: {
        if (!v5) return errc::invalid_packet_type; // reserved before MQTT 5 (§2.2.1)
        return reason_and_props(out.emplace<auth>());
    }
    default: return errc::invalid_packet_type; // 0 is reserved (§2.2.1)
    }
}

/// Parses a fixed header; nullopt with !ec when more bytes are needed.
std::optional<fixed_header> parse_fixed_header(std::span<std::uint8_t const> in, std::error_code& ec, protocol_version v)
{
    ec = {};
    if (in.empty()) return std::nullopt;
    fixed_header h;
    h.type = static_cast<std::uint8_t>(in[0] >> 4);
    h.flags = static_cast<std::uint8_t>(in[0] & 0x0F);
    if (h.type == 0 || (h.type == 15 && v != protocol_version::v5)) { // 15 is AUTH in MQTT 5
        ec = errc::invalid_packet_type;
        return std::nullopt;
    }
    if (h.type != 3 && h.flags != required_flags(h.type)) {
        ec = errc::invalid_flags; // [MQTT-2.2.2-2]
        return std::nullopt;
    }
    std::size_t multiplier = 1;
    for (std::size_t i = 1;; ++i) {
        if (i > 4) {
            ec = errc::malformed_remaining_length; // at most 4 bytes (§2.2.3)
            return std::nullopt;
        }
        if (i >= in.size()) return std::nullopt;
        h.remaining_length += (in[i] & 0x7Fu) * multiplier;
        multiplier *= 128;
        if ((in[i] & 0x80) == 0) {
            h.header_size = i + 1;
            return h;
        }
    }
}

} // namespace

void decoder::feed(std::span<std::uint8_t const> data)
{
    if (large_ && large_missing_ > 0) {
        // The payload of a large PUBLISH goes straight to its place: no second copy.
        auto const n = std::min(large_missing_, data.size());
        grow_large_payload(n);
        large_->payload.append(reinterpret_cast<char const*>(data.data()), n);
        large_missing_ -= n;
        data = data.subspan(n);
        if (data.empty()) return;
    }
    if (start_ == buffer_.size()) {
        // Everything was decoded: start over without moving bytes.
        buffer_.clear();
        start_ = 0;
    }
    buffer_.insert(buffer_.end(), data.begin(), data.end());
}

std::optional<packet> decoder::next(std::error_code& ec)
{
    ec = {};
    if (large_) {
        if (large_missing_ > 0) return std::nullopt;
        std::optional<packet> done{std::move(*large_)};
        large_.reset();
        return done;
    }
    std::span<std::uint8_t const> const pending{buffer_.data() + start_, buffer_.size() - start_};
    auto const header = parse_fixed_header(pending, ec, version_);
    if (header) {
        auto const total = header->header_size + header->remaining_length;
        // Refuse what we will not buffer as soon as the header announces it.
        if (total > max_packet_size_) {
            ec = errc::packet_too_large;
            return std::nullopt;
        }
        if (pending.size() >= total) {
            auto result = decode_one(pending.first(total), ec, version_);
            start_ += total;
            return result;
        }
        if (header->type == 3 && total >= stream_threshold && start_large_publish(*header, pending, ec)) return next(ec);
        if (ec) return std::nullopt;
    }
    if (!ec && start_ > 0) {
        // Keep only the partial packet, at the front.
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
        start_ = 0;
    }
    return std::nullopt;
}

bool decoder::start_large_publish(fixed_header const& header, std::span<std::uint8_t const> pending, std::error_code& ec)
{
    // The variable header (topic, packet id, MQTT 5 properties) must be complete; the payload
    // may follow later.
    auto const body = pending.subspan(header.header_size);
    if (body.size() < 2) return false;
    std::size_t const topic_length = (std::size_t{body[0]} << 8) | body[1];
    bool const has_id = ((header.flags >> 1) & 0x03) != 0;
    std::size_t head = 2 + topic_length + (has_id ? 2 : 0);
    if (version_ == protocol_version::v5 && head < header.remaining_length) {
        // The Property Length: a Variable Byte Integer, then that many bytes of properties.
        std::uint32_t length = 0;
        reader lr{body.subspan(std::min(head, body.size()))};
        if (!lr.varint(length)) {
            if (lr.left() >= 4) ec = errc::malformed_properties;
            return false; // more bytes needed (or malformed)
        }
        head += varint_size(length) + length;
    }
    if (head > header.remaining_length) {
        ec = errc::malformed_packet;
        return false;
    }
    if (body.size() < head) return false;
    reader r{body.first(head)};
    publish m;
    if ((ec = decode_publish_head(header.flags, r, m, version_))) return false;
    auto const payload_size = header.remaining_length - head;
    auto const here = std::min(payload_size, body.size() - head);
    large_missing_ = payload_size;
    large_ = std::move(m);
    grow_large_payload(here);
    large_->payload.assign(reinterpret_cast<char const*>(body.data() + head), here);
    large_missing_ -= here;
    start_ += header.header_size + head + here;
    if (start_ == buffer_.size()) {
        buffer_.clear();
        start_ = 0;
    }
    return true;
}

void decoder::grow_large_payload(std::size_t coming)
{
    // Never reserve what the header announces before the bytes arrive (a header may announce
    // 256 MiB and send nothing): grow fourfold from what has come, up to the announced size, so
    // that a real large message is copied a few times only.
    auto& payload = large_->payload;
    auto const needed = payload.size() + coming;
    if (needed <= payload.capacity()) return;
    auto const total = payload.size() + large_missing_; // what the header announced
    payload.reserve(std::min(total, std::max(needed, 4 * payload.capacity() + stream_threshold)));
}

std::optional<packet> decode_one(std::span<std::uint8_t const> frame, std::error_code& ec, protocol_version v)
{
    auto const header = parse_fixed_header(frame, ec, v);
    if (!header) {
        if (!ec) ec = errc::malformed_packet; // truncated header
        return std::nullopt;
    }
    if (frame.size() != header->header_size + header->remaining_length) {
        ec = errc::malformed_packet;
        return std::nullopt;
    }
    reader r{frame.subspan(header->header_size)};
    packet p;
    ec = decode_body(header->type, header->flags, r, p, v);
    if (ec) return std::nullopt;
    return p;
}

} // namespace wsmqtt::mqtt

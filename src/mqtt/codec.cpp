// MQTT 3.1.1 encoder and incremental decoder (chapters 2 and 3 of the spec).
#include "overloaded.hpp"
#include "wsmqtt/mqtt/codec.hpp"

#include "wsmqtt/mqtt/error.hpp"
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
// Encoding

constexpr std::size_t string_size(std::string_view s) noexcept { return 2 + s.size(); }

std::size_t body_size(packet const& p) noexcept
{
    return std::visit(
        overloaded{
            [](connect const& c) {
                std::size_t n = string_size(c.version == protocol_version::v31 ? "MQIsdp" : "MQTT") +
                                1 + 1 + 2 + string_size(c.client_id);
                if (c.will) n += string_size(c.will->topic) + string_size(c.will->payload);
                if (c.username) n += string_size(*c.username);
                if (c.password) n += string_size(*c.password);
                return n;
            },
            [](connack const&) -> std::size_t { return 2; },
            [](publish const& m) {
                return string_size(m.topic) + (m.qos == qos::at_most_once ? 0u : 2u) + m.payload.size();
            },
            [](subscribe const& s) {
                std::size_t n = 2;
                for (auto const& sub : s.subscriptions) n += string_size(sub.filter) + 1;
                return n;
            },
            [](suback const& s) { return 2 + s.return_codes.size(); },
            [](unsubscribe const& u) {
                std::size_t n = 2;
                for (auto const& f : u.filters) n += string_size(f);
                return n;
            },
            [](auto const& simple) -> std::size_t {
                using t = std::decay_t<decltype(simple)>;
                if constexpr (std::is_same_v<t, pingreq> || std::is_same_v<t, pingresp> ||
                              std::is_same_v<t, disconnect>)
                    return 0;
                else
                    return 2; // packet identifier only
            },
        },
        p);
}

std::error_code check_string(std::string_view s, bool utf8) noexcept
{
    if (s.size() > max_string_length) return errc::string_too_long;
    if (utf8 && !is_valid_utf8(s)) return errc::invalid_utf8; // [MQTT-1.5.3-1/2]
    return {};
}

std::error_code check_qos(qos q) noexcept
{
    return static_cast<std::uint8_t>(q) > 2 ? make_error_code(errc::invalid_qos) : std::error_code{};
}

std::error_code validate(packet const& p) noexcept
{
    return std::visit(
        overloaded{
            [](connect const& c) -> std::error_code {
                if (auto ec = check_string(c.client_id, true)) return ec; // [MQTT-3.1.3-4]
                if (c.will) {
                    if (auto ec = check_topic_name(c.will->topic)) return ec; // [MQTT-3.1.3-10]
                    if (auto ec = check_string(c.will->payload, false)) return ec;
                    if (auto ec = check_qos(c.will->qos)) return ec; // [MQTT-3.1.2-14]
                }
                if (c.username)
                    if (auto ec = check_string(*c.username, true)) return ec; // [MQTT-3.1.3-11]
                if (c.password) {
                    if (!c.username) return errc::malformed_packet; // [MQTT-3.1.2-22]
                    if (auto ec = check_string(*c.password, false)) return ec;
                }
                return {};
            },
            [](publish const& m) -> std::error_code {
                if (auto ec = check_topic_name(m.topic)) return ec; // [MQTT-3.3.2-1/2]
                if (auto ec = check_qos(m.qos)) return ec;          // [MQTT-3.3.1-4]
                if (m.qos == qos::at_most_once) {
                    if (m.dup) return errc::invalid_flags; // [MQTT-3.3.1-2]
                } else if (m.packet_id == 0) {
                    return errc::zero_packet_id; // [MQTT-2.3.1-1]
                }
                return {};
            },
            [](subscribe const& s) -> std::error_code {
                if (s.packet_id == 0) return errc::zero_packet_id;
                if (s.subscriptions.empty()) return errc::empty_subscription_list; // [MQTT-3.8.3-3]
                for (auto const& sub : s.subscriptions) {
                    if (auto ec = check_topic_filter(sub.filter)) return ec; // [MQTT-3.8.3-1]
                    if (auto ec = check_qos(sub.qos)) return ec;             // [MQTT-3-8.3-4]
                }
                return {};
            },
            [](unsubscribe const& u) -> std::error_code {
                if (u.packet_id == 0) return errc::zero_packet_id;
                if (u.filters.empty()) return errc::empty_subscription_list; // [MQTT-3.10.3-2]
                for (auto const& f : u.filters)
                    if (auto ec = check_topic_filter(f)) return ec; // [MQTT-3.10.3-1]
                return {};
            },
            [](auto const&) -> std::error_code { return {}; },
        },
        p);
}

std::uint8_t fixed_header_byte(packet const& p) noexcept
{
    auto const type = static_cast<std::uint8_t>(type_number(p) << 4);
    if (auto const* m = std::get_if<publish>(&p)) {
        return static_cast<std::uint8_t>(type | (m->dup ? 0x08 : 0) |
                                         (static_cast<std::uint8_t>(m->qos) << 1) |
                                         (m->retain ? 0x01 : 0));
    }
    // PUBREL, SUBSCRIBE and UNSUBSCRIBE carry flags 0010 [MQTT-2.2.2-1, MQTT-3.6.1-1, MQTT-3.8.1-1].
    if (std::holds_alternative<pubrel>(p) || std::holds_alternative<subscribe>(p) ||
        std::holds_alternative<unsubscribe>(p))
        return static_cast<std::uint8_t>(type | 0x02);
    return type;
}

void write_body(packet const& p, writer& w)
{
    std::visit(
        overloaded{
            [&](connect const& c) {
                bool const v31 = c.version == protocol_version::v31;
                w.str(v31 ? "MQIsdp" : "MQTT");
                w.u8(static_cast<std::uint8_t>(c.version));
                std::uint8_t flags = 0; // bit 0 reserved, 0 [MQTT-3.1.2-3]
                if (c.clean_session) flags |= 0x02;
                if (c.will) {
                    flags |= 0x04;
                    flags |= static_cast<std::uint8_t>(static_cast<std::uint8_t>(c.will->qos) << 3);
                    if (c.will->retain) flags |= 0x20;
                }
                if (c.password) flags |= 0x40;
                if (c.username) flags |= 0x80;
                w.u8(flags);
                w.u16(c.keep_alive);
                // Payload order: client id, will topic, will message, user name, password [MQTT-3.1.3-1].
                w.str(c.client_id);
                if (c.will) {
                    w.str(c.will->topic);
                    w.str(c.will->payload);
                }
                if (c.username) w.str(*c.username);
                if (c.password) w.str(*c.password);
            },
            [&](connack const& c) {
                w.u8(c.session_present ? 1 : 0);
                w.u8(c.return_code);
            },
            [&](publish const& m) {
                w.str(m.topic);
                if (m.qos != qos::at_most_once) w.u16(m.packet_id); // [MQTT-2.3.1-5]
                w.raw(m.payload);
            },
            [&](subscribe const& s) {
                w.u16(s.packet_id);
                for (auto const& sub : s.subscriptions) {
                    w.str(sub.filter);
                    w.u8(static_cast<std::uint8_t>(sub.qos));
                }
            },
            [&](suback const& s) {
                w.u16(s.packet_id);
                for (auto const code : s.return_codes) w.u8(code);
            },
            [&](unsubscribe const& u) {
                w.u16(u.packet_id);
                for (auto const& f : u.filters) w.str(f);
            },
            [&](auto const& simple) {
                if constexpr (requires { simple.packet_id; }) w.u16(simple.packet_id);
            },
        },
        p);
}

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
    else if (name == "MQIsdp" && level == 3) c.version = protocol_version::v31;
    else return errc::malformed_packet;
    if (flags & 0x01) return errc::malformed_packet; // [MQTT-3.1.2-3]
    c.clean_session = (flags & 0x02) != 0;
    bool const has_will = (flags & 0x04) != 0;
    auto const will_qos = static_cast<std::uint8_t>((flags >> 3) & 0x03);
    bool const will_retain = (flags & 0x20) != 0;
    if (will_qos == 3) return errc::invalid_qos; // [MQTT-3.1.2-14]
    if (!has_will && (will_qos != 0 || will_retain)) return errc::malformed_packet; // [MQTT-3.1.2-11]
    if (!r.str(c.client_id)) return errc::malformed_packet;
    if (!is_valid_utf8(c.client_id)) return errc::invalid_utf8;
    if (has_will) {
        will w{{}, {}, static_cast<qos>(will_qos), will_retain};
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
        if (!(flags & 0x80)) return errc::malformed_packet; // [MQTT-3.1.2-22]
        c.password.emplace();
        if (!r.str(*c.password)) return errc::malformed_packet;
    }
    return {};
}

/// PUBLISH flags and variable header (topic, packet id): all but the payload.
std::error_code decode_publish_head(std::uint8_t flags, reader& r, publish& m)
{
    m.dup = (flags & 0x08) != 0;
    auto const q = static_cast<std::uint8_t>((flags >> 1) & 0x03);
    if (q == 3) return errc::invalid_qos; // [MQTT-3.3.1-4]
    m.qos = static_cast<qos>(q);
    m.retain = (flags & 0x01) != 0;
    if (m.dup && m.qos == qos::at_most_once) return errc::invalid_flags; // [MQTT-3.3.1-2]
    if (!r.str(m.topic)) return errc::malformed_packet;
    if (auto ec = check_topic_name(m.topic)) return ec; // [MQTT-3.3.2-1/2, MQTT-1.5.3-1]
    if (m.qos != qos::at_most_once) {
        if (!r.u16(m.packet_id)) return errc::malformed_packet;
        if (m.packet_id == 0) return errc::zero_packet_id; // [MQTT-2.3.1-1]
    }
    return {};
}

std::error_code decode_body(std::uint8_t type, std::uint8_t flags, reader& r, packet& out)
{
    auto const packet_id = [&](std::uint16_t& id) -> std::error_code {
        if (!r.u16(id)) return errc::malformed_packet;
        if (id == 0) return errc::zero_packet_id; // [MQTT-2.3.1-1]
        return {};
    };
    auto const ack = [&](auto& a) -> std::error_code {
        if (r.left() != 2) return errc::malformed_packet; // Remaining Length exactly 2 (§3.4-3.7, 3.11)
        return packet_id(a.packet_id);
    };
    auto const empty = [&]() -> std::error_code {
        return r.left() == 0 ? std::error_code{} : make_error_code(errc::malformed_packet);
    };

    switch (type) {
    case 1: {
        if (auto ec = decode_connect(r, out.emplace<connect>())) return ec;
        return empty();
    }
    case 2: {
        auto& c = out.emplace<connack>();
        std::uint8_t ack_flags = 0;
        if (r.left() != 2 || !r.u8(ack_flags) || !r.u8(c.return_code)) return errc::malformed_packet;
        if (ack_flags & 0xFE) return errc::invalid_connack_flags; // bits 7-1 reserved (§3.2.2.1)
        if (c.return_code > 5) return errc::invalid_return_code;   // 6-255 reserved (§3.2.2.3)
        c.session_present = (ack_flags & 0x01) != 0;
        return {};
    }
    case 3: {
        auto& m = out.emplace<publish>();
        if (auto ec = decode_publish_head(flags, r, m)) return ec;
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
        while (r.left() > 0) {
            subscription sub;
            std::uint8_t q = 0;
            if (!r.str(sub.filter) || !r.u8(q)) return errc::malformed_packet;
            if (auto ec = check_topic_filter(sub.filter)) return ec;
            if (q > 2) return errc::invalid_qos; // [MQTT-3-8.3-4]
            sub.qos = static_cast<qos>(q);
            s.subscriptions.push_back(std::move(sub));
        }
        if (s.subscriptions.empty()) return errc::empty_subscription_list; // [MQTT-3.8.3-3]
        return {};
    }
    case 9: {
        auto& s = out.emplace<suback>();
        if (auto ec = packet_id(s.packet_id)) return ec;
        if (r.left() == 0) return errc::malformed_packet;
        while (r.left() > 0) {
            std::uint8_t code = 0;
            (void)r.u8(code);
            if (code > 2 && code != suback_failure) return errc::invalid_return_code; // [MQTT-3.9.3-2]
            s.return_codes.push_back(code);
        }
        return {};
    }
    case 10: {
        auto& u = out.emplace<unsubscribe>();
        if (auto ec = packet_id(u.packet_id)) return ec;
        while (r.left() > 0) {
            std::string f;
            if (!r.str(f)) return errc::malformed_packet;
            if (auto ec = check_topic_filter(f)) return ec;
            u.filters.push_back(std::move(f));
        }
        if (u.filters.empty()) return errc::empty_subscription_list; // [MQTT-3.10.3-2]
        return {};
    }
    case 11: return ack(out.emplace<unsuback>());
    case 12: out.emplace<pingreq>(); return empty();
    case 13: out.emplace<pingresp>(); return empty();
    case 14: out.emplace<disconnect>(); return empty();
    default: return errc::invalid_packet_type; // 0 and 15 are reserved (§2.2.1)
    }
}

/// Parses a fixed header; nullopt with !ec when more bytes are needed.
std::optional<fixed_header> parse_fixed_header(std::span<std::uint8_t const> in, std::error_code& ec)
{
    ec = {};
    if (in.empty()) return std::nullopt;
    fixed_header h;
    h.type = static_cast<std::uint8_t>(in[0] >> 4);
    h.flags = static_cast<std::uint8_t>(in[0] & 0x0F);
    if (h.type == 0 || h.type == 15) {
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

std::error_code encode(packet const& p, bytes& out)
{
    return encode_publish_head(p, 0, out);
}

std::error_code encode_publish_head(packet const& p, std::size_t payload_size, bytes& out)
{
    if (auto ec = validate(p)) return ec;
    if (payload_size > 0 && !std::holds_alternative<publish>(p)) return errc::malformed_packet;
    auto const size = body_size(p) + payload_size;
    if (size > max_remaining_length) return errc::packet_too_large;
    // Grow geometrically: reserving the exact size here made every packet appended to a
    // pending batch reallocate and copy the whole batch (quadratic in `pub -l`).
    if (auto const needed = out.size() + 5 + size; needed > out.capacity())
        out.reserve(std::max(needed, 2 * out.capacity()));
    writer w{out};
    w.u8(fixed_header_byte(p));
    w.remaining_length(size);
    write_body(p, w);
    return {};
}

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
    auto const header = parse_fixed_header(pending, ec);
    if (header) {
        auto const total = header->header_size + header->remaining_length;
        // Refuse what we will not buffer as soon as the header announces it.
        if (total > max_packet_size_) {
            ec = errc::packet_too_large;
            return std::nullopt;
        }
        if (pending.size() >= total) {
            auto result = decode_one(pending.first(total), ec);
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
    // The variable header (topic, packet id) must be complete; the payload may follow later.
    auto const body = pending.subspan(header.header_size);
    if (body.size() < 2) return false;
    std::size_t const topic_length = (std::size_t{body[0]} << 8) | body[1];
    bool const has_id = ((header.flags >> 1) & 0x03) != 0;
    std::size_t const head = 2 + topic_length + (has_id ? 2 : 0);
    if (head > header.remaining_length) {
        ec = errc::malformed_packet;
        return false;
    }
    if (body.size() < head) return false;
    reader r{body.first(head)};
    publish m;
    if ((ec = decode_publish_head(header.flags, r, m))) return false;
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

std::optional<packet> decode_one(std::span<std::uint8_t const> frame, std::error_code& ec)
{
    auto const header = parse_fixed_header(frame, ec);
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
    ec = decode_body(header->type, header->flags, r, p);
    if (ec) return std::nullopt;
    return p;
}

} // namespace wsmqtt::mqtt

// MQTT 5 properties (§2.2.2): the table of §2.2.2.2, and the Property Length and properties
// encoded and decoded.
#include "wsmqtt/mqtt/properties.hpp"

#include "wire.hpp"
#include "wsmqtt/mqtt/error.hpp"

#include <algorithm>
#include <array>

namespace wsmqtt::mqtt {
namespace {

/// A bit for each place a property may appear: bit 0 the Will Properties, bit N packet type N.
constexpr std::uint16_t in(std::initializer_list<std::uint8_t> places) noexcept
{
    std::uint16_t bits = 0;
    for (auto p : places) bits = static_cast<std::uint16_t>(bits | (1u << p));
    return bits;
}

constexpr std::uint8_t WILL = will_properties, CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, PUBREC = 5, PUBREL = 6,
                       PUBCOMP = 7, SUBSCRIBE = 8, SUBACK = 9, UNSUBSCRIBE = 10, UNSUBACK = 11, DISCONNECT = 14, AUTH = auth_packet;

struct property_info {
    property_id id;
    property_type type;
    std::uint16_t places;
    char const* name;
};

using enum property_type;

/// §2.2.2.2, in identifier order.
constexpr std::array<property_info, 27> table{{
    {property_id::payload_format_indicator, byte, in({PUBLISH, WILL}), "payload-format-indicator"},
    {property_id::message_expiry_interval, four_byte, in({PUBLISH, WILL}), "message-expiry-interval"},
    {property_id::content_type, utf8, in({PUBLISH, WILL}), "content-type"},
    {property_id::response_topic, utf8, in({PUBLISH, WILL}), "response-topic"},
    {property_id::correlation_data, binary, in({PUBLISH, WILL}), "correlation-data"},
    {property_id::subscription_identifier, varint, in({PUBLISH, SUBSCRIBE}), "subscription-identifier"},
    {property_id::session_expiry_interval, four_byte, in({CONNECT, CONNACK, DISCONNECT}), "session-expiry-interval"},
    {property_id::assigned_client_identifier, utf8, in({CONNACK}), "assigned-client-identifier"},
    {property_id::server_keep_alive, two_byte, in({CONNACK}), "server-keep-alive"},
    {property_id::authentication_method, utf8, in({CONNECT, CONNACK, AUTH}), "authentication-method"},
    {property_id::authentication_data, binary, in({CONNECT, CONNACK, AUTH}), "authentication-data"},
    {property_id::request_problem_information, byte, in({CONNECT}), "request-problem-information"},
    {property_id::will_delay_interval, four_byte, in({WILL}), "will-delay-interval"},
    {property_id::request_response_information, byte, in({CONNECT}), "request-response-information"},
    {property_id::response_information, utf8, in({CONNACK}), "response-information"},
    {property_id::server_reference, utf8, in({CONNACK, DISCONNECT}), "server-reference"},
    {property_id::reason_string, utf8, in({CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH}), "reason-string"},
    {property_id::receive_maximum, two_byte, in({CONNECT, CONNACK}), "receive-maximum"},
    {property_id::topic_alias_maximum, two_byte, in({CONNECT, CONNACK}), "topic-alias-maximum"},
    {property_id::topic_alias, two_byte, in({PUBLISH}), "topic-alias"},
    {property_id::maximum_qos, byte, in({CONNACK}), "maximum-qos"},
    {property_id::retain_available, byte, in({CONNACK}), "retain-available"},
    {property_id::user_property, utf8_pair,
     in({CONNECT, CONNACK, PUBLISH, WILL, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH}),
     "user-property"},
    {property_id::maximum_packet_size, four_byte, in({CONNECT, CONNACK}), "maximum-packet-size"},
    {property_id::wildcard_subscription_available, byte, in({CONNACK}), "wildcard-subscription-available"},
    {property_id::subscription_identifier_available, byte, in({CONNACK}), "subscription-identifier-available"},
    {property_id::shared_subscription_available, byte, in({CONNACK}), "shared-subscription-available"},
}};

property_info const* info(std::uint8_t id) noexcept
{
    auto const it = std::find_if(table.begin(), table.end(), [id](auto const& p) { return static_cast<std::uint8_t>(p.id) == id; });
    return it == table.end() ? nullptr : &*it;
}

/// Whether `id` may appear more than once in `where`: user properties anywhere, subscription
/// identifiers in a PUBLISH (one per matching subscription, §3.3.2.3.8).
bool may_repeat(property_id id, std::uint8_t where) noexcept
{
    return id == property_id::user_property || (id == property_id::subscription_identifier && where == PUBLISH);
}

/// Whether a number is in the range its property allows (§3.1.2.11, §3.2.2.3, §3.3.2.3).
bool in_range(property const& p) noexcept
{
    switch (p.id) {
    case property_id::payload_format_indicator:
    case property_id::request_problem_information:
    case property_id::request_response_information:
    case property_id::maximum_qos:
    case property_id::retain_available:
    case property_id::wildcard_subscription_available:
    case property_id::subscription_identifier_available:
    case property_id::shared_subscription_available:
        return p.number <= 1;
    case property_id::receive_maximum:       // 0 is a Protocol Error (§3.1.2.11.3, §3.2.2.3.3)
    case property_id::maximum_packet_size:   // 0 is a Protocol Error (§3.1.2.11.4, §3.2.2.3.6)
    case property_id::topic_alias:           // 0 is a Protocol Error (§3.3.2.3.4)
        return p.number != 0;
    case property_id::subscription_identifier: // 1 to 268 435 455 (§3.3.2.3.8, §3.8.2.1.2)
        return p.number >= 1 && p.number <= max_remaining_length;
    default:
        return true;
    }
}

std::size_t value_size(property const& p, property_type type) noexcept
{
    switch (type) {
    case byte: return 1;
    case two_byte: return 2;
    case four_byte: return 4;
    case varint: return varint_size(p.number);
    case utf8:
    case binary: return 2 + p.value.size();
    case utf8_pair: return 4 + p.value.size() + p.pair_value.size();
    }
    return 0;
}

std::size_t body_size(properties const& props) noexcept
{
    std::size_t n = 0;
    for (auto const& p : props)
        if (auto const* i = info(static_cast<std::uint8_t>(p.id))) n += 1 + value_size(p, i->type);
    return n;
}

std::error_code check_one(property const& p, property_type type) noexcept
{
    switch (type) {
    case byte: if (p.number > 0xFF) return errc::invalid_property_value; break;
    case two_byte: if (p.number > 0xFFFF) return errc::invalid_property_value; break;
    case varint: if (p.number > max_remaining_length) return errc::invalid_property_value; break;
    case four_byte: break;
    case utf8: return check_string(p.value, true);
    case binary: return check_string(p.value, false);
    case utf8_pair:
        if (auto ec = check_string(p.value, true)) return ec;
        return check_string(p.pair_value, true);
    }
    return in_range(p) ? std::error_code{} : make_error_code(errc::invalid_property_value);
}

/// Each property at most once unless it may repeat (§2.2.2.2).
std::error_code check_repeats(properties const& props, std::uint8_t where) noexcept
{
    std::array<bool, 64> seen{};
    for (auto const& p : props) {
        auto const id = static_cast<std::uint8_t>(p.id);
        if (id < seen.size() && seen[id] && !may_repeat(p.id, where)) return errc::duplicate_property;
        if (id < seen.size()) seen[id] = true;
    }
    return {};
}

} // namespace

std::optional<property_type> type_of(std::uint8_t id) noexcept
{
    if (auto const* i = info(id)) return i->type;
    return std::nullopt;
}

char const* property_name(property_id id) noexcept
{
    auto const* i = info(static_cast<std::uint8_t>(id));
    return i ? i->name : "unknown";
}

std::optional<property_id> property_from_name(std::string_view name) noexcept
{
    for (auto const& i : table)
        if (name == i.name) return i.id;
    return std::nullopt;
}

bool allowed_in(property_id id, std::uint8_t where) noexcept
{
    auto const* i = info(static_cast<std::uint8_t>(id));
    return i && where < 16 && (i->places & (1u << where)) != 0;
}

std::size_t properties_size(properties const& props) noexcept
{
    auto const n = body_size(props);
    return varint_size(n) + n;
}

void encode_properties(properties const& props, bytes& out)
{
    writer w{out};
    w.varint(static_cast<std::uint32_t>(body_size(props)));
    for (auto const& p : props) {
        auto const* i = info(static_cast<std::uint8_t>(p.id));
        if (!i) continue;
        w.u8(static_cast<std::uint8_t>(p.id));
        switch (i->type) {
        case byte: w.u8(static_cast<std::uint8_t>(p.number)); break;
        case two_byte: w.u16(static_cast<std::uint16_t>(p.number)); break;
        case four_byte: w.u32(p.number); break;
        case varint: w.varint(p.number); break;
        case utf8:
        case binary: w.str(p.value); break;
        case utf8_pair:
            w.str(p.value);
            w.str(p.pair_value);
            break;
        }
    }
}

std::error_code check_properties(properties const& props, std::uint8_t where) noexcept
{
    for (auto const& p : props) {
        auto const* i = info(static_cast<std::uint8_t>(p.id));
        if (!i) return errc::unknown_property;
        if (!allowed_in(p.id, where)) return errc::property_not_allowed;
        if (auto ec = check_one(p, i->type)) return ec;
    }
    return check_repeats(props, where);
}

std::error_code decode_properties(std::span<std::uint8_t const>& in, std::uint8_t where, properties& out)
{
    out.clear();
    reader r{in};
    std::uint32_t length = 0;
    reader body{{}};
    if (!r.varint(length) || !r.take(length, body)) return errc::malformed_properties;
    while (body.left() > 0) {
        std::uint32_t id = 0; // a Variable Byte Integer, though every one defined fits a byte (§2.2.2.2)
        if (!body.varint(id)) return errc::malformed_properties;
        auto const* i = id < 0x80 ? info(static_cast<std::uint8_t>(id)) : nullptr;
        if (!i) return errc::unknown_property;
        if (!allowed_in(i->id, where)) return errc::property_not_allowed;
        property p{i->id, 0, {}, {}};
        bool ok = true;
        switch (i->type) {
        case byte: {
            std::uint8_t v = 0;
            ok = body.u8(v);
            p.number = v;
            break;
        }
        case two_byte: {
            std::uint16_t v = 0;
            ok = body.u16(v);
            p.number = v;
            break;
        }
        case four_byte: ok = body.u32(p.number); break;
        case varint: ok = body.varint(p.number); break;
        case utf8:
        case binary: ok = body.str(p.value); break;
        case utf8_pair: ok = body.str(p.value) && body.str(p.pair_value); break;
        }
        if (!ok) return errc::malformed_properties;
        if (auto ec = check_one(p, i->type)) return ec;
        out.push_back(std::move(p));
    }
    if (auto ec = check_repeats(out, where)) return ec;
    in = in.subspan(in.size() - r.left());
    return {};
}

property const* find(properties const& props, property_id id) noexcept
{
    auto const it = std::find_if(props.begin(), props.end(), [id](auto const& p) { return p.id == id; });
    return it == props.end() ? nullptr : &*it;
}

} // namespace wsmqtt::mqtt

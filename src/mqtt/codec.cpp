// MQTT encoder: 3.1.1 and 3.1 (chapters 2 and 3 of 3.1.1), and 5.0 with its properties and
// reason codes (chapters 2 and 3 of 5.0). The decoder is in decode.cpp.
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

namespace {

// ---------------------------------------------------------------------------------------------
// Encoding

constexpr std::size_t string_size(std::string_view s) noexcept { return 2 + s.size(); }

/// The Reason Code and Property Length of PUBACK, PUBREC, PUBREL and PUBCOMP (§3.4.2.1),
/// DISCONNECT (§3.14.2.1) and AUTH (§3.15.2.1) may be left out: 0 with no properties.
template <class P>
constexpr bool short_form(P const& a) noexcept
{
    return a.reason_code == 0 && a.props.empty();
}

std::size_t body_size(packet const& p, protocol_version v) noexcept
{
    bool const v5 = v == protocol_version::v5;
    auto const props = [v5](properties const& ps) { return v5 ? properties_size(ps) : 0u; };
    return std::visit(
        overloaded{
            [&](connect const& c) {
                std::size_t n = string_size(c.version == protocol_version::v31 ? "MQIsdp" : "MQTT") + 1 + 1 + 2 +
                                props(c.props) + string_size(c.client_id);
                if (c.will) n += props(c.will->props) + string_size(c.will->topic) + string_size(c.will->payload);
                if (c.username) n += string_size(*c.username);
                if (c.password) n += string_size(*c.password);
                return n;
            },
            [&](connack const& c) { return 2 + props(c.props); },
            [&](publish const& m) { return string_size(m.topic) + (m.qos == qos::at_most_once ? 0u : 2u) + props(m.props) + m.payload.size(); },
            [&](subscribe const& s) {
                std::size_t n = 2 + props(s.props);
                for (auto const& sub : s.subscriptions) n += string_size(sub.filter) + 1;
                return n;
            },
            [&](suback const& s) { return 2 + props(s.props) + s.return_codes.size(); },
            [&](unsubscribe const& u) {
                std::size_t n = 2 + props(u.props);
                for (auto const& f : u.filters) n += string_size(f);
                return n;
            },
            [&](unsuback const& u) { return 2 + (v5 ? properties_size(u.props) + u.reason_codes.size() : 0u); },
            [&](auto const& simple) -> std::size_t {
                using t = std::decay_t<decltype(simple)>;
                if constexpr (std::is_same_v<t, pingreq> || std::is_same_v<t, pingresp>) {
                    return 0;
                } else if constexpr (std::is_same_v<t, disconnect> || std::is_same_v<t, auth>) {
                    if (!v5 || short_form(simple)) return 0;
                    return 1 + (simple.props.empty() ? 0 : properties_size(simple.props));
                } else { // PUBACK, PUBREC, PUBREL, PUBCOMP
                    if (!v5 || short_form(simple)) return 2;
                    return 3 + (simple.props.empty() ? 0 : properties_size(simple.props));
                }
            },
        },
        p);
}

std::error_code check_qos(qos q) noexcept
{
    return static_cast<std::uint8_t>(q) > 2 ? make_error_code(errc::invalid_qos) : std::error_code{};
}

/// What MQTT 5 added is empty or 0 in a packet for MQTT 3.1.1 or 3.1.
std::error_code check_no_v5(packet const& p) noexcept
{
    bool const has_v5 = std::visit(
        overloaded{
            [](connect const& c) { return !c.props.empty() || (c.will && !c.will->props.empty()); },
            [](subscribe const& s) {
                return !s.props.empty() || std::any_of(s.subscriptions.begin(), s.subscriptions.end(), [](subscription const& x) {
                           return x.no_local || x.retain_as_published || x.retain_handling != 0;
                       });
            },
            [](unsuback const& u) { return !u.props.empty() || !u.reason_codes.empty(); },
            [](auth const&) { return true; },
            [](auto const& other) {
                bool any = false;
                if constexpr (requires { other.props; }) any = any || !other.props.empty();
                if constexpr (requires { other.reason_code; }) any = any || other.reason_code != 0;
                return any;
            },
        },
        p);
    return has_v5 ? make_error_code(errc::not_in_this_version) : std::error_code{};
}

/// MQTT 5: the properties of each part are allowed where they are (§2.2.2.2).
std::error_code check_v5(packet const& p) noexcept
{
    auto const where = type_number(p);
    return std::visit(
        overloaded{
            [&](connect const& c) -> std::error_code {
                if (auto ec = check_properties(c.props, where)) return ec;
                return c.will ? check_properties(c.will->props, will_properties) : std::error_code{};
            },
            [&](subscribe const& s) -> std::error_code {
                for (auto const& x : s.subscriptions)
                    if (x.retain_handling > 2) return errc::malformed_packet; // §3.8.3.1
                return check_properties(s.props, where);
            },
            [&](auto const& other) -> std::error_code {
                if constexpr (requires { other.props; }) return check_properties(other.props, where);
                else return {};
            },
        },
        p);
}

std::error_code validate(packet const& p, protocol_version v) noexcept
{
    if (auto ec = v == protocol_version::v5 ? check_v5(p) : check_no_v5(p)) return ec;
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
                    // MQTT 5 allows a password without a user name (§3.1.2.9).
                    if (!c.username && c.version != protocol_version::v5) return errc::malformed_packet; // [MQTT-3.1.2-22]
                    if (auto ec = check_string(*c.password, false)) return ec;
                }
                return {};
            },
            [](publish const& m) -> std::error_code {
                // MQTT 5: a Topic Alias stands for the topic, which may then be empty (§3.3.2.3.4).
                bool const aliased = m.topic.empty() && find(m.props, property_id::topic_alias);
                if (!aliased)
                    if (auto ec = check_topic_name(m.topic)) return ec; // [MQTT-3.3.2-1/2]
                if (auto ec = check_qos(m.qos)) return ec;              // [MQTT-3.3.1-4]
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

void write_body(packet const& p, writer& w, protocol_version v)
{
    bool const v5 = v == protocol_version::v5;
    auto const props = [&](properties const& ps) {
        if (v5) w.props(ps);
    };
    std::visit(
        overloaded{
            [&](connect const& c) {
                bool const v31 = c.version == protocol_version::v31;
                w.str(v31 ? "MQIsdp" : "MQTT");
                w.u8(static_cast<std::uint8_t>(c.version));
                std::uint8_t flags = 0; // bit 0 reserved, 0 [MQTT-3.1.2-3]
                if (c.clean_session) flags |= 0x02; // MQTT 5: Clean Start
                if (c.will) {
                    flags |= 0x04;
                    flags |= static_cast<std::uint8_t>(static_cast<std::uint8_t>(c.will->qos) << 3);
                    if (c.will->retain) flags |= 0x20;
                }
                if (c.password) flags |= 0x40;
                if (c.username) flags |= 0x80;
                w.u8(flags);
                w.u16(c.keep_alive);
                props(c.props);
                // Payload order: client id, will (properties,) topic, message, user name, password [MQTT-3.1.3-1].
                w.str(c.client_id);
                if (c.will) {
                    props(c.will->props);
                    w.str(c.will->topic);
                    w.str(c.will->payload);
                }
                if (c.username) w.str(*c.username);
                if (c.password) w.str(*c.password);
            },
            [&](connack const& c) {
                w.u8(c.session_present ? 1 : 0);
                w.u8(c.return_code);
                props(c.props);
            },
            [&](publish const& m) {
                w.str(m.topic);
                if (m.qos != qos::at_most_once) w.u16(m.packet_id); // [MQTT-2.3.1-5]
                props(m.props);
                w.raw(m.payload);
            },
            [&](subscribe const& s) {
                w.u16(s.packet_id);
                props(s.props);
                for (auto const& sub : s.subscriptions) {
                    w.str(sub.filter);
                    // Subscription options (§3.8.3.1): QoS, No Local, Retain As Published, Retain Handling.
                    w.u8(static_cast<std::uint8_t>(static_cast<std::uint8_t>(sub.qos) | (sub.no_local ? 0x04 : 0) |
                                                   (sub.retain_as_published ? 0x08 : 0) | (sub.retain_handling << 4)));
                }
            },
            [&](suback const& s) {
                w.u16(s.packet_id);
                props(s.props);
                for (auto const code : s.return_codes) w.u8(code);
            },
            [&](unsubscribe const& u) {
                w.u16(u.packet_id);
                props(u.props);
                for (auto const& f : u.filters) w.str(f);
            },
            [&](unsuback const& u) {
                w.u16(u.packet_id);
                if (!v5) return;
                w.props(u.props);
                for (auto const code : u.reason_codes) w.u8(code);
            },
            [&](auto const& simple) {
                if constexpr (requires { simple.packet_id; }) w.u16(simple.packet_id);
                if constexpr (requires { simple.reason_code; }) {
                    if (!v5 || short_form(simple)) return;
                    w.u8(simple.reason_code);
                    if (!simple.props.empty()) w.props(simple.props);
                }
            },
        },
        p);
}
} // namespace

std::error_code encode(packet const& p, bytes& out, protocol_version v)
{
    return encode_publish_head(p, 0, out, v);
}

std::error_code encode_publish_head(packet const& p, std::size_t payload_size, bytes& out, protocol_version v)
{
    // A CONNECT says its own version.
    if (auto const* c = std::get_if<connect>(&p)) v = c->version;
    if (auto ec = validate(p, v)) return ec;
    if (payload_size > 0 && !std::holds_alternative<publish>(p)) return errc::malformed_packet;
    auto const size = body_size(p, v) + payload_size;
    if (size > max_remaining_length) return errc::packet_too_large;
    // Grow geometrically: reserving the exact size here made every packet appended to a
    // pending batch reallocate and copy the whole batch (quadratic in `pub -l`).
    if (auto const needed = out.size() + 5 + size; needed > out.capacity())
        out.reserve(std::max(needed, 2 * out.capacity()));
    writer w{out};
    w.u8(fixed_header_byte(p));
    w.remaining_length(size);
    write_body(p, w, v);
    return {};
}


} // namespace wsmqtt::mqtt

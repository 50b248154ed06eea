// The session's failures in words, with their exit codes (README.md, "Exit codes").
#include "wsmqtt/session_words.hpp"

#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/properties.hpp"
#include "wsmqtt/output.hpp"

#include <fmt/format.h>

namespace wsmqtt {
namespace {

using mqtt::errc;
using mqtt::property_id;

/// A broker's DISCONNECT (MQTT 5): a broken protocol, a refusal, or a reason to try again.
exit_code disconnect_exit_code(std::uint8_t code) noexcept
{
    switch (code) {
    case 0x81: case 0x82: case 0x8F: case 0x90: case 0x93: case 0x94: case 0x95: case 0x99: case 0x9A: case 0x9B:
        return exit_code::protocol;
    case 0x86: case 0x87: case 0x8A: case 0x8C:
        return connack_exit_code(code);
    default: // shutting down, busy, taken over, moved, rate or time limits: the network kind, retried
        return exit_code::network;
    }
}

} // namespace

std::string properties_words(mqtt::properties const& props)
{
    std::string out;
    for (auto const& p : props) {
        if (!out.empty()) out += ' ';
        out += mqtt::property_name(p.id);
        switch (*mqtt::type_of(static_cast<std::uint8_t>(p.id))) {
        case mqtt::property_type::utf8: out += fmt::format("='{}'", p.value); break;
        case mqtt::property_type::utf8_pair: out += fmt::format(" '{}'='{}'", p.value, p.pair_value); break;
        case mqtt::property_type::binary:
            if (p.id == property_id::authentication_data) {
                out += fmt::format("=({} bytes)", p.value.size()); // may be a secret
            } else {
                out += "=hex:";
                append_hex(p.value, out);
            }
            break;
        default: out += fmt::format("={}", p.number);
        }
    }
    return out;
}

std::string connack_limits_words(mqtt::connack const& c, std::uint16_t our_keepalive)
{
    auto const number = [&](property_id id, std::uint32_t otherwise) {
        auto const* p = mqtt::find(c.props, id);
        return p ? p->number : otherwise;
    };
    auto const yes = [&](property_id id) { return number(id, 1) != 0 ? "yes" : "no"; };
    auto const* keepalive = mqtt::find(c.props, property_id::server_keep_alive);
    auto const* assigned = mqtt::find(c.props, property_id::assigned_client_identifier);
    return fmt::format("maximum QoS {}, retain {}, wildcard subscriptions {}, shared subscriptions {}, subscription identifiers {}, "
                       "receive maximum {}, maximum packet size {}, topic alias maximum {}, keepalive {} s{}, session expiry {}{}",
                       number(property_id::maximum_qos, 2), yes(property_id::retain_available),
                       yes(property_id::wildcard_subscription_available), yes(property_id::shared_subscription_available),
                       yes(property_id::subscription_identifier_available), number(property_id::receive_maximum, 65535),
                       mqtt::find(c.props, property_id::maximum_packet_size) ? std::to_string(number(property_id::maximum_packet_size, 0))
                                                                            : std::string{"no limit"},
                       number(property_id::topic_alias_maximum, 0), keepalive ? keepalive->number : our_keepalive,
                       keepalive ? " (the broker's)" : "",
                       mqtt::find(c.props, property_id::session_expiry_interval)
                           ? fmt::format("{} s (the broker's)", number(property_id::session_expiry_interval, 0))
                           : std::string{"as asked"},
                       assigned ? fmt::format(", assigned client id '{}'", assigned->value) : std::string{});
}

std::string reason_words(std::uint8_t code, mqtt::properties const& props)
{
    auto words = fmt::format("0x{:02X} {}", code, mqtt::reason_code_text(code));
    if (auto const* why = mqtt::find(props, property_id::reason_string)) words += fmt::format(" (\"{}\")", why->value);
    if (auto const* where = mqtt::find(props, property_id::server_reference)) words += fmt::format(", go to {}", where->value);
    return words;
}

exit_code connack_exit_code(std::uint8_t reason_code) noexcept
{
    auto const base = to_int(exit_code::connack_base);
    switch (reason_code) {
    case 0x84: return static_cast<exit_code>(base + 1); // unsupported protocol version
    case 0x85: return static_cast<exit_code>(base + 2); // client identifier not valid
    case 0x88: case 0x89: return static_cast<exit_code>(base + 3); // server unavailable, busy
    case 0x86: case 0x8C: return static_cast<exit_code>(base + 4); // bad user name or password, bad authentication method
    case 0x87: case 0x8A: return static_cast<exit_code>(base + 5); // not authorized, banned
    default: return static_cast<exit_code>(base + 6);
    }
}

failure describe(mqtt::session_failed const& e, session_context const& c)
{
    if (e.ec == errc::connection_refused) {
        bool const v5 = c.version == mqtt::protocol_version::v5;
        auto const code = v5 ? connack_exit_code(e.connack_code) : static_cast<exit_code>(to_int(exit_code::connack_base) + e.connack_code);
        // Brokers answer bad credentials with "bad user name or password" or "not authorised".
        bool const credentials = c.has_username && (code == connack_exit_code(0x86) || code == connack_exit_code(0x87));
        auto what = v5 ? fmt::format("the broker refused the connection: {}", reason_words(e.connack_code, e.props))
                             : fmt::format("connection refused by broker: {}", mqtt::connect_return_code_text(e.connack_code));
        if (v5 && e.connack_code == 0x84) what += ": the broker does not speak MQTT 5 (give -V 311)";
        return {code, what + (credentials ? " (check the user name and password)" : "")};
    }
    if (e.ec == errc::disconnected_by_broker) {
        auto words = fmt::format("the broker ended the session: {}", reason_words(e.connack_code, e.props));
        // Reconnecting would take the session back from the client that took it over (and so
        // on, for ever), or knock at a door the broker has said to leave: neither is retried.
        bool const final = e.connack_code == 0x8E || e.connack_code == 0x9C || e.connack_code == 0x9D;
        if (e.connack_code == 0x8E) words += " (another client connected with the same client id: give each its own -i)";
        return {disconnect_exit_code(e.connack_code), std::move(words), final};
    }
    if (e.ec == errc::auth_step_unsupported)
        return {connack_exit_code(0x8C), fmt::format("the broker asks for another step of {} authentication, which wsmqtt cannot answer: "
                                                     "it sends --auth-data once (single-step methods only)",
                                                     c.auth_method)};
    if (e.ec == errc::connack_timeout)
        return {exit_code::network, fmt::format("no CONNACK from {} within {:g} s (--connect-timeout): is it an MQTT broker?", c.broker,
                                                std::chrono::duration<double>(c.connect_timeout).count())};
    if (e.ec == errc::pingresp_timeout)
        return {exit_code::network, fmt::format("no PINGRESP from {} within the keepalive ({} s)", c.broker, c.keepalive)};
    if (e.ec == errc::packet_too_large)
        return {exit_code::protocol, fmt::format("protocol error: the broker sent a packet larger than {} bytes (--max-packet-size)", c.max_packet_size)};
    if (e.ec == errc::qos2_answered_with_puback)
        return {exit_code::protocol, "protocol error: the broker answered a QoS 2 PUBLISH with PUBACK: it supports QoS 1 at most; publish with -q 1"};
    return {exit_code::protocol, fmt::format("protocol error: {}", e.ec.message())};
}

} // namespace wsmqtt

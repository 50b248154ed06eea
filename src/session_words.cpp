// The session's failures in words, with their exit codes (README.md, "Exit codes").
#include "wsmqtt/session_words.hpp"

#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/properties.hpp"

#include <fmt/format.h>

namespace wsmqtt {
namespace {

using mqtt::errc;
using mqtt::property_id;

/// An MQTT 5 reason code and what the broker said of it: `0x87 not authorized ("bad
/// credentials")`, and where to go for 0x9C/0x9D.
std::string reason_words(std::uint8_t code, mqtt::properties const& props)
{
    auto words = fmt::format("0x{:02X} {}", code, mqtt::reason_code_text(code));
    if (auto const* why = mqtt::find(props, property_id::reason_string)) words += fmt::format(" (\"{}\")", why->value);
    if (auto const* where = mqtt::find(props, property_id::server_reference)) words += fmt::format(": use {}", where->value);
    return words;
}

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
        auto const what = v5 ? fmt::format("the broker refused the connection: {}", reason_words(e.connack_code, e.props))
                             : fmt::format("connection refused by broker: {}", mqtt::connect_return_code_text(e.connack_code));
        return {code, what + (credentials ? " (check the user name and password)" : "")};
    }
    if (e.ec == errc::disconnected_by_broker)
        return {disconnect_exit_code(e.connack_code), fmt::format("the broker ended the session: {}", reason_words(e.connack_code, e.props))};
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

// Why a session failed, in words and an exit code: the session's facts (mqtt::session_failed)
// worded at the edge, as transport_words.cpp does for the transport. No Boost.
#pragma once

#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/mqtt/session.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace wsmqtt {

/// What the words need to know of the run.
struct session_context {
    std::string broker;                           ///< host:port
    std::chrono::milliseconds connect_timeout{0};
    std::uint16_t keepalive = 0;
    std::size_t max_packet_size = 0;
    bool has_username = false;
    mqtt::protocol_version version = mqtt::protocol_version::v311;
    std::string auth_method; ///< MQTT 5: --auth-method, if any
};

/// The error's line (without "wsmqtt: error: ") and the exit code it ends a run with.
[[nodiscard]] failure describe(mqtt::session_failed const& e, session_context const& c);

/// The exit code of an MQTT 5 Connect Reason Code: those that mean what a 3.1.1 return code
/// means get its code (10 + 1..5), so that scripts see the same number in both versions; any
/// other refusal is 16.
[[nodiscard]] exit_code connack_exit_code(std::uint8_t reason_code) noexcept;

/// MQTT 5 properties for -d: `content-type='text/plain' user-property 'a'='1'
/// correlation-data=hex:00ff`; authentication data by its size only.
[[nodiscard]] std::string properties_words(mqtt::properties const& props);

/// What an MQTT 5 CONNACK allows, defaults included (§3.2.2.3): "maximum QoS 2, retain yes, …".
[[nodiscard]] std::string connack_limits_words(mqtt::connack const& c, std::uint16_t our_keepalive);

/// An MQTT 5 reason code in words, with what the broker said of it: `0x87 not authorized ("bad
/// credentials")`, and `: use other.example` for a Server Reference.
[[nodiscard]] std::string reason_words(std::uint8_t code, mqtt::properties const& props);

} // namespace wsmqtt

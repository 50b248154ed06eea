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
};

/// The error's line (without "wsmqtt: error: ") and the exit code it ends a run with.
[[nodiscard]] failure describe(mqtt::session_failed const& e, session_context const& c);

/// The exit code of an MQTT 5 Connect Reason Code: those that mean what a 3.1.1 return code
/// means get its code (10 + 1..5), so that scripts see the same number in both versions; any
/// other refusal is 16.
[[nodiscard]] exit_code connack_exit_code(std::uint8_t reason_code) noexcept;

} // namespace wsmqtt

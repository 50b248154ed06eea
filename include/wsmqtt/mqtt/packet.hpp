// MQTT 3.1.1 control packets as plain values: what the codec reads and writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace wsmqtt::mqtt {

/// Quality of service levels (MQTT 3.1.1 §4.3).
enum class qos : std::uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

/// Protocol level byte in CONNECT: 3 = MQTT 3.1 ("MQIsdp"), 4 = MQTT 3.1.1 ("MQTT").
enum class protocol_version : std::uint8_t { v31 = 3, v311 = 4 };

/// SUBACK return code for a refused subscription (§3.9.3).
constexpr std::uint8_t suback_failure = 0x80;

/// Largest Remaining Length the 4-byte encoding can carry (§2.2.3).
constexpr std::uint32_t max_remaining_length = 268'435'455;

/// Largest length of a UTF-8 string or binary field (2-byte length prefix, §1.5.3).
constexpr std::size_t max_string_length = 65'535;

struct will {
    std::string topic;
    std::string payload;
    mqtt::qos qos = qos::at_most_once;
    bool retain = false;
    bool operator==(will const&) const = default;
};

struct connect {
    protocol_version version = protocol_version::v311;
    std::string client_id;
    bool clean_session = true;
    std::uint16_t keep_alive = 60;
    std::optional<mqtt::will> will;
    std::optional<std::string> username;
    std::optional<std::string> password;
    bool operator==(connect const&) const = default;
};

struct connack {
    bool session_present = false;
    std::uint8_t return_code = 0;
    bool operator==(connack const&) const = default;
};

/// PUBLISH; topic and payload are byte strings (payload may hold any bytes).
struct publish {
    std::string topic;
    std::string payload;
    mqtt::qos qos = qos::at_most_once;
    bool retain = false;
    bool dup = false;
    std::uint16_t packet_id = 0;
    bool operator==(publish const&) const = default;
};

struct puback {
    std::uint16_t packet_id = 0;
    bool operator==(puback const&) const = default;
};
struct pubrec {
    std::uint16_t packet_id = 0;
    bool operator==(pubrec const&) const = default;
};
struct pubrel {
    std::uint16_t packet_id = 0;
    bool operator==(pubrel const&) const = default;
};
struct pubcomp {
    std::uint16_t packet_id = 0;
    bool operator==(pubcomp const&) const = default;
};

struct subscription {
    std::string filter;
    mqtt::qos qos = qos::at_most_once;
    bool operator==(subscription const&) const = default;
};

struct subscribe {
    std::uint16_t packet_id = 0;
    std::vector<subscription> subscriptions;
    bool operator==(subscribe const&) const = default;
};

struct suback {
    std::uint16_t packet_id = 0;
    std::vector<std::uint8_t> return_codes;
    bool operator==(suback const&) const = default;
};

struct unsubscribe {
    std::uint16_t packet_id = 0;
    std::vector<std::string> filters;
    bool operator==(unsubscribe const&) const = default;
};

struct unsuback {
    std::uint16_t packet_id = 0;
    bool operator==(unsuback const&) const = default;
};
struct pingreq {
    bool operator==(pingreq const&) const = default;
};
struct pingresp {
    bool operator==(pingresp const&) const = default;
};
struct disconnect {
    bool operator==(disconnect const&) const = default;
};

/// Any control packet. The variant index + 1 is the packet type number (§2.2.1).
using packet = std::variant<connect, connack, publish, puback, pubrec, pubrel, pubcomp, subscribe,
                            suback, unsubscribe, unsuback, pingreq, pingresp, disconnect>;

/// Packet type number 1..14 of a packet.
[[nodiscard]] constexpr std::uint8_t type_number(packet const& p) noexcept
{
    return static_cast<std::uint8_t>(p.index() + 1);
}

/// Upper-case packet name, e.g. "PUBLISH".
[[nodiscard]] char const* packet_name(std::uint8_t type_number) noexcept;

} // namespace wsmqtt::mqtt

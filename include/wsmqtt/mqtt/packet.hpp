// MQTT control packets as plain values: what the codec reads and writes. MQTT 3.1.1 and 3.1,
// and MQTT 5.0 with its properties and reason codes (empty and 0 in the older versions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace wsmqtt::mqtt {

/// Quality of service levels (MQTT 3.1.1 §4.3).
enum class qos : std::uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

/// Protocol level byte in CONNECT: 3 = MQTT 3.1 ("MQIsdp"), 4 = MQTT 3.1.1 ("MQTT"), 5 = MQTT 5.0.
enum class protocol_version : std::uint8_t { v31 = 3, v311 = 4, v5 = 5 };

/// The property identifiers of MQTT 5.0 §2.2.2.2.
enum class property_id : std::uint8_t {
    payload_format_indicator = 0x01,
    message_expiry_interval = 0x02,
    content_type = 0x03,
    response_topic = 0x08,
    correlation_data = 0x09,
    subscription_identifier = 0x0B,
    session_expiry_interval = 0x11,
    assigned_client_identifier = 0x12,
    server_keep_alive = 0x13,
    authentication_method = 0x15,
    authentication_data = 0x16,
    request_problem_information = 0x17,
    will_delay_interval = 0x18,
    request_response_information = 0x19,
    response_information = 0x1A,
    server_reference = 0x1C,
    reason_string = 0x1F,
    receive_maximum = 0x21,
    topic_alias_maximum = 0x22,
    topic_alias = 0x23,
    maximum_qos = 0x24,
    retain_available = 0x25,
    user_property = 0x26,
    maximum_packet_size = 0x27,
    wildcard_subscription_available = 0x28,
    subscription_identifier_available = 0x29,
    shared_subscription_available = 0x2A,
};

/// One MQTT 5 property. Integers are in `number`; a string or binary value in `value`; a user
/// property's name in `value` and its value in `pair_value`.
struct property {
    property_id id = property_id::user_property;
    std::uint32_t number = 0;
    std::string value;
    std::string pair_value;
    bool operator==(property const&) const = default;
};

/// Properties in the order they came (user properties keep their order and duplicates).
using properties = std::vector<property>;

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
    properties props; ///< MQTT 5 Will Properties
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
    properties props;
    bool operator==(connect const&) const = default;
};

struct connack {
    bool session_present = false;
    std::uint8_t return_code = 0; ///< MQTT 5: the Connect Reason Code
    properties props;
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
    properties props;
    bool operator==(publish const&) const = default;
};

// The acknowledgements of the QoS flows; MQTT 5 adds a reason code and properties (§3.4-3.7).
struct puback {
    std::uint16_t packet_id = 0;
    std::uint8_t reason_code = 0;
    properties props;
    bool operator==(puback const&) const = default;
};
struct pubrec {
    std::uint16_t packet_id = 0;
    std::uint8_t reason_code = 0;
    properties props;
    bool operator==(pubrec const&) const = default;
};
struct pubrel {
    std::uint16_t packet_id = 0;
    std::uint8_t reason_code = 0;
    properties props;
    bool operator==(pubrel const&) const = default;
};
struct pubcomp {
    std::uint16_t packet_id = 0;
    std::uint8_t reason_code = 0;
    properties props;
    bool operator==(pubcomp const&) const = default;
};

/// A topic filter and its options; MQTT 5 adds all but the QoS (§3.8.3.1).
struct subscription {
    std::string filter;
    mqtt::qos qos = qos::at_most_once;
    bool no_local = false;
    bool retain_as_published = false;
    std::uint8_t retain_handling = 0; ///< 0 send retained, 1 only for a new subscription, 2 never
    bool operator==(subscription const&) const = default;
};

struct subscribe {
    std::uint16_t packet_id = 0;
    std::vector<subscription> subscriptions;
    properties props;
    bool operator==(subscribe const&) const = default;
};

struct suback {
    std::uint16_t packet_id = 0;
    std::vector<std::uint8_t> return_codes; ///< MQTT 5: reason codes
    properties props;
    bool operator==(suback const&) const = default;
};

struct unsubscribe {
    std::uint16_t packet_id = 0;
    std::vector<std::string> filters;
    properties props;
    bool operator==(unsubscribe const&) const = default;
};

struct unsuback {
    std::uint16_t packet_id = 0;
    std::vector<std::uint8_t> reason_codes; ///< MQTT 5 only: one per filter
    properties props;
    bool operator==(unsuback const&) const = default;
};
struct pingreq {
    bool operator==(pingreq const&) const = default;
};
struct pingresp {
    bool operator==(pingresp const&) const = default;
};
struct disconnect {
    std::uint8_t reason_code = 0; ///< MQTT 5
    properties props;
    bool operator==(disconnect const&) const = default;
};
/// MQTT 5 only: enhanced authentication (§3.15).
struct auth {
    std::uint8_t reason_code = 0;
    properties props;
    bool operator==(auth const&) const = default;
};

/// Any control packet. The variant index + 1 is the packet type number (§2.2.1).
using packet = std::variant<connect, connack, publish, puback, pubrec, pubrel, pubcomp, subscribe,
                            suback, unsubscribe, unsuback, pingreq, pingresp, disconnect, auth>;

/// Packet type number 1..15 of a packet.
[[nodiscard]] constexpr std::uint8_t type_number(packet const& p) noexcept
{
    return static_cast<std::uint8_t>(p.index() + 1);
}

/// Upper-case packet name, e.g. "PUBLISH".
[[nodiscard]] char const* packet_name(std::uint8_t type_number) noexcept;

} // namespace wsmqtt::mqtt

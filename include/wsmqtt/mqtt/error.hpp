// Errors of the MQTT layer (codec and session) as std::error_code values.
#pragma once

#include <system_error>

namespace wsmqtt::mqtt {

/// Everything the codec or the session can refuse. "Need more bytes" is not an error.
enum class errc {
    // Malformed input (codec).
    malformed_remaining_length = 1, ///< more than 4 length bytes (§2.2.3)
    packet_too_large,               ///< announced size exceeds the configured maximum
    malformed_packet,               ///< fields do not fit the Remaining Length
    invalid_packet_type,            ///< type 0 or 15 (§2.2.1)
    invalid_flags,                  ///< reserved fixed-header flags wrong [MQTT-2.2.2-2]
    invalid_qos,                    ///< QoS bits 11 [MQTT-3.3.1-4]
    invalid_utf8,                   ///< ill-formed UTF-8 or U+0000 [MQTT-1.5.3-1/2]
    invalid_topic,                  ///< empty topic, or wildcard in a topic name [MQTT-3.3.2-2]
    invalid_topic_filter,           ///< misplaced '+' or '#' [MQTT-4.7.1-2/3]
    invalid_shared_filter,          ///< not $share/NAME/FILTER (MQTT 5 §4.8.2; mosquitto takes it in 3.1.1 too)
    zero_packet_id,                 ///< packet identifier 0 [MQTT-2.3.1-1]
    string_too_long,                ///< UTF-8 string or binary field over 65 535 bytes
    invalid_return_code,            ///< CONNACK code 6..255 or SUBACK code not 0,1,2,0x80
    invalid_connack_flags,          ///< reserved CONNACK flag bits set
    empty_subscription_list,        ///< SUBSCRIBE/UNSUBSCRIBE without a filter [MQTT-3.8.3-3]
    // MQTT 5 properties (§2.2.2).
    malformed_properties,           ///< the Property Length or a value does not fit the packet
    unknown_property,               ///< an identifier MQTT 5 does not define (§2.2.2.2)
    property_not_allowed,           ///< a property this packet may not carry (§2.2.2.2)
    duplicate_property,             ///< a property that may appear once, twice (§2.2.2.2)
    invalid_property_value,         ///< a value out of its range (a 0 Receive Maximum, a flag of 2)
    not_in_this_version,            ///< MQTT 5 fields or AUTH in an MQTT 3.1.1 or 3.1 packet
    // Protocol violations by the server (session).
    connack_not_first,              ///< first packet from the server is not CONNACK [MQTT-3.2.0-1]
    unexpected_connack,             ///< a second CONNACK
    session_present_on_clean,       ///< session present with CleanSession=1 [MQTT-3.2.2-1]
    server_only_packet,             ///< CONNECT/SUBSCRIBE/UNSUBSCRIBE/PINGREQ/DISCONNECT from a server
    unknown_packet_id,              ///< an acknowledgement for an identifier not in flight [MQTT-2.3.1-7]
    ack_count_mismatch,             ///< SUBACK or UNSUBACK codes do not match the filters [MQTT-3.9.3-1, MQTT-3.11.3-1]
    qos2_answered_with_puback,      ///< PUBACK for a QoS 2 PUBLISH: the broker does QoS 1 at most
    acknowledgement_out_of_order,   ///< PUBREC for QoS 1, PUBCOMP before PUBREL: the QoS flows disagree
    disconnected_by_broker,         ///< MQTT 5: a DISCONNECT from the broker, with a reason code (§3.14)
    invalid_topic_alias,            ///< MQTT 5: over our Topic Alias Maximum, or never set (§3.3.2.3.4)
    receive_maximum_exceeded,       ///< MQTT 5: more QoS 1/2 messages unacknowledged than our Receive Maximum (§3.3.4)
    topic_alias_not_allowed,        ///< MQTT 5: a Topic Alias over the broker's Topic Alias Maximum [MQTT-3.2.2-17/18]
    unexpected_auth,                ///< MQTT 5: AUTH although we named no Authentication Method
    auth_step_unsupported,          ///< MQTT 5: the broker asks for another step of the authentication (§4.12)
    auth_method_mismatch,           ///< MQTT 5: a CONNACK or AUTH naming another method [MQTT-4.12.0-5]
    problem_information_sent,       ///< MQTT 5: a Reason String or user property we asked not to get [MQTT-3.1.2-29]
    qos_not_supported,              ///< MQTT 5: a QoS over the broker's Maximum QoS [MQTT-3.2.2-11]
    retain_not_supported,           ///< MQTT 5: retain where the broker has Retain Available 0 [MQTT-3.2.2-14]
    packet_too_large_for_broker,    ///< MQTT 5: over the broker's Maximum Packet Size [MQTT-3.2.2-15]
    // Session state.
    connack_timeout,                ///< no CONNACK within the connect timeout (§3.2)
    pingresp_timeout,               ///< no PINGRESP in time (§3.1.2.10)
    connection_refused,             ///< CONNACK with a non-zero return code
    no_packet_id_available,         ///< all 65 535 identifiers are in flight
    not_connected,                  ///< request made while no session is established
};

[[nodiscard]] std::error_category const& mqtt_category() noexcept;

[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), mqtt_category()};
}

/// Words for a CONNACK return code (§3.2.2.3): 1..5, e.g. 4 "bad user name or password".
[[nodiscard]] char const* connect_return_code_text(unsigned code) noexcept;

/// Words for an MQTT 5 reason code (§2.4), as the spec names it in lower case: 0x87 "not
/// authorized", 0x9C "use another server"; 0x00 "success" (also "normal disconnection" and
/// "granted QoS 0", by packet).
[[nodiscard]] char const* reason_code_text(unsigned code) noexcept;
/// Whether §2.4 defines `code` (reason_code_text() has words of its own for it).
[[nodiscard]] bool is_reason_code(unsigned code) noexcept;

} // namespace wsmqtt::mqtt

template <>
struct std::is_error_code_enum<wsmqtt::mqtt::errc> : std::true_type {};

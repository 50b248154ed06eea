// The error category of the MQTT layer and packet names.
#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/packet.hpp"

#include <string>

namespace wsmqtt::mqtt {
namespace {

class category final : public std::error_category {
public:
    char const* name() const noexcept override { return "mqtt"; }

    std::string message(int value) const override
    {
        switch (static_cast<errc>(value)) {
        case errc::malformed_remaining_length: return "malformed Remaining Length";
        case errc::packet_too_large: return "packet larger than the maximum packet size";
        case errc::malformed_packet: return "malformed packet";
        case errc::invalid_packet_type: return "invalid packet type";
        case errc::invalid_flags: return "invalid fixed-header flags";
        case errc::invalid_qos: return "invalid QoS";
        case errc::invalid_utf8: return "invalid UTF-8 string";
        case errc::invalid_topic: return "invalid topic name";
        case errc::invalid_topic_filter: return "invalid topic filter";
        case errc::invalid_shared_filter: return "invalid shared subscription";
        case errc::zero_packet_id: return "packet identifier 0";
        case errc::string_too_long: return "string longer than 65535 bytes";
        case errc::invalid_return_code: return "invalid return code";
        case errc::invalid_connack_flags: return "invalid CONNACK flags";
        case errc::empty_subscription_list: return "no topic filter";
        case errc::malformed_properties: return "malformed properties (§2.2.2)";
        case errc::unknown_property: return "unknown property identifier (§2.2.2.2)";
        case errc::property_not_allowed: return "a property this packet may not carry (§2.2.2.2)";
        case errc::duplicate_property: return "a property that may appear once appears twice (§2.2.2.2)";
        case errc::invalid_property_value: return "a property value out of its range (§2.2.2.2)";
        case errc::not_in_this_version: return "an MQTT 5 field in a packet of an older version";
        case errc::connack_not_first: return "first packet from the broker is not CONNACK";
        case errc::unexpected_connack: return "unexpected second CONNACK";
        case errc::session_present_on_clean: return "session present on a clean session";
        case errc::server_only_packet: return "broker sent a packet only clients may send";
        case errc::unknown_packet_id: return "acknowledgement for a packet identifier not in use";
        case errc::ack_count_mismatch: return "SUBACK or UNSUBACK codes do not match the request (one per filter)";
        case errc::qos2_answered_with_puback: return "the broker answered a QoS 2 PUBLISH with PUBACK (it supports QoS 1 at most)";
        case errc::acknowledgement_out_of_order: return "an acknowledgement that does not fit the message's QoS flow";
        case errc::disconnected_by_broker: return "the broker ended the session (DISCONNECT)";
        case errc::invalid_topic_alias: return "a Topic Alias we did not allow, or one never set [MQTT-3.3.2-10]";
        case errc::receive_maximum_exceeded: return "the broker sent more unacknowledged QoS 1/2 messages than our Receive Maximum (§3.3.4)";
        case errc::topic_alias_not_allowed: return "the topic alias is above the broker's Topic Alias Maximum [MQTT-3.3.2-9]";
        case errc::auth_step_unsupported: return "the broker asks for another step of the authentication";
        case errc::problem_information_sent: return "a Reason String or user property on an acknowledgement, which we asked the broker not to send (request-problem-information 0) [MQTT-3.1.2-29]";
        case errc::auth_method_mismatch: return "the broker answered with another authentication method";
        case errc::unexpected_auth: return "AUTH from the broker, although we named no authentication method";
        case errc::qos_not_supported: return "the broker does not support this QoS (its Maximum QoS)";
        case errc::retain_not_supported: return "the broker does not support retained messages";
        case errc::packet_too_large_for_broker: return "the packet is larger than the broker's Maximum Packet Size";
        case errc::connack_timeout: return "no CONNACK from the broker in time";
        case errc::pingresp_timeout: return "no PINGRESP from the broker within the keepalive";
        case errc::connection_refused: return "connection refused by broker";
        case errc::no_packet_id_available: return "all packet identifiers in use";
        case errc::not_connected: return "not connected";
        }
        return "unknown MQTT error";
    }
};

} // namespace

std::error_category const& mqtt_category() noexcept
{
    static category const instance;
    return instance;
}

char const* connect_return_code_text(unsigned code) noexcept
{
    switch (code) {
    case 0: return "accepted";
    case 1: return "unacceptable protocol version";
    case 2: return "client identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorised";
    default: return "reserved return code";
    }
}

namespace {
constexpr char const* unknown_reason = "unknown reason code";
} // namespace

char const* reason_code_text(unsigned code) noexcept
{
    switch (code) {
    case 0x00: return "success";
    case 0x01: return "granted QoS 1";
    case 0x02: return "granted QoS 2";
    case 0x04: return "disconnect with will message";
    case 0x10: return "no matching subscribers";
    case 0x11: return "no subscription existed";
    case 0x18: return "continue authentication";
    case 0x19: return "re-authenticate";
    case 0x80: return "unspecified error";
    case 0x81: return "malformed packet";
    case 0x82: return "protocol error";
    case 0x83: return "implementation specific error";
    case 0x84: return "unsupported protocol version";
    case 0x85: return "client identifier not valid";
    case 0x86: return "bad user name or password";
    case 0x87: return "not authorized";
    case 0x88: return "server unavailable";
    case 0x89: return "server busy";
    case 0x8A: return "banned";
    case 0x8B: return "server shutting down";
    case 0x8C: return "bad authentication method";
    case 0x8D: return "keep alive timeout";
    case 0x8E: return "session taken over";
    case 0x8F: return "topic filter invalid";
    case 0x90: return "topic name invalid";
    case 0x91: return "packet identifier in use";
    case 0x92: return "packet identifier not found";
    case 0x93: return "receive maximum exceeded";
    case 0x94: return "topic alias invalid";
    case 0x95: return "packet too large";
    case 0x96: return "message rate too high";
    case 0x97: return "quota exceeded";
    case 0x98: return "administrative action";
    case 0x99: return "payload format invalid";
    case 0x9A: return "retain not supported";
    case 0x9B: return "QoS not supported";
    case 0x9C: return "use another server";
    case 0x9D: return "server moved";
    case 0x9E: return "shared subscriptions not supported";
    case 0x9F: return "connection rate exceeded";
    case 0xA0: return "maximum connect time";
    case 0xA1: return "subscription identifiers not supported";
    case 0xA2: return "wildcard subscriptions not supported";
    default: return unknown_reason;
    }
}

bool is_reason_code(unsigned code) noexcept { return reason_code_text(code) != unknown_reason; }

char const* packet_name(std::uint8_t type_number) noexcept
{
    static constexpr char const* names[] = {
        "RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
        "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT",
        "AUTH"};
    return type_number < 16 ? names[type_number] : "RESERVED";
}

} // namespace wsmqtt::mqtt

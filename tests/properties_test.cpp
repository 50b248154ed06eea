// MQTT 5 properties (§2.2.2): byte vectors both ways, and every way a broker's properties can be
// wrong.
#include "test_support.hpp"

#include "wsmqtt/mqtt/properties.hpp"

#include <string>

using namespace wsmqtt::mqtt;
using wsmqtt::test::b;

namespace {

constexpr std::uint8_t CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, SUBSCRIBE = 8;

bytes encoded(properties const& props)
{
    bytes out;
    encode_properties(props, out);
    CHECK(out.size() == properties_size(props));
    return out;
}

/// Decodes `wire` whole as the properties of `where`.
std::error_code decode(bytes const& wire, std::uint8_t where, properties& out)
{
    std::span<std::uint8_t const> in{wire};
    auto const ec = decode_properties(in, where, out);
    if (!ec) CHECK(in.empty());
    return ec;
}

properties decoded(bytes const& wire, std::uint8_t where)
{
    properties out;
    auto const ec = decode(wire, where, out);
    INFO("decode error: " << ec.message());
    REQUIRE(!ec);
    return out;
}

std::error_code decode_error(bytes const& wire, std::uint8_t where)
{
    properties out;
    return decode(wire, where, out);
}

property number(property_id id, std::uint32_t n) { return {id, n, {}, {}}; }
property text(property_id id, std::string s) { return {id, 0, std::move(s), {}}; }
property user(std::string k, std::string v) { return {property_id::user_property, 0, std::move(k), std::move(v)}; }

} // namespace

TEST_CASE("no properties: a Property Length of zero [MQTT-2.2.2-1]", "[properties]")
{
    CHECK(encoded({}) == b({0x00}));
    CHECK(decoded(b({0x00}), CONNACK).empty());
}

TEST_CASE("properties of each type are written as §2.2.2.2 says, and read back in order", "[properties]")
{
    properties const props{
        number(property_id::session_expiry_interval, 3600), // four-byte integer
        number(property_id::receive_maximum, 10),           // two-byte integer
        number(property_id::request_problem_information, 0), // byte
        user("a", "b"),
        text(property_id::authentication_method, "SCRAM"),   // UTF-8 string
        text(property_id::authentication_data, std::string{"\x00\xff", 2}), // binary
        user("a", "c"), // user properties keep their order and their duplicates
    };
    bytes const wire = b({37,                                   // Property Length
                          0x11, 0x00, 0x00, 0x0E, 0x10,         // Session Expiry Interval 3600
                          0x21, 0x00, 0x0A,                     // Receive Maximum 10
                          0x17, 0x00,                           // Request Problem Information 0
                          0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b', // User Property a=b
                          0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M',
                          0x16, 0x00, 0x02, 0x00, 0xFF,
                          0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'c'});
    CHECK(encoded(props) == wire);
    CHECK(decoded(wire, CONNECT) == props);
    CHECK_FALSE(check_properties(props, CONNECT));
}

TEST_CASE("a subscription identifier is a Variable Byte Integer, up to 268 435 455", "[properties]")
{
    properties const props{number(property_id::subscription_identifier, 268'435'455)};
    bytes const wire = b({5, 0x0B, 0xFF, 0xFF, 0xFF, 0x7F});
    CHECK(encoded(props) == wire);
    CHECK(decoded(wire, SUBSCRIBE) == props);
    // A PUBLISH carries one per matching subscription (§3.3.2.3.8); a SUBSCRIBE only one.
    bytes const two = b({4, 0x0B, 0x01, 0x0B, 0x02});
    CHECK(decoded(two, PUBLISH).size() == 2);
    CHECK(decode_error(two, SUBSCRIBE) == errc::duplicate_property);
    CHECK(decode_error(b({2, 0x0B, 0x00}), PUBLISH) == errc::invalid_property_value); // 0 is a Protocol Error
}

TEST_CASE("decoding leaves the input after the properties, for the payload", "[properties]")
{
    bytes const wire = b({3, 0x23, 0x00, 0x05, 'p', 'a', 'y'});
    std::span<std::uint8_t const> in{wire};
    properties out;
    REQUIRE_FALSE(decode_properties(in, PUBLISH, out));
    CHECK(out == properties{number(property_id::topic_alias, 5)});
    CHECK(in.size() == 3);
    CHECK(in[0] == 'p');
}

TEST_CASE("a broker's properties that are wrong are errors that name what is wrong", "[properties]")
{
    // The Property Length runs past the packet, or a value is cut short.
    CHECK(decode_error(b({5, 0x21, 0x00}), CONNACK) == errc::malformed_properties);
    CHECK(decode_error(b({2, 0x21, 0x00}), CONNACK) == errc::malformed_properties);
    CHECK(decode_error(b({0x80}), CONNACK) == errc::malformed_properties);
    // An identifier MQTT 5 does not define.
    CHECK(decode_error(b({2, 0x05, 0x00}), CONNACK) == errc::unknown_property);
    CHECK(decode_error(b({3, 0x80, 0x01, 0x00}), CONNACK) == errc::unknown_property);
    // A property the packet may not carry: a Topic Alias in a CONNACK, a Reason String in a PUBLISH.
    CHECK(decode_error(b({3, 0x23, 0x00, 0x01}), CONNACK) == errc::property_not_allowed);
    CHECK(decode_error(b({3, 0x1F, 0x00, 0x00}), PUBLISH) == errc::property_not_allowed);
    CHECK(decode_error(b({3, 0x18, 0x00, 0x00}), CONNECT) == errc::property_not_allowed); // a Will property
    // Twice what may appear once.
    CHECK(decode_error(b({6, 0x1F, 0x00, 0x00, 0x1F, 0x00, 0x00}), PUBACK) == errc::duplicate_property);
    // Values out of range.
    CHECK(decode_error(b({3, 0x21, 0x00, 0x00}), CONNACK) == errc::invalid_property_value); // Receive Maximum 0
    CHECK(decode_error(b({5, 0x27, 0x00, 0x00, 0x00, 0x00}), CONNACK) == errc::invalid_property_value); // Maximum Packet Size 0
    CHECK(decode_error(b({2, 0x24, 0x02}), CONNACK) == errc::invalid_property_value); // Maximum QoS 2
    CHECK(decode_error(b({2, 0x01, 0x02}), PUBLISH) == errc::invalid_property_value); // Payload Format Indicator 2
    CHECK(decode_error(b({3, 0x23, 0x00, 0x00}), PUBLISH) == errc::invalid_property_value); // Topic Alias 0
    // Strings must be UTF-8 [MQTT-1.5.4-1]; binary data need not be.
    CHECK(decode_error(b({4, 0x1F, 0x00, 0x01, 0xC0}), PUBACK) == errc::invalid_utf8);
    CHECK(decoded(b({4, 0x09, 0x00, 0x01, 0xC0}), PUBLISH).size() == 1);
}

TEST_CASE("what we send is checked as strictly as what we receive", "[properties]")
{
    CHECK(check_properties({number(property_id::receive_maximum, 0)}, CONNECT) == errc::invalid_property_value);
    CHECK(check_properties({number(property_id::receive_maximum, 70'000)}, CONNECT) == errc::invalid_property_value);
    CHECK(check_properties({number(property_id::topic_alias, 1)}, CONNECT) == errc::property_not_allowed);
    CHECK(check_properties({text(property_id::content_type, "a"), text(property_id::content_type, "b")}, PUBLISH) ==
          errc::duplicate_property);
    CHECK(check_properties({text(property_id::response_topic, std::string(65'536, 'r'))}, PUBLISH) == errc::string_too_long);
    CHECK(check_properties({user("k", std::string{"\xff"})}, PUBLISH) == errc::invalid_utf8);
    CHECK_FALSE(check_properties({number(property_id::will_delay_interval, 5), user("k", "v")}, will_properties));
}

TEST_CASE("every property has the spec's name, and the name leads back to it", "[properties]")
{
    int count = 0;
    for (int id = 0; id < 0x80; ++id) {
        if (!type_of(static_cast<std::uint8_t>(id))) continue;
        ++count;
        auto const p = static_cast<property_id>(id);
        INFO("property " << id);
        CHECK(property_from_name(property_name(p)) == p);
    }
    CHECK(count == 27);
    CHECK(std::string{property_name(property_id::correlation_data)} == "correlation-data");
    CHECK_FALSE(property_from_name("retain-handling")); // a subscription option, not a property
    CHECK(allowed_in(property_id::reason_string, auth_packet));
    CHECK_FALSE(allowed_in(property_id::reason_string, will_properties));
}

// The MQTT 5.0 wire format (chapters 2 and 3 of 5.0): properties and reason codes in every
// packet, subscription options, AUTH; byte vectors written out by hand from the spec.
#include "test_support.hpp"

#include "wsmqtt/mqtt/properties.hpp"

#include <set>
#include <string>

using namespace wsmqtt::mqtt;
using wsmqtt::test::b;

namespace {

constexpr auto v5 = protocol_version::v5;

bytes encoded5(packet const& p)
{
    bytes out;
    auto const ec = encode(p, out, v5);
    INFO("encode error: " << ec.message());
    REQUIRE(!ec);
    return out;
}

packet decoded5(bytes const& frame)
{
    std::error_code ec;
    auto p = decode_one(frame, ec, v5);
    INFO("decode error: " << ec.message());
    REQUIRE(p);
    return *p;
}

std::error_code decode_error5(bytes const& frame)
{
    std::error_code ec;
    CHECK_FALSE(decode_one(frame, ec, v5));
    return ec;
}

void require_round_trip5(packet const& p, bytes const& wire)
{
    CHECK(encoded5(p) == wire);
    CHECK(decoded5(wire) == p);
}

property number(property_id id, std::uint32_t n) { return {id, n, {}, {}}; }
property text(property_id id, std::string s) { return {id, 0, std::move(s), {}}; }

} // namespace

TEST_CASE("MQTT 5 CONNECT: level 5, properties after the keepalive, Will Properties before the will topic (§3.1)", "[codec5]")
{
    connect c;
    c.version = v5;
    c.client_id = "c";
    c.keep_alive = 60;
    c.will = will{"w", "x", qos::at_least_once, false, {number(property_id::will_delay_interval, 5)}};
    c.props = {number(property_id::session_expiry_interval, 10)};
    require_round_trip5(c, b({0x10, 31, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05,
                              0x0E,                                // clean start, will, will QoS 1
                              0x00, 0x3C,                          // keepalive 60
                              0x05, 0x11, 0x00, 0x00, 0x00, 0x0A,  // Session Expiry Interval 10
                              0x00, 0x01, 'c',
                              0x05, 0x18, 0x00, 0x00, 0x00, 0x05,  // Will Delay Interval 5
                              0x00, 0x01, 'w', 0x00, 0x01, 'x'}));
    // MQTT 5 allows a password without a user name (§3.1.2.9); 3.1.1 does not [MQTT-3.1.2-22].
    connect p;
    p.version = v5;
    p.client_id = "c";
    p.password = "token";
    bytes out;
    CHECK_FALSE(encode(p, out));
    p.version = protocol_version::v311;
    CHECK(encode(p, out) == errc::malformed_packet);
}

TEST_CASE("MQTT 5 CONNACK: a reason code and properties (§3.2)", "[codec5]")
{
    require_round_trip5(connack{false, 0x00, {number(property_id::receive_maximum, 10)}},
                        b({0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x0A}));
    require_round_trip5(connack{false, 0x87, {text(property_id::reason_string, "no")}},
                        b({0x20, 0x08, 0x00, 0x87, 0x05, 0x1F, 0x00, 0x02, 'n', 'o'}));
    CHECK(decode_error5(b({0x20, 0x03, 0x00, 0x05, 0x00})) == errc::invalid_return_code); // 0x05 is no Connect Reason Code
    CHECK(decode_error5(b({0x20, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01})) == errc::property_not_allowed); // a Topic Alias
    CHECK(decode_error5(b({0x20, 0x02, 0x00, 0x00})) == errc::malformed_properties); // no Property Length
}

TEST_CASE("MQTT 5 CONNECT answered by a broker of MQTT 3.1.1 only (20 02 00 01, as Aedes does) is 0x84 (§3.1.2.2)", "[codec5]")
{
    auto const p = decoded5(b({0x20, 0x02, 0x00, 0x01}));
    REQUIRE(std::holds_alternative<connack>(p));
    CHECK(std::get<connack>(p).return_code == 0x84); // unsupported protocol version
    CHECK(decode_error5(b({0x20, 0x02, 0x00, 0x02})) == errc::invalid_return_code); // any other 3.1.1 code is no Reason Code
}

TEST_CASE("MQTT 5 PUBLISH: properties between the packet identifier and the payload (§3.3)", "[codec5]")
{
    publish m{"t", "hi", qos::at_least_once, false, false, 7, {number(property_id::topic_alias, 1)}};
    require_round_trip5(m, b({0x32, 11, 0x00, 0x01, 't', 0x00, 0x07, 0x03, 0x23, 0x00, 0x01, 'h', 'i'}));
    // With a Topic Alias the topic may be empty: the alias stands for it (§3.3.2.3.4).
    publish aliased{"", "x", qos::at_most_once, false, false, 0, {number(property_id::topic_alias, 1)}};
    require_round_trip5(aliased, b({0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, 'x'}));
    // Without one it may not.
    CHECK(decode_error5(b({0x30, 0x04, 0x00, 0x00, 0x00, 'x'})) == errc::invalid_topic);
    // A 3.1.1 PUBLISH has no properties: the same bytes are payload there.
    std::error_code ec;
    auto const old = decode_one(b({0x30, 0x04, 0x00, 0x01, 't', 0x00}), ec);
    REQUIRE(old);
    CHECK(std::get<publish>(*old).payload == std::string(1, '\0'));
}

TEST_CASE("MQTT 5 PUBACK..PUBCOMP: reason code and properties left out when 0 and none (§3.4.2.1)", "[codec5]")
{
    require_round_trip5(puback{7}, b({0x40, 0x02, 0x00, 0x07}));
    require_round_trip5(puback{7, 0x10}, b({0x40, 0x03, 0x00, 0x07, 0x10})); // no matching subscribers
    require_round_trip5(pubrec{7, 0x80, {text(property_id::reason_string, "no")}},
                        b({0x50, 0x09, 0x00, 0x07, 0x80, 0x05, 0x1F, 0x00, 0x02, 'n', 'o'}));
    require_round_trip5(pubrel{7, 0x92}, b({0x62, 0x03, 0x00, 0x07, 0x92})); // packet identifier not found
    require_round_trip5(pubcomp{7}, b({0x70, 0x02, 0x00, 0x07}));
    // A reason code with an empty Property Length decodes like the short form.
    CHECK(decoded5(b({0x40, 0x04, 0x00, 0x07, 0x10, 0x00})) == packet{puback{7, 0x10}});
    CHECK(decode_error5(b({0x40, 0x03, 0x00, 0x07, 0x05})) == errc::invalid_return_code);
    // A failure code of §2.4 that PUBACK may not carry (mosquitto-like brokers send 0x95) is
    // the failure it names, for the user to read; a code §2.4 does not define stays an error.
    auto const too_large = decoded5(b({0x40, 0x03, 0x00, 0x07, 0x95}));
    REQUIRE(std::holds_alternative<puback>(too_large));
    CHECK(std::get<puback>(too_large).reason_code == 0x95);
    CHECK(decode_error5(b({0x40, 0x03, 0x00, 0x07, 0xFF})) == errc::invalid_return_code);
    CHECK(decode_error5(b({0x62, 0x03, 0x00, 0x07, 0x10})) == errc::invalid_return_code); // not a PUBREL code
    CHECK(decode_error5(b({0x40, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00})) == errc::malformed_packet); // bytes after the properties
}

TEST_CASE("MQTT 5 SUBSCRIBE: subscription options, reserved bits refused (§3.8.3.1)", "[codec5]")
{
    subscribe s{1, {{"a", qos::at_least_once, true, true, 2}}, {number(property_id::subscription_identifier, 5)}};
    require_round_trip5(s, b({0x82, 0x09, 0x00, 0x01, 0x02, 0x0B, 0x05, 0x00, 0x01, 'a', 0x2D}));
    CHECK(decode_error5(b({0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x41})) == errc::malformed_packet); // bit 6 [MQTT-3.8.3-5]
    CHECK(decode_error5(b({0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x30})) == errc::malformed_packet); // Retain Handling 3
    // 3.1.1 has none of the options.
    bytes out;
    CHECK(encode(s, out) == errc::not_in_this_version);
    CHECK(out.empty());
}

TEST_CASE("MQTT 5 SUBACK and UNSUBACK: a reason code per filter (§3.9, §3.11)", "[codec5]")
{
    require_round_trip5(suback{1, {0x01, 0x87}}, b({0x90, 0x05, 0x00, 0x01, 0x00, 0x01, 0x87}));
    CHECK(decode_error5(b({0x90, 0x04, 0x00, 0x01, 0x00, 0x05})) == errc::invalid_return_code);
    require_round_trip5(unsuback{1, {0x00, 0x11}}, b({0xB0, 0x05, 0x00, 0x01, 0x00, 0x00, 0x11}));
    CHECK(decode_error5(b({0xB0, 0x03, 0x00, 0x01, 0x00})) == errc::malformed_packet); // no reason code
    // A 3.1.1 UNSUBACK is the identifier alone.
    std::error_code ec;
    CHECK(decode_one(b({0xB0, 0x02, 0x00, 0x01}), ec) == std::optional<packet>{unsuback{1}});
}

TEST_CASE("MQTT 5 DISCONNECT and AUTH: reason code and properties, both optional (§3.14, §3.15)", "[codec5]")
{
    require_round_trip5(disconnect{}, b({0xE0, 0x00}));
    require_round_trip5(disconnect{0x8E}, b({0xE0, 0x01, 0x8E})); // session taken over
    require_round_trip5(disconnect{0x9C, {text(property_id::server_reference, "h")}},
                        b({0xE0, 0x06, 0x9C, 0x04, 0x1C, 0x00, 0x01, 'h'}));
    require_round_trip5(auth{}, b({0xF0, 0x00}));
    require_round_trip5(auth{0x18, {text(property_id::authentication_method, "m")}}, b({0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, 'm'}));
    CHECK(decode_error5(b({0xF0, 0x01, 0x00 + 0x05})) == errc::invalid_return_code);
    // Before MQTT 5, type 15 is reserved [MQTT-2.2.1].
    std::error_code ec;
    CHECK_FALSE(decode_one(b({0xF0, 0x00}), ec));
    CHECK(ec == errc::invalid_packet_type);
    bytes out;
    CHECK(encode(auth{}, out) == errc::not_in_this_version);
}

TEST_CASE("MQTT 5 fields are refused in a 3.1.1 packet, not silently dropped", "[codec5]")
{
    bytes out;
    CHECK(encode(publish{"t", "x", qos::at_most_once, false, false, 0, {number(property_id::topic_alias, 1)}}, out) ==
          errc::not_in_this_version);
    CHECK(encode(puback{1, 0x10}, out) == errc::not_in_this_version);
    CHECK(encode(disconnect{0x04}, out) == errc::not_in_this_version);
    CHECK(out.empty());
}

TEST_CASE("a large MQTT 5 PUBLISH streams its payload, its properties read first", "[codec5]")
{
    publish m{"big", std::string(200'000, 'p'), qos::at_least_once, false, false, 9,
              {text(property_id::content_type, "application/octet-stream"), {property_id::user_property, 0, "k", "v"}}};
    auto const wire = encoded5(m);
    for (std::size_t const piece : {std::size_t{1}, std::size_t{7}, std::size_t{65'536}}) {
        decoder d{default_max_packet_size, v5};
        std::optional<packet> got;
        std::error_code ec;
        for (std::size_t at = 0; at < wire.size(); at += piece) {
            d.feed({wire.data() + at, std::min(piece, wire.size() - at)});
            if (auto p = d.next(ec)) got = std::move(p);
            REQUIRE_FALSE(ec);
        }
        REQUIRE(got);
        CHECK(*got == packet{m});
    }
}

TEST_CASE("every reason code a packet may carry has the spec's name (§2.4)", "[codec5]")
{
    CHECK(std::string{reason_code_text(0x87)} == "not authorized");
    CHECK(std::string{reason_code_text(0x9C)} == "use another server");
    CHECK(std::string{reason_code_text(0x00)} == "success");
    CHECK(std::string{reason_code_text(0x05)} == "unknown reason code");
    // Each code some packet accepts has words of its own.
    std::set<std::string> seen;
    int named = 0;
    for (unsigned code = 0; code < 256; ++code) {
        std::string const words = reason_code_text(code);
        if (words == "unknown reason code") continue;
        ++named;
        CHECK(seen.insert(words).second);
        // A DISCONNECT, CONNACK, PUBACK, PUBCOMP, SUBACK, UNSUBACK or AUTH may carry it: it decodes in one of them.
        std::error_code ec;
        bool const somewhere = decode_one(b({0xE0, 0x01, static_cast<int>(code)}), ec, v5) ||
                               decode_one(b({0x20, 0x03, 0x00, static_cast<int>(code), 0x00}), ec, v5) ||
                               decode_one(b({0x40, 0x03, 0x00, 0x01, static_cast<int>(code)}), ec, v5) ||
                               decode_one(b({0x70, 0x03, 0x00, 0x01, static_cast<int>(code)}), ec, v5) ||
                               decode_one(b({0x90, 0x04, 0x00, 0x01, 0x00, static_cast<int>(code)}), ec, v5) ||
                               decode_one(b({0xB0, 0x04, 0x00, 0x01, 0x00, static_cast<int>(code)}), ec, v5) ||
                               decode_one(b({0xF0, 0x01, static_cast<int>(code)}), ec, v5);
        INFO("reason code " << code);
        CHECK(somewhere);
    }
    CHECK(named == 43);
}

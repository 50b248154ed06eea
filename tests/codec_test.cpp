// MQTT 3.1.1 codec: byte vectors from the spec's figures, boundaries, malformed input.
#include "test_support.hpp"

#include "wsmqtt/mqtt/codec.hpp"


using namespace wsmqtt;
using namespace wsmqtt::mqtt;
using wsmqtt::test::b;
using wsmqtt::test::decoded;
using wsmqtt::test::encoded;
using wsmqtt::test::require_decode_error;

namespace {

/// encode(p) == wire and decode(wire) == p.
void require_round_trip(packet const& p, bytes const& wire)
{
    CHECK(encoded(p) == wire);
    CHECK(decoded(wire) == p);
}

} // namespace

TEST_CASE("CONNECT with user name, password and keepalive (§3.1, fig. 3.6-3.8)", "[codec]")
{
    connect c;
    c.client_id = "id";
    c.keep_alive = 10;
    c.username = "u";
    c.password = "pw";
    require_round_trip(c, b({
        0x10, 21,                   // CONNECT, Remaining Length 21
        0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name
        0x04,                       // protocol level 4 (3.1.1)
        0xC2,                       // user name, password, clean session
        0x00, 0x0A,                 // keepalive 10 s
        0x00, 0x02, 'i', 'd',       // client id
        0x00, 0x01, 'u',            // user name
        0x00, 0x02, 'p', 'w',       // password
    }));
}

TEST_CASE("CONNECT with a will, clean session off, MQTT 3.1 (§3.1.2.5-3.1.2.7)", "[codec]")
{
    connect c;
    c.version = protocol_version::v31;
    c.client_id = "c";
    c.clean_session = false;
    c.keep_alive = 0;
    c.will = will{"w/t", "bye", qos::at_least_once, true};
    require_round_trip(c, b({
        0x10, 25,
        0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', // MQTT 3.1 protocol name
        0x03,                       // level 3
        0x2C,                       // will retain, will QoS 1, will flag
        0x00, 0x00,                 // keepalive off
        0x00, 0x01, 'c',
        0x00, 0x03, 'w', '/', 't',  // will topic
        0x00, 0x03, 'b', 'y', 'e',  // will message
    }));
}

TEST_CASE("CONNECT reserved flag bit 0 set is malformed [MQTT-3.1.2-3]", "[codec]")
{
    require_decode_error(b({0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x03, 0, 0, 0, 0}), errc::malformed_packet);
}

TEST_CASE("CONNECT with trailing bytes after the payload is malformed", "[codec]")
{
    require_decode_error(b({0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 0, 0, 0, 0xFF}), errc::malformed_packet);
}

TEST_CASE("encode refuses a password without a user name [MQTT-3.1.2-22]", "[codec]")
{
    connect c;
    c.password = "secret";
    bytes out;
    CHECK(encode(c, out) == errc::malformed_packet);
    CHECK(out.empty());
}

TEST_CASE("CONNACK: accepted, session present, refused codes (§3.2)", "[codec]")
{
    require_round_trip(connack{false, 0}, b({0x20, 0x02, 0x00, 0x00}));
    require_round_trip(connack{true, 0}, b({0x20, 0x02, 0x01, 0x00}));
    require_round_trip(connack{false, 5}, b({0x20, 0x02, 0x00, 0x05})); // not authorised
}

TEST_CASE("CONNACK with a reserved return code, flag bits or length is refused (§3.2.2)", "[codec]")
{
    require_decode_error(b({0x20, 0x02, 0x00, 0x06}), errc::invalid_return_code);
    require_decode_error(b({0x20, 0x02, 0x02, 0x00}), errc::invalid_connack_flags);
    require_decode_error(b({0x20, 0x03, 0x00, 0x00, 0x00}), errc::malformed_packet);
    require_decode_error(b({0x21, 0x02, 0x00, 0x00}), errc::invalid_flags); // [MQTT-2.2.2-2]
}

TEST_CASE("PUBLISH QoS 0 has no packet identifier [MQTT-2.3.1-5]", "[codec]")
{
    require_round_trip(publish{"a/b", "hello", qos::at_most_once, false, false, 0}, b({
        0x30, 10,                   // PUBLISH, QoS 0
        0x00, 0x03, 'a', '/', 'b',  // topic
        'h', 'e', 'l', 'l', 'o',    // payload
    }));
}

TEST_CASE("PUBLISH QoS 1 retained, QoS 2 duplicate: flags and packet identifier", "[codec]")
{
    require_round_trip(publish{"t", "x", qos::at_least_once, true, false, 0x1234}, b({
        0x33, 6,                    // PUBLISH, QoS 1, retain
        0x00, 0x01, 't',
        0x12, 0x34,                 // packet id
        'x',
    }));
    require_round_trip(publish{"t", "", qos::exactly_once, false, true, 7}, b({
        0x3C, 5,                    // PUBLISH, DUP, QoS 2
        0x00, 0x01, 't',
        0x00, 0x07,
    }));
}

TEST_CASE("PUBLISH payload is binary-safe: NUL and invalid UTF-8 bytes survive", "[codec]")
{
    std::string payload{"\x00\xFF\xFE\x80z", 5};
    auto const p = publish{"bin", payload, qos::at_most_once, false, false, 0};
    CHECK(decoded(encoded(p)) == packet{p});
}

TEST_CASE("PUBLISH with QoS 3 is refused [MQTT-3.3.1-4]", "[codec]")
{
    require_decode_error(b({0x36, 5, 0, 1, 't', 0, 1}), errc::invalid_qos);
}

TEST_CASE("PUBLISH QoS 0 with DUP set is refused [MQTT-3.3.1-2]", "[codec]")
{
    require_decode_error(b({0x38, 3, 0, 1, 't'}), errc::invalid_flags);
    bytes out;
    CHECK(encode(publish{"t", "", qos::at_most_once, false, true, 0}, out) == errc::invalid_flags);
}

TEST_CASE("PUBLISH topic with a wildcard, empty, or bad UTF-8 is refused [MQTT-3.3.2-2, MQTT-1.5.3-1/2]", "[codec]")
{
    require_decode_error(b({0x30, 5, 0, 3, 'a', '/', '#'}), errc::invalid_topic);
    require_decode_error(b({0x30, 5, 0, 3, 'a', '+', 'b'}), errc::invalid_topic);
    require_decode_error(b({0x30, 2, 0, 0}), errc::invalid_topic);
    require_decode_error(b({0x30, 4, 0, 2, 0xC0, 0x80}), errc::invalid_utf8); // overlong NUL
    require_decode_error(b({0x30, 3, 0, 1, 0x00}), errc::invalid_utf8);       // U+0000
    bytes out;
    CHECK(encode(publish{"a/+", "", qos::at_most_once, false, false, 0}, out) == errc::invalid_topic);
}

TEST_CASE("PUBLISH QoS 1 with packet identifier 0 is refused [MQTT-2.3.1-1]", "[codec]")
{
    require_decode_error(b({0x32, 5, 0, 1, 't', 0, 0}), errc::zero_packet_id);
    bytes out;
    CHECK(encode(publish{"t", "", qos::at_least_once, false, false, 0}, out) == errc::zero_packet_id);
}

TEST_CASE("PUBLISH whose topic length runs past the packet is malformed", "[codec]")
{
    require_decode_error(b({0x30, 3, 0, 5, 'a'}), errc::malformed_packet);
}

TEST_CASE("PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: type, flags, packet id (§3.4-3.7, 3.11)", "[codec]")
{
    require_round_trip(puback{1}, b({0x40, 0x02, 0x00, 0x01}));
    require_round_trip(pubrec{0x0102}, b({0x50, 0x02, 0x01, 0x02}));
    require_round_trip(pubrel{3}, b({0x62, 0x02, 0x00, 0x03})); // flags 0010 [MQTT-3.6.1-1]
    require_round_trip(pubcomp{65535}, b({0x70, 0x02, 0xFF, 0xFF}));
    require_round_trip(unsuback{9}, b({0xB0, 0x02, 0x00, 0x09}));
}

TEST_CASE("acknowledgements with wrong flags, length or id 0 are refused", "[codec]")
{
    require_decode_error(b({0x60, 0x02, 0x00, 0x01}), errc::invalid_flags); // PUBREL needs 0010 [MQTT-2.2.2-2]
    require_decode_error(b({0x41, 0x02, 0x00, 0x01}), errc::invalid_flags);
    require_decode_error(b({0x40, 0x03, 0x00, 0x01, 0x00}), errc::malformed_packet);
    require_decode_error(b({0x40, 0x01, 0x00}), errc::malformed_packet);
    require_decode_error(b({0x40, 0x02, 0x00, 0x00}), errc::zero_packet_id);
}

TEST_CASE("SUBSCRIBE: first byte 0x82, filters with requested QoS [MQTT-3.8.1-1]", "[codec]")
{
    require_round_trip(subscribe{10, {{"a/+", qos::at_least_once}, {"#", qos::exactly_once}}}, b({
        0x82, 12,                   // SUBSCRIBE, flags 0010
        0x00, 0x0A,                 // packet id 10
        0x00, 0x03, 'a', '/', '+', 0x01,
        0x00, 0x01, '#', 0x02,
    }));
    require_decode_error(b({0x80, 6, 0, 1, 0, 1, '#', 0}), errc::invalid_flags);
    require_decode_error(b({0x82, 6, 0, 1, 0, 1, '#', 3}), errc::invalid_qos); // [MQTT-3-8.3-4]
    require_decode_error(b({0x82, 2, 0, 1}), errc::empty_subscription_list); // [MQTT-3.8.3-3]
}

TEST_CASE("encode refuses invalid SUBSCRIBE requests", "[codec]")
{
    bytes out;
    CHECK(encode(subscribe{1, {}}, out) == errc::empty_subscription_list);
    CHECK(encode(subscribe{1, {{"a/#/b", qos::at_most_once}}}, out) == errc::invalid_topic_filter);
    CHECK(encode(subscribe{0, {{"a", qos::at_most_once}}}, out) == errc::zero_packet_id);
    CHECK(out.empty());
}

TEST_CASE("SUBACK: granted QoS and 0x80 failure, other codes refused [MQTT-3.9.3-2]", "[codec]")
{
    require_round_trip(suback{10, {0x01, 0x80, 0x00}}, b({0x90, 0x05, 0x00, 0x0A, 0x01, 0x80, 0x00}));
    require_decode_error(b({0x90, 0x03, 0x00, 0x0A, 0x03}), errc::invalid_return_code);
    require_decode_error(b({0x90, 0x02, 0x00, 0x0A}), errc::malformed_packet);
}

TEST_CASE("UNSUBSCRIBE: first byte 0xA2 [MQTT-3.10.1-1]", "[codec]")
{
    require_round_trip(unsubscribe{2, {"a/b"}}, b({0xA2, 0x07, 0x00, 0x02, 0x00, 0x03, 'a', '/', 'b'}));
}

TEST_CASE("PINGREQ, PINGRESP, DISCONNECT are two bytes (§3.12-3.14)", "[codec]")
{
    require_round_trip(pingreq{}, b({0xC0, 0x00}));
    require_round_trip(pingresp{}, b({0xD0, 0x00}));
    require_round_trip(disconnect{}, b({0xE0, 0x00}));
    require_decode_error(b({0xD1, 0x00}), errc::invalid_flags);
    require_decode_error(b({0xD0, 0x01, 0x00}), errc::malformed_packet);
}

TEST_CASE("packet types 0 and 15 are reserved (§2.2.1)", "[codec]")
{
    require_decode_error(b({0x00, 0x00}), errc::invalid_packet_type);
    require_decode_error(b({0xF0, 0x00}), errc::invalid_packet_type);
}

TEST_CASE("Remaining Length boundaries use 1 to 4 bytes (§2.2.3, table 2.4)", "[codec]")
{
    struct row {
        std::size_t body;
        bytes length_bytes;
    };
    // Body = 2-byte topic length + 1-byte topic + payload.
    auto const rows = {
        row{3, b({0x03})},
        row{127, b({0x7F})},
        row{128, b({0x80, 0x01})},
        row{16'383, b({0xFF, 0x7F})},
        row{16'384, b({0x80, 0x80, 0x01})},
        row{2'097'151, b({0xFF, 0xFF, 0x7F})},
        row{2'097'152, b({0x80, 0x80, 0x80, 0x01})},
    };
    for (auto const& r : rows) {
        publish const p{"t", std::string(r.body - 3, 'x'), qos::at_most_once, false, false, 0};
        auto const wire = encoded(p);
        INFO("body " << r.body);
        REQUIRE(wire.size() == 1 + r.length_bytes.size() + r.body);
        CHECK(bytes(wire.begin() + 1, wire.begin() + 1 + static_cast<std::ptrdiff_t>(r.length_bytes.size())) == r.length_bytes);
        CHECK(decoded(wire) == packet{p});
    }
}

TEST_CASE("a fifth Remaining Length byte is malformed (§2.2.3)", "[codec]")
{
    decoder d;
    d.feed(b({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
    std::error_code ec;
    CHECK_FALSE(d.next(ec));
    CHECK(ec == errc::malformed_remaining_length);
}

TEST_CASE("the largest Remaining Length is refused from the header alone when over the maximum", "[codec]")
{
    decoder d{1024};
    d.feed(b({0x30, 0xFF, 0xFF, 0xFF, 0x7F})); // announces 268 435 455 bytes, sends none
    std::error_code ec;
    CHECK_FALSE(d.next(ec));
    CHECK(ec == errc::packet_too_large);
    CHECK(d.buffered() == 5); // nothing was allocated for the announced body
}

TEST_CASE("a packet exactly at the maximum size is accepted", "[codec]")
{
    auto const wire = encoded(publish{"t", std::string(100, 'x'), qos::at_most_once, false, false, 0});
    decoder d{wire.size()};
    d.feed(wire);
    std::error_code ec;
    CHECK(d.next(ec));
    CHECK(!ec);
    decoder small{wire.size() - 1};
    small.feed(wire);
    CHECK_FALSE(small.next(ec));
    CHECK(ec == errc::packet_too_large);
}

TEST_CASE("decoder accepts the stream one byte at a time [MQTT-6.0.0-2]", "[codec]")
{
    std::vector<packet> const packets{
        connack{false, 0},
        publish{"a/b", std::string(300, 'p'), qos::at_least_once, false, false, 1},
        suback{2, {0x00}},
        pingresp{},
        publish{"c", "", qos::at_most_once, true, false, 0},
    };
    bytes stream;
    for (auto const& p : packets) {
        auto const w = encoded(p);
        stream.insert(stream.end(), w.begin(), w.end());
    }
    decoder d;
    std::vector<packet> seen;
    std::error_code ec;
    for (auto const byte : stream) {
        d.feed({&byte, 1});
        while (auto p = d.next(ec)) seen.push_back(std::move(*p));
        REQUIRE(!ec);
    }
    CHECK(seen == packets);
    CHECK(d.buffered() == 0);
}

TEST_CASE("several packets in one feed, then a partial one kept for later", "[codec]")
{
    auto stream = encoded(puback{1});
    auto const second = encoded(pubcomp{2});
    auto const third = encoded(publish{"t", "late", qos::at_most_once, false, false, 0});
    stream.insert(stream.end(), second.begin(), second.end());
    stream.insert(stream.end(), third.begin(), third.begin() + 4); // trailing partial packet

    decoder d;
    d.feed(stream);
    std::error_code ec;
    CHECK(d.next(ec) == packet{puback{1}});
    CHECK(d.next(ec) == packet{pubcomp{2}});
    CHECK_FALSE(d.next(ec));
    CHECK(!ec); // need more, not an error
    CHECK(d.buffered() == 4);
    d.feed({third.data() + 4, third.size() - 4});
    CHECK(d.next(ec) == packet{publish{"t", "late", qos::at_most_once, false, false, 0}});
    CHECK(d.buffered() == 0);
}

TEST_CASE("every packet type survives encode then decode", "[codec]")
{
    std::vector<packet> const all{
        connect{}, connack{}, publish{"x", "y", qos::exactly_once, true, true, 5}, puback{1}, pubrec{2},
        pubrel{3}, pubcomp{4}, subscribe{5, {{"s", qos::at_most_once}}}, suback{6, {2}},
        unsubscribe{7, {"u", "v"}}, unsuback{8}, pingreq{}, pingresp{}, disconnect{},
    };
    for (auto const& p : all) {
        INFO(packet_name(type_number(p)));
        CHECK(decoded(encoded(p)) == p);
    }
}

TEST_CASE("encode refuses strings over 65535 bytes (§1.5.3)", "[codec]")
{
    connect c;
    c.client_id = std::string(65'536, 'a');
    bytes out;
    CHECK(encode(c, out) == errc::string_too_long);
    CHECK(encode(publish{std::string(65'536, 'a'), "", qos::at_most_once, false, false, 0}, out) == errc::string_too_long);
}

TEST_CASE("a large PUBLISH is decoded from any split of the stream, payload written in place", "[codec]")
{
    std::string payload(decoder::stream_threshold * 3 + 17, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31 + 7);
    publish const big{"big/file", payload, qos::at_least_once, false, false, 9};
    auto stream = encoded(big);
    auto const after = encoded(puback{4});
    stream.insert(stream.end(), after.begin(), after.end());

    // Split points: inside the fixed header, inside the topic, right after the packet id, in
    // the payload, and one feed holding the end of the PUBLISH and the next packet.
    auto const split = GENERATE(std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{16}, std::size_t{4000},
                                std::size_t{65536});
    decoder d;
    std::vector<packet> seen;
    std::error_code ec;
    for (std::size_t at = 0; at < stream.size(); at += split) {
        d.feed({stream.data() + at, std::min(split, stream.size() - at)});
        while (auto p = d.next(ec)) seen.push_back(std::move(*p));
        REQUIRE(!ec);
        if (seen.empty()) CHECK(d.buffered() <= at + split); // nothing counted twice
    }
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == packet{big});
    CHECK(seen[1] == packet{puback{4}});
    CHECK(d.buffered() == 0);
}

TEST_CASE("a large PUBLISH with a bad variable header fails before its payload arrives", "[codec]")
{
    std::string const payload(decoder::stream_threshold * 2, 'x');
    // Remaining Length 65 536 (0x80 0x80 0x04), QoS 1, a topic of 65 535 bytes: with the
    // packet id, the variable header would be longer than the packet.
    mqtt::bytes bad_topic_length = b({0x32, 0x80, 0x80, 0x04, 0xFF, 0xFF});
    decoder d1;
    d1.feed(bad_topic_length);
    std::error_code ec;
    CHECK_FALSE(d1.next(ec));
    CHECK(ec == errc::malformed_packet);

    // Packet id 0 at QoS 1 [MQTT-2.3.1-1], noticed with only the head received.
    auto frame = encoded(publish{"t", payload, qos::at_least_once, false, false, 1});
    REQUIRE(frame[1] >= 0x80); // a 3-byte Remaining Length: the fixed header is 4 bytes
    frame[4 + 3] = 0; // the packet id follows the 2-byte length and the 1-byte topic
    frame[4 + 4] = 0;
    decoder d2;
    d2.feed({frame.data(), 64});
    CHECK_FALSE(d2.next(ec));
    CHECK(ec == errc::zero_packet_id);
}

TEST_CASE("a PUBLISH header announcing 256 MiB reserves nothing near that before the bytes arrive", "[codec]")
{
    // Remaining Length 268 435 455 (the protocol's maximum), topic "t", then 1 KiB of payload:
    // under a memory limit, reserving what the header announces killed the reader.
    auto head = b({0x30, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x01, 't'});
    mqtt::bytes const kib(1024, 0x55);
    decoder d{default_max_packet_size};
    d.feed(head);
    std::error_code ec;
    CHECK_FALSE(d.next(ec));
    d.feed(kib);
    CHECK(!ec);
    CHECK(d.held() < 256 * 1024);
    // As the payload arrives, what is held grows with it (fourfold at most), not to 256 MiB.
    for (int i = 0; i < 1024; ++i) d.feed(kib); // 1 MiB more
    CHECK(d.held() < 8 * 1024 * 1024);
    CHECK(d.buffered() == 1025 * 1024); // the payload so far, without the fixed and variable headers
}

TEST_CASE("a large payload that arrives whole is held at its size, not more", "[codec]")
{
    std::string const payload(3 * 1024 * 1024, 'z');
    auto const frame = encoded(publish{"t", payload, qos::at_most_once, false, false, 0});
    decoder d;
    d.feed({frame.data(), 100});
    std::error_code ec;
    CHECK_FALSE(d.next(ec)); // the head is in: the payload goes straight to its place from now on
    d.feed({frame.data() + 100, frame.size() - 100});
    // Reserved once, to the announced size, when it had all come (plus the first read's buffer).
    CHECK(d.held() >= payload.size());
    CHECK(d.held() <= payload.size() + 4096);
    auto p = d.next(ec);
    REQUIRE(p);
    CHECK(std::get<publish>(*p).payload == payload);
}

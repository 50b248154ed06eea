// The session's failures in words and exit codes (session_words.cpp), MQTT 3.1.1 and 5.
#include <catch2/catch.hpp>

#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/session_words.hpp"

using namespace wsmqtt;
using mqtt::errc;
using mqtt::property_id;

namespace {

session_context context(bool username = false, mqtt::protocol_version v = mqtt::protocol_version::v311)
{
    return {"broker.test:8080", std::chrono::milliseconds{2500}, 30, 65'536, username, v};
}

session_context context5(bool username = false) { return context(username, mqtt::protocol_version::v5); }

mqtt::property text(property_id id, std::string s) { return {id, 0, std::move(s), {}}; }

} // namespace

TEST_CASE("MQTT 3.1.1 refusals keep their words and exit codes 11-15", "[session_words]")
{
    auto const f = describe({errc::connection_refused, 4, {}}, context(true));
    CHECK(f.code == static_cast<exit_code>(14));
    CHECK(f.message == "connection refused by broker: bad user name or password (check the user name and password)");
    CHECK(describe({errc::connection_refused, 2, {}}, context()).code == static_cast<exit_code>(12));
}

TEST_CASE("MQTT 5 refusals name the reason code in hex and words, and the broker's Reason String", "[session_words]")
{
    auto const f = describe({errc::connection_refused, 0x87, {text(property_id::reason_string, "bad credentials")}}, context5());
    CHECK(f.message == "the broker refused the connection: 0x87 not authorized (\"bad credentials\")");
    CHECK(describe({errc::connection_refused, 0x86, {}}, context5(true)).message ==
          "the broker refused the connection: 0x86 bad user name or password (check the user name and password)");
    CHECK(f.code == static_cast<exit_code>(15)); // as 3.1.1's "not authorised": scripts see one number
    auto const moved = describe({errc::connection_refused, 0x9D, {text(property_id::server_reference, "new.example:8883")}}, context5());
    CHECK(moved.message == "the broker refused the connection: 0x9D server moved, go to new.example:8883");
    CHECK(moved.code == static_cast<exit_code>(16));
    auto const old = describe({errc::connection_refused, 0x84, {}}, context5());
    CHECK(old.message == "the broker refused the connection: 0x84 unsupported protocol version: the broker does not speak MQTT 5 (give -V 311)");
    CHECK(old.code == static_cast<exit_code>(11));
}

TEST_CASE("MQTT 5 Connect Reason Codes map onto the 3.1.1 exit codes where they mean the same", "[session_words]")
{
    CHECK(connack_exit_code(0x84) == static_cast<exit_code>(11));
    CHECK(connack_exit_code(0x85) == static_cast<exit_code>(12));
    CHECK(connack_exit_code(0x88) == static_cast<exit_code>(13));
    CHECK(connack_exit_code(0x86) == static_cast<exit_code>(14));
    CHECK(connack_exit_code(0x87) == static_cast<exit_code>(15));
    CHECK(connack_exit_code(0x8A) == static_cast<exit_code>(15)); // banned
    CHECK(connack_exit_code(0x97) == static_cast<exit_code>(16)); // quota exceeded: none of the five
    // Never one of the other codes: not 27 (-W), not 128+N (signals).
    for (int code = 0x80; code < 0x100; ++code) {
        auto const exit = to_int(connack_exit_code(static_cast<std::uint8_t>(code)));
        CHECK(exit >= 11);
        CHECK(exit <= 16);
    }
}

TEST_CASE("a broker's DISCONNECT (MQTT 5) is named, and a shutdown is retried as a network loss", "[session_words]")
{
    auto const shutdown = describe({errc::disconnected_by_broker, 0x8B, {}}, context5());
    CHECK(shutdown.message == "the broker ended the session: 0x8B server shutting down");
    CHECK(shutdown.code == exit_code::network);
    CHECK(describe({errc::disconnected_by_broker, 0x82, {}}, context5()).code == exit_code::protocol);
    CHECK(describe({errc::disconnected_by_broker, 0x87, {}}, context5()).code == static_cast<exit_code>(15));
    CHECK_FALSE(shutdown.final);
}

TEST_CASE("a broker's DISCONNECT that a reconnect cannot mend is final: taken over, go elsewhere", "[session_words]")
{
    auto const taken = describe({errc::disconnected_by_broker, 0x8E, {}}, context5());
    CHECK(taken.message ==
          "the broker ended the session: 0x8E session taken over (another client connected with the same client id: give each its own -i)");
    CHECK(taken.final);
    auto const moved = describe({errc::disconnected_by_broker, 0x9D, {{mqtt::property_id::server_reference, 0, "b2.example:8883"}}}, context5());
    CHECK(moved.message == "the broker ended the session: 0x9D server moved, go to b2.example:8883");
    CHECK(moved.code == exit_code::network);
    CHECK(moved.final);
    CHECK(describe({errc::disconnected_by_broker, 0x9C, {}}, context5()).final);
}

TEST_CASE("MQTT 5 properties for -d, and what a CONNACK allows with its defaults", "[session_words]")
{
    using mqtt::property_id;
    CHECK(properties_words({{property_id::content_type, 0, "text/plain"},
                            {property_id::user_property, 0, "a", "1"},
                            {property_id::correlation_data, 0, std::string{"\x00\xff", 2}},
                            {property_id::authentication_data, 0, "secret"},
                            {property_id::receive_maximum, 5}}) ==
          "content-type='text/plain' user-property 'a'='1' correlation-data=hex:00ff authentication-data=(6 bytes) receive-maximum=5");
    CHECK(connack_limits_words({}, 60) ==
          "maximum QoS 2, retain yes, wildcard subscriptions yes, shared subscriptions yes, subscription identifiers yes, receive maximum "
          "65535, maximum packet size no limit, topic alias maximum 0, keepalive 60 s, session expiry as asked");
    CHECK(connack_limits_words({false, 0, {{property_id::maximum_qos, 1}, {property_id::server_keep_alive, 20},
                                           {property_id::assigned_client_identifier, 0, "auto-1"}, {property_id::retain_available, 0}}},
                               60) ==
          "maximum QoS 1, retain no, wildcard subscriptions yes, shared subscriptions yes, subscription identifiers yes, receive maximum "
          "65535, maximum packet size no limit, topic alias maximum 0, keepalive 20 s (the broker's), session expiry as asked, assigned "
          "client id 'auto-1'");
}

TEST_CASE("timeouts name the broker and the limit", "[session_words]")
{
    CHECK(describe({errc::connack_timeout, 0, {}}, context()).message ==
          "no CONNACK from broker.test:8080 within 2.5 s (--connect-timeout): is it an MQTT broker?");
    CHECK(describe({errc::pingresp_timeout, 0, {}}, context()).message == "no PINGRESP from broker.test:8080 within the keepalive (30 s)");
    CHECK(describe({errc::packet_too_large, 0, {}}, context()).message ==
          "protocol error: the broker sent a packet larger than 65536 bytes (--max-packet-size)");
    CHECK(describe({errc::invalid_topic_alias, 0, {}}, context()).code == exit_code::protocol);
}

// pub --json's input: what sub --json writes comes back as the same message; bad lines say why.
#include <catch2/catch.hpp>

#include "wsmqtt/json_input.hpp"
#include "wsmqtt/mqtt/properties.hpp"
#include "wsmqtt/output.hpp"

using namespace wsmqtt;
using mqtt::property_id;

namespace {

json_message parsed(std::string_view line)
{
    std::string error;
    auto m = parse_json_message(line, error);
    INFO(error);
    REQUIRE(m);
    return *m;
}

std::string error_of(std::string_view line)
{
    std::string error;
    CHECK_FALSE(parse_json_message(line, error));
    return error;
}

} // namespace

TEST_CASE("json input: what sub --json prints is read back to the same message", "[json_input]")
{
    mqtt::publish m{"sensors/ä\"q", std::string{"\x00\x01\xff binary", 10}, mqtt::qos::exactly_once, true, false, 7};
    m.props = {{property_id::user_property, 0, "a", "1"},
               {property_id::content_type, 0, "text/plain"},
               {property_id::user_property, 0, "a", "2"},
               {property_id::correlation_data, 0, std::string{"\x00\xff", 2}},
               {property_id::response_topic, 0, "r/1"},
               {property_id::message_expiry_interval, 60},
               {property_id::payload_format_indicator, 0},
               {property_id::subscription_identifier, 9}, // the broker's: not sent on
               {property_id::topic_alias, 3}};
    std::string error;
    auto const json = output_format::compile("%j", true, error);
    REQUIRE(json);
    std::string line;
    json->render(m, wall_time{std::chrono::seconds{1'795'654'923}}, line);
    auto const back = parsed(line);
    CHECK(back.topic == m.topic);
    CHECK(back.payload == m.payload);
    CHECK(back.qos == m.qos);
    CHECK(back.retain == true);
    CHECK(back.tst == "2026-11-26T01:02:03.000000Z");
    // In the order sub --json writes them; user properties in theirs, duplicates kept.
    CHECK(back.props == mqtt::properties{{property_id::payload_format_indicator, 0},
                                         {property_id::message_expiry_interval, 60},
                                         {property_id::content_type, 0, "text/plain"},
                                         {property_id::response_topic, 0, "r/1"},
                                         {property_id::correlation_data, 0, std::string{"\x00\xff", 2}},
                                         {property_id::user_property, 0, "a", "1"},
                                         {property_id::user_property, 0, "a", "2"}});
}

TEST_CASE("json input: fields left out stay unset, for the command line to fill", "[json_input]")
{
    auto const m = parsed(R"({"topic":"t"})");
    CHECK(m.topic == "t");
    CHECK_FALSE(m.payload);
    CHECK_FALSE(m.qos);
    CHECK_FALSE(m.retain);
    CHECK(m.props.empty());
    CHECK_FALSE(parsed(R"({"payload":"p"})").topic);
    // mosquitto_sub's %j writes retain as 0/1; unknown fields (mid, payloadlen) are ignored.
    auto const mosquitto = parsed(R"({"tst":"x","topic":"t","qos":1,"retain":1,"payloadlen":1,"mid":4,"payload":"p","extra":[{}]})");
    CHECK(mosquitto.retain == true);
    CHECK(mosquitto.qos == mqtt::qos::at_least_once);
}

TEST_CASE("json input: a payload that is JSON (%J) is its text, escapes and surrogates decode", "[json_input]")
{
    CHECK(parsed(R"({"topic":"t","payload":{"a": [1, 2.5e3, true, null]}})").payload == R"({"a": [1, 2.5e3, true, null]})");
    CHECK(parsed(R"({"topic":"t","payload":42})").payload == "42");
    CHECK(parsed(R"({"topic":"t","payload":"\u00e9\ud83d\ude00\n\t\"\\\/"})").payload == "\xC3\xA9\xF0\x9F\x98\x80\n\t\"\\/");
    CHECK(parsed(R"({"topic":"t","payload":null})").payload == std::nullopt);
}

TEST_CASE("json input: a bad line says what is wrong", "[json_input]")
{
    CHECK(error_of("not json") == "not JSON: unexpected character at column 1");
    CHECK(error_of(R"({"topic":"t",})") == "not JSON: expected a quoted name at column 14");
    CHECK(error_of(R"({"topic":"t"} x)") == "not JSON: text after the object at column 15");
    CHECK(error_of(R"(["t"])") == "not a JSON object");
    CHECK(error_of(R"({"topic":1})") == "topic must be a string");
    CHECK(error_of(R"({"topic":"t","qos":3})") == "qos must be 0, 1 or 2");
    CHECK(error_of(R"({"topic":"t","retain":"yes"})") == "retain must be true or false");
    CHECK(error_of(R"({"topic":"t","payload":"!!","payload_encoding":"base64"})") == "payload is not base64, as payload_encoding says");
    CHECK(error_of(R"({"topic":"t","payload":"\ud83d"})") == "not JSON: a lone surrogate at column 31");
    CHECK(error_of("{\"topic\":\"t\",\"payload\":\"a\x01\"}") == "not JSON: control character in a string at column 26");
    CHECK(error_of("{\"topic\":\"\xC3\x28\"}") == "not JSON: a string that is not UTF-8 at column 14");
    CHECK(error_of(R"({"topic":"t","properties":{"correlation-data":"%%"}})") == "properties: correlation-data must be base64");
    CHECK(error_of(R"({"topic":"t","properties":{"user-properties":{"a":"b"}}})") ==
          "properties: user-properties must be a list of {\"key\":\"value\"} objects");
    CHECK(error_of(R"({"topic":"t","properties":{"response-topic":"a/#"}})") ==
          "properties: response-topic must be a topic name without wildcards");
    // Defect: a misspelt property was dropped without a word and the message went without it.
    CHECK(error_of(R"({"topic":"t","properties":{"content_type":"text/plain"}})") ==
          "properties: content_type is not a property of a PUBLISH (content-type, correlation-data, message-expiry-interval, "
          "payload-format-indicator, response-topic, user-properties)");
    std::string none;
    auto const theirs = parse_json_message(R"({"topic":"t","properties":{"subscription-identifier":[1],"topic-alias":2}})", none);
    REQUIRE(theirs); // the broker's, for the subscriber: left out, not refused
    CHECK(theirs->props.empty());
    CHECK(error_of(std::string(100, '[') + std::string(100, ']')) == "not JSON: nested too deep at column 66");
}

TEST_CASE("json input: RFC 3339 times as sub --json writes them, and with offsets", "[json_input]")
{
    CHECK(parse_rfc3339("2026-11-26T01:02:03.123456Z") == Approx(1'795'654'923.123456));
    CHECK(parse_rfc3339("2026-11-26T01:02:03Z") == Approx(1'795'654'923.0));
    CHECK(parse_rfc3339("2026-11-26T02:02:03+01:00") == Approx(1'795'654'923.0));
    // ISO 8601 offsets, and mosquitto_sub -F %j's "Z+0000" (defect: such recordings replayed at once).
    CHECK(parse_rfc3339("2026-11-26T02:02:03+0100") == Approx(1'795'654'923.0));
    CHECK(parse_rfc3339("2026-11-26T00:02:03-01") == Approx(1'795'654'923.0));
    CHECK(parse_rfc3339("2026-11-26T01:02:03.5Z+0000") == Approx(1'795'654'923.5));
    CHECK_FALSE(parse_rfc3339("2026-11-26T01:02:03+1"));
    CHECK_FALSE(parse_rfc3339("2026-11-26T01:02:03+01:0"));
    CHECK_FALSE(parse_rfc3339("2026-11-26 01:02"));
    CHECK_FALSE(parse_rfc3339("yesterday"));
    CHECK_FALSE(parse_rfc3339("2026-11-26T01:02:03.5"));
}

// Output formats: the default line, mosquitto's -F language, JSON, escapes and errors.
#include <catch2/catch.hpp>

#include "wsmqtt/output.hpp"

#include <cstdlib>
#include <ctime>

using namespace wsmqtt;
using wsmqtt::mqtt::publish;
using wsmqtt::mqtt::qos;

namespace {

/// 2026-11-26 01:02:03.123456789 UTC; rendering runs with TZ=UTC.
wall_time const when = wall_time{std::chrono::duration_cast<wall_time::duration>(
    std::chrono::seconds{1'795'654'923} + std::chrono::nanoseconds{123'456'789})};

std::string render(std::string_view spec, publish const& m, bool no_newline = false)
{
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    std::string error;
    auto const f = output_format::compile(spec, no_newline, error);
    INFO(error);
    REQUIRE(f);
    std::string out;
    f->render(m, when, out);
    return out;
}

std::string compile_error(std::string_view spec)
{
    std::string error;
    CHECK_FALSE(output_format::compile(spec, false, error));
    return error;
}

publish const sample{"demo/hello", "hello from wsmqtt", qos::at_least_once, true, false, 12};
publish const binary{"b", std::string{"\x00\xAB\xff", 3}, qos::at_most_once, false, false, 0};

} // namespace

TEST_CASE("the default line is 'Topic: <topic> | <payload>' and a newline", "[output]")
{
    CHECK(render(default_format, sample) == "Topic: demo/hello | hello from wsmqtt\n");
}

TEST_CASE("mosquitto specifiers %t %p %q %r %l %m %%", "[output]")
{
    CHECK(render("%t|%p|%q|%r|%l|%m|%%", sample) == "demo/hello|hello from wsmqtt|1|1|17|12|%\n");
}

TEST_CASE("%x and %X print the payload in hex and %b in base64, binary-safe", "[output]")
{
    CHECK(render("%x", binary) == "00abff\n");
    CHECK(render("%X", binary) == "00ABFF\n");
    CHECK(render("%b", binary) == "AKv/\n");
    CHECK(render("%b", publish{"t", "ab", qos::at_most_once, false, false, 0}) == "YWI=\n");
    CHECK(render("%b", publish{"t", "a", qos::at_most_once, false, false, 0}) == "YQ==\n");
}

TEST_CASE("the payload is written byte for byte, NUL included", "[output]")
{
    publish const nul{"b", std::string{"a\0b", 3}, qos::at_most_once, false, false, 0};
    CHECK(render("%p", nul) == std::string{"a\0b\n", 4});
}

TEST_CASE("escape sequences and -N", "[output]")
{
    CHECK(render("%t\\t%p\\0", sample, true) == std::string{"demo/hello\thello from wsmqtt\0", 29});
    CHECK(render("a\\\\b\\n", sample, true) == "a\\b\n");
}

TEST_CASE("field width, left alignment, zero padding and precision", "[output]")
{
    CHECK(render("[%12t]", sample) == "[  demo/hello]\n");
    CHECK(render("[%-12t]", sample) == "[demo/hello  ]\n");
    CHECK(render("[%05l]", sample) == "[00017]\n");
    CHECK(render("[%.4t]", sample) == "[demo]\n");
    CHECK(render("[%6.4t]", sample) == "[  demo]\n");
}

TEST_CASE("time fields %I %U and @ strftime fields with @N and @@", "[output]")
{
    CHECK(render("%I", sample) == "2026-11-26T01:02:03+0000\n");
    CHECK(render("%U", sample) == "1795654923.123456789\n");
    CHECK(render("@Y-@m-@d @H:@M:@S.@N @@", sample) == "2026-11-26 01:02:03.123456789 @\n");
}

TEST_CASE("MQTT 5 property specifiers print nothing for 3.1.1 messages", "[output]")
{
    CHECK(render("[%C%R%P%A%D%E%F%S]", sample) == "[]\n");
}

namespace {

using wsmqtt::mqtt::property;
using wsmqtt::mqtt::property_id;

/// A message with every property a broker may send a client, user properties repeated and
/// two subscription identifiers (it matched two subscriptions).
publish with_properties()
{
    auto m = sample;
    m.props = {property{property_id::subscription_identifier, 7},
               property{property_id::user_property, 0, "a", "1"},
               property{property_id::content_type, 0, "text/plain"},
               property{property_id::user_property, 0, "b", "2"},
               property{property_id::user_property, 0, "a", "3"},
               property{property_id::response_topic, 0, "replies/1"},
               property{property_id::correlation_data, 0, std::string{"\x00\xff", 2}},
               property{property_id::message_expiry_interval, 60},
               property{property_id::payload_format_indicator, 1},
               property{property_id::topic_alias, 4},
               property{property_id::subscription_identifier, 9}};
    return m;
}

} // namespace

TEST_CASE("MQTT 5 properties in -F as mosquitto_sub prints them, %S gives every identifier", "[output]")
{
    auto const m = with_properties();
    CHECK(render("%A|%C|%E|%F|%P|%R|%S", m) == "4|text/plain|60|1|a:1 b:2 a:3|replies/1|7,9\n");
    CHECK(render("%D", m) == std::string{"\x00\xff\n", 3}); // raw bytes, as mosquitto_sub
    CHECK(render("%#D|%#C|%#t", m) == "00ff|746578742f706c61696e|64656d6f2f68656c6c6f\n"); // `#`: binary-safe hex
    CHECK(render("%#D", sample) == "\n");
    CHECK(render("[%-12C][%5E]", m) == "[text/plain  ][   60]\n");
}

TEST_CASE("json output: a properties object with the spec's names, binary-safe and in order", "[output]")
{
    CHECK(render("%j", with_properties()) ==
          R"({"tst":"2026-11-26T01:02:03.123456Z","topic":"demo/hello","qos":1,"retain":true,"payloadlen":17,"mid":12,)"
          R"("properties":{"payload-format-indicator":1,"message-expiry-interval":60,"topic-alias":4,"content-type":"text/plain",)"
          R"("response-topic":"replies/1","correlation-data":"AP8=","subscription-identifier":[7,9],)"
          R"("user-properties":[{"a":"1"},{"b":"2"},{"a":"3"}]},"payload":"hello from wsmqtt"})"
          "\n");
    auto only_user = sample;
    only_user.props = {property{property_id::user_property, 0, "q\"", "\n"}};
    CHECK(render("%j", only_user).find(R"("properties":{"user-properties":[{"q\"":"\n"}]},)") != std::string::npos);
    CHECK(is_json(render("%j", with_properties())));
}

TEST_CASE("%j is one JSON object: time, topic, qos, retain, length, id, payload", "[output]")
{
    CHECK(render("%j", sample) ==
          R"({"tst":"2026-11-26T01:02:03.123456Z","topic":"demo/hello","qos":1,"retain":true,"payloadlen":17,"mid":12,"payload":"hello from wsmqtt"})"
          "\n");
}

TEST_CASE("JSON escapes quotes, backslashes and control characters", "[output]")
{
    publish const m{"a\"b", "line\n\ttab \\ \x01", qos::at_most_once, false, false, 0};
    CHECK(render("%j", m) ==
          R"({"tst":"2026-11-26T01:02:03.123456Z","topic":"a\"b","qos":0,"retain":false,"payloadlen":13,"payload":"line\n\ttab \\ \u0001"})"
          "\n");
}

TEST_CASE("a payload that is not UTF-8 goes into JSON as base64, marked as such", "[output]")
{
    CHECK(render("%j", binary) ==
          R"({"tst":"2026-11-26T01:02:03.123456Z","topic":"b","qos":0,"retain":false,"payloadlen":3,"payload":"AKv/","payload_encoding":"base64"})"
          "\n");
}

TEST_CASE("%J embeds a JSON payload as a value, and falls back to a string otherwise", "[output]")
{
    publish const obj{"j", R"({"t": [1, 2.5e3, true, null]})", qos::at_most_once, false, false, 0};
    CHECK(render("%J", obj).find(R"("payload":{"t": [1, 2.5e3, true, null]})") != std::string::npos);
    publish const text{"j", "not json", qos::at_most_once, false, false, 0};
    CHECK(render("%J", text).find(R"("payload":"not json")") != std::string::npos);
}

TEST_CASE("is_json accepts RFC 8259 values only", "[output]")
{
    for (auto const* ok : {"0", "-1.5e-3", "\"a\\u00e9\"", "[]", "{}", " {\"a\": [null, false]} ", "true"})
        CHECK(is_json(ok));
    for (auto const* bad : {"", "01", "1.", "[1,]", "{\"a\"}", "{a:1}", "tru", "\"\\x\"", "[1] [2]", "\"a"})
        CHECK_FALSE(is_json(bad));
    CHECK_FALSE(is_json(std::string(1000, '[')));
}

TEST_CASE("an unknown specifier or a dangling % is refused, naming it", "[output]")
{
    CHECK(compile_error("%z") == "invalid format specifier '%z'");
    CHECK(compile_error("%-5z") == "invalid format specifier '%-5z'");
    CHECK(compile_error("\\q") == "invalid escape '\\q' in format");
    CHECK(compile_error("abc%") == "format ends with a lone '%'");
    CHECK(compile_error("@1") == "invalid time specifier '@1' in format");
}

TEST_CASE("colour wraps text in an SGR sequence only when asked", "[output][terminal]")
{
    CHECK(paint("sent", "36", true) == "\x1b[36msent\x1b[0m");
    CHECK(paint("sent", "36", false) == "sent");
    CHECK(paint("", "1", false).empty());
}

TEST_CASE("byte counts for people switch unit at 1024", "[output][terminal]")
{
    CHECK(human_bytes(0) == "0 B");
    CHECK(human_bytes(1023) == "1023 B");
    CHECK(human_bytes(1024) == "1.0 KiB");
    CHECK(human_bytes(1536) == "1.5 KiB");
    CHECK(human_bytes(16u * 1024 * 1024) == "16.0 MiB");
    CHECK(human_bytes(3ull << 30) == "3.0 GiB");
    CHECK(human_bytes(5ull << 40) == "5.0 TiB");
    CHECK(human_bytes(2048ull << 40) == "2048.0 TiB"); // no unit past TiB
}

TEST_CASE("the progress line gives a percentage only when the total is known", "[output][terminal]")
{
    CHECK(progress_text(0, 1000, 0) == "  0% 0 B of 1000 B, 0 messages");
    CHECK(progress_text(512, 1024, 1) == " 50% 512 B of 1.0 KiB, 1 message");
    CHECK(progress_text(4u << 20, 16u << 20, 1) == " 25% 4.0 MiB of 16.0 MiB, 1 message");
    // Protocol overhead may send a little more than the payload: never past 100%.
    CHECK(progress_text(1100, 1000, 1) == "100% 1000 B of 1000 B, 1 message");
    CHECK(progress_text(0, 0, 0) == "100% 0 B of 0 B, 0 messages");
    CHECK(progress_text(2048, std::nullopt, 12) == "2.0 KiB, 12 messages");
}

// Broker URLs (-L) and the names of endpoints in headers and messages.
#include <catch2/catch.hpp>

#include "wsmqtt/config.hpp"

using namespace wsmqtt;

namespace {

url parsed(std::string_view text)
{
    std::string error;
    auto u = parse_url(text, error);
    INFO(text << ": " << error);
    REQUIRE(u);
    return *u;
}

std::string url_error(std::string_view text)
{
    std::string error;
    CHECK_FALSE(parse_url(text, error));
    return error;
}

} // namespace

TEST_CASE("URL schemes pick the transport and its default port", "[url]")
{
    CHECK(parsed("ws://h").endpoint == endpoint{scheme::ws, "h", 80, "/mqtt"});
    CHECK(parsed("wss://h").endpoint == endpoint{scheme::wss, "h", 443, "/mqtt"});
    CHECK(parsed("mqtt://h").endpoint == endpoint{scheme::mqtt, "h", 1883, "/mqtt"});
    CHECK(parsed("mqtts://h").endpoint == endpoint{scheme::mqtts, "h", 8883, "/mqtt"});
}

TEST_CASE("URL path is the WebSocket path, and / stays /", "[url]")
{
    CHECK(parsed("ws://h:8080/ws").endpoint == endpoint{scheme::ws, "h", 8080, "/ws"});
    CHECK(parsed("ws://h:8080/").endpoint.path == "/");
    CHECK(parsed("wss://h/a/b?token=x").endpoint.path == "/a/b?token=x");
}

TEST_CASE("URL credentials are split and percent-decoded", "[url]")
{
    auto const u = parsed("ws://us%65r:p%40ss:word@h:1/x");
    CHECK(u.username == "user");
    CHECK(u.password == "p@ss:word");
    CHECK(u.endpoint.host == "h");
    auto const only_user = parsed("mqtt://alice@h");
    CHECK(only_user.username == "alice");
    CHECK_FALSE(only_user.password);
}

TEST_CASE("URL hosts may be bracketed IPv6 addresses", "[url]")
{
    auto const u = parsed("ws://[::1]:9001/mqtt");
    CHECK(u.endpoint.host == "::1");
    CHECK(u.endpoint.port == 9001);
    CHECK(host_and_port(u.endpoint) == "[::1]:9001");
}

TEST_CASE("bad URLs are refused with a reason", "[url]")
{
    CHECK(url_error("broker:1883") == "missing scheme (expected ws://, wss://, mqtt:// or mqtts://)");
    CHECK(url_error("http://h").find("unsupported scheme 'http'") == 0);
    CHECK(url_error("ws://:80") == "missing host");
    CHECK(url_error("ws://h:0") == "invalid port '0'");
    CHECK(url_error("ws://h:65536") == "invalid port '65536'");
    CHECK(url_error("ws://h:8o") == "invalid port '8o'");
    CHECK(url_error("ws://[::1") == "unterminated '[' in the host");
    CHECK(url_error("ws://u%4@h") == "bad percent-encoding in the user name");
}

TEST_CASE("Host header carries the port only when it is not the default (RFC 7230 §5.4)", "[url]")
{
    CHECK(host_header({scheme::ws, "h", 80, "/"}) == "h");
    CHECK(host_header({scheme::ws, "h", 8080, "/"}) == "h:8080");
    CHECK(host_header({scheme::wss, "h", 443, "/"}) == "h");
    CHECK(host_header({scheme::wss, "::1", 8443, "/"}) == "[::1]:8443");
}

TEST_CASE("endpoints print as URLs without credentials", "[url]")
{
    CHECK(to_string({scheme::ws, "h", 8080, "/mqtt"}) == "ws://h:8080/mqtt");
    CHECK(to_string({scheme::mqtts, "h", 8883, "/mqtt"}) == "mqtts://h:8883");
}

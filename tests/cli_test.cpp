// The command line: argv arrays in, config or usage exit code out.
#include <catch2/catch.hpp>

#include "wsmqtt/cli.hpp"
#include "wsmqtt/exit_code.hpp"

#include <vector>

using namespace wsmqtt;

namespace {

parse_result parse(std::vector<char const*> args)
{
    args.insert(args.begin(), "wsmqtt");
    return parse_command_line(static_cast<int>(args.size()), args.data());
}

config parsed(std::vector<char const*> args)
{
    auto r = parse(std::move(args));
    REQUIRE(r.cfg);
    return *r.cfg;
}

void require_usage_error(std::vector<char const*> args)
{
    auto const r = parse(std::move(args));
    CHECK_FALSE(r.cfg);
    CHECK(r.exit_code == to_int(exit_code::usage));
}

} // namespace

TEST_CASE("sub defaults: ws://localhost/mqtt, QoS 0, a random wsmqtt- client id", "[cli]")
{
    auto const c = parsed({"sub", "-t", "#"});
    CHECK(c.command == command::sub);
    CHECK(c.endpoint == endpoint{scheme::ws, "localhost", 80, "/mqtt"});
    CHECK(c.qos == mqtt::qos::at_most_once);
    CHECK(c.client_id.rfind("wsmqtt-", 0) == 0);
    CHECK(c.client_id.size() <= 23);
    CHECK(c.keepalive == 60);
    CHECK(c.clean_session);
    CHECK(c.topics == std::vector<std::string>{"#"});
    CHECK(parsed({"sub", "-t", "#"}).client_id != c.client_id);
}

TEST_CASE("host is -h and port is -p, as in mosquitto_sub", "[cli]")
{
    auto const c = parsed({"sub", "-h", "broker.example", "-p", "8080", "-t", "a", "-t", "b/+"});
    CHECK(c.endpoint == endpoint{scheme::ws, "broker.example", 8080, "/mqtt"});
    CHECK(c.topics == std::vector<std::string>{"a", "b/+"});
}

TEST_CASE("transport chosen by --tls, --tcp, --cafile and --insecure", "[cli]")
{
    CHECK(parsed({"sub", "-t", "a", "--tls"}).endpoint.scheme == scheme::wss);
    CHECK(parsed({"sub", "-t", "a", "--tls"}).endpoint.port == 443);
    CHECK(parsed({"sub", "-t", "a", "--cafile", "ca.pem"}).endpoint.scheme == scheme::wss);
    CHECK(parsed({"sub", "-t", "a", "--insecure"}).endpoint.scheme == scheme::wss);
    CHECK(parsed({"sub", "-t", "a", "--tcp"}).endpoint == endpoint{scheme::mqtt, "localhost", 1883, "/mqtt"});
    CHECK(parsed({"sub", "-t", "a", "--tcp", "--tls"}).endpoint.port == 8883);
    CHECK(parsed({"sub", "-t", "a", "--tcp", "--tls"}).endpoint.scheme == scheme::mqtts);
}

TEST_CASE("URL option -L gives transport, host, port, path and credentials", "[cli]")
{
    auto const c = parsed({"pub", "-L", "wss://alice:s3cret@h:8443/ws", "-t", "a", "-m", "x"});
    CHECK(c.endpoint == endpoint{scheme::wss, "h", 8443, "/ws"});
    CHECK(c.username == "alice");
    CHECK(c.password == "s3cret");
    // -u/-P win over the URL's credentials.
    auto const d = parsed({"pub", "-L", "ws://alice:x@h", "-u", "bob", "-P", "y", "-t", "a", "-m", "x"});
    CHECK(d.username == "bob");
    CHECK(d.password == "y");
}

TEST_CASE("WebSocket path from --ws-path, with a leading slash added", "[cli]")
{
    CHECK(parsed({"sub", "-t", "a", "--ws-path", "ws"}).endpoint.path == "/ws");
    CHECK(parsed({"sub", "-t", "a", "--ws-path", "/"}).endpoint.path == "/");
}

TEST_CASE("pub takes topic, message, QoS and retain", "[cli]")
{
    auto const c = parsed({"pub", "-t", "a/b", "-m", "hello", "-q", "2", "-r"});
    CHECK(c.command == command::pub);
    CHECK(c.payload == "hello");
    CHECK(c.qos == mqtt::qos::exactly_once);
    CHECK(c.retain);
    CHECK(parsed({"pub", "-t", "a", "-n"}).payload.empty());
}

TEST_CASE("sub -C, -W, -v, -F and -N", "[cli]")
{
    auto const c = parsed({"sub", "-t", "a", "-C", "3", "-W", "5", "-N", "-F", "%t=%p"});
    CHECK(c.count == 3);
    CHECK(c.timeout == std::chrono::seconds{5});
    CHECK(c.no_newline);
    CHECK(c.format == "%t=%p");
    CHECK(parsed({"sub", "-t", "a", "-v"}).format == "%t %p");
    CHECK(parsed({"sub", "-t", "a"}).format == "Topic: %t | %p");
}

TEST_CASE("invalid input is a usage error before connecting", "[cli]")
{
    require_usage_error({});                                          // no subcommand
    require_usage_error({"sub"});                                     // no topic
    require_usage_error({"sub", "-t", "a", "-q", "3"});               // QoS out of range
    require_usage_error({"sub", "-t", "a", "-q", "-1"});
    require_usage_error({"sub", "-t", "a/#/b"});                      // '#' not last [MQTT-4.7.1-2]
    require_usage_error({"sub", "-t", "a+"});                         // '+' not a whole level [MQTT-4.7.1-3]
    require_usage_error({"sub", "-t", ""});                           // empty topic [MQTT-4.7.3-1]
    require_usage_error({"sub", "-t", "\xC3\x28"});                   // not UTF-8
    require_usage_error({"pub", "-t", "a/+", "-m", "x"});             // wildcard in a topic name
    require_usage_error({"pub", "-t", "a/#", "-m", "x"});
    require_usage_error({"pub", "-t", "a"});                          // no message
    require_usage_error({"pub", "-t", "a", "-m", "x", "-n"});         // two payload sources
    require_usage_error({"pub", "-t", "a", "-t", "b", "-m", "x"});    // two topics
    require_usage_error({"sub", "-t", "a", "-c"});                    // -c without -i
    require_usage_error({"sub", "-t", "a", "-P", "secret"});          // password without user
    require_usage_error({"sub", "-t", "a", "--bogus"});               // unknown option
    require_usage_error({"sub", "-t", "a", "-L", "ws://h", "-h", "x"}); // -L excludes -h
    require_usage_error({"sub", "-t", "a", "-L", "http://h"});        // unsupported scheme
    require_usage_error({"sub", "-t", "a", "-p", "0"});
    require_usage_error({"sub", "-t", "a", "-p", "70000"});
    require_usage_error({"sub", "-t", "a", "-F", "%z"});              // unknown format specifier
    require_usage_error({"sub", "-t", "a", "-V", "mqttv5"});
    require_usage_error({"sub", "-t", "a", "-k", "70000"});
    require_usage_error({"pub", "-t", std::string(65'536, 'a').c_str(), "-m", "x"}); // topic too long
}

TEST_CASE("help and version exit 0 without running", "[cli]")
{
    auto const help = parse({"--help"});
    CHECK_FALSE(help.cfg);
    CHECK(help.exit_code == 0);
    auto const sub_help = parse({"sub", "--help"});
    CHECK_FALSE(sub_help.cfg);
    CHECK(sub_help.exit_code == 0);
    auto const version = parse({"--version"});
    CHECK_FALSE(version.cfg);
    CHECK(version.exit_code == 0);
}

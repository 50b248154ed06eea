// The command line: argv arrays in, config or usage exit code out.
#include <catch2/catch.hpp>

#include "wsmqtt/cli.hpp"
#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/mqtt/properties.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <unistd.h>
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
    CHECK(c.payload.from == payload_source::kind::text);
    CHECK(c.payload.text == "hello");
    CHECK(c.qos == mqtt::qos::exactly_once);
    CHECK(c.retain);
    CHECK(parsed({"pub", "-t", "a", "-n"}).payload.text.empty());
    auto const file = parsed({"pub", "-t", "a", "-f", "/some/where"});
    CHECK(file.payload.from == payload_source::kind::file); // named, not read: the run reads it
    CHECK(file.payload.text == "/some/where");
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

namespace {

/// Sets an environment variable for the life of the object.
class scoped_env {
public:
    scoped_env(char const* name, std::string const& value) : name_{name}
    {
        if (char const* old = std::getenv(name)) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    scoped_env(scoped_env const&) = delete;
    scoped_env& operator=(scoped_env const&) = delete;
    ~scoped_env()
    {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }

private:
    char const* name_;
    std::optional<std::string> old_;
};

/// A file in a fresh temporary folder, removed with the object.
class temp_file {
public:
    temp_file(std::string const& relative, std::string const& content)
    {
        char folder[] = "/tmp/wsmqtt-cli-test-XXXXXX";
        REQUIRE(::mkdtemp(folder));
        dir_ = folder;
        path_ = dir_ + "/" + relative;
        std::filesystem::create_directories(std::filesystem::path{path_}.parent_path());
        std::ofstream{path_} << content;
    }
    temp_file(temp_file const&) = delete;
    temp_file& operator=(temp_file const&) = delete;
    ~temp_file() { std::filesystem::remove_all(dir_); }
    std::string const& dir() const { return dir_; }
    std::string const& path() const { return path_; }

private:
    std::string dir_;
    std::string path_;
};

} // namespace

TEST_CASE("options file in XDG_CONFIG_HOME is read first and the command line wins", "[cli]")
{
    temp_file const f{"wsmqtt/sub.conf", "# broker at home\n-h broker.home\n--port 9001\n\n-q 1\n--tls\n"};
    scoped_env const xdg{"XDG_CONFIG_HOME", f.dir()};
    auto const c = parsed({"sub", "-t", "a"});
    CHECK(c.endpoint == endpoint{scheme::wss, "broker.home", 9001, "/mqtt"});
    CHECK(c.qos == mqtt::qos::at_least_once);
    CHECK(parsed({"sub", "-t", "a", "-p", "1234", "-q", "0"}).endpoint.port == 1234);
    CHECK(parsed({"sub", "-t", "a", "-p", "1234", "-q", "0"}).qos == mqtt::qos::at_most_once);
    // pub reads pub.conf, not sub.conf.
    CHECK(parsed({"pub", "-t", "a", "-m", "x"}).endpoint.host == "localhost");
}

TEST_CASE("options file named with -o, and a missing one is an error", "[cli]")
{
    temp_file const f{"opts", "-h elsewhere\n-t from/file\n"};
    auto const c = parsed({"sub", "-o", f.path().c_str()});
    CHECK(c.endpoint.host == "elsewhere");
    CHECK(c.topics == std::vector<std::string>{"from/file"});
    require_usage_error({"sub", "-t", "a", "-o", "/nonexistent/wsmqtt.conf"});
}

TEST_CASE("environment gives host, port and credentials, and the command line wins", "[cli]")
{
    scoped_env const host{"WSMQTT_HOST", "env.example"};
    scoped_env const port{"WSMQTT_PORT", "8883"};
    scoped_env const user{"WSMQTT_USERNAME", "envuser"};
    scoped_env const pass{"WSMQTT_PASSWORD", "envpass"};
    auto const c = parsed({"sub", "-t", "a"});
    CHECK(c.endpoint.host == "env.example");
    CHECK(c.endpoint.port == 8883);
    CHECK(c.username == "envuser");
    CHECK(c.password == "envpass");
    auto const d = parsed({"sub", "-t", "a", "-h", "cli.example", "-u", "cliuser", "-P", "clipass"});
    CHECK(d.endpoint.host == "cli.example");
    CHECK(d.username == "cliuser");
    CHECK(d.password == "clipass");
    // A URL on the command line is not mixed with WSMQTT_HOST/PORT.
    CHECK(parsed({"sub", "-t", "a", "-L", "ws://url.example"}).endpoint == endpoint{scheme::ws, "url.example", 80, "/mqtt"});
}

TEST_CASE("environment beats the options file", "[cli]")
{
    temp_file const f{"wsmqtt/sub.conf", "-h file.example\n"};
    scoped_env const xdg{"XDG_CONFIG_HOME", f.dir()};
    scoped_env const host{"WSMQTT_HOST", "env.example"};
    CHECK(parsed({"sub", "-t", "a"}).endpoint.host == "env.example");
}

TEST_CASE("client id prefix -I appends the process id", "[cli]")
{
    auto const c = parsed({"sub", "-t", "a", "-I", "probe-"});
    CHECK(c.client_id == "probe-" + std::to_string(::getpid()));
    require_usage_error({"sub", "-t", "a", "-I", "p", "-i", "x"});
}

TEST_CASE("last will options", "[cli]")
{
    auto const c = parsed({"sub", "-t", "a", "--will-topic", "status/me", "--will-payload", "gone", "--will-qos", "1", "--will-retain"});
    REQUIRE(c.will);
    CHECK(*c.will == mqtt::will{"status/me", "gone", mqtt::qos::at_least_once, true});
    require_usage_error({"sub", "-t", "a", "--will-payload", "gone"});
    require_usage_error({"sub", "-t", "a", "--will-topic", "a/#"});
    require_usage_error({"sub", "-t", "a", "--will-topic", "a", "--will-qos", "3"});
}

TEST_CASE("sub output and stop options", "[cli]")
{
    auto const c = parsed({"sub", "-t", "a/#", "-T", "a/hidden", "-U", "old/#", "-E", "-R", "--remove-retained", "--rate"});
    CHECK(c.hidden_topics == std::vector<std::string>{"a/hidden"});
    CHECK(c.unsubscribe_topics == std::vector<std::string>{"old/#"});
    CHECK(c.exit_after_subscribe);
    CHECK(c.skip_retained);
    CHECK(c.remove_retained);
    CHECK(c.rate);
    CHECK(parsed({"sub", "-t", "a", "--json"}).format == "%j");
    CHECK(parsed({"sub", "-U", "a"}).topics.empty()); // -U alone is enough
    require_usage_error({"sub", "-t", "a", "--json", "-F", "%t"});
    require_usage_error({"sub", "-t", "a", "-T", "a+"});
    require_usage_error({"sub", "-t", "a", "--retained-only", "-R"});
}

TEST_CASE("pub line mode, separator, repeat and in-flight window", "[cli]")
{
    auto const c = parsed({"pub", "-t", "a", "-l", "-M", "5", "-q", "1"});
    CHECK(c.line_mode);
    CHECK(c.max_inflight == 5);
    auto const d = parsed({"pub", "-l", "--topic-separator", " "});
    CHECK(d.topic_separator == " ");
    CHECK(d.topics.empty());
    auto const e = parsed({"pub", "-t", "a", "-m", "x", "--repeat", "3", "--repeat-delay", "0.25"});
    CHECK(e.repeat == 3);
    CHECK(e.repeat_delay == std::chrono::milliseconds{250});
    require_usage_error({"pub", "-t", "a", "-m", "x", "--topic-separator", " "}); // needs -l
    require_usage_error({"pub", "-t", "a", "-l", "--repeat", "2"});
    require_usage_error({"pub", "-t", "a", "-m", "x", "-M", "0"});
    require_usage_error({"pub", "-t", "a", "-l", "-m", "x"});
}

TEST_CASE("options are found however they are written: clustered short flags, attached values, --name=value", "[cli]")
{
    // Only the options the arguments name are built (CLI11's cost grows with their square):
    // every way of naming one must still reach it.
    auto const c = parsed({"sub", "-t", "a", "-dRv", "-q1", "--keepalive=7", "-hbroker.test", "--no-reconnect"});
    CHECK(c.debug);
    CHECK(c.skip_retained);
    CHECK(c.format == "%t %p");
    CHECK(c.qos == wsmqtt::mqtt::qos::at_least_once);
    CHECK(c.keepalive == 7);
    CHECK(c.endpoint.host == "broker.test");
    CHECK(c.no_reconnect);
    require_usage_error({"sub", "-t", "a", "--no-such-option"});
    require_usage_error({"sub", "-t", "a", "--keepalive"}); // named, but without its value
}

namespace {

/// The usage error's words for `args`.
std::string usage_error_of(std::vector<char const*> args)
{
    args.insert(args.begin() + (args.empty() ? 0 : 1), "--quiet"); // the words are returned, not printed
    auto const r = parse(std::move(args));
    CHECK_FALSE(r.cfg);
    CHECK(r.exit_code == to_int(exit_code::usage));
    return r.error;
}

} // namespace

TEST_CASE("a mistyped command or option is named, with the nearest one", "[cli]")
{
    CHECK(usage_error_of({"sbu"}) == "unknown command 'sbu' (did you mean 'sub'?): the commands are sub, pub and rr (see wsmqtt --help)");
    CHECK(usage_error_of({"bench"}) == "unknown command 'bench': the commands are sub, pub and rr (see wsmqtt --help)");
    CHECK(usage_error_of({"--verison"}) == "unknown option '--verison' (did you mean '--version'?) (see wsmqtt --help)");
    CHECK(usage_error_of({"-h", "broker", "sub"}) == "options go after the command: wsmqtt sub -h …");
    CHECK(usage_error_of({"sub", "--toppic", "x"}) == "unknown option '--toppic' for wsmqtt sub (did you mean '--topic'?) (see wsmqtt sub --help)");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--retian"}) ==
          "unknown option '--retian' for wsmqtt pub (did you mean '--retain'?) (see wsmqtt pub --help)");
    CHECK(usage_error_of({"sub", "-t", "a", "--zzzzzzzz=1"}) == "unknown option '--zzzzzzzz' for wsmqtt sub (see wsmqtt sub --help)");
    CHECK(usage_error_of({"sub", "-t", "a", "-k"}) == "--keepalive needs a value (see wsmqtt sub --help)");
}

TEST_CASE("an option takes one value: -t a b is not two topics", "[cli]")
{
    CHECK(usage_error_of({"sub", "-t", "a", "b"}) ==
          "unexpected argument 'b': an option takes one value (quote a value that has spaces, repeat -t for more topics)");
    CHECK(parsed({"sub", "-t", "a", "-t", "b"}).topics == std::vector<std::string>{"a", "b"});
}

TEST_CASE("numbers are checked in words, not CLI11's", "[cli]")
{
    CHECK(usage_error_of({"sub", "-t", "a", "-p", "70000"}) == "--port must be a whole number from 1 to 65535, not '70000'");
    CHECK(usage_error_of({"sub", "-t", "a", "-p", "0"}) == "--port must be a whole number from 1 to 65535, not '0'");
    CHECK(usage_error_of({"sub", "-t", "a", "-W", "1.5"}) == "-W must be a whole number of seconds from 1 to 2147483647, not '1.5'");
    CHECK(usage_error_of({"sub", "-t", "a", "-k", "x"}) == "--keepalive must be a whole number of seconds from 0 to 65535, not 'x'");
    CHECK(usage_error_of({"sub", "-t", "a", "--connect-timeout", "0"}) ==
          "--connect-timeout must be a number of seconds above 0 and at most 86400 (e.g. 2.5), not '0'");
    CHECK(parsed({"sub", "-t", "a", "--connect-timeout", "0.25"}).connect_timeout == std::chrono::milliseconds{250});
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-M", "0"}) == "-M must be a whole number from 1 to 65535, not '0'");
    // -C 0 and -W 0 are refused, as by mosquitto: leave them out for no limit.
    CHECK(usage_error_of({"sub", "-t", "a", "-C", "0"}) == "-C must be a whole number from 1 to 2147483647, not '0'");
    CHECK(usage_error_of({"sub", "-t", "a", "-W", "0"}) == "-W must be a whole number of seconds from 1 to 2147483647, not '0'");
    scoped_env const port{"WSMQTT_PORT", "abc"};
    CHECK(usage_error_of({"sub", "-t", "a"}) == "WSMQTT_PORT must be a whole number from 1 to 65535, not 'abc'");
}

TEST_CASE("options file: quoted values, and errors that name the file and line", "[cli]")
{
    temp_file const f{"opts", "# test\n-t \"q t\"\n--id 'me'\n"};
    auto const c = parsed({"sub", "-o", f.path().c_str()});
    CHECK(c.topics == std::vector<std::string>{"q t"});
    CHECK(c.client_id == "me");
    temp_file const bad{"opts", "-t a\nport 8080\n"};
    CHECK(usage_error_of({"sub", "-o", bad.path().c_str()}) ==
          bad.path() + " line 2: 'port' is not an option (one per line, e.g. '--port 8080')");
    temp_file const value{"opts", "-t a\n--port 80800\n"};
    CHECK(usage_error_of({"sub", "-o", value.path().c_str()}) ==
          "--port must be a whole number from 1 to 65535, not '80800' (" + value.path() + " line 2)");
    temp_file const unknown{"opts", "-t a\n\n--prot 8080\n"};
    CHECK(usage_error_of({"sub", "-o", unknown.path().c_str()}) ==
          "unknown option '--prot' for wsmqtt sub (did you mean '--port'?) (" + unknown.path() + " line 3) (see wsmqtt sub --help)");
}

TEST_CASE("a URL (-L) excludes --ws-path as it excludes -h", "[cli]")
{
    CHECK(usage_error_of({"sub", "-t", "a", "-L", "ws://h/x", "--ws-path", "/y"}) ==
          "-L (--url) and --ws-path exclude each other: the URL names the path");
}

namespace {

mqtt::property number(mqtt::property_id id, std::uint32_t n) { return {id, n}; }
mqtt::property text(mqtt::property_id id, std::string v) { return {id, 0, std::move(v)}; }
mqtt::property user(std::string k, std::string v) { return {mqtt::property_id::user_property, 0, std::move(k), std::move(v)}; }

} // namespace

TEST_CASE("MQTT 5: -V 5 and its spellings, 3.1.1 stays the default", "[cli][mqtt5]")
{
    for (auto const* v : {"5", "mqttv5"}) CHECK(parsed({"sub", "-t", "a", "-V", v}).version == mqtt::protocol_version::v5);
    CHECK(parsed({"sub", "-t", "a", "-V", "311"}).version == mqtt::protocol_version::v311);
    CHECK(parsed({"sub", "-t", "a"}).version == mqtt::protocol_version::v311);
    CHECK(parsed({"sub", "-t", "a", "-V", "5"}).v5.connect.empty()); // nothing asked, nothing sent
    CHECK(usage_error_of({"sub", "-t", "a", "-V", "6"}) ==
          "--protocol-version must be mqttv5, mqttv311 or mqttv31 (or 5, 311, 31), not '6'");
}

TEST_CASE("MQTT 5: the named flags are -D in other words, user properties keep their order", "[cli][mqtt5]")
{
    using id = mqtt::property_id;
    auto const c = parsed({"pub", "-t", "a", "-m", "x", "--user-property", "b=2", "--content-type", "text/plain", "--user-property",
                           "a=1=one", "--response-topic", "r/x", "--correlation-data", "hex:00ff", "--message-expiry", "60",
                           "--payload-format", "utf8", "--topic-alias", "3", "-D", "publish", "user-property", "b", "-dash-"});
    CHECK(c.version == mqtt::protocol_version::v5); // chosen by the flags: -V is not needed
    CHECK(c.v5.publish == mqtt::properties{user("b", "2"), user("a", "1=one"), text(id::content_type, "text/plain"),
                                           text(id::response_topic, "r/x"), text(id::correlation_data, std::string{"\0\xff", 2}),
                                           number(id::message_expiry_interval, 60), number(id::payload_format_indicator, 1),
                                           number(id::topic_alias, 3), user("b", "-dash-")});
    auto const s = parsed({"sub", "-t", "a", "--subscription-id", "7", "--user-property", "k=v", "--no-local", "--retain-as-published",
                           "--retain-handling", "never", "-D", "unsubscribe", "user-property", "u", "v"});
    CHECK(s.v5.subscribe == mqtt::properties{user("k", "v"), number(id::subscription_identifier, 7)});
    CHECK(s.v5.unsubscribe == mqtt::properties{user("u", "v")});
    CHECK(s.v5.no_local);
    CHECK(s.v5.retain_as_published);
    CHECK(s.v5.retain_handling == 2);
    CHECK(parsed({"pub", "-t", "a", "-m", "x", "--correlation-data", "base64:AP8="}).v5.publish ==
          mqtt::properties{text(id::correlation_data, std::string{"\0\xff", 2})});
}

TEST_CASE("MQTT 5: sessions: -c lasts for ever unless -x says, -x needs -i, -C below 20 is the Receive Maximum", "[cli][mqtt5]")
{
    using id = mqtt::property_id;
    CHECK(parsed({"sub", "-t", "a", "-V", "5", "-c", "-i", "me"}).v5.connect ==
          mqtt::properties{number(id::session_expiry_interval, UINT32_MAX)});
    CHECK(parsed({"sub", "-t", "a", "-c", "-i", "me", "-x", "300"}).v5.connect == mqtt::properties{number(id::session_expiry_interval, 300)});
    CHECK(parsed({"sub", "-t", "a", "-i", "me", "-x", "never"}).v5.connect ==
          mqtt::properties{number(id::session_expiry_interval, UINT32_MAX)});
    CHECK(usage_error_of({"sub", "-t", "a", "-x", "60"}) == "-x keeps the session for its client id: give one with -i, to find the session again");
    CHECK(parsed({"sub", "-t", "a", "-V", "5", "-C", "3"}).v5.connect == mqtt::properties{number(id::receive_maximum, 3)});
    CHECK(parsed({"sub", "-t", "a", "-V", "5", "-C", "3", "-D", "connect", "receive-maximum", "9"}).v5.connect ==
          mqtt::properties{number(id::receive_maximum, 9)});
    CHECK(parsed({"sub", "-t", "a", "-V", "5", "-C", "30"}).v5.connect.empty());
    auto const limited = parsed({"sub", "-t", "a", "-V", "5", "--max-packet-size", "64K"});
    CHECK(limited.v5.connect == mqtt::properties{number(id::maximum_packet_size, 65536)}); // told to the broker [MQTT-3.1.2-24]
    CHECK(parsed({"sub", "-t", "a", "-D", "connect", "maximum-packet-size", "1000"}).max_packet_size == 1000);
    CHECK(usage_error_of({"sub", "-t", "a", "-i", "me", "-D", "disconnect", "session-expiry-interval", "60"}) ==
          "-D disconnect session-expiry-interval: a session that expires at the disconnect (no -x, no -c) cannot be kept by the DISCONNECT");
}

TEST_CASE("MQTT 5: -D takes exactly what a client may send, and says why not", "[cli][mqtt5]")
{
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "connect"}) ==
          "-D needs COMMAND PROPERTY VALUE, e.g. -D publish content-type text/plain (user-property takes KEY VALUE)");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-D", "publish", "user-property", "k"}) ==
          "-D needs COMMAND PROPERTY VALUE, e.g. -D publish content-type text/plain (user-property takes KEY VALUE)");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "connack", "user-property", "k", "v"}) ==
          "-D: wsmqtt sends no 'connack' with properties: the commands are connect, publish, subscribe, unsubscribe, disconnect and will");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "publish", "content-type", "x"}) == "-D publish content-type: wsmqtt sub sends no PUBLISH");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-D", "publish", "subscription-identifier", "1"}) ==
          "-D publish subscription-identifier: subscription-identifier goes with subscribe, not publish"); // [MQTT-3.3.4-6]
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-D", "disconnect", "server-reference", "x"}) ==
          "-D disconnect server-reference: only a broker sends server-reference");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-D", "will", "reason-string", "x", "--will-topic", "w"}) ==
          "-D will reason-string: reason-string goes with disconnect, not will");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-D", "will", "content-type", "x"}) == "-D will content-type: there is no will: give --will-topic");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "subscribe", "retain-handling", "2"}) ==
          "-D: retain-handling is a subscription option, not a property: use --retain-handling");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "connect", "colour", "2"}) ==
          "-D: unknown property 'colour' (the names are MQTT 5's, e.g. content-type, user-property)");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "connect", "receive-maximum", "0"}) ==
          "-D connect receive-maximum must be a whole number from 1 to 65535, not '0'");
    CHECK(usage_error_of({"sub", "-t", "a", "-D", "connect", "receive-maximum", "5", "-D", "connect", "receive-maximum", "6"}) ==
          "-D connect receive-maximum is given twice (receive-maximum may appear once in a CONNECT)");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--response-topic", "r/#"}) ==
          "--response-topic must be a topic name without wildcards, not 'r/#'");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--correlation-data", "hex:0g"}) ==
          "--correlation-data: 'hex:0g' is not hex, two digits a byte, after 'hex:'");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--correlation-data", "base64:A=B="}) ==
          "--correlation-data: 'base64:A=B=' is not base64 after 'base64:'");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--user-property", "novalue"}) ==
          "--user-property must be KEY=VALUE, not 'novalue' (for a key with '=' use -D publish user-property KEY VALUE)");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--payload-format", "json"}) ==
          "--payload-format must be utf8 (1) or unspecified (0), not 'json'");
    CHECK(usage_error_of({"sub", "-t", "a", "--retain-handling", "sometimes"}) == "--retain-handling must be always, new or never, not 'sometimes'");
    CHECK(usage_error_of({"sub", "-t", "$share/g/a", "--no-local"}) == "--no-local cannot go with a shared subscription ('$share/g/a')");
    CHECK(usage_error_of({"sub", "-t", "a", "-V", "311", "--no-local"}) == "--no-local needs MQTT 5: leave -V out or give -V 5");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-V", "mqttv311", "-D", "publish", "content-type", "t"}) ==
          "-D publish content-type needs MQTT 5: leave -V out or give -V 5");
}

TEST_CASE("MQTT 5: -D in an options file, the last value keeping its spaces", "[cli][mqtt5]")
{
    temp_file const file{"opts", "-t a\n-D publish user-property greeting hello world\n-D publish content-type text/plain\n-m x\n"};
    auto const c = parsed({"pub", "-o", file.path().c_str()});
    CHECK(c.v5.publish == mqtt::properties{user("greeting", "hello world"), text(mqtt::property_id::content_type, "text/plain")});
}

TEST_CASE("rr: MQTT 5, one answer printed as its payload, on a topic of its own, matched by fresh Correlation Data", "[cli][mqtt5]")
{
    using id = mqtt::property_id;
    auto const c = parsed({"rr", "-t", "svc/time", "-m", "now", "-i", "me"});
    CHECK(c.command == command::rr);
    CHECK(c.version == mqtt::protocol_version::v5);
    CHECK(c.request_topic == "svc/time");
    CHECK(c.topics == std::vector<std::string>{"wsmqtt/rr/me"});
    CHECK(c.count == 1);
    CHECK(c.format == "%p");
    CHECK(c.v5.retain_handling == 2); // a stale retained message is no answer
    CHECK(c.v5.no_local);             // nor our own request, when both topics are one
    REQUIRE(mqtt::find(c.v5.publish, id::response_topic));
    CHECK(mqtt::find(c.v5.publish, id::response_topic)->value == "wsmqtt/rr/me");
    REQUIRE(mqtt::find(c.v5.publish, id::correlation_data));
    auto const first = mqtt::find(c.v5.publish, id::correlation_data)->value;
    CHECK(first.size() == 16);
    auto const again = parsed({"rr", "-t", "svc/time", "-m", "now", "-i", "me"});
    CHECK(mqtt::find(again.v5.publish, id::correlation_data)->value != first);

    auto const chosen = parsed({"rr", "-t", "q", "-e", "answers/1", "-n", "-C", "3", "--json", "--correlation-data", "abc",
                                "--retain-handling", "always"});
    CHECK(chosen.topics == std::vector<std::string>{"answers/1"});
    CHECK(mqtt::find(chosen.v5.publish, id::correlation_data)->value == "abc");
    CHECK(chosen.count == 3);
    CHECK(chosen.v5.retain_handling == 0);
    CHECK(usage_error_of({"rr", "-m", "x"}) == "give the request topic with -t");
    CHECK(usage_error_of({"rr", "-t", "q"}) == "give the message with -m, -f, -s or -n");
    CHECK(usage_error_of({"rr", "-t", "q", "-m", "x", "-e", "a/+"}) == "--response-topic must be a topic name without wildcards, not 'a/+'");
    CHECK(usage_error_of({"rr", "-t", "q", "-m", "x", "--stdin-line"}) ==
          "unknown option '--stdin-line' for wsmqtt rr (did you mean '--stdin-file'?) (see wsmqtt rr --help)");
    CHECK(usage_error_of({"rr", "-t", "q", "-m", "x", "-i", "a+b"}) ==
          "the response topic 'wsmqtt/rr/a+b' (made of -i) is not a topic name: give one with -e");
    CHECK(usage_error_of({"rx"}) == "unknown command 'rx' (did you mean 'rr'?): the commands are sub, pub and rr (see wsmqtt --help)");
}

TEST_CASE("pub --json: lines from standard input, -t/-q/-r as fallbacks (-q forces), --pace recorded, --rate", "[cli]")
{
    auto const c = parsed({"pub", "--json"});
    CHECK(c.json_input);
    CHECK(c.line_mode); // read as -l reads: as lines arrive, within the window
    CHECK(c.topics.empty());
    CHECK_FALSE(c.qos_given);
    auto const forced = parsed({"pub", "--json", "-q", "1", "-t", "fallback", "--pace", "recorded", "--speed", "10", "--rate", "500"});
    CHECK(forced.qos_given);
    CHECK(forced.topics == std::vector<std::string>{"fallback"});
    CHECK(forced.pace_recorded);
    CHECK(forced.speed == 10);
    CHECK(forced.max_rate == 500);
    CHECK(parsed({"pub", "-t", "a", "-l", "--rate", "2.5"}).max_rate == 2.5);
    CHECK(usage_error_of({"pub", "--json", "-m", "x"}) == "--json reads the messages from standard input: no -m, -f, -s or -n");
    CHECK(usage_error_of({"pub", "--json", "--topic-separator", " "}) ==
          "--json and --topic-separator exclude each other: the lines name their topics");
    CHECK(usage_error_of({"pub", "--json", "--pace", "live"}) == "--pace must be 'recorded', not 'live'");
    CHECK(usage_error_of({"pub", "-t", "a", "-l", "--pace", "recorded"}) == "--pace recorded needs --json: the times are the lines' tst");
    CHECK(usage_error_of({"pub", "--json", "--speed", "2"}) == "--speed needs --pace recorded");
    CHECK(usage_error_of({"pub", "--json", "--rate", "0"}) == "--rate must be a number above 0 (e.g. 10 or 0.5), not '0'");
}

TEST_CASE("options file lines are split as a shell splits them, and a missing value names its option", "[cli]")
{
    // Defect: `-D publish user-property "a b" c` sent the key "a; a value missing at the end of
    // the file said "unexpected argument 'opt2.conf'".
    temp_file const quoted{"opts", "-t 'a b'\n-D publish user-property \"a b\" c\n-V 5\n-m \"say \\\"hi\\\"\"\n"};
    auto const c = parsed({"pub", "-o", quoted.path().c_str()});
    CHECK(c.topics == std::vector<std::string>{"a b"});
    REQUIRE(c.v5.publish.size() == 1);
    CHECK(c.v5.publish[0].value == "a b");
    CHECK(c.v5.publish[0].pair_value == "c");
    CHECK(c.payload.text == "say \"hi\"");
    temp_file const no_value{"opts", "-t\n"};
    CHECK(usage_error_of({"pub", "-m", "x", "-o", no_value.path().c_str()}) == "-t needs a value (" + no_value.path() + " line 1)");
    temp_file const short_property{"opts", "-D publish user-property a\n"};
    CHECK(usage_error_of({"pub", "-t", "t", "-m", "x", "-o", short_property.path().c_str()}) ==
          short_property.path() + " line 1: -D needs COMMAND PROPERTY VALUE (user-property: KEY VALUE), 3 words given");
    temp_file const open_quote{"opts", "-t \"a b\n"};
    CHECK(usage_error_of({"pub", "-m", "x", "-o", open_quote.path().c_str()}) == open_quote.path() + " line 1: a double quote is not closed");
}

TEST_CASE("what mosquitto_pub and mosquitto_sub refuse is refused: a second -m or -V, and options that cannot go together", "[cli]")
{
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-m", "y"}) == "-m given 2 times: give it once");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "-V", "5", "-V", "311"}) == "-V given 2 times: give it once");
    CHECK(usage_error_of({"pub", "-t", "a", "--json", "-l"}) == "--json and -l exclude each other: --json reads a message a line already");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--rate", "5"}) ==
          "--rate paces -l and --json; for -m, -f, -s or -n give --repeat with --repeat-delay");
    CHECK(usage_error_of({"pub", "-t", "a", "-m", "x", "--repeat-delay", "1"}) ==
          "--repeat-delay needs --repeat: it is the time between repeated messages");
    CHECK(usage_error_of({"sub", "-t", "a", "-C", "1", "-E"}) == "-C and -E exclude each other: -E exits once subscribed, before any message");
    // The options file may give -m once more: the command line wins over it, as before.
    temp_file const f{"opts", "-m from-file\n"};
    CHECK(parsed({"pub", "-t", "a", "-o", f.path().c_str(), "-m", "cli"}).payload.text == "cli");
    CHECK(parsed({"pub", "-t", "a", "-l", "--rate", "5"}).max_rate == 5);
}

TEST_CASE("an invalid shared subscription is refused before connecting", "[cli]")
{
    CHECK(usage_error_of({"sub", "-t", "$share/g"}) ==
          "invalid shared subscription '$share/g': it is $share/NAME/FILTER, a name without / + #, then a filter");
    CHECK(parsed({"sub", "-t", "$share/g/a/#"}).topics == std::vector<std::string>{"$share/g/a/#"});
}

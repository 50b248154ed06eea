// The command line: argv arrays in, config or usage exit code out.
#include "cli_support.hpp"

using namespace cli_support;

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


TEST_CASE("a mistyped command or option is named, with the nearest one", "[cli]")
{
    CHECK(usage_error_of({"sbu"}) == "unknown command 'sbu' (did you mean 'sub'?): the commands are sub, pub, rr and bench (see wsmqtt --help)");
    CHECK(usage_error_of({"load"}) == "unknown command 'load': the commands are sub, pub, rr and bench (see wsmqtt --help)");
    CHECK(usage_error_of({"bnech"}) == "unknown command 'bnech' (did you mean 'bench'?): the commands are sub, pub, rr and bench (see wsmqtt --help)");
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

// mosquitto_sub/mosquitto_pub-compatible options with CLI11. The only translation unit that
// includes CLI11; its exceptions end here.
#include "wsmqtt/cli.hpp"

#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/mqtt/codec.hpp"
#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/topic.hpp"
#include "wsmqtt/output.hpp"
#include "wsmqtt/version.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>

namespace wsmqtt {
namespace {

/// What the options hold before validation turns them into a config.
struct raw_options {
    std::string host = "localhost";
    std::optional<std::uint16_t> port;
    std::string url;
    std::vector<std::string> topics;
    int qos = 0;
    std::string client_id;
    std::optional<std::string> username;
    std::optional<std::string> password;
    int keepalive = 60;
    bool tls = false;
    bool tcp = false;
    std::string cafile;
    bool insecure = false;
    std::optional<std::string> ws_path;
    std::string protocol_version = "mqttv311";
    bool no_clean = false;
    double connect_timeout = 10;
    int count = 0;
    int timeout = 0;
    std::optional<std::string> format;
    bool verbose = false;
    bool no_newline = false;
    std::optional<std::string> message;
    std::optional<std::string> file;
    bool null_message = false;
    bool stdin_message = false;
    bool retain = false;
    bool debug = false;
    bool quiet = false;
};

class usage_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string random_client_id()
{
    // 23 characters at most, the length every broker must accept (§3.1.3.1).
    static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::random_device rd;
    std::uniform_int_distribution<std::size_t> pick{0, sizeof alphabet - 2};
    std::string id = "wsmqtt-";
    for (int i = 0; i < 16; ++i) id += alphabet[pick(rd)];
    return id;
}

std::string topic_problem(std::string_view topic, std::error_code ec)
{
    using mqtt::errc;
    if (ec == errc::invalid_topic && topic.empty()) return "empty topic";
    if (ec == errc::invalid_topic) return fmt::format("invalid topic '{}': wildcards (+ #) are not allowed when publishing", topic);
    if (ec == errc::invalid_topic_filter)
        return fmt::format("invalid topic filter '{}': '+' and '#' must fill a whole level, '#' only last", topic);
    if (ec == errc::string_too_long) return "topic longer than 65535 bytes";
    if (ec == errc::invalid_utf8) return "topic is not valid UTF-8";
    return fmt::format("invalid topic '{}': {}", topic, ec.message());
}

std::string read_all(std::istream& in)
{
    return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

void add_common_options(CLI::App& app, raw_options& o)
{
    app.add_option("-h,--host", o.host, "Broker host name or address (default localhost)")->group("Connection");
    app.add_option("-p,--port", o.port, "Broker port (default 80 ws, 443 wss, 1883 mqtt, 8883 mqtts)")->group("Connection");
    app.add_option("-L,--url", o.url, "Broker URL: ws[s]://[user[:pass]@]host[:port][/path] or mqtt[s]://...")
        ->group("Connection")->excludes("--host")->excludes("--port");
    app.add_flag("--tls", o.tls, "Use TLS: wss:// (or mqtts:// with --tcp)")->group("Connection");
    app.add_flag("--tcp", o.tcp, "Plain MQTT over TCP instead of WebSocket (mqtt://, mqtts:// with --tls)")->group("Connection");
    app.add_option("--ws-path", o.ws_path, "WebSocket path (default /mqtt; RabbitMQ uses /ws)")->group("Connection");
    app.add_option("--connect-timeout", o.connect_timeout, "Seconds allowed for connecting and handshakes (default 10)")->group("Connection");
    app.add_option("--cafile", o.cafile, "Trust the CA certificates in this PEM file too (implies --tls)")->group("TLS");
    app.add_flag("--insecure", o.insecure, "Do not verify the broker's certificate (implies --tls)")->group("TLS");
    app.add_option("-i,--id", o.client_id, "Client id (default wsmqtt-<random>)")->group("Session");
    app.add_option("-k,--keepalive", o.keepalive, "Keepalive in seconds, 0 = off (default 60)")->group("Session");
    app.add_flag("-c,--disable-clean-session", o.no_clean, "Keep the session on the broker (needs -i)")->group("Session");
    app.add_option("-u,--username", o.username, "User name")->group("Session");
    app.add_option("-P,--pw", o.password, "Password")->group("Session");
    app.add_option("-V,--protocol-version", o.protocol_version, "mqttv311 (default) or mqttv31")->group("Session");
    app.add_option("-q,--qos", o.qos, "Quality of service 0, 1 or 2 (default 0)")->group("Messages");
    app.add_option("-W", o.timeout, "Give up after this many seconds (exit code 27)")->group("Messages");
    app.add_flag("-d,--debug", o.debug, "Print every packet sent and received on stderr")->group("Output");
    app.add_flag("--quiet", o.quiet, "Print no error messages (the exit code still tells)")->group("Output");
}

endpoint make_endpoint(raw_options const& o, std::optional<std::string>& url_user, std::optional<std::string>& url_pass)
{
    bool const tls = o.tls || !o.cafile.empty() || o.insecure;
    endpoint e;
    if (!o.url.empty()) {
        std::string error;
        auto u = parse_url(o.url, error);
        if (!u) throw usage_error(fmt::format("invalid --url '{}': {}", o.url, error));
        e = u->endpoint;
        url_user = u->username;
        url_pass = u->password;
    } else {
        e.scheme = o.tcp ? (tls ? scheme::mqtts : scheme::mqtt) : (tls ? scheme::wss : scheme::ws);
        e.host = o.host;
        if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']') e.host = e.host.substr(1, e.host.size() - 2);
        if (e.host.empty()) throw usage_error("empty --host");
        if (o.port && *o.port == 0) throw usage_error("--port must be between 1 and 65535");
        e.port = o.port.value_or(default_port(e.scheme));
    }
    if (o.ws_path) {
        e.path = o.ws_path->empty() || o.ws_path->front() != '/' ? "/" + *o.ws_path : *o.ws_path;
    }
    return e;
}

config validate(raw_options const& o, command cmd)
{
    config c;
    c.command = cmd;
    std::optional<std::string> url_user;
    std::optional<std::string> url_pass;
    c.endpoint = make_endpoint(o, url_user, url_pass);
    c.tls = {o.cafile, o.insecure};
    if (!o.cafile.empty() && !uses_tls(c.endpoint.scheme))
        throw usage_error(fmt::format("--cafile needs a TLS transport, but the URL is {}://", scheme_name(c.endpoint.scheme)));

    if (o.qos < 0 || o.qos > 2) throw usage_error(fmt::format("--qos must be 0, 1 or 2, not {}", o.qos));
    c.qos = static_cast<mqtt::qos>(o.qos);
    if (o.keepalive < 0 || o.keepalive > 65535) throw usage_error("--keepalive must be between 0 and 65535 seconds");
    c.keepalive = static_cast<std::uint16_t>(o.keepalive);
    if (o.connect_timeout <= 0) throw usage_error("--connect-timeout must be positive");
    c.connect_timeout = std::chrono::milliseconds{static_cast<std::int64_t>(o.connect_timeout * 1000)};
    if (o.timeout < 0) throw usage_error("-W must be a positive number of seconds");
    c.timeout = std::chrono::seconds{o.timeout};

    if (o.protocol_version == "mqttv311" || o.protocol_version == "311") c.version = mqtt::protocol_version::v311;
    else if (o.protocol_version == "mqttv31" || o.protocol_version == "31") c.version = mqtt::protocol_version::v31;
    else throw usage_error(fmt::format("--protocol-version must be mqttv311 or mqttv31, not '{}'", o.protocol_version));

    c.clean_session = !o.no_clean;
    if (o.no_clean && o.client_id.empty())
        throw usage_error("-c (--disable-clean-session) needs a fixed client id (-i)");
    c.client_id = o.client_id.empty() ? random_client_id() : o.client_id;
    if (c.client_id.size() > mqtt::max_string_length || !mqtt::is_valid_utf8(c.client_id))
        throw usage_error("--id must be valid UTF-8 of at most 65535 bytes");

    c.username = o.username ? o.username : url_user;
    c.password = o.password ? o.password : url_pass;
    if (c.password && !c.username) throw usage_error("a password needs a user name (-u)"); // [MQTT-3.1.2-22]
    if (c.username && (c.username->size() > mqtt::max_string_length || !mqtt::is_valid_utf8(*c.username)))
        throw usage_error("--username must be valid UTF-8 of at most 65535 bytes");
    if (c.password && c.password->size() > mqtt::max_string_length)
        throw usage_error("--pw must be at most 65535 bytes");

    if (o.topics.empty())
        throw usage_error(cmd == command::sub ? "give at least one topic filter with -t" : "give the topic with -t");
    for (auto const& t : o.topics) {
        auto const ec = cmd == command::sub ? mqtt::check_topic_filter(t) : mqtt::check_topic_name(t);
        if (ec) throw usage_error(topic_problem(t, ec));
    }
    if (cmd == command::pub && o.topics.size() > 1) throw usage_error("publish takes exactly one topic (-t)");
    c.topics = o.topics;
    c.debug = o.debug;
    c.quiet = o.quiet;

    if (cmd == command::sub) {
        if (o.count < 0) throw usage_error("-C must be a positive count");
        c.count = static_cast<std::size_t>(o.count);
        c.no_newline = o.no_newline;
        c.format = o.format.value_or(o.verbose ? "%t %p" : std::string{default_format});
        std::string error;
        if (!output_format::compile(c.format, c.no_newline, error)) throw usage_error(error);
        return c;
    }

    int const sources = (o.message ? 1 : 0) + (o.file ? 1 : 0) + (o.null_message ? 1 : 0) + (o.stdin_message ? 1 : 0);
    if (sources == 0) throw usage_error("give the message with -m, -f, -s or -n");
    if (sources > 1) throw usage_error("-m, -f, -s and -n exclude each other: give one");
    if (o.message) c.payload = *o.message;
    if (o.file) {
        std::ifstream in{*o.file, std::ios::binary};
        if (!in) throw usage_error(fmt::format("cannot read --file '{}': {}", *o.file, std::strerror(errno)));
        c.payload = read_all(in);
    }
    if (o.stdin_message) c.payload = read_all(std::cin);
    // The whole PUBLISH must fit the 256 MiB Remaining Length (§2.2.3).
    if (c.payload.size() + c.topics.front().size() + 4 > mqtt::max_remaining_length)
        throw usage_error("message too large: MQTT allows at most 256 MiB per PUBLISH");
    c.retain = o.retain;
    return c;
}

} // namespace

parse_result parse_command_line(int argc, char const* const* argv)
{
    CLI::App app{"wsmqtt: MQTT over WebSocket from the command line", "wsmqtt"};
    // -h is the host, as in mosquitto_sub/mosquitto_pub; help is --help only.
    app.set_help_flag("--help", "Show this help and exit");
    app.set_version_flag("--version", std::string{"wsmqtt "} + version);
    app.require_subcommand(1);
    app.footer("Run 'wsmqtt sub --help' or 'wsmqtt pub --help' for the options of each.\n"
               "Exit codes: 0 ok, 1 network, 2 usage, 3 TLS, 4 WebSocket, 5 protocol, 6 subscription refused,\n"
               "11-15 connection refused by the broker (CONNACK 1-5), 27 timeout (-W).");

    raw_options o;
    auto* sub = app.add_subcommand("sub", "Subscribe and print messages: wsmqtt sub -h host -p port -t topic");
    add_common_options(*sub, o);
    sub->add_option("-t,--topic", o.topics, "Topic filter to subscribe to (repeatable; + and # allowed)")->group("Messages");
    sub->add_option("-C,--count", o.count, "Exit after this many messages")->group("Messages");
    sub->add_option("-F,--format", o.format, "Output format (default 'Topic: %t | %p'; %t %p %q %r %l %m %x %X %%, \\n \\t \\0)")->group("Output");
    sub->add_flag("-v,--verbose", o.verbose, "Print 'topic payload' (mosquitto_sub -v)")->group("Output")->excludes("--format");
    sub->add_flag("-N", o.no_newline, "Do not end each message with a newline")->group("Output");
    sub->footer("Examples:\n"
                "  wsmqtt sub -h broker.example -p 8080 -t '#'\n"
                "  wsmqtt sub -L wss://user:secret@broker.example/mqtt -t 'sensors/+/temp' -q 1\n"
                "  wsmqtt sub -h localhost -t alerts -C 1 -W 30   # wait for one message, 30 s at most");

    auto* pub = app.add_subcommand("pub", "Publish one message: wsmqtt pub -h host -p port -t topic -m text");
    add_common_options(*pub, o);
    pub->add_option("-t,--topic", o.topics, "Topic to publish to (no wildcards)")->group("Messages");
    pub->add_option("-m,--message", o.message, "Message text")->group("Messages");
    pub->add_option("-f,--file", o.file, "Send the contents of this file (binary-safe)")->group("Messages");
    pub->add_flag("-s,--stdin-file", o.stdin_message, "Send all of standard input as one message")->group("Messages");
    pub->add_flag("-n,--null-message", o.null_message, "Send an empty message")->group("Messages");
    pub->add_flag("-r,--retain", o.retain, "Ask the broker to retain the message")->group("Messages");
    pub->footer("Examples:\n"
                "  wsmqtt pub -h broker.example -p 8080 -t demo/hello -m 'hello'\n"
                "  wsmqtt pub -L wss://broker.example/mqtt -t firmware/v2 -f image.bin -q 1\n"
                "  date | wsmqtt pub -h localhost -t clock -s -r   # retained, from stdin");

    try {
        app.parse(argc, argv);
    } catch (CLI::CallForHelp const& e) {
        return {std::nullopt, app.exit(e)};
    } catch (CLI::CallForVersion const& e) {
        return {std::nullopt, app.exit(e)};
    } catch (CLI::ParseError const& e) {
        std::cerr << "wsmqtt: error: " << e.what() << " (see wsmqtt --help)\n";
        return {std::nullopt, to_int(exit_code::usage)};
    }

    try {
        return {validate(o, sub->parsed() ? command::sub : command::pub), 0};
    } catch (usage_error const& e) {
        if (!o.quiet) std::cerr << "wsmqtt: error: " << e.what() << '\n';
        return {std::nullopt, to_int(exit_code::usage)};
    }
}

} // namespace wsmqtt

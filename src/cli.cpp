// mosquitto_sub/mosquitto_pub-compatible options with CLI11, an options file and environment
// variables. The only translation unit that includes CLI11; its exceptions end here.
#include "wsmqtt/cli.hpp"

#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/mqtt/codec.hpp"
#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/topic.hpp"
#include "wsmqtt/output.hpp"
#include "wsmqtt/version.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <algorithm>
#include <cctype>
#include <fcntl.h>
#include <random>
#include <termios.h>
#include <unistd.h>

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
    std::string client_id_prefix;
    std::optional<std::string> username;
    std::optional<std::string> password;
    int keepalive = 60;
    bool tls = false;
    bool tcp = false;
    std::string cafile;
    std::string capath;
    std::string cert;
    std::string key;
    std::string key_password_file;
    std::string tls_version;
    std::string ciphers;
    std::vector<std::string> alpn;
    std::string tls_keylog;
    bool insecure = false;
    std::vector<std::string> headers;
    std::string origin;
    std::string user_agent;
    std::string subprotocol;
    bool compress = false;
    std::optional<std::string> proxy;
    bool no_proxy = false;
    std::string password_file;
    std::optional<std::string> ws_path;
    std::string protocol_version = "mqttv311";
    bool no_clean = false;
    double connect_timeout = 10;
    std::string max_packet_size;
    bool no_reconnect = false;
    bool retry_first = false;
    double reconnect_max = 30;
    std::string options_file;
    std::optional<std::string> will_topic;
    std::optional<std::string> will_payload;
    int will_qos = 0;
    bool will_retain = false;
    bool debug = false;
    bool quiet = false;
    // sub
    int count = 0;
    int timeout = 0;
    std::optional<std::string> format;
    bool json = false;
    bool verbose = false;
    bool no_newline = false;
    std::vector<std::string> hidden;
    std::vector<std::string> unsubscribe;
    bool exit_after_subscribe = false;
    bool retained_only = false;
    bool remove_retained = false;
    bool skip_retained = false;
    bool rate = false;
    // pub
    std::optional<std::string> message;
    std::optional<std::string> file;
    bool null_message = false;
    bool stdin_message = false;
    bool stdin_lines = false;
    std::optional<bool> progress;
    std::optional<std::string> topic_separator;
    bool retain = false;
    int repeat = 1;
    double repeat_delay = 0;
    int max_inflight = 20;
};

class usage_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr char const* environment_help =
    "Environment:\n"
    "  WSMQTT_HOST, WSMQTT_PORT, WSMQTT_USERNAME, WSMQTT_PASSWORD  defaults for -h, -p, -u, -P\n"
    "Files:\n"
    "  $XDG_CONFIG_HOME/wsmqtt/{sub,pub}.conf (default ~/.config/wsmqtt/...), or -o FILE:\n"
    "  one option per line ('-h broker', '--port 8080'); the environment and the command line win.";

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

std::string topic_problem(std::string_view topic, std::error_code ec, std::string_view what = "topic")
{
    using mqtt::errc;
    if (ec == errc::invalid_topic && topic.empty()) return fmt::format("empty {}", what);
    if (ec == errc::invalid_topic)
        return fmt::format("invalid {} '{}': wildcards (+ #) are not allowed when publishing", what, topic);
    if (ec == errc::invalid_topic_filter)
        return fmt::format("invalid topic filter '{}': '+' and '#' must fill a whole level, '#' only last", topic);
    if (ec == errc::string_too_long) return fmt::format("{} longer than 65535 bytes", what);
    if (ec == errc::invalid_utf8) return fmt::format("{} is not valid UTF-8", what);
    return fmt::format("invalid {} '{}': {}", what, topic, ec.message());
}

void check_filters(std::vector<std::string> const& filters)
{
    for (auto const& f : filters)
        if (auto ec = mqtt::check_topic_filter(f)) throw usage_error(topic_problem(f, ec));
}

mqtt::qos to_qos(int value, std::string_view flag)
{
    if (value < 0 || value > 2) throw usage_error(fmt::format("{} must be 0, 1 or 2, not {}", flag, value));
    return static_cast<mqtt::qos>(value);
}

/// Adds a subcommand's options, but only those the arguments name (all of them for --help).
/// CLI11 checks each new option against every option before it: building all ~70 took a third
/// of the instructions of a one-shot publish, as much as loading OpenSSL. Parsing, help and
/// errors are the same: an option the arguments do not name has nothing to parse, and an
/// unknown or mistyped one is refused as before.
class option_adder {
public:
    option_adder(CLI::App& app, std::vector<std::string> const& args) : app_{app}, args_{args}
    {
        all_ = std::find(args.begin(), args.end(), "--help") != args.end();
    }

    /// What CLI11's Option* is used for here, on an option that may not have been added.
    class handle {
    public:
        explicit handle(CLI::Option* o) : option_{o} {}
        handle* operator->() { return this; }
        handle* group(std::string const& name)
        {
            if (option_) option_->group(name);
            return this;
        }
        handle* multi_option_policy(CLI::MultiOptionPolicy policy)
        {
            if (option_) option_->multi_option_policy(policy);
            return this;
        }

    private:
        CLI::Option* option_;
    };

    template <class T>
    handle add_option(std::string const& names, T& variable, std::string const& description)
    {
        return handle{named(names) ? app_.add_option(names, variable, description) : nullptr};
    }
    template <class T>
    handle add_flag(std::string const& names, T& variable, std::string const& description)
    {
        return handle{named(names) ? app_.add_flag(names, variable, description) : nullptr};
    }
    template <class F>
    handle add_flag_function(std::string const& names, F&& function, std::string const& description)
    {
        return handle{named(names) ? app_.add_flag_function(names, std::forward<F>(function), description) : nullptr};
    }
    void footer(std::string const& text) { app_.footer(text); }

private:
    /// Whether the arguments may name one of `names` ("-h,--host", "!--no-progress"): a long
    /// name as "--name" or "--name=…", a short one anywhere in an argument of one dash (they
    /// combine: -dq1). Taking an option too many is harmless.
    bool named(std::string_view names) const
    {
        if (all_) return true;
        while (!names.empty()) {
            auto const comma = names.find(',');
            auto name = names.substr(0, comma);
            names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
            if (!name.empty() && name.front() == '!') name.remove_prefix(1);
            for (std::string_view const arg : args_) {
                if (name.starts_with("--")) {
                    if (arg == name || (arg.starts_with(name) && arg.size() > name.size() && arg[name.size()] == '=')) return true;
                } else if (name.size() == 2 && arg.size() > 1 && arg[0] == '-' && arg[1] != '-' &&
                           arg.find(name[1], 1) != std::string_view::npos) {
                    return true;
                }
            }
        }
        return false;
    }

    CLI::App& app_;
    std::vector<std::string> const& args_;
    bool all_ = false;
};

void add_common_options(option_adder& app, raw_options& o)
{
    app.add_option("-h,--host", o.host, "Broker host name or address (default localhost)")->group("Connection");
    app.add_option("-p,--port", o.port, "Broker port (default 80 ws, 443 wss, 1883 mqtt, 8883 mqtts)")->group("Connection");
    app.add_option("-L,--url", o.url, "Broker URL: ws[s]://[user[:pass]@]host[:port][/path] or mqtt[s]://...")->group("Connection");
    app.add_flag("--tls", o.tls, "Use TLS: wss:// (or mqtts:// with --tcp)")->group("Connection");
    app.add_flag("--tcp", o.tcp, "Plain MQTT over TCP instead of WebSocket (mqtt://, mqtts:// with --tls)")->group("Connection");
    app.add_option("--ws-path", o.ws_path, "WebSocket path (default /mqtt; RabbitMQ uses /ws)")->group("Connection");
    app.add_option("--connect-timeout", o.connect_timeout, "Seconds allowed for connecting and handshakes (default 10)")->group("Connection");
    app.add_flag("--no-reconnect", o.no_reconnect, "sub, pub -l: exit when the connection is lost (default: reconnect)")->group("Connection");
    app.add_flag("--retry-first", o.retry_first, "sub, pub -l: keep trying when the first connection fails")->group("Connection");
    app.add_option("--reconnect-max", o.reconnect_max, "Longest wait between reconnect attempts in seconds (default 30)")->group("Connection");
    app.add_option("--max-packet-size", o.max_packet_size, "Largest packet accepted from the broker, e.g. 65536, 64K, 16M (default 256M)")->group("Connection");
    app.add_option("-H,--header", o.headers, "Extra HTTP header for the WebSocket upgrade, 'Name: value' (repeatable)")
        ->group("WebSocket")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--origin", o.origin, "Origin header of the WebSocket upgrade")->group("WebSocket");
    app.add_option("--user-agent", o.user_agent, "User-Agent of the WebSocket upgrade (default wsmqtt/<version>)")->group("WebSocket");
    app.add_option("--subprotocol", o.subprotocol, "WebSocket subprotocol to ask for (default mqtt; mqttv3.1 with -V mqttv31)")->group("WebSocket");
    app.add_flag("--compress", o.compress, "Offer permessage-deflate compression")->group("WebSocket");
    app.add_option("--proxy", o.proxy, "Proxy: http://[user:pass@]host[:port] (CONNECT), socks5://, socks5h://")->group("Connection");
    app.add_flag("--no-proxy", o.no_proxy, "Ignore http_proxy, https_proxy and all_proxy")->group("Connection");
    app.add_option("--cafile", o.cafile, "Trust the CA certificates in this PEM file too (implies --tls)")->group("TLS");
    app.add_option("--capath", o.capath, "Trust the CA certificates in this folder too (hashed, c_rehash; implies --tls)")->group("TLS");
    app.add_option("--cert", o.cert, "Client certificate (PEM; implies --tls)")->group("TLS");
    app.add_option("--key", o.key, "Private key of the client certificate (PEM)")->group("TLS");
    app.add_option("--key-password-file", o.key_password_file, "File holding the password of an encrypted --key")->group("TLS");
    app.add_option("--tls-version", o.tls_version, "Allow only tlsv1.2 or tlsv1.3 (default: 1.2 or later)")->group("TLS");
    app.add_option("--ciphers", o.ciphers, "OpenSSL cipher list for TLS 1.2")->group("TLS");
    app.add_option("--alpn", o.alpn, "ALPN protocol to offer (repeatable)")->group("TLS")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--tls-keylog", o.tls_keylog, "Append TLS secrets to this file (for Wireshark)")->group("TLS");
    app.add_flag("--insecure", o.insecure, "Do not verify the broker's certificate (implies --tls)")->group("TLS");
    app.add_option("-i,--id", o.client_id, "Client id (default wsmqtt-<random>)")->group("Session");
    app.add_option("-I,--id-prefix", o.client_id_prefix, "Client id made of this prefix and the process id")->group("Session");
    app.add_option("-k,--keepalive", o.keepalive, "Keepalive in seconds, 0 = off (default 60)")->group("Session");
    app.add_flag("-c,--disable-clean-session", o.no_clean, "Keep the session on the broker (needs -i)")->group("Session");
    app.add_option("-u,--username", o.username, "User name")->group("Session");
    app.add_option("-P,--pw", o.password, "Password; '-' asks for it on the terminal")->group("Session");
    app.add_option("--password-file", o.password_file, "Read the password from this file (first line)")->group("Session");
    app.add_option("-V,--protocol-version", o.protocol_version, "mqttv311 (default) or mqttv31")->group("Session");
    app.add_option("--will-topic", o.will_topic, "Topic of the last will, sent by the broker if we vanish")->group("Session");
    app.add_option("--will-payload", o.will_payload, "Payload of the last will")->group("Session");
    app.add_option("--will-qos", o.will_qos, "QoS of the last will (default 0)")->group("Session");
    app.add_flag("--will-retain", o.will_retain, "Retain the last will")->group("Session");
    app.add_option("-q,--qos", o.qos, "Quality of service 0, 1 or 2 (default 0)")->group("Messages");
    app.add_option("-W,--timeout", o.timeout, "Give up after this many seconds (exit code 27)")->group("Messages");
    app.add_option("-o,--options-file", o.options_file, "Read options from this file first")->group("Other");
    app.add_flag("-d,--debug", o.debug, "Print every packet sent and received on stderr")->group("Other");
    app.add_flag("--quiet", o.quiet, "Print no error messages (the exit code still tells)")->group("Other");
}

void add_sub_options(option_adder& app, raw_options& o)
{
    add_common_options(app, o);
    app.add_option("-t,--topic", o.topics, "Topic filter to subscribe to (repeatable; + and # allowed)")
        ->group("Messages")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("-T,--filter-out", o.hidden, "Do not print messages whose topic matches this filter (repeatable)")
        ->group("Messages")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("-U,--unsubscribe", o.unsubscribe, "Unsubscribe from this filter (repeatable; with -c)")
        ->group("Messages")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("-C,--count", o.count, "Exit after this many messages")->group("Messages");
    app.add_flag("-E", o.exit_after_subscribe, "Exit once subscribed (with -c: create a persistent session)")->group("Messages");
    app.add_flag("-R,--no-retained", o.skip_retained, "Do not print retained (stale) messages")->group("Messages");
    app.add_flag("--retained-only", o.retained_only, "Print retained messages only; exit at the first live one")->group("Messages");
    app.add_flag("--remove-retained", o.remove_retained, "Clear every retained message received (see -T)")->group("Messages");
    app.add_option("-F,--format", o.format, "Output format (default 'Topic: %t | %p'; see README)")->group("Output");
    app.add_flag("--json", o.json, "One JSON object per message and line; binary payloads in base64")->group("Output");
    app.add_flag("-v,--verbose", o.verbose, "Print 'topic payload' (mosquitto_sub -v)")->group("Output");
    app.add_flag("-N", o.no_newline, "Do not end each message with a newline")->group("Output");
    app.add_flag("--rate", o.rate, "Print messages/s and bytes/s received on stderr once a second")->group("Output");
    app.footer(std::string{"Examples:\n"
                            "  wsmqtt sub -h broker.example -p 8080 -t '#'\n"
                            "  wsmqtt sub -L wss://user:secret@broker.example/mqtt -t 'sensors/+/temp' -q 1 --json | jq .payload\n"
                            "  wsmqtt sub -h localhost -t alerts -C 1 -W 30   # wait for one message, 30 s at most\n"} +
                environment_help);

}

void add_pub_options(option_adder& app, raw_options& o)
{
    add_common_options(app, o);
    app.add_option("-t,--topic", o.topics, "Topic to publish to (no wildcards)")->group("Messages");
    app.add_option("-m,--message", o.message, "Message text")->group("Messages");
    app.add_option("-f,--file", o.file, "Send the contents of this file (binary-safe)")->group("Messages");
    app.add_flag("-s,--stdin-file", o.stdin_message, "Send all of standard input as one message")->group("Messages");
    app.add_flag("-l,--stdin-line", o.stdin_lines, "Send each line of standard input as a message, as lines arrive")->group("Messages");
    app.add_option("--topic-separator", o.topic_separator, "With -l: lines are TOPIC<SEP>PAYLOAD (e.g. ' ')")->group("Messages");
    app.add_flag("-n,--null-message", o.null_message, "Send an empty message")->group("Messages");
    app.add_flag("-r,--retain", o.retain, "Ask the broker to retain the message")->group("Messages");
    app.add_option("--repeat", o.repeat, "Publish the message this many times")->group("Messages");
    app.add_flag_function("--progress,!--no-progress", [&o](std::int64_t n) { o.progress = n > 0; },
                          "Show progress on stderr (default: when it is a terminal and the input size is known)")
        ->group("Output");
    app.add_option("--repeat-delay", o.repeat_delay, "Seconds between repeated messages")->group("Messages");
    app.add_option("-M,--max-inflight", o.max_inflight, "QoS 1/2 messages awaiting acknowledgement at once (default 20)")->group("Messages");
    app.footer(std::string{"Examples:\n"
                            "  wsmqtt pub -h broker.example -p 8080 -t demo/hello -m 'hello'\n"
                            "  wsmqtt pub -L wss://broker.example/mqtt -t firmware/v2 -f image.bin -q 1\n"
                            "  tail -F app.log | wsmqtt pub -h localhost -t logs/app -l -q 1   # a message per line\n"} +
                environment_help);
}

endpoint make_endpoint(raw_options const& o, std::optional<std::string>& url_user, std::optional<std::string>& url_pass)
{
    bool const tls = o.tls || !o.cafile.empty() || !o.capath.empty() || !o.cert.empty() || o.insecure;
    endpoint e;
    if (!o.url.empty()) {
        // The URL decides alone; -h/-p from the environment or an options file do not apply.
        std::string error;
        auto u = parse_url(o.url, error);
        if (!u) throw usage_error(fmt::format("invalid --url '{}': {}", mask_credentials(o.url), error));
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
    if (o.ws_path) e.path = o.ws_path->empty() || o.ws_path->front() != '/' ? "/" + *o.ws_path : *o.ws_path;
    return e;
}

void validate_session(raw_options const& o, config& c)
{
    if (o.keepalive < 0 || o.keepalive > 65535) throw usage_error("--keepalive must be between 0 and 65535 seconds");
    c.keepalive = static_cast<std::uint16_t>(o.keepalive);
    if (!(o.connect_timeout > 0) || o.connect_timeout > 86'400) throw usage_error("--connect-timeout must be between 0 and 86400 seconds");
    c.connect_timeout = std::chrono::ceil<std::chrono::milliseconds>(std::chrono::duration<double>{o.connect_timeout});
    if (!o.max_packet_size.empty()) {
        std::size_t value = 0;
        auto const& text = o.max_packet_size;
        auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        std::string_view const suffix{end, static_cast<std::size_t>(text.data() + text.size() - end)};
        std::size_t const unit = suffix.empty() ? 1 : suffix == "K" || suffix == "k" ? 1024 : suffix == "M" || suffix == "m" ? 1024 * 1024 : 0;
        if (ec != std::errc{} || unit == 0 || value == 0 || value > (mqtt::max_remaining_length + 5) / unit)
            throw usage_error(fmt::format("--max-packet-size must be a size from 1 to 256M (e.g. 65536, 64K, 16M), not '{}'", text));
        c.max_packet_size = std::max<std::size_t>(value * unit, 2);
    }
    if (o.no_reconnect && o.retry_first) throw usage_error("--no-reconnect and --retry-first exclude each other");
    c.no_reconnect = o.no_reconnect;
    c.retry_first = o.retry_first;
    if (!(o.reconnect_max >= 1) || o.reconnect_max > 86'400) throw usage_error("--reconnect-max must be between 1 and 86400 seconds");
    c.reconnect_max = std::chrono::milliseconds{static_cast<std::int64_t>(o.reconnect_max * 1000)};
    if (o.timeout < 0) throw usage_error("-W must be a positive number of seconds");
    c.timeout = std::chrono::seconds{o.timeout};

    if (o.protocol_version == "mqttv311" || o.protocol_version == "311") c.version = mqtt::protocol_version::v311;
    else if (o.protocol_version == "mqttv31" || o.protocol_version == "31") c.version = mqtt::protocol_version::v31;
    else throw usage_error(fmt::format("--protocol-version must be mqttv311 or mqttv31, not '{}'", o.protocol_version));

    if (!o.client_id.empty() && !o.client_id_prefix.empty()) throw usage_error("-i and -I exclude each other");
    c.clean_session = !o.no_clean;
    if (o.no_clean && o.client_id.empty())
        throw usage_error("-c (--disable-clean-session) needs a fixed client id (-i)");
    c.client_id = !o.client_id.empty()          ? o.client_id
                  : !o.client_id_prefix.empty() ? o.client_id_prefix + std::to_string(::getpid())
                                                : random_client_id();
    if (c.client_id.size() > mqtt::max_string_length || !mqtt::is_valid_utf8(c.client_id))
        throw usage_error("--id must be valid UTF-8 of at most 65535 bytes");

    if (c.password && !c.username) throw usage_error("a password needs a user name (-u)"); // [MQTT-3.1.2-22]
    if (c.username && (c.username->size() > mqtt::max_string_length || !mqtt::is_valid_utf8(*c.username)))
        throw usage_error("--username must be valid UTF-8 of at most 65535 bytes");
    if (c.password && c.password->size() > mqtt::max_string_length) throw usage_error("--pw must be at most 65535 bytes");

    if (o.will_topic) {
        if (auto ec = mqtt::check_topic_name(*o.will_topic)) throw usage_error(topic_problem(*o.will_topic, ec, "--will-topic"));
        auto payload = o.will_payload.value_or("");
        if (payload.size() > mqtt::max_string_length) throw usage_error("--will-payload must be at most 65535 bytes");
        c.will = mqtt::will{*o.will_topic, std::move(payload), to_qos(o.will_qos, "--will-qos"), o.will_retain};
    } else if (o.will_payload || o.will_retain || o.will_qos != 0) {
        throw usage_error("--will-payload, --will-qos and --will-retain need --will-topic");
    }
}

void validate_sub(raw_options const& o, config& c)
{
    if (o.topics.empty() && o.unsubscribe.empty()) throw usage_error("give at least one topic filter with -t (or -U)");
    check_filters(o.topics);
    check_filters(o.hidden);
    check_filters(o.unsubscribe);
    c.topics = o.topics;
    c.hidden_topics = o.hidden;
    c.unsubscribe_topics = o.unsubscribe;
    if (o.count < 0) throw usage_error("-C must be a positive count");
    c.count = static_cast<std::size_t>(o.count);
    c.no_newline = o.no_newline;
    int const formats = (o.format ? 1 : 0) + (o.json ? 1 : 0) + (o.verbose ? 1 : 0);
    if (formats > 1) throw usage_error("-F, --json and -v exclude each other: give one");
    c.format = o.format ? *o.format : o.json ? std::string{json_format} : o.verbose ? "%t %p" : std::string{default_format};
    std::string error;
    if (!output_format::compile(c.format, c.no_newline, error)) throw usage_error(error);
    c.exit_after_subscribe = o.exit_after_subscribe;
    c.retained_only = o.retained_only;
    c.remove_retained = o.remove_retained;
    c.skip_retained = o.skip_retained;
    if (c.retained_only && c.skip_retained) throw usage_error("--retained-only and -R exclude each other");
    c.rate = o.rate;
}

void validate_pub(raw_options const& o, config& c)
{
    c.line_mode = o.stdin_lines;
    c.progress = o.progress;
    c.topic_separator = o.topic_separator;
    if (c.topic_separator && (!c.line_mode || c.topic_separator->empty()))
        throw usage_error("--topic-separator needs -l and a non-empty separator");
    if (o.topics.empty() && !c.topic_separator) throw usage_error("give the topic with -t");
    if (o.topics.size() > 1) throw usage_error("publish takes exactly one topic (-t)");
    for (auto const& t : o.topics)
        if (auto ec = mqtt::check_topic_name(t)) throw usage_error(topic_problem(t, ec));
    c.topics = o.topics;

    int const sources = (o.message ? 1 : 0) + (o.file ? 1 : 0) + (o.null_message ? 1 : 0) +
                        (o.stdin_message ? 1 : 0) + (o.stdin_lines ? 1 : 0);
    if (sources == 0) throw usage_error("give the message with -m, -f, -s, -l or -n");
    if (sources > 1) throw usage_error("-m, -f, -s, -l and -n exclude each other: give one");
    // Read by the run (read_payload), not here: the config names the source.
    if (o.message) c.payload = {payload_source::kind::text, *o.message};
    if (o.file) c.payload = {payload_source::kind::file, *o.file};
    if (o.stdin_message) c.payload = {payload_source::kind::standard_input, {}};
    c.retain = o.retain;
    if (o.repeat < 1) throw usage_error("--repeat must be at least 1");
    if (o.repeat > 1 && c.line_mode) throw usage_error("--repeat does not apply to -l");
    c.repeat = static_cast<std::size_t>(o.repeat);
    if (o.repeat_delay < 0 || o.repeat_delay > 86'400) throw usage_error("--repeat-delay must be between 0 and 86400 seconds");
    c.repeat_delay = std::chrono::round<std::chrono::milliseconds>(std::chrono::duration<double>{o.repeat_delay});
    if (o.max_inflight < 1 || o.max_inflight > 65535) throw usage_error("-M must be between 1 and 65535");
    c.max_inflight = static_cast<std::size_t>(o.max_inflight);
}

std::string first_line_of(std::string const& path, std::string_view flag)
{
    std::ifstream in{path, std::ios::binary};
    if (!in) throw usage_error(fmt::format("cannot read {} '{}': {}", flag, path, std::strerror(errno)));
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

/// -P -: ask on the terminal without echo, like ssh and sudo. Never from stdin, which may be
/// the message (-s, -l).
std::string prompt_password()
{
    int const tty = ::open("/dev/tty", O_RDWR | O_NOCTTY);
    if (tty < 0) throw usage_error("-P - needs a terminal to ask on; use --password-file or WSMQTT_PASSWORD");
    struct termios saved {};
    bool const is_terminal = ::tcgetattr(tty, &saved) == 0;
    if (is_terminal) {
        auto quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(tty, TCSAFLUSH, &quiet);
    }
    constexpr std::string_view prompt = "Password: ";
    (void)!::write(tty, prompt.data(), prompt.size());
    std::string password;
    char c = 0;
    while (::read(tty, &c, 1) == 1 && c != '\n') password += c;
    if (is_terminal) ::tcsetattr(tty, TCSAFLUSH, &saved);
    (void)!::write(tty, "\n", 1);
    ::close(tty);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    return password;
}

void validate_transport_options(raw_options const& o, config& c)
{
    auto& t = c.tls;
    t.cafile = o.cafile;
    t.capath = o.capath;
    t.cert = o.cert;
    t.key = o.key;
    t.insecure = o.insecure;
    t.ciphers = o.ciphers;
    t.alpn = o.alpn;
    t.keylog = o.tls_keylog;
    bool const tls_options = !o.cafile.empty() || !o.capath.empty() || !o.cert.empty() || !o.key.empty() ||
                             !o.tls_version.empty() || !o.ciphers.empty() || !o.alpn.empty() || !o.tls_keylog.empty();
    if (tls_options && !uses_tls(c.endpoint.scheme))
        throw usage_error(fmt::format("TLS options need a TLS transport, but the URL is {}://", scheme_name(c.endpoint.scheme)));
    if (o.cert.empty() != o.key.empty()) throw usage_error("--cert and --key go together");
    if (!o.key_password_file.empty()) {
        if (o.key.empty()) throw usage_error("--key-password-file needs --key");
        t.key_password = first_line_of(o.key_password_file, "--key-password-file");
    }
    if (!o.tls_version.empty() && o.tls_version != "tlsv1.2" && o.tls_version != "tlsv1.3")
        throw usage_error(fmt::format("--tls-version must be tlsv1.2 or tlsv1.3, not '{}'", o.tls_version));
    t.version = o.tls_version;
    for (auto const& a : o.alpn)
        if (a.empty() || a.size() > 255) throw usage_error("--alpn protocols must be 1 to 255 bytes");

    for (auto const& h : o.headers) {
        auto const colon = h.find(':');
        auto const name = h.substr(0, colon);
        bool const token = !name.empty() && name.find_first_of(" \t()<>@,;:\\\"/[]?={}\r\n") == std::string::npos;
        if (colon == std::string::npos || !token || h.find_first_of("\r\n") != std::string::npos)
            throw usage_error(fmt::format("--header '{}' is not 'Name: value'", h));
        auto lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        if (lower == "sec-websocket-protocol") throw usage_error("use --subprotocol to choose the WebSocket subprotocol");
        if (lower == "upgrade" || lower == "connection" || lower.rfind("sec-websocket-", 0) == 0)
            throw usage_error(fmt::format("--header cannot set {}: the WebSocket handshake needs it", name));
        auto value = h.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        c.ws.headers.emplace_back(name, value);
    }
    c.ws.origin = o.origin;
    c.ws.user_agent = o.user_agent;
    c.ws.subprotocol = o.subprotocol;
    c.ws.compress = o.compress;
    bool const ws_options = !o.headers.empty() || !o.origin.empty() || !o.user_agent.empty() || !o.subprotocol.empty() || o.compress;
    if (ws_options && !uses_websocket(c.endpoint.scheme))
        throw usage_error(fmt::format("WebSocket options need ws:// or wss://, but the URL is {}://", scheme_name(c.endpoint.scheme)));

    std::string error;
    if (o.proxy) {
        if (o.no_proxy) throw usage_error("--proxy and --no-proxy exclude each other");
        c.proxy = parse_proxy(*o.proxy, error);
        if (!c.proxy) throw usage_error(fmt::format("invalid --proxy '{}': {}", mask_credentials(*o.proxy), error));
    } else if (!o.no_proxy) {
        c.proxy = proxy_from_environment(c.endpoint, [](char const* name) -> char const* { return std::getenv(name); }, error);
        if (!c.proxy && !error.empty()) throw usage_error(error);
    }
}

config validate(raw_options const& o, command cmd)
{
    config c;
    c.command = cmd;
    std::optional<std::string> url_user;
    std::optional<std::string> url_pass;
    c.endpoint = make_endpoint(o, url_user, url_pass);
    validate_transport_options(o, c);
    c.qos = to_qos(o.qos, "--qos");
    c.username = o.username ? o.username : url_user;
    c.password = o.password ? o.password : url_pass;
    if (!o.password_file.empty()) {
        if (o.password) throw usage_error("-P and --password-file exclude each other");
        c.password = first_line_of(o.password_file, "--password-file");
    } else if (c.password && *c.password == "-" && o.password) {
        c.password = prompt_password();
    }
    c.debug = o.debug;
    c.quiet = o.quiet;
    validate_session(o, c);
    if (cmd == command::sub) validate_sub(o, c);
    else validate_pub(o, c);
    return c;
}

// --- Where arguments come from: options file, environment, command line ---------------------

bool is_one_of(std::string_view arg, std::initializer_list<std::string_view> names)
{
    for (auto const n : names)
        if (arg == n || (n.size() > 2 && arg.size() > n.size() && arg.substr(0, n.size()) == n && arg[n.size()] == '='))
            return true;
    return false;
}

/// The value of an option given as "-o X", "--opt X" or "--opt=X" in args, if any.
std::optional<std::string> find_value(std::vector<std::string> const& args, std::initializer_list<std::string_view> names)
{
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (!is_one_of(args[i], names)) continue;
        if (auto const eq = args[i].find('='); eq != std::string::npos && args[i].rfind("--", 0) == 0) return args[i].substr(eq + 1);
        if (i + 1 < args.size()) return args[i + 1];
    }
    return std::nullopt;
}

bool contains(std::vector<std::string> const& args, std::initializer_list<std::string_view> names)
{
    for (auto const& a : args)
        if (is_one_of(a, names)) return true;
    return false;
}

/// Options from a file, one per line: "-h broker", "--port 8080", "--tls"; '#' starts a comment.
std::vector<std::string> read_options_file(std::string const& path, bool must_exist)
{
    std::ifstream in{path};
    if (!in) {
        if (must_exist) throw usage_error(fmt::format("cannot read options file '{}': {}", path, std::strerror(errno)));
        return {};
    }
    std::vector<std::string> args;
    std::string line;
    while (std::getline(in, line)) {
        auto const first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        auto const last = line.find_last_not_of(" \t\r");
        line = line.substr(first, last + 1 - first);
        auto const space = line.find_first_of(" \t");
        args.push_back(line.substr(0, space));
        if (space != std::string::npos) args.push_back(line.substr(line.find_first_not_of(" \t", space)));
    }
    return args;
}

std::string default_options_file(std::string_view command)
{
    std::string base;
    if (char const* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) base = xdg;
    else if (char const* home = std::getenv("HOME"); home && *home) base = std::string{home} + "/.config";
    else return {};
    return fmt::format("{}/wsmqtt/{}.conf", base, command);
}

/// argv with the options file's and the environment's options put before the command line's,
/// so that later ones win: file < environment < command line.
std::vector<std::string> gather_arguments(int argc, char const* const* argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    auto const command = std::find_if(args.begin(), args.end(), [](auto const& a) { return a == "sub" || a == "pub"; });
    if (command == args.end()) return args;
    std::vector<std::string> const given(command + 1, args.end());

    std::vector<std::string> injected;
    if (auto const file = find_value(given, {"-o", "--options-file"})) {
        injected = read_options_file(*file, true);
    } else if (auto const path = default_options_file(*command); !path.empty()) {
        injected = read_options_file(path, false);
    }
    bool const url_anywhere = contains(given, {"-L", "--url"}) || contains(injected, {"-L", "--url"});
    if (contains(given, {"-L", "--url"}) && contains(given, {"-h", "--host", "-p", "--port"}))
        throw usage_error("-L (--url) and -h/-p exclude each other: the URL names host and port");
    // Environment defaults apply where neither the file nor the command line says otherwise.
    struct variable {
        char const* name;
        char const* option;
        std::initializer_list<std::string_view> names;
    };
    for (auto const& v : {variable{"WSMQTT_HOST", "--host", {"-h", "--host"}}, variable{"WSMQTT_PORT", "--port", {"-p", "--port"}},
                          variable{"WSMQTT_USERNAME", "--username", {"-u", "--username"}},
                          variable{"WSMQTT_PASSWORD", "--pw", {"-P", "--pw"}}}) {
        char const* value = std::getenv(v.name);
        if (!value || !*value || contains(given, v.names)) continue;
        if (url_anywhere && (v.option == std::string_view{"--host"} || v.option == std::string_view{"--port"})) continue;
        injected.emplace_back(v.option);
        injected.emplace_back(value);
    }
    std::vector<std::string> result(args.begin(), command + 1);
    result.insert(result.end(), injected.begin(), injected.end());
    result.insert(result.end(), given.begin(), given.end());
    return result;
}

} // namespace

parse_result parse_command_line(int argc, char const* const* argv)
{
    CLI::App app{"wsmqtt: MQTT over WebSocket from the command line", "wsmqtt"};
    // -h is the host, as in mosquitto_sub/mosquitto_pub; help is --help only.
    app.set_help_flag("--help", "Show this help and exit");
    app.set_version_flag("--version", std::string{"wsmqtt "} + version);
    app.require_subcommand(1);
    // An option given twice (options file, then command line) takes the last value.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.footer("Run 'wsmqtt sub --help' or 'wsmqtt pub --help' for the options of each.\n"
               "Exit codes: 0 ok, 1 network, 2 usage, 3 TLS, 4 WebSocket, 5 protocol, 6 subscription refused, 7 proxy,\n"
               "8 stdout not writable, 9 internal, 11-15 connection refused by the broker (CONNACK 1-5), 27 timeout (-W),\n"
               "128+N pub ended by signal N before the broker had every message.");

    std::vector<std::string> args;
    try {
        args = gather_arguments(argc, argv);
    } catch (usage_error const& e) {
        std::cerr << "wsmqtt: error: " << e.what() << '\n';
        return {std::nullopt, to_int(exit_code::usage)};
    }

    // Only the named subcommand gets its options: building all of them took most of the time
    // of `wsmqtt --version` (CLI11 checks each new option against all the others).
    auto const named = std::find_if(args.begin(), args.end(), [](std::string const& a) { return a == "sub" || a == "pub"; });
    std::string_view const chosen = named == args.end() ? std::string_view{} : std::string_view{*named};

    raw_options o;
    auto* sub = app.add_subcommand("sub", "Subscribe and print messages: wsmqtt sub -h host -p port -t topic");
    if (chosen == "sub") {
        option_adder adder{*sub, args};
        add_sub_options(adder, o);
    }
    auto* pub = app.add_subcommand("pub", "Publish messages: wsmqtt pub -h host -p port -t topic -m text");
    if (chosen == "pub") {
        option_adder adder{*pub, args};
        add_pub_options(adder, o);
    }

    try {
        std::reverse(args.begin(), args.end()); // CLI11 takes a reversed vector
        app.parse(args);
    } catch (CLI::CallForHelp const& e) {
        return {std::nullopt, app.exit(e)};
    } catch (CLI::CallForVersion const& e) {
        return {std::nullopt, app.exit(e)};
    } catch (CLI::ParseError const& e) {
        if (!o.quiet) std::cerr << "wsmqtt: error: " << e.what() << " (see wsmqtt --help)\n";
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

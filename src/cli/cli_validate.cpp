// The raw option values checked and turned into a config: every usage error names its option.
// No CLI11 here (cli.cpp parses).
#include "cli_options.hpp"

#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/mqtt/codec.hpp"
#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/topic.hpp"
#include "wsmqtt/output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace wsmqtt::cli_detail {
namespace {

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
    if (ec == errc::invalid_shared_filter)
        return fmt::format("invalid shared subscription '{}': it is $share/NAME/FILTER, a name without / + #, then a filter", topic);
    if (ec == errc::string_too_long) return fmt::format("{} longer than 65535 bytes", what);
    if (ec == errc::invalid_utf8) return fmt::format("{} is not valid UTF-8", what);
    return fmt::format("invalid {} '{}': {}", what, topic, ec.message());
}

void check_filters(std::vector<std::string> const& filters)
{
    for (auto const& f : filters)
        if (auto ec = mqtt::check_topic_filter(f)) throw usage_error(topic_problem(f, ec));
}

mqtt::qos to_qos(std::optional<std::string> const& text, std::string_view flag)
{
    if (!text) return mqtt::qos::at_most_once;
    if (*text != "0" && *text != "1" && *text != "2") throw usage_error(fmt::format("{} must be 0, 1 or 2, not {}", flag, *text));
    return static_cast<mqtt::qos>((*text)[0] - '0');
}

/// A whole number, or `fallback` when the option was not given.
std::int64_t whole_number_or(std::optional<std::string> const& text, std::int64_t fallback, std::string_view option, std::int64_t min,
                             std::int64_t max, std::string_view of = "")
{
    return text ? whole_number(*text, option, min, max, of) : fallback;
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
        e.port = static_cast<std::uint16_t>(whole_number_or(o.port, default_port(e.scheme), "--port", 1, 65535));
    }
    if (o.ws_path) e.path = o.ws_path->empty() || o.ws_path->front() != '/' ? "/" + *o.ws_path : *o.ws_path;
    return e;
}

void validate_session(raw_options const& o, config& c)
{
    c.keepalive = static_cast<std::uint16_t>(whole_number_or(o.keepalive, 60, "--keepalive", 0, 65535, " of seconds"));
    auto const connect_timeout = seconds(o.connect_timeout, 10, "--connect-timeout", 0, true, 86'400);
    c.connect_timeout = std::chrono::ceil<std::chrono::milliseconds>(std::chrono::duration<double>{connect_timeout});
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
    auto const reconnect_max = seconds(o.reconnect_max, 30, "--reconnect-max", 1, false, 86'400);
    c.reconnect_max = std::chrono::milliseconds{static_cast<std::int64_t>(reconnect_max * 1000)};
    // Whole seconds, and not 0 (mosquitto refuses it too; leave -W out to wait for ever).
    c.timeout = std::chrono::seconds{whole_number_or(o.timeout, 0, "-W", 1, INT32_MAX, " of seconds")};

    auto const version = o.protocol_version.value_or("mqttv311");
    bool const bench = c.command == command::bench; // emqtt-bench's -V 3 and -V 4 too
    if (version == "mqttv311" || version == "311" || (bench && version == "4")) c.version = mqtt::protocol_version::v311;
    else if (version == "mqttv31" || version == "31" || (bench && version == "3")) c.version = mqtt::protocol_version::v31;
    else if (version == "mqttv5" || version == "5") c.version = mqtt::protocol_version::v5;
    else throw usage_error(fmt::format("--protocol-version must be mqttv5, mqttv311 or mqttv31 (or 5, 311, 31), not '{}'", version));

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
    } else if (o.will_payload || o.will_retain || o.will_qos) {
        throw usage_error("--will-payload, --will-qos and --will-retain need --will-topic");
    }
}

/// -F, --json, -v and -N (sub and rr); `fallback` when none is given.
void validate_output(raw_options const& o, config& c, std::string_view fallback)
{
    c.no_newline = o.no_newline;
    int const formats = (o.format ? 1 : 0) + (o.json ? 1 : 0) + (o.verbose ? 1 : 0);
    if (formats > 1) throw usage_error("-F, --json and -v exclude each other: give one");
    c.format = o.format ? *o.format : o.json ? std::string{json_format} : o.verbose ? "%t %p" : std::string{fallback};
    std::string error;
    if (!output_format::compile(c.format, c.no_newline, error)) throw usage_error(error);
}

/// -m, -f, -s, -n (and -l, for pub): exactly one. Read by the run (read_payload), not here: the
/// config names the source.
void validate_message_source(raw_options const& o, config& c, bool lines)
{
    int const sources = (o.message ? 1 : 0) + (o.file ? 1 : 0) + (o.null_message ? 1 : 0) +
                        (o.stdin_message ? 1 : 0) + (o.stdin_lines ? 1 : 0);
    auto const names = lines ? "-m, -f, -s, -l or -n" : "-m, -f, -s or -n";
    if (sources == 0) throw usage_error(fmt::format("give the message with {}", names));
    if (sources > 1) throw usage_error(fmt::format("{} exclude each other: give one", lines ? "-m, -f, -s, -l and -n" : "-m, -f, -s and -n"));
    if (o.message) c.payload = {payload_source::kind::text, *o.message};
    if (o.file) c.payload = {payload_source::kind::file, *o.file};
    if (o.stdin_message) c.payload = {payload_source::kind::standard_input, {}};
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
    c.count = static_cast<std::size_t>(whole_number_or(o.count, 0, "-C", 1, INT32_MAX)); // 0 is refused as by mosquitto
    validate_output(o, c, default_format);
    c.exit_after_subscribe = o.exit_after_subscribe;
    if (c.exit_after_subscribe && o.count) throw usage_error("-C and -E exclude each other: -E exits once subscribed, before any message");
    c.retained_only = o.retained_only;
    c.remove_retained = o.remove_retained;
    c.skip_retained = o.skip_retained;
    if (c.retained_only && c.skip_retained) throw usage_error("--retained-only and -R exclude each other");
    c.rate = o.rate;
}

void validate_pub(raw_options const& o, config& c)
{
    // --json: lines as `sub --json` writes them; their fields win, but for -q, which forces.
    c.json_input = o.json;
    c.qos_given = o.qos.has_value();
    if (c.json_input && (o.message || o.file || o.null_message || o.stdin_message))
        throw usage_error("--json reads the messages from standard input: no -m, -f, -s or -n");
    if (c.json_input && o.topic_separator) throw usage_error("--json and --topic-separator exclude each other: the lines name their topics");
    if (c.json_input && o.stdin_lines) throw usage_error("--json and -l exclude each other: --json reads a message a line already");
    c.line_mode = o.stdin_lines || c.json_input;
    c.progress = o.progress;
    c.topic_separator = o.topic_separator;
    if (c.topic_separator && (!c.line_mode || c.topic_separator->empty()))
        throw usage_error("--topic-separator needs -l and a non-empty separator");
    if (o.pace) {
        if (*o.pace != "recorded") throw usage_error(fmt::format("--pace must be 'recorded', not '{}'", *o.pace));
        if (!c.json_input) throw usage_error("--pace recorded needs --json: the times are the lines' tst");
        c.pace_recorded = true;
    }
    if (o.speed && !c.pace_recorded) throw usage_error("--speed needs --pace recorded");
    c.speed = positive_number(o.speed, 1, "--speed");
    c.max_rate = positive_number(o.max_rate, 0, "--rate");
    if (o.max_rate && !c.line_mode)
        throw usage_error("--rate paces -l and --json; for -m, -f, -s or -n give --repeat with --repeat-delay");
    if (o.topics.empty() && !c.topic_separator && !c.json_input) throw usage_error("give the topic with -t");
    if (o.topics.size() > 1) throw usage_error("publish takes exactly one topic (-t)");
    for (auto const& t : o.topics)
        if (auto ec = mqtt::check_topic_name(t)) throw usage_error(topic_problem(t, ec));
    c.topics = o.topics;

    if (!c.json_input) validate_message_source(o, c, true);
    c.retain = o.retain;
    c.repeat = static_cast<std::size_t>(whole_number_or(o.repeat, 1, "--repeat", 1, INT32_MAX));
    if (c.repeat > 1 && c.line_mode) throw usage_error("--repeat does not apply to -l");
    if (o.repeat_delay && !o.repeat) throw usage_error("--repeat-delay needs --repeat: it is the time between repeated messages");
    auto const repeat_delay = seconds(o.repeat_delay, 0, "--repeat-delay", 0, false, 86'400);
    c.repeat_delay = std::chrono::round<std::chrono::milliseconds>(std::chrono::duration<double>{repeat_delay});
    c.max_inflight = static_cast<std::size_t>(whole_number_or(o.max_inflight, 20, "-M", 1, 65535));
}

/// wsmqtt rr: a request to -t, answers on -e (by default a topic of this client's own), -C of
/// them (1), printed as their payload unless -F, --json or -v say otherwise.
void validate_rr(raw_options const& o, config& c)
{
    if (o.topics.empty()) throw usage_error("give the request topic with -t");
    if (o.topics.size() > 1) throw usage_error("a request goes to exactly one topic (-t)");
    if (auto ec = mqtt::check_topic_name(o.topics.front())) throw usage_error(topic_problem(o.topics.front(), ec));
    c.request_topic = o.topics.front();
    // -e is checked with the other properties (validate_mqtt5); a topic made of -i is checked here.
    auto const response = o.response_topic.value_or("wsmqtt/rr/" + c.client_id);
    if (!o.response_topic && mqtt::check_topic_name(response))
        throw usage_error(fmt::format("the response topic '{}' (made of -i) is not a topic name: give one with -e", response));
    c.topics = {response};
    validate_message_source(o, c, false);
    c.count = static_cast<std::size_t>(whole_number_or(o.count, 1, "-C", 1, INT32_MAX));
    validate_output(o, c, "%p");
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

} // namespace

/// `text` as a number, decimals allowed; nullopt if it is not one, whole.
std::optional<double> decimal(std::string const& text)
{
    double value = 0;
    auto const* const end = text.data() + text.size();
    auto const [at, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || at != end) return std::nullopt;
    return value;
}

double seconds(std::optional<std::string> const& text, double fallback, std::string_view option, double min, bool above, double max)
{
    if (!text) return fallback;
    if (auto const value = decimal(*text); value && (above ? *value > min : *value >= min) && *value <= max) return *value;
    throw usage_error(fmt::format("{} must be a number of seconds {} {:g} and at most {:g} (e.g. 2.5), not '{}'", option,
                                  above ? "above" : "from", min, max, *text));
}

/// A number above 0, decimals allowed; `fallback` when the option was not given.
double positive_number(std::optional<std::string> const& text, double fallback, std::string_view option)
{
    if (!text) return fallback;
    if (auto const value = decimal(*text); value && *value > 0 && *value <= 1e9) return *value;
    throw usage_error(fmt::format("{} must be a number above 0 (e.g. 10 or 0.5), not '{}'", option, *text));
}

char const* command_name(command cmd) noexcept
{
    switch (cmd) {
    case command::sub: return "sub";
    case command::pub: return "pub";
    case command::rr: return "rr";
    case command::bench: return "bench";
    }
    return "?";
}

std::int64_t whole_number(std::string const& text, std::string_view option, std::int64_t min, std::int64_t max, std::string_view of)
{
    std::int64_t value = 0;
    auto const* const end = text.data() + text.size();
    auto const [at, ec] = std::from_chars(text.data(), end, value);
    if (ec == std::errc{} && at == end && value >= min && value <= max) return value;
    throw usage_error(fmt::format("{} must be a whole number{} from {} to {}, not '{}'", option, of, min, max, text));
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
    else if (cmd == command::pub) validate_pub(o, c);
    else if (cmd == command::bench) validate_bench(o, c);
    else validate_rr(o, c);
    validate_mqtt5(o, c);
    return c;
}

} // namespace wsmqtt::cli_detail

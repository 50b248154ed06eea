// mosquitto_sub/mosquitto_pub-compatible options with CLI11, an options file and environment
// variables, into raw_options; cli_validate.cpp makes the config. With cli_bench.cpp (wsmqtt
// bench's options), the only translation units that include CLI11; its exceptions end here.
#include "wsmqtt/cli.hpp"

#include "cli_arguments.hpp"
#include "cli_options.hpp"
#include "option_adder.hpp"

#include "wsmqtt/exit_code.hpp"
#include "wsmqtt/version.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

namespace wsmqtt {
namespace {

using cli_detail::arguments;
using cli_detail::contains;
using cli_detail::gather_arguments;
using cli_detail::take_properties;
using cli_detail::suggestion;

using cli_detail::help_formatter;
using cli_detail::option_adder;
using cli_detail::raw_options;
using cli_detail::usage_error;

constexpr char const* environment_help =
    "Environment:\n"
    "  WSMQTT_HOST, WSMQTT_PORT, WSMQTT_USERNAME, WSMQTT_PASSWORD  defaults for -h, -p, -u, -P\n"
    "Files:\n"
    "  $XDG_CONFIG_HOME/wsmqtt/{sub,pub}.conf (default ~/.config/wsmqtt/...), or -o FILE:\n"
    "  one option per line ('-h broker', '--port 8080'); the environment and the command line win.";

} // namespace

/// Where the broker is and how to reach it: the Connection, WebSocket and TLS options that
/// every command has (`url_names`: "-L,--url", or "--url" where -L means something else).
void cli_detail::add_transport_options(option_adder& app, raw_options& o, std::string const& url_names)
{
    app.add_option("-h,--host", o.host, "Broker host name or address (default localhost)")->group("Connection");
    app.add_option("-p,--port", o.port, "Broker port (default 80 ws, 443 wss, 1883 mqtt, 8883 mqtts)")->type_name("INT")->group("Connection");
    app.add_option(url_names, o.url, "Broker URL: ws[s]://[user[:pass]@]host[:port][/path] or mqtt[s]://...")->group("Connection");
    app.add_flag("--tls", o.tls, "Use TLS: wss:// (or mqtts:// with --tcp)")->group("Connection");
    app.add_flag("--tcp", o.tcp, "Plain MQTT over TCP instead of WebSocket (mqtt://, mqtts:// with --tls)")->group("Connection");
    app.add_option("--ws-path", o.ws_path, "WebSocket path (default /mqtt; RabbitMQ uses /ws)")->group("Connection");
    app.add_option("--connect-timeout", o.connect_timeout, "Seconds allowed for connecting and handshakes (default 10)")->type_name("SECONDS")->group("Connection");
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
}

namespace {

void add_common_options(option_adder& app, raw_options& o)
{
    cli_detail::add_transport_options(app, o, "-L,--url");
    app.add_flag("--no-reconnect", o.no_reconnect, "sub, pub -l: exit when the connection is lost (default: reconnect)")->group("Connection");
    app.add_flag("--retry-first", o.retry_first, "sub, pub -l: keep trying when the first connection fails")->group("Connection");
    app.add_option("--reconnect-max", o.reconnect_max, "Longest wait between reconnect attempts in seconds (default 30)")->type_name("SECONDS")->group("Connection");
    app.add_option("-i,--id", o.client_id, "Client id (default wsmqtt-<random>)")->group("Session");
    app.add_option("-I,--id-prefix", o.client_id_prefix, "Client id made of this prefix and the process id")->group("Session");
    app.add_option("-k,--keepalive", o.keepalive, "Keepalive in seconds, 0 = off (default 60)")->type_name("SECONDS")->group("Session");
    app.add_flag("-c,--disable-clean-session", o.no_clean, "Keep the session on the broker (needs -i)")->group("Session");
    app.add_option("-u,--username", o.username, "User name")->group("Session");
    app.add_option("-P,--pw", o.password, "Password; '-' asks for it on the terminal")->group("Session");
    app.add_option("--password-file", o.password_file, "Read the password from this file (first line)")->group("Session");
    app.add_option("-V,--protocol-version", o.protocol_version, "mqttv5 (5), mqttv311 (311, the default) or mqttv31 (31)")->group("Session");
    app.add_option("-x,--session-expiry", o.session_expiry, "MQTT 5: keep the session this long after a disconnect (never: for ever; needs -i)")
        ->type_name("SECONDS")->group("MQTT 5");
    app.add_option("--auth-method", o.auth_method, "MQTT 5 enhanced authentication: the method, e.g. SCRAM-SHA-256 (single step)")
        ->group("MQTT 5");
    app.add_option("--auth-data", o.auth_data, "MQTT 5 enhanced authentication: the data sent with CONNECT (text, hex:... or base64:...)")
        ->group("MQTT 5");
    app.add_option("-D,--property", o.property_help,
                   "MQTT 5 property: COMMAND PROPERTY VALUE, COMMAND one of connect, publish, subscribe, unsubscribe, "
                   "disconnect, will (repeatable; user-property takes KEY VALUE; binary values as hex:... or base64:...)")
        ->type_name("COMMAND PROPERTY VALUE")->group("MQTT 5");
    app.add_option("--will-topic", o.will_topic, "Topic of the last will, sent by the broker if we vanish")->group("Session");
    app.add_option("--will-payload", o.will_payload, "Payload of the last will")->group("Session");
    app.add_option("--will-qos", o.will_qos, "QoS of the last will (default 0)")->type_name("INT")->group("Session");
    app.add_flag("--will-retain", o.will_retain, "Retain the last will")->group("Session");
    app.add_option("-q,--qos", o.qos, "Quality of service 0, 1 or 2 (default 0)")->type_name("INT")->group("Messages");
    app.add_option("-W,--timeout", o.timeout, "Give up after this many seconds (exit code 27)")->type_name("SECONDS")->group("Messages");
    app.add_option("-o,--options-file", o.options_file, "Read options from this file first")->group("Other");
    app.add_flag("-d,--debug", o.debug, "Print every packet sent and received on stderr")->group("Other");
    app.add_flag("--quiet", o.quiet, "Print no error messages (the exit code still tells)")->group("Other");
}

/// -F, --json, -v, -N: how sub and rr print messages (`fallback`: without them).
void add_output_options(option_adder& app, raw_options& o, std::string_view fallback)
{
    app.add_option("-F,--format", o.format, fmt::format("Output format (default '{}'; see README)", fallback))->group("Output");
    app.add_flag("--json", o.json, "One JSON object per message and line; binary payloads in base64")->group("Output");
    app.add_flag("-v,--verbose", o.verbose, "Print 'topic payload' (mosquitto_sub -v)")->group("Output");
    app.add_flag("-N", o.no_newline, "Do not end each message with a newline")->group("Output");
}

/// -m, -f, -s, -n: the message of pub and rr.
void add_message_options(option_adder& app, raw_options& o)
{
    app.add_option("-m,--message", o.message, "Message text")->group("Messages");
    app.add_option("-f,--file", o.file, "Send the contents of this file (binary-safe)")->group("Messages");
    app.add_flag("-s,--stdin-file", o.stdin_message, "Send all of standard input as one message")->group("Messages");
    app.add_flag("-n,--null-message", o.null_message, "Send an empty message")->group("Messages");
}

/// The MQTT 5 properties of a message (pub, and rr's request); `response_topic`: the option
/// that names the Response Topic (rr: -e).
void add_message_property_options(option_adder& app, raw_options& o, std::string const& response_topic)
{
    app.add_option("--user-property", o.user_properties, "MQTT 5: a user property of each message, KEY=VALUE (repeatable, in order)")
        ->group("MQTT 5")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--content-type", o.content_type, "MQTT 5: Content Type of the message, e.g. application/json")->group("MQTT 5");
    app.add_option(response_topic, o.response_topic,
                   response_topic == "--response-topic" ? "MQTT 5: Response Topic of the message"
                                                        : "Topic of the answers: the request's Response Topic (default wsmqtt/rr/<client id>)")
        ->group(response_topic == "--response-topic" ? "MQTT 5" : "Messages");
    app.add_option("--correlation-data", o.correlation_data, "MQTT 5: Correlation Data: text, hex:... or base64:...")->group("MQTT 5");
    app.add_option("--message-expiry", o.message_expiry, "MQTT 5: the broker drops the message if not delivered within this time")
        ->type_name("SECONDS")->group("MQTT 5");
    app.add_option("--payload-format", o.payload_format, "MQTT 5: utf8 (the payload is UTF-8 text) or unspecified")->group("MQTT 5");
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
    app.add_option("-C,--count", o.count, "Exit after this many messages")->type_name("INT")->group("Messages");
    app.add_flag("-E", o.exit_after_subscribe, "Exit once subscribed (with -c: create a persistent session)")->group("Messages");
    app.add_flag("-R,--no-retained", o.skip_retained, "Do not print retained (stale) messages")->group("Messages");
    app.add_flag("--retained-only", o.retained_only, "Print retained messages only; exit at the first live one")->group("Messages");
    app.add_flag("--remove-retained", o.remove_retained, "Clear every retained message received (see -T)")->group("Messages");
    add_output_options(app, o, "Topic: %t | %p");
    app.add_flag("--rate", o.rate, "Print messages/s and bytes/s received on stderr once a second")->group("Output");
    app.add_option("--user-property", o.user_properties, "MQTT 5: a user property of the SUBSCRIBE, KEY=VALUE (repeatable)")
        ->group("MQTT 5")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--subscription-id", o.subscription_id, "MQTT 5: Subscription Identifier, shown by %S (1 to 268435455)")
        ->type_name("INT")->group("MQTT 5");
    app.add_flag("--no-local", o.no_local, "MQTT 5: not the messages this client publishes")->group("MQTT 5");
    app.add_flag("--retain-as-published", o.retain_as_published, "MQTT 5: keep the retain flag the publisher set")->group("MQTT 5");
    app.add_option("--retain-handling", o.retain_handling, "MQTT 5: retained messages always (default), new (for a new subscription) or never")
        ->group("MQTT 5");
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
    add_message_options(app, o);
    app.add_flag("-l,--stdin-line", o.stdin_lines, "Send each line of standard input as a message, as lines arrive")->group("Messages");
    app.add_option("--topic-separator", o.topic_separator, "With -l: lines are TOPIC<SEP>PAYLOAD (e.g. ' ')")->group("Messages");
    app.add_flag("--json", o.json, "Each line of standard input is a message as 'wsmqtt sub --json' prints it (topic, payload, qos, ...)")
        ->group("Messages");
    app.add_option("--pace", o.pace, "With --json: 'recorded' keeps the spacing of the lines' tst times")->group("Messages");
    app.add_option("--speed", o.speed, "With --pace recorded: this many times faster (e.g. 10, 0.5)")->group("Messages");
    app.add_option("--rate", o.max_rate, "At most this many messages a second")->group("Messages");
    app.add_flag("-r,--retain", o.retain, "Ask the broker to retain the message")->group("Messages");
    app.add_option("--repeat", o.repeat, "Publish the message this many times")->type_name("INT")->group("Messages");
    app.add_flag_function("--progress,!--no-progress", [&o](std::int64_t n) { o.progress = n > 0; },
                          "Show progress on stderr (default: when it is a terminal and the input size is known)")
        ->group("Output");
    app.add_option("--repeat-delay", o.repeat_delay, "Seconds between repeated messages")->type_name("SECONDS")->group("Messages");
    add_message_property_options(app, o, "--response-topic");
    app.add_option("--topic-alias", o.topic_alias, "MQTT 5: Topic Alias: later messages (-l, --repeat) send the alias, not the topic")
        ->type_name("INT")->group("MQTT 5");
    app.add_option("-M,--max-inflight", o.max_inflight, "QoS 1/2 messages awaiting acknowledgement at once (default 20)")->type_name("INT")->group("Messages");
    app.footer(std::string{"Examples:\n"
                            "  wsmqtt pub -h broker.example -p 8080 -t demo/hello -m 'hello'\n"
                            "  wsmqtt pub -L wss://broker.example/mqtt -t firmware/v2 -f image.bin -q 1\n"
                            "  tail -F app.log | wsmqtt pub -h localhost -t logs/app -l -q 1   # a message per line\n"} +
                environment_help);
}

void add_rr_options(option_adder& app, raw_options& o)
{
    add_common_options(app, o);
    app.add_option("-t,--topic", o.topics, "Topic to send the request to")->group("Messages");
    add_message_options(app, o);
    app.add_option("-C,--count", o.count, "Wait for this many answers (default 1)")->type_name("INT")->group("Messages");
    add_output_options(app, o, "%p");
    add_message_property_options(app, o, "-e,--response-topic");
    app.add_option("--retain-handling", o.retain_handling, "MQTT 5: retained answers never (default), new or always")->group("MQTT 5");
    app.footer(std::string{"A request with a Response Topic and Correlation Data of its own (MQTT 5); only answers that carry\n"
                            "the same Correlation Data are taken. Exit 27 when -W passes without them.\n"
                            "Examples:\n"
                            "  wsmqtt rr -h broker.example -t service/time -m now -W 5\n"
                            "  wsmqtt rr -L ws://localhost:8080/mqtt -t calc/add -e calc/answers -m '{\"a\":1,\"b\":2}' --json\n"} +
                environment_help);
}

// --- Where arguments come from: options file, environment, command line ---------------------

/// The words for an argument CLI11 did not take: an unknown option (with the nearest known one)
/// or a value no option wanted.
std::string unexpected(std::vector<std::string> const& extras, arguments const& given, std::vector<std::string> const& known,
                       std::string_view command)
{
    for (auto const& extra : extras) {
        if (extra.size() < 2 || extra[0] != '-') continue;
        auto const name = extra.substr(0, extra.find('='));
        return fmt::format("unknown option '{}' for wsmqtt {}{}{} (see wsmqtt {} --help)", name, command, suggestion(name, known),
                           given.where(extra), command);
    }
    auto const& extra = extras.front();
    return fmt::format("unexpected argument '{}'{}: an option takes one value (quote a value that has spaces, repeat -t for more topics)",
                       extra, given.where(extra));
}

} // namespace

parse_result parse_command_line(int argc, char const* const* argv)
{
    CLI::App app{"wsmqtt: MQTT over WebSocket from the command line", "wsmqtt"};
    // -h is the host, as in mosquitto_sub/mosquitto_pub; help is --help only.
    app.set_help_flag("--help", "Show this help and exit");
    app.set_version_flag("--version", std::string{"wsmqtt "} + version);
    app.require_subcommand(1);
    app.formatter(std::make_shared<help_formatter>());
    // An option given twice (options file, then command line) takes the last value.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.footer("Run 'wsmqtt sub --help', 'wsmqtt pub --help', 'wsmqtt rr --help' or 'wsmqtt bench --help' for the options of each.\n"
               "Exit codes: 0 ok, 1 network, 2 usage, 3 TLS, 4 WebSocket, 5 protocol, 6 subscription refused, 7 proxy,\n"
               "8 stdout not writable, 9 internal, 11-15 connection refused by the broker (CONNACK 1-5, or the MQTT 5\n"
               "reason that means the same), 16 refused for another MQTT 5 reason, 17 a message refused (MQTT 5),\n"
               "18 bench: messages lost at QoS 1 or 2, 27 timeout (-W), 128+N pub ended by signal N before the broker had\n"
               "every message.");

    std::vector<std::string> const argv_list(argv + 1, argv + argc);
    bool const quiet = contains(argv_list, {"--quiet"});
    auto const fail = [quiet](std::string words) -> parse_result {
        if (!quiet) std::cerr << "wsmqtt: error: " << words << '\n';
        return {std::nullopt, to_int(exit_code::usage), std::move(words)};
    };
    // The command comes first; say what was typed instead of CLI11's "A subcommand is required".
    if (argv_list.empty()) return fail("say what to do: wsmqtt sub … to subscribe, wsmqtt pub … to publish (see wsmqtt --help)");
    auto const is_command = [](std::string const& a) { return a == "sub" || a == "pub" || a == "rr" || a == "bench"; };
    if (auto const& first = argv_list.front(); !is_command(first) && first != "--help" && first != "--version") {
        auto const command = std::find_if(argv_list.begin(), argv_list.end(), is_command);
        if (first.starts_with("-") && command != argv_list.end())
            return fail(fmt::format("options go after the command: wsmqtt {} {} …", *command, first));
        if (first.starts_with("-"))
            return fail(fmt::format("unknown option '{}'{} (see wsmqtt --help)", first, suggestion(first, {"--help", "--version"})));
        return fail(fmt::format("unknown command '{}'{}: the commands are sub, pub, rr and bench (see wsmqtt --help)", first,
                                suggestion(first, {"sub", "pub", "rr", "bench"})));
    }

    arguments given;
    try {
        given = gather_arguments(argc, argv);
    } catch (usage_error const& e) {
        return fail(e.what());
    }
    // mosquitto_pub refuses a second -m (which of the two was meant?); so do we, and a second
    // -V. An options file may give them once more: the command line wins over it.
    for (auto const& names : {std::array<std::string_view, 2>{"-m", "--message"}, std::array<std::string_view, 2>{"-V", "--protocol-version"}}) {
        auto const on_command_line = [&](std::size_t i) {
            auto const& a = given.args[i];
            auto const name = std::string_view{a}.substr(0, a.find('='));
            return given.origin[i].empty() && (name == names[0] || name == names[1] || (a.size() > 2 && a.starts_with(names[0])));
        };
        std::size_t times = 0;
        for (std::size_t i = 1; i < given.args.size(); ++i)
            if (on_command_line(i) && (given.args[i - 1] != "-D" && given.args[i - 1] != "--property")) ++times;
        if (times > 1) return fail(fmt::format("{} given {} times: give it once", names[0], times));
    }
    auto args = given.args;
    raw_options o;
    try {
        o.properties = take_properties(args);
    } catch (usage_error const& e) {
        return fail(e.what());
    }

    // Only the named subcommand gets its options: building all of them took most of the time
    // of `wsmqtt --version` (CLI11 checks each new option against all the others).
    std::string const chosen = is_command(args.front()) ? args.front() : std::string{};

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
    auto* rr = app.add_subcommand("rr", "Send a request and wait for its answer (MQTT 5): wsmqtt rr -h host -t topic -m text");
    if (chosen == "rr") {
        option_adder adder{*rr, args};
        add_rr_options(adder, o);
    }
    auto* bench = app.add_subcommand("bench", "Load test a broker: wsmqtt bench conn|pub|sub -c clients …, wsmqtt bench merge FILES");
    if (chosen == "bench") {
        option_adder adder{*bench, args};
        cli_detail::add_bench_options(adder, o);
    }
    // Every option name of the command, for "did you mean": only after an error.
    auto const known = [&] {
        raw_options unused;
        option_adder collector{*sub, args, true};
        if (chosen == "sub") add_sub_options(collector, unused);
        else if (chosen == "pub") add_pub_options(collector, unused);
        else if (chosen == "bench") cli_detail::add_bench_options(collector, unused);
        else add_rr_options(collector, unused);
        return collector.names();
    };

    // An option of the options file or the environment takes its value from its own line: the
    // next argument (a later line, the command line) is never its value.
    if (auto* const command = chosen == "sub" ? sub : chosen == "pub" ? pub : chosen == "rr" ? rr : chosen == "bench" ? bench : nullptr) {
        for (std::size_t i = 0; i < given.args.size(); ++i) {
            auto const& a = given.args[i];
            if (given.origin[i].empty() || a.size() < 2 || a[0] != '-' || a.find('=') != std::string::npos) continue;
            auto const* const option = command->get_option_no_throw(a);
            if (!option || option->get_items_expected_min() == 0) continue;
            if (i + 1 == given.args.size() || given.origin[i + 1] != given.origin[i])
                return fail(fmt::format("{} needs a value ({})", a, given.origin[i]));
        }
    }
    try {
        std::reverse(args.begin(), args.end()); // CLI11 takes a reversed vector
        app.parse(args);
    } catch (CLI::CallForHelp const& e) {
        return {std::nullopt, app.exit(e), {}};
    } catch (CLI::CallForVersion const& e) {
        return {std::nullopt, app.exit(e), {}};
    } catch (CLI::ExtrasError const&) {
        auto const extras = app.remaining(true);
        if (extras.empty()) return fail("unexpected arguments (see wsmqtt --help)");
        return fail(unexpected(extras, given, known(), chosen));
    } catch (CLI::ArgumentMismatch const& e) {
        // "--keepalive: 1 required TEXT missing": the option was last, without its value.
        std::string_view const what = e.what();
        return fail(fmt::format("{} needs a value (see wsmqtt {} --help)", what.substr(0, what.find(':')), chosen));
    } catch (CLI::ParseError const& e) {
        return fail(fmt::format("{} (see wsmqtt {} --help)", e.what(), chosen));
    }

    try {
        auto const cmd = sub->parsed() ? command::sub : pub->parsed() ? command::pub : bench->parsed() ? command::bench : command::rr;
        return {cli_detail::validate(o, cmd), 0, {}};
    } catch (usage_error const& e) {
        return fail(e.what() + given.where_quoted(e.what()));
    }
}

} // namespace wsmqtt

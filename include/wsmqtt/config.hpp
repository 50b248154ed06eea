// Everything a run needs, filled once by the command line and read by the rest: plain data.
#pragma once

#include "wsmqtt/mqtt/packet.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wsmqtt {

enum class scheme { ws, wss, mqtt, mqtts };

/// Where the broker is: the transport, host, port and (for ws/wss) the HTTP path.
struct endpoint {
    wsmqtt::scheme scheme = scheme::ws;
    std::string host = "localhost";
    std::uint16_t port = 80;
    std::string path = "/mqtt";
    bool operator==(endpoint const&) const = default;
};

struct tls_options {
    std::string cafile;    ///< extra CA certificates (PEM), besides the system store
    std::string capath;    ///< a folder of hashed CA certificates (c_rehash), besides the system store
    std::string cert;      ///< client certificate (PEM)
    std::string key;       ///< its private key (PEM)
    std::optional<std::string> key_password; ///< for an encrypted key
    std::string version;   ///< "" (TLS 1.2 or later), "tlsv1.2" or "tlsv1.3": the only version allowed
    std::string ciphers;   ///< OpenSSL cipher list for TLS 1.2
    std::vector<std::string> alpn; ///< ALPN protocols to offer
    std::string keylog;    ///< file to append TLS secrets to (NSS key log format, for Wireshark)
    bool insecure = false; ///< no certificate or host name verification
};

struct websocket_options {
    std::vector<std::pair<std::string, std::string>> headers; ///< -H 'Name: value'
    std::string origin;
    std::string user_agent;  ///< empty: wsmqtt/<version>
    std::string subprotocol; ///< empty: mqtt (mqttv3.1 with -V mqttv31)
    bool compress = false;   ///< offer permessage-deflate (RFC 7692)
};

/// A proxy between us and the broker.
struct proxy {
    enum class kind { http, socks5, socks5h } type = kind::http; ///< socks5h: the proxy resolves names
    std::string host;
    std::uint16_t port = 1080;
    std::optional<std::string> username;
    std::optional<std::string> password;
    bool operator==(proxy const&) const = default;
};

enum class command { sub, pub, rr };

/// MQTT 5 (-V 5): the properties of each packet we send, from -D and the named flags (-x,
/// --user-property, --content-type…), and the options of each subscription. Empty with 3.1.1.
/// The Will Properties are in config::will.
struct mqtt5_options {
    mqtt::properties connect;
    mqtt::properties publish;
    mqtt::properties subscribe;
    mqtt::properties unsubscribe;
    mqtt::properties disconnect;
    bool no_local = false;            ///< --no-local: not our own messages back [MQTT-3.8.3-3]
    bool retain_as_published = false; ///< --retain-as-published
    std::uint8_t retain_handling = 0; ///< --retain-handling: 0 always, 1 new subscriptions only, 2 never
};

/// Where the message of -m, -f, -s or -n comes from. The parser only names it; the run reads it
/// (read_payload), so that the config stays as parsed.
struct payload_source {
    enum class kind { text, file, standard_input } from = kind::text;
    std::string text; ///< -m's text (empty for -n), or -f's path
};

struct config {
    wsmqtt::command command = command::sub;
    wsmqtt::endpoint endpoint;
    tls_options tls;
    websocket_options ws;
    std::optional<wsmqtt::proxy> proxy; ///< from --proxy or the environment; none when direct

    // Session
    std::string client_id;          ///< never empty after parsing
    bool clean_session = true;
    std::uint16_t keepalive = 60;   ///< seconds, 0 = off
    std::optional<std::string> username;
    std::optional<std::string> password;
    mqtt::protocol_version version = mqtt::protocol_version::v311;
    std::chrono::milliseconds connect_timeout{std::chrono::seconds{10}};
    std::size_t max_packet_size = 256u * 1024u * 1024u + 5u; ///< larger packets from the broker end the connection
    bool no_reconnect = false;      ///< sub and pub -l: exit when a connection is lost
    bool retry_first = false;       ///< keep trying when the first connection fails
    std::chrono::milliseconds reconnect_max{std::chrono::seconds{30}}; ///< longest wait between attempts

    std::optional<mqtt::will> will;  ///< --will-topic, --will-payload, --will-qos, --will-retain; -D will …
    mqtt5_options v5;                ///< MQTT 5 properties and subscription options

    // sub
    std::vector<std::string> topics; ///< filters for sub; at most one name for pub; rr: the response topic
    std::string request_topic;       ///< rr: where the request goes (its Response Topic and Correlation Data in v5.publish)
    mqtt::qos qos = mqtt::qos::at_most_once;
    std::size_t count = 0;           ///< -C: stop after this many messages, 0 = never
    std::chrono::seconds timeout{0}; ///< -W: give up after this long, 0 = never
    std::string format;              ///< output format (mosquitto -F language)
    bool no_newline = false;         ///< -N
    std::vector<std::string> hidden_topics;      ///< -T: filters whose messages are not printed
    std::vector<std::string> unsubscribe_topics; ///< -U: filters to unsubscribe from
    bool exit_after_subscribe = false;           ///< -E
    bool retained_only = false;                  ///< --retained-only
    bool remove_retained = false;                ///< --remove-retained
    bool skip_retained = false;                  ///< -R
    bool rate = false;                           ///< --rate

    // pub
    payload_source payload;          ///< -m, -f, -s, -n (pub and rr)
    bool line_mode = false;          ///< -l: one message per line of stdin (and --json)
    bool json_input = false;         ///< --json: each line is an object as `sub --json` writes it
    bool qos_given = false;          ///< -q was given: with --json it wins over the lines' "qos"
    bool pace_recorded = false;      ///< --pace recorded: the lines' "tst" spacing, divided by `speed`
    double speed = 1;                ///< --speed
    double max_rate = 0;             ///< --rate N: at most N messages a second; 0: as fast as the broker takes them
    std::optional<std::string> topic_separator; ///< with -l: "topic<SEP>payload" lines
    bool retain = false;
    std::size_t repeat = 1;          ///< --repeat
    std::chrono::milliseconds repeat_delay{0};
    std::size_t max_inflight = 20;   ///< -M: QoS 1/2 messages awaiting acknowledgement
    /// --progress / --no-progress; unset: shown when stderr is a terminal and the size of the
    /// input is known (-f, -s or -l from a regular file).
    std::optional<bool> progress;

    // Diagnostics
    bool debug = false; ///< -d: one line per packet on stderr
    bool quiet = false; ///< --quiet: no error output
};

/// Scheme names as written in URLs.
[[nodiscard]] char const* scheme_name(scheme s) noexcept;
[[nodiscard]] std::uint16_t default_port(scheme s) noexcept;
[[nodiscard]] constexpr bool uses_tls(scheme s) noexcept { return s == scheme::wss || s == scheme::mqtts; }
[[nodiscard]] constexpr bool uses_websocket(scheme s) noexcept { return s == scheme::ws || s == scheme::wss; }

/// A parsed -L URL: ws[s]://[user[:pass]@]host[:port][/path] or mqtt[s]://...
struct url {
    wsmqtt::endpoint endpoint;
    std::optional<std::string> username;
    std::optional<std::string> password;
};

/// Parses a broker URL; on failure returns nullopt and sets `error` to the reason.
[[nodiscard]] std::optional<url> parse_url(std::string_view text, std::string& error);

/// "host:port" for messages, with brackets around IPv6 addresses.
[[nodiscard]] std::string host_and_port(endpoint const& e);

/// The HTTP Host header: the port is added only when it is not the scheme's default
/// (RFC 7230 §5.4, RFC 6455 §4.1).
[[nodiscard]] std::string host_header(endpoint const& e);

/// The URL of an endpoint without credentials, e.g. "ws://localhost:8080/mqtt".
[[nodiscard]] std::string to_string(endpoint const& e);

/// A URL with the password replaced by "****", for messages.
[[nodiscard]] std::string mask_credentials(std::string_view url);

/// Parses a proxy URL: http://[user:pass@]host[:port], socks5://…, socks5h://… (no scheme: http).
[[nodiscard]] std::optional<proxy> parse_proxy(std::string_view text, std::string& error);

/// The proxy the environment names for `e`, as curl chooses it: https_proxy/HTTPS_PROXY for
/// wss:// and mqtts://, http_proxy for ws://, then all_proxy/ALL_PROXY; none when no_proxy or
/// NO_PROXY matches the host ("*", a host name or domain suffix, or an address).
/// `getenv` is passed in so that tests need not touch the process environment.
[[nodiscard]] std::optional<proxy> proxy_from_environment(endpoint const& e, char const* (*getenv)(char const*),
                                                          std::string& error);

} // namespace wsmqtt

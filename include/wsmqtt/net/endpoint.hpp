// Where the broker is and how to reach it: the URL's parts, the proxy, TLS and WebSocket
// options. Plain data of the net layer; the config (config.hpp) holds them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

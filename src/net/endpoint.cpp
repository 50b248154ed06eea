// Broker URLs and endpoints: parsing -L and naming endpoints in messages and headers.
#include "wsmqtt/net/endpoint.hpp"

#include <charconv>

namespace wsmqtt {
namespace {

bool is_ipv6_literal(std::string_view host) noexcept { return host.find(':') != std::string_view::npos; }

/// Percent-decoding for the user-info part ("p%40ss" -> "p@ss").
std::optional<std::string> percent_decode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        unsigned value = 0;
        if (i + 2 >= s.size()) return std::nullopt; // "%" needs two hex digits
        auto const [ptr, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
        if (ec != std::errc{} || ptr != s.data() + i + 3) return std::nullopt;
        out += static_cast<char>(value);
        i += 2;
    }
    return out;
}

} // namespace

char const* scheme_name(scheme s) noexcept
{
    switch (s) {
    case scheme::ws: return "ws";
    case scheme::wss: return "wss";
    case scheme::mqtt: return "mqtt";
    case scheme::mqtts: return "mqtts";
    }
    return "ws";
}

std::uint16_t default_port(scheme s) noexcept
{
    switch (s) {
    case scheme::ws: return 80;
    case scheme::wss: return 443;
    case scheme::mqtt: return 1883;
    case scheme::mqtts: return 8883;
    }
    return 80;
}

std::optional<url> parse_url(std::string_view text, std::string& error)
{
    url u;
    auto const sep = text.find("://");
    if (sep == std::string_view::npos) {
        error = "missing scheme (expected ws://, wss://, mqtt:// or mqtts://)";
        return std::nullopt;
    }
    auto const scheme_text = text.substr(0, sep);
    if (scheme_text == "ws") u.endpoint.scheme = scheme::ws;
    else if (scheme_text == "wss") u.endpoint.scheme = scheme::wss;
    else if (scheme_text == "mqtt" || scheme_text == "tcp") u.endpoint.scheme = scheme::mqtt;
    else if (scheme_text == "mqtts" || scheme_text == "ssl" || scheme_text == "tls") u.endpoint.scheme = scheme::mqtts;
    else {
        error = "unsupported scheme '" + std::string{scheme_text} + "' (expected ws, wss, mqtt or mqtts)";
        return std::nullopt;
    }
    auto rest = text.substr(sep + 3);
    auto const path_start = rest.find_first_of("/?#");
    auto authority = rest.substr(0, path_start);
    std::string path = path_start == std::string_view::npos ? std::string{} : std::string{rest.substr(path_start)};
    if (auto const hash = path.find('#'); hash != std::string::npos) path.erase(hash);
    if (path.empty() || path.front() != '/') path = "/" + path;
    // Without a path the WebSocket path defaults to /mqtt, like the common brokers.
    u.endpoint.path = path_start == std::string_view::npos ? "/mqtt" : path;

    if (auto const at = authority.rfind('@'); at != std::string_view::npos) {
        auto const userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        auto const colon = userinfo.find(':');
        auto user = percent_decode(userinfo.substr(0, colon));
        if (!user) {
            error = "bad percent-encoding in the user name";
            return std::nullopt;
        }
        u.username = std::move(*user);
        if (colon != std::string_view::npos) {
            auto pass = percent_decode(userinfo.substr(colon + 1));
            if (!pass) {
                error = "bad percent-encoding in the password";
                return std::nullopt;
            }
            u.password = std::move(*pass);
        }
    }

    std::string_view host;
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        auto const close = authority.find(']');
        if (close == std::string_view::npos) {
            error = "unterminated '[' in the host";
            return std::nullopt;
        }
        host = authority.substr(1, close - 1);
        auto const after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                error = "unexpected text after ']' in the host";
                return std::nullopt;
            }
            port_text = after.substr(1);
        }
    } else {
        auto const colon = authority.rfind(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (host.empty()) {
        error = "missing host";
        return std::nullopt;
    }
    u.endpoint.host = std::string{host};
    u.endpoint.port = default_port(u.endpoint.scheme);
    if (!port_text.empty()) {
        unsigned port = 0;
        auto const [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port == 0 || port > 65535) {
            error = "invalid port '" + std::string{port_text} + "'";
            return std::nullopt;
        }
        u.endpoint.port = static_cast<std::uint16_t>(port);
    }
    return u;
}

std::string host_and_port(endpoint const& e)
{
    auto host = is_ipv6_literal(e.host) ? "[" + e.host + "]" : e.host;
    return host + ":" + std::to_string(e.port);
}

std::string host_header(endpoint const& e)
{
    if (e.port == default_port(e.scheme)) return is_ipv6_literal(e.host) ? "[" + e.host + "]" : e.host;
    return host_and_port(e);
}

std::string to_string(endpoint const& e)
{
    auto s = std::string{scheme_name(e.scheme)} + "://" + host_and_port(e);
    if (uses_websocket(e.scheme)) s += e.path;
    return s;
}

} // namespace wsmqtt

namespace wsmqtt {

std::string mask_credentials(std::string_view url)
{
    auto const sep = url.find("://");
    auto const start = sep == std::string_view::npos ? 0 : sep + 3;
    auto const end = url.find_first_of("/?#", start);
    auto const authority = url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    auto const at = authority.rfind('@');
    if (at == std::string_view::npos) return std::string{url};
    auto const colon = authority.find(':');
    if (colon == std::string_view::npos || colon > at) return std::string{url};
    return std::string{url.substr(0, start + colon + 1)} + "****" + std::string{url.substr(start + at)};
}

std::optional<proxy> parse_proxy(std::string_view text, std::string& error)
{
    proxy p;
    auto const sep = text.find("://");
    auto const scheme = sep == std::string_view::npos ? std::string_view{"http"} : text.substr(0, sep);
    if (scheme == "http") p.type = proxy::kind::http;
    else if (scheme == "socks5") p.type = proxy::kind::socks5;
    else if (scheme == "socks5h") p.type = proxy::kind::socks5h;
    else {
        error = "unsupported proxy scheme '" + std::string{scheme} + "' (expected http, socks5 or socks5h)";
        return std::nullopt;
    }
    // Reuse the broker URL parser for the authority: user, password, host, port.
    auto const rest = sep == std::string_view::npos ? text : text.substr(sep + 3);
    auto const authority = rest.substr(0, rest.find('/'));
    auto u = parse_url("mqtt://" + std::string{authority}, error);
    if (!u) return std::nullopt;
    p.host = u->endpoint.host;
    // Without a port, proxies listen on 1080 (curl's default).
    auto host_port = authority.substr(authority.rfind('@') == std::string_view::npos ? 0 : authority.rfind('@') + 1);
    bool const has_port = host_port.front() == '[' ? host_port.find("]:") != std::string_view::npos
                                                   : host_port.find(':') != std::string_view::npos;
    p.port = has_port ? u->endpoint.port : std::uint16_t{1080};
    p.username = u->username;
    p.password = u->password;
    return p;
}

namespace {

bool no_proxy_matches(std::string_view list, std::string_view host)
{
    std::size_t start = 0;
    while (start <= list.size()) {
        auto const end = std::min(list.find(',', start), list.size());
        auto entry = list.substr(start, end - start);
        start = end + 1;
        while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t')) entry.remove_prefix(1);
        while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
        if (entry.empty()) continue;
        if (entry == "*") return true;
        if (entry.front() == '.') entry.remove_prefix(1);
        if (host == entry) return true;
        // "example.com" matches "broker.example.com", not "badexample.com".
        if (host.size() > entry.size() && host.substr(host.size() - entry.size()) == entry &&
            host[host.size() - entry.size() - 1] == '.')
            return true;
    }
    return false;
}

} // namespace

std::optional<proxy> proxy_from_environment(endpoint const& e, char const* (*getenv)(char const*), std::string& error)
{
    auto const value = [&](char const* name) -> std::string_view {
        char const* v = getenv(name);
        return v ? std::string_view{v} : std::string_view{};
    };
    auto no_proxy = value("no_proxy");
    if (no_proxy.empty()) no_proxy = value("NO_PROXY");
    if (no_proxy_matches(no_proxy, e.host)) return std::nullopt;

    std::string_view chosen;
    if (uses_tls(e.scheme)) {
        chosen = value("https_proxy");
        if (chosen.empty()) chosen = value("HTTPS_PROXY");
    } else if (e.scheme == scheme::ws) {
        chosen = value("http_proxy"); // lower case only, as curl does (HTTP_PROXY is CGI's "httpoxy")
    }
    if (chosen.empty()) chosen = value("all_proxy");
    if (chosen.empty()) chosen = value("ALL_PROXY");
    if (chosen.empty()) return std::nullopt;
    auto p = parse_proxy(chosen, error);
    if (!p) error = "proxy from the environment '" + mask_credentials(chosen) + "': " + error;
    return p;
}

} // namespace wsmqtt

// Broker URLs and endpoints: parsing -L and naming endpoints in messages and headers.
#include "wsmqtt/config.hpp"

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

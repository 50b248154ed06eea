// The transport's errors in words, with their exit codes (README.md, "Exit codes"): the one
// place where what the transport found becomes what the user reads. No Boost, no OpenSSL.
#include "wsmqtt/net/transport_error.hpp"

#include <fmt/format.h>

namespace wsmqtt {
namespace {

/// "1001 going away: \"reason\"": a WebSocket close status (RFC 6455 §7.4.1) in words.
std::string close_words(std::uint64_t code, std::string const& reason)
{
    char const* name = nullptr;
    switch (code) {
    case 0:
    case 1005: return reason.empty() ? "without a status" : "without a status: \"" + reason + "\"";
    case 1000: name = "normal"; break;
    case 1001: name = "going away"; break;
    case 1002: name = "protocol error"; break;
    case 1003: name = "unsupported data"; break;
    case 1007: name = "invalid data"; break;
    case 1008: name = "policy violation"; break;
    case 1009: name = "message too big"; break;
    case 1011: name = "server error"; break;
    case 1012: name = "service restart"; break;
    case 1013: name = "try again later"; break;
    default: break;
    }
    auto text = std::to_string(code);
    if (name) text += std::string{" "} + name;
    if (!reason.empty()) text += ": \"" + reason + "\"";
    return text;
}


using enum transport_errc;

std::string seconds(std::uint64_t ms) { return fmt::format("{:g} s", static_cast<double>(ms) / 1000.0); }

/// Words for a handshake's connection that failed (`why`) or closed (empty `why`).
std::string closed_or(std::string const& why, std::string_view closed) { return why.empty() ? std::string{closed} : why; }

/// For a WebSocket handshake with host:port that got nowhere: MQTT's own TCP ports say why.
std::string port_hint(std::string_view where)
{
    auto const port = where.substr(where.rfind(':') + 1);
    if (port == "1883" || port == "8883") return fmt::format("port {} is for MQTT over TCP: add --tcp", port);
    return "is it a WebSocket port? For MQTT over TCP add --tcp";
}

std::string words(transport_error const& e)
{
    auto const& s = e.subject;
    auto const& d = e.detail;
    switch (e.code) {
    case host_not_found: return fmt::format("host not found: {}", s);
    case resolve_failed: return fmt::format("cannot resolve {}: {}", s, d);
    case connection_refused: return fmt::format("connection refused to {}", s);
    case connect_failed: return fmt::format("cannot connect to {}: {}", s, d);
    case proxy_host_not_found: return fmt::format("proxy host not found: {}", s);
    case proxy_resolve_failed: return fmt::format("cannot resolve proxy {}: {}", s, d);
    case proxy_connection_refused: return fmt::format("connection refused by proxy {}", s);
    case proxy_connect_failed: return fmt::format("cannot connect to proxy {}: {}", s, d);

    case resolve_timed_out: return fmt::format("cannot resolve {}: timed out after {}", s, seconds(e.number));
    case connect_timed_out: return fmt::format("connection to {}{} timed out after {}", e.target.empty() ? "" : "proxy ", s, seconds(e.number));
    case proxy_timed_out: return fmt::format("proxy {} did not answer within {}", s, seconds(e.number));
    case tls_timed_out: return fmt::format("TLS handshake with {} timed out after {}", s, seconds(e.number));
    case websocket_timed_out:
        if (e.port_proven) return fmt::format("WebSocket handshake with {} timed out after {}", s, seconds(e.number));
        return fmt::format("WebSocket handshake with {} timed out after {} ({})", s, seconds(e.number), port_hint(s));

    case proxy_malformed_answer: return fmt::format("proxy {} answered CONNECT with {}", s, d);
    case proxy_wants_credentials:
        return fmt::format("proxy {} requires authentication (HTTP {}): give it in --proxy http://user:pass@host:port", s, e.number);
    case proxy_refused_credentials:
        return fmt::format("proxy {} requires authentication (HTTP {}): it refused the user name or password", s, e.number);
    case proxy_cannot_reach: return fmt::format("proxy {} could not reach the broker {}: HTTP {} {}", s, e.target, e.number, d);
    case proxy_no_answer: return fmt::format("proxy {} did not answer CONNECT: {}", s, closed_or(d, "it closed the connection"));
    case proxy_sent_early: return fmt::format("proxy {} did not answer CONNECT: it sent data before we spoke through the tunnel", s);

    case socks_not_socks5: return fmt::format("SOCKS5 proxy {}: not a SOCKS5 proxy", s);
    case socks_wants_credentials:
        return fmt::format("SOCKS5 proxy {}: it wants a user name and password (socks5://user:pass@host:port)", s);
    case socks_credentials_too_long: return fmt::format("SOCKS5 proxy {}: user name and password must be at most 255 bytes", s);
    case socks_host_too_long: return fmt::format("SOCKS5 proxy {}: host name too long", s);
    case socks_no_method:
        return fmt::format("SOCKS5 proxy {}: it accepts none of our authentication methods{}", s,
                           e.number ? "" : " (does it want socks5://user:pass@host:port?)");
    case socks_refused_credentials: return fmt::format("SOCKS5 proxy {}: it refused the user name or password", s);
    case socks_cannot_reach: {
        static constexpr char const* reasons[] = {"succeeded", "general failure", "not allowed by its rules",
                                                  "network unreachable", "host unreachable", "connection refused",
                                                  "TTL expired", "command not supported", "address type not supported"};
        return fmt::format("SOCKS5 proxy {} could not reach the broker {}: {}", s, e.target, e.number < 9 ? reasons[e.number] : "unknown error");
    }
    case socks_malformed_reply: return fmt::format("SOCKS5 proxy {}: malformed reply", s);
    case socks_no_answer: return fmt::format("SOCKS5 proxy {}: {}", s, closed_or(d, "it closed the connection"));
    case socks_sent_early: return fmt::format("SOCKS5 proxy {}: it sent data before we spoke through the tunnel", s);

    case tls_bad_ciphers: return fmt::format("--ciphers '{}' names no cipher OpenSSL knows", s);
    case tls_keylog_unopenable: return fmt::format("cannot open --tls-keylog '{}': {}", s, d);
    case tls_cert_unloadable: return fmt::format("cannot load --cert '{}': {}", s, d);
    case tls_key_unloadable:
        return fmt::format("cannot load --key '{}': {}{}", s, d,
                           e.number == 2 ? " (it is not the key of --cert)" : e.number == 1 ? "" : " (an encrypted key needs --key-password-file)");
    case tls_cafile_unloadable: return fmt::format("cannot load CA file '{}': {}", s, d);
    case tls_capath_unusable: return fmt::format("cannot use CA folder '{}': {}", s, d);

    case tls_certificate_required: return "TLS: the broker requires a client certificate (give --cert and --key)";
    case tls_certificate_rejected: return fmt::format("TLS: the broker rejected our client certificate ({})", d);
    case tls_host_mismatch:
        return fmt::format("TLS: host name mismatch: the broker's certificate is not valid for '{}'{}", s,
                           e.target.empty() ? "" : " (it is for: " + e.target + ")");
    case tls_certificate_expired: return "TLS: the broker's certificate has expired";
    case tls_certificate_not_yet_valid: return "TLS: the broker's certificate is not yet valid";
    case tls_certificate_untrusted: return fmt::format("TLS: certificate not trusted ({}); name its CA with --cafile", d);
    case tls_verify_failed: return fmt::format("TLS: certificate verification failed: {}", d);
    case tls_handshake_failed: return fmt::format("TLS handshake with {} failed: {}", s, d);
    case tls_handshake_failed_no_cert:
        return fmt::format("TLS handshake with {} failed: {} (does the broker require a client certificate?)", s, d);
    case tls_not_tls: return fmt::format("TLS handshake with {} failed: connection closed (is it a TLS port?)", s);

    case ws_upgrade_refused:
        return fmt::format("WebSocket upgrade refused: HTTP {} {}{}", e.number, d, e.target.empty() ? "" : " (redirected to " + e.target + ")");
    case ws_no_subprotocol: return fmt::format("broker did not accept subprotocol {}", e.target);
    case ws_other_subprotocol: return fmt::format("broker selected subprotocol '{}' instead of {}", d, e.target);
    case ws_malformed_answer: return fmt::format("WebSocket handshake failed: {}", d);
    case ws_not_an_upgrade: return "WebSocket handshake failed: the answer does not upgrade to WebSocket";
    case ws_wrong_accept: return "WebSocket handshake failed: wrong Sec-WebSocket-Accept (RFC 6455 §4.1)";
    case ws_unoffered_extension: return "WebSocket handshake failed: the broker chose an extension we did not offer";
    case ws_handshake_closed:
        if (e.port_proven) return fmt::format("WebSocket handshake with {} failed: connection closed", s);
        return fmt::format("WebSocket handshake with {} failed: connection closed ({})", s, port_hint(s));
    case ws_handshake_failed: return fmt::format("WebSocket handshake with {} failed: {}", s, d);
    case http_answer: return fmt::format("{} answered in HTTP: it is a WebSocket port, not MQTT over TCP (drop --tcp)", s);

    case closed: return "connection closed";
    case closed_by_broker: return "connection closed by the broker";
    case ws_closed_by_broker:
        return fmt::format("connection closed by the broker (WebSocket close {})", close_words(e.number, d));
    case connection_lost: return fmt::format("connection lost: {}", d);
    case ws_protocol_error: return fmt::format("protocol error: {}", d);
    case ws_text_frame: return "protocol error: the broker sent a text WebSocket frame";
    }
    return "connection failed";
}

exit_code code_of(transport_errc c)
{
    if (c <= connect_failed) return exit_code::network;
    if (c <= proxy_connect_failed) return exit_code::proxy;
    if (c <= websocket_timed_out) return exit_code::network; // every timeout: README's "timed out" under 1
    if (c <= socks_sent_early) return exit_code::proxy;
    if (c <= tls_not_tls) return exit_code::tls;
    if (c <= http_answer) return exit_code::websocket;
    if (c <= connection_lost) return exit_code::network;
    return exit_code::protocol;
}

} // namespace

failure describe(transport_error const& e) { return {code_of(e.code), words(e)}; }

} // namespace wsmqtt

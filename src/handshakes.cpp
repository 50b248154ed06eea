// Connection-setup handshakes without I/O: HTTP CONNECT, SOCKS5, the WebSocket upgrade.
#include "wsmqtt/handshakes.hpp"

#include "wsmqtt/output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace wsmqtt::handshake {
namespace {

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Whether a comma-separated field value holds `token` (case-insensitive), e.g. "keep-alive, Upgrade".
bool has_token(std::string const* value, std::string_view token)
{
    if (!value) return false;
    std::string_view rest{*value};
    while (!rest.empty()) {
        auto const comma = rest.find(',');
        if (iequals(trim(rest.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return false;
}

std::string where(proxy const& via) { return host_and_port(endpoint{scheme::mqtt, via.host, via.port, {}}); }

/// Appends `in` to `received` and parses a head from it; 0 while more is needed.
std::size_t gather_head(std::string& received, std::span<std::uint8_t const> in, http_head& head, std::string& error)
{
    received.append(in.begin(), in.end());
    auto const size = parse_http_head(received, head, error);
    if (size == 0 && error.empty() && received.size() > max_head_size) error = "an answer header over 16 KiB";
    return size;
}

} // namespace

std::string const* http_head::field(std::string_view name) const
{
    for (auto const& [n, v] : fields)
        if (iequals(n, name)) return &v;
    return nullptr;
}

std::size_t parse_http_head(std::string_view text, http_head& head, std::string& error)
{
    auto const end = text.find("\r\n\r\n");
    if (end == std::string_view::npos) return 0;
    auto lines = text.substr(0, end + 2);
    auto next_line = [&] {
        auto const eol = lines.find("\r\n");
        auto const line = lines.substr(0, eol);
        lines.remove_prefix(eol + 2);
        return line;
    };
    // HTTP/1.1 101 Switching Protocols (RFC 9112 §4)
    auto const status_line = next_line();
    if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/" || status_line[8] != ' ') {
        error = "the answer is not HTTP";
        return 0;
    }
    unsigned status = 0;
    auto const digits = status_line.substr(9, 3);
    if (std::from_chars(digits.data(), digits.data() + 3, status).ptr != digits.data() + 3 || status < 100) {
        error = "the answer has no HTTP status";
        return 0;
    }
    head = {};
    head.status = status;
    head.reason = std::string{trim(status_line.size() > 12 ? status_line.substr(13) : std::string_view{})};
    while (!lines.empty()) {
        auto const line = next_line();
        auto const colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            error = "a malformed HTTP header line";
            return 0;
        }
        head.fields.emplace_back(std::string{line.substr(0, colon)}, std::string{trim(line.substr(colon + 1))});
    }
    return end + 4;
}

// --- HTTP CONNECT ------------------------------------------------------------------------------

http_connect::http_connect(proxy const& via, endpoint const& target, std::string_view user_agent)
    : via_{via}, target_{target}, user_agent_{user_agent}
{
}

std::string http_connect::start() const
{
    auto const target = host_and_port(target_);
    auto request = fmt::format("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\nUser-Agent: {1}\r\n", target, user_agent_);
    if (via_.username) {
        std::string credentials;
        append_base64(*via_.username + ":" + via_.password.value_or(""), credentials);
        request += fmt::format("Proxy-Authorization: Basic {}\r\n", credentials);
    }
    return request + "\r\n";
}

step http_connect::feed(std::span<std::uint8_t const> in)
{
    http_head head;
    std::string error;
    auto const size = gather_head(received_, in, head, error);
    if (!error.empty()) return {in.size(), {}, false, transport_error{transport_errc::proxy_malformed_answer, where(via_), error}};
    if (size == 0) return step{in.size(), {}, false, {}};
    // What follows the head is already the tunnel's; nothing is sent through it yet, so nothing
    // may have come back.
    step s{in.size() - (received_.size() - size), {}, false, {}};
    // 407 is the proxy's answer for missing credentials; some (tinyproxy) say 401 for wrong ones.
    if (head.status == 407 || head.status == 401)
        s.error = transport_error{via_.username ? transport_errc::proxy_refused_credentials : transport_errc::proxy_wants_credentials,
                                  where(via_), {}, {}, head.status};
    else if (head.status / 100 != 2)
        s.error = transport_error{transport_errc::proxy_cannot_reach, where(via_), head.reason, host_and_port(target_), head.status};
    else
        s.done = true;
    return s;
}

transport_error http_connect::io_error(std::string_view why) const
{
    return {transport_errc::proxy_no_answer, where(via_), std::string{why}};
}

transport_error http_connect::sent_early() const { return {transport_errc::proxy_sent_early, where(via_)}; }

// --- SOCKS5 -------------------------------------------------------------------------------------

socks5::socks5(proxy const& via, endpoint const& target, std::vector<std::uint8_t> address)
    : via_{via}, target_{target}, address_{std::move(address)}
{
}

std::string socks5::start() const
{
    // Version 5; "no authentication", and "user name and password" when we have them.
    return via_.username ? std::string{"\x05\x02\x00\x02", 4} : std::string{"\x05\x01\x00", 3};
}

transport_error socks5::refused(transport_errc why, std::uint64_t number) const
{
    return {why, where(via_), {}, host_and_port(target_), number};
}

transport_error socks5::io_error(std::string_view why) const { return {transport_errc::socks_no_answer, where(via_), std::string{why}}; }

transport_error socks5::sent_early() const { return {transport_errc::socks_sent_early, where(via_)}; }

std::string socks5::connect_request() const
{
    std::string msg{"\x05\x01\x00", 3}; // CONNECT
    if (address_.empty()) {
        msg += '\x03'; // a host name, resolved by the proxy
        msg += static_cast<char>(target_.host.size());
        msg += target_.host;
    } else {
        msg += address_.size() == 4 ? '\x01' : '\x04';
        msg.append(address_.begin(), address_.end());
    }
    msg += static_cast<char>(target_.port >> 8);
    msg += static_cast<char>(target_.port & 0xFF);
    return msg;
}

step socks5::feed(std::span<std::uint8_t const> in)
{
    received_.append(in.begin(), in.end());
    step s{in.size(), {}, false, {}};
    auto const byte = [&](std::size_t i) { return static_cast<std::uint8_t>(received_[i]); };
    while (true) {
        switch (state_) {
        case state::method: {
            if (received_.size() < 2) return s;
            if (byte(0) != 5) return s.error = refused(transport_errc::socks_not_socks5), s;
            auto const method = byte(1);
            received_.erase(0, 2);
            if (method == 2) {
                if (!via_.username) return s.error = refused(transport_errc::socks_wants_credentials), s;
                auto const& user = *via_.username;
                auto const pass = via_.password.value_or("");
                if (user.size() > 255 || pass.size() > 255) return s.error = refused(transport_errc::socks_credentials_too_long), s;
                s.send += '\x01'; // RFC 1929
                s.send += static_cast<char>(user.size());
                s.send += user;
                s.send += static_cast<char>(pass.size());
                s.send += pass;
                state_ = state::auth;
            } else if (method == 0) {
                if (address_.empty() && target_.host.size() > 255) return s.error = refused(transport_errc::socks_host_too_long), s;
                s.send += connect_request();
                state_ = state::connect;
            } else {
                return s.error = refused(transport_errc::socks_no_method, via_.username ? 1 : 0), s;
            }
            break;
        }
        case state::auth:
            if (received_.size() < 2) return s;
            if (byte(1) != 0) return s.error = refused(transport_errc::socks_refused_credentials), s;
            received_.erase(0, 2);
            if (address_.empty() && target_.host.size() > 255) return s.error = refused(transport_errc::socks_host_too_long), s;
            s.send += connect_request();
            state_ = state::connect;
            break;
        case state::connect: {
            if (received_.size() < 5) return s;
            if (auto const reply = byte(1); reply != 0) return s.error = refused(transport_errc::socks_cannot_reach, reply), s;
            state_ = state::bound_address;
            break;
        }
        case state::bound_address: {
            // The bound address (IPv4, IPv6 or a name whose length is byte 4) and its port.
            auto const type = byte(3);
            std::size_t const size = type == 1 ? 4 + 4 + 2 : type == 4 ? 4 + 16 + 2 : type == 3 ? 5u + byte(4) + 2u : 0u;
            if (size == 0) return s.error = refused(transport_errc::socks_malformed_reply), s;
            if (received_.size() < size) return s;
            s.consumed = in.size() - (received_.size() - size);
            s.done = true;
            state_ = state::done;
            return s;
        }
        case state::done:
            return s;
        }
    }
}

// --- WebSocket upgrade --------------------------------------------------------------------------

std::array<std::uint8_t, 20> sha1(std::string_view data)
{
    // FIPS 180-1. Written out here because calling OpenSSL for it initialises all of libcrypto
    // (its configuration, its providers): 2 MiB more for every ws:// run, which needs no TLS.
    auto const rotl = [](std::uint32_t v, int n) { return (v << n) | (v >> (32 - n)); };
    std::uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    std::string message{data};
    auto const bits = static_cast<std::uint64_t>(data.size()) * 8;
    message += '\x80'; // a 1 bit, zeros, then the length in bits: a multiple of 512 bits
    while (message.size() % 64 != 56) message += '\0';
    for (int shift = 56; shift >= 0; shift -= 8) message += static_cast<char>(bits >> shift);
    for (std::size_t block = 0; block < message.size(); block += 64) {
        std::uint32_t w[80];
        for (int i = 0; i < 16; ++i) {
            auto const byte = [&](int j) { return static_cast<std::uint32_t>(static_cast<unsigned char>(message[block + static_cast<std::size_t>(4 * i + j)])); };
            w[i] = (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
        }
        for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        auto a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; ++i) {
            std::uint32_t f = 0, k = 0;
            if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
            else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
            else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
            else f = b ^ c ^ d, k = 0xCA62C1D6;
            auto const next = rotl(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rotl(b, 30);
            b = a;
            a = next;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    std::array<std::uint8_t, 20> digest;
    for (std::size_t i = 0; i < 20; ++i) digest[i] = static_cast<std::uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
    return digest;
}

std::string websocket_accept(std::string_view key)
{
    auto const digest = sha1(std::string{key} + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"); // RFC 6455 §1.3
    std::string out;
    append_base64({reinterpret_cast<char const*>(digest.data()), digest.size()}, out);
    return out;
}

websocket_upgrade::websocket_upgrade(options o, std::array<std::uint8_t, 16> const& nonce) : options_{std::move(o)}
{
    append_base64({reinterpret_cast<char const*>(nonce.data()), nonce.size()}, key_);
}

std::string websocket_upgrade::start() const
{
    // The Host header carries the port unless it is the scheme's default (RFC 7230 §5.4).
    auto request = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {}\r\nUser-Agent: {}\r\n",
                               options_.path, options_.host_header, key_, options_.subprotocol, options_.user_agent);
    if (!options_.origin.empty()) request += fmt::format("Origin: {}\r\n", options_.origin);
    for (auto const& [name, value] : options_.headers) request += fmt::format("{}: {}\r\n", name, value);
    return request + "\r\n";
}

transport_error upgrade_refused(http_head const& head)
{
    auto const* location = head.field("Location");
    return {transport_errc::ws_upgrade_refused, {}, head.reason, location ? *location : std::string{}, head.status};
}

std::optional<transport_error> check_subprotocol(http_head const& head, std::string_view offered)
{
    auto const* selected = head.field("Sec-WebSocket-Protocol");
    if (!selected) return transport_error{transport_errc::ws_no_subprotocol, {}, {}, std::string{offered}};
    if (*selected != offered) return transport_error{transport_errc::ws_other_subprotocol, {}, *selected, std::string{offered}};
    return std::nullopt;
}

transport_error upgrade_failed(std::string_view why, std::string_view where)
{
    if (why.empty()) return {transport_errc::ws_handshake_closed, std::string{where}};
    return {transport_errc::ws_handshake_failed, std::string{where}, std::string{why}};
}

std::vector<std::string> describe_answer(http_head const& head, std::string_view body)
{
    std::vector<std::string> lines{fmt::format("WebSocket upgrade answered: HTTP {} {}", head.status, head.reason)};
    for (auto const& [name, value] : head.fields) lines.push_back(fmt::format("  {}: {}", name, value));
    if (body.empty()) return lines;
    std::string shown;
    for (char const c : body)
        shown += std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    lines.push_back(fmt::format("  body: {}", shown));
    return lines;
}

step websocket_upgrade::refused(std::size_t consumed) const
{
    return {consumed, {}, false, upgrade_refused(head_)};
}

step websocket_upgrade::feed(std::span<std::uint8_t const> in)
{
    if (head_size_ > 0) { // a refusal's body, for -d
        auto const take = std::min(in.size(), body_wanted_ - body_.size());
        body_.append(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
        return body_.size() >= body_wanted_ ? refused(in.size()) : step{in.size(), {}, false, {}};
    }
    std::string error;
    auto const size = gather_head(received_, in, head_, error);
    if (!error.empty())
        return {in.size(), {}, false, transport_error{transport_errc::ws_malformed_answer, {}, error}};
    if (size == 0) return step{in.size(), {}, false, {}};
    head_size_ = size;
    auto const after = received_.size() - size; // bytes of the input behind the head
    auto const used = in.size() - after;
    if (head_.status != 101) {
        std::size_t length = 0;
        if (auto const* cl = head_.field("Content-Length")) (void)std::from_chars(cl->data(), cl->data() + cl->size(), length);
        body_wanted_ = std::min<std::size_t>(length, 512);
        return feed(in.subspan(used));
    }
    auto const fail = [&](transport_errc why) { return step{used, {}, false, transport_error{why}}; };
    if (!has_token(head_.field("Upgrade"), "websocket") || !has_token(head_.field("Connection"), "upgrade"))
        return fail(transport_errc::ws_not_an_upgrade);
    auto const* accept = head_.field("Sec-WebSocket-Accept");
    if (!accept || *accept != websocket_accept(key_)) return fail(transport_errc::ws_wrong_accept);
    if (head_.field("Sec-WebSocket-Extensions")) return fail(transport_errc::ws_unoffered_extension);
    if (auto f = check_subprotocol(head_, options_.subprotocol)) return {used, {}, false, std::move(f)};
    return {used, {}, true, {}};
}

transport_error websocket_upgrade::io_error(std::string_view why, std::string_view where) const
{
    if (head_size_ > 0 && head_.status != 101) return upgrade_refused(head_); // its body was cut short
    return upgrade_failed(why, where);
}

} // namespace wsmqtt::handshake

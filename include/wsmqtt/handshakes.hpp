// The handshakes that set a connection up, without I/O: HTTP CONNECT (RFC 9110 §9.3.6) and
// SOCKS5 (RFC 1928, RFC 1929) through a proxy, and the WebSocket upgrade (RFC 6455 §4). Each
// says what to send, takes what the peer answered, and says whether it is done or why it
// failed; the transport only moves the bytes (as h11 does for HTTP).
#pragma once

#include "wsmqtt/config.hpp"
#include "wsmqtt/transport_error.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsmqtt::handshake {

/// What a handshake wants after taking some input.
struct step {
    std::size_t consumed = 0;     ///< bytes of the input taken; the rest is the next layer's
    std::string send;             ///< bytes to send now
    bool done = false;            ///< finished: the connection now belongs to the next layer
    std::optional<transport_error> error; ///< failed: report it and close
};

/// The head of an HTTP/1.1 response.
struct http_head {
    unsigned status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> fields; ///< in order, names as sent
    /// The first field called `name` (case-insensitive), or nullptr.
    [[nodiscard]] std::string const* field(std::string_view name) const;
};

/// Parses a response head from the start of `text`: its size with the blank line, or 0 when
/// more bytes are needed. A malformed head sets `error` (and returns 0).
[[nodiscard]] std::size_t parse_http_head(std::string_view text, http_head& head, std::string& error);

/// The largest response head taken (a broker or proxy that sends more is refused).
inline constexpr std::size_t max_head_size = 16 * 1024;

/// HTTP CONNECT: the proxy opens a TCP tunnel to the broker.
class http_connect {
public:
    http_connect(proxy const& via, endpoint const& target, std::string_view user_agent);
    /// The request.
    [[nodiscard]] std::string start() const;
    [[nodiscard]] step feed(std::span<std::uint8_t const> in);
    /// The connection failed (`why`: the system's words) or ended (empty `why`) before the answer.
    [[nodiscard]] transport_error io_error(std::string_view why) const;
    /// The proxy sent bytes before anything went through the tunnel.
    [[nodiscard]] transport_error sent_early() const;

private:
    proxy via_;
    endpoint target_;
    std::string user_agent_;
    std::string received_;
};

/// SOCKS5 with or without a user name and password.
class socks5 {
public:
    /// `address`: the broker's address (4 or 16 bytes) for socks5://; empty for socks5h://,
    /// where the proxy resolves the host name.
    socks5(proxy const& via, endpoint const& target, std::vector<std::uint8_t> address);
    /// The greeting (the authentication methods we offer).
    [[nodiscard]] std::string start() const;
    [[nodiscard]] step feed(std::span<std::uint8_t const> in);
    [[nodiscard]] transport_error io_error(std::string_view why) const;
    [[nodiscard]] transport_error sent_early() const;

private:
    enum class state { method, auth, connect, bound_address, done };
    [[nodiscard]] transport_error refused(transport_errc why, std::uint64_t number = 0) const;
    [[nodiscard]] std::string connect_request() const;

    proxy via_;
    endpoint target_;
    std::vector<std::uint8_t> address_;
    state state_ = state::method;
    std::string received_;
};

/// The WebSocket upgrade request and the checks of its answer.
class websocket_upgrade {
public:
    struct options {
        std::string host_header;
        std::string path;
        std::string subprotocol; ///< offered, and required in the answer [MQTT-6.0.0-4]
        std::string user_agent;
        std::string origin;      ///< empty: none
        std::vector<std::pair<std::string, std::string>> headers; ///< -H
    };
    /// `nonce`: 16 random bytes for Sec-WebSocket-Key (RFC 6455 §4.1).
    websocket_upgrade(options o, std::array<std::uint8_t, 16> const& nonce);
    [[nodiscard]] std::string start() const;
    [[nodiscard]] step feed(std::span<std::uint8_t const> in);
    /// `where`: the broker's host:port.
    [[nodiscard]] transport_error io_error(std::string_view why, std::string_view where) const;
    /// The answer, once its head is in (for -d).
    [[nodiscard]] http_head const& response() const noexcept { return head_; }
    /// The start of the answer's body (512 bytes at most), for -d.
    [[nodiscard]] std::string const& body() const noexcept { return body_; }
    [[nodiscard]] bool answered() const noexcept { return head_size_ > 0; }

private:
    [[nodiscard]] step refused(std::size_t consumed) const;

    options options_;
    std::string key_;
    std::string received_;
    http_head head_;
    std::size_t head_size_ = 0;
    std::size_t body_wanted_ = 0;
    std::string body_;
};

/// SHA-1 (FIPS 180-1) of `data`: for Sec-WebSocket-Accept only.
[[nodiscard]] std::array<std::uint8_t, 20> sha1(std::string_view data);

// The checks of a WebSocket upgrade's answer, shared with --compress, whose upgrade Beast makes.

/// The refusal of an upgrade answered with `head` (not 101), a redirection named.
[[nodiscard]] transport_error upgrade_refused(http_head const& head);
/// Whether the answer selected the subprotocol we offered [MQTT-6.0.0-4]; Beast does not check.
[[nodiscard]] std::optional<transport_error> check_subprotocol(http_head const& head, std::string_view offered);
/// The upgrade failing before an answer: `why` ("" for a closed connection), `where` host:port.
[[nodiscard]] transport_error upgrade_failed(std::string_view why, std::string_view where);
/// The answer for -d, a line each: status, fields, the start of its body.
[[nodiscard]] std::vector<std::string> describe_answer(http_head const& head, std::string_view body);

/// Sec-WebSocket-Accept for a key: base64(SHA-1(key + the RFC's GUID)) (RFC 6455 §4.2.2).
[[nodiscard]] std::string websocket_accept(std::string_view key);

} // namespace wsmqtt::handshake

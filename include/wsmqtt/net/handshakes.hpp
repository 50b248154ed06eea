// The proxy handshakes, without I/O: HTTP CONNECT (RFC 9110 §9.3.6; the answer read by Beast's
// HTTP parser) and SOCKS5 (RFC 1928, RFC 1929). Each says what to send, takes what the peer
// answered, and says whether it is done or why it failed; the transport only moves the bytes (as
// h11 does for HTTP). The WebSocket upgrade is Beast's (ws_channel.hpp).
#pragma once

#include "wsmqtt/net/endpoint.hpp"
#include "wsmqtt/net/transport_error.hpp"

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

/// The largest answer head taken from a proxy (one that sends more is refused).
inline constexpr std::size_t max_head_size = 16 * 1024;

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

} // namespace wsmqtt::handshake

// The proxy handshakes without I/O: HTTP CONNECT (its answer read by Beast's HTTP parser) and
// SOCKS5.
#include "wsmqtt/net/handshakes.hpp"

#include "wsmqtt/base64.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <fmt/format.h>

namespace wsmqtt::handshake {
namespace {

namespace http = boost::beast::http;

std::string where(proxy const& via) { return host_and_port(endpoint{scheme::mqtt, via.host, via.port, {}}); }

} // namespace

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
    received_.append(in.begin(), in.end());
    // A fresh parser over all that came: Beast takes a head only whole (need_more until then).
    http::response_parser<http::empty_body> parser;
    parser.skip(true); // a 2xx answer to CONNECT has no body: the tunnel follows (RFC 9110 §9.3.6)
    parser.header_limit(static_cast<std::uint32_t>(max_head_size));
    boost::system::error_code ec;
    auto const size = parser.put(boost::asio::buffer(received_), ec);
    if (ec == http::error::need_more) return step{in.size(), {}, false, {}};
    if (ec) {
        auto const why = ec == http::error::header_limit ? std::string{"an answer header over 16 KiB"} : "an answer that is not HTTP (" + ec.message() + ")";
        return {in.size(), {}, false, transport_error{transport_errc::proxy_malformed_answer, where(via_), why}};
    }
    // What follows the head is already the tunnel's; nothing is sent through it yet, so nothing
    // may have come back.
    step s{in.size() - (received_.size() - size), {}, false, {}};
    auto const& head = parser.get();
    auto const status = head.result_int();
    // 407 is the proxy's answer for missing credentials; some (tinyproxy) say 401 for wrong ones.
    if (status == 407 || status == 401)
        s.error = transport_error{via_.username ? transport_errc::proxy_refused_credentials : transport_errc::proxy_wants_credentials,
                                  where(via_), {}, {}, status};
    else if (status / 100 != 2)
        s.error = transport_error{transport_errc::proxy_cannot_reach, where(via_), std::string{head.reason()}, host_and_port(target_), status};
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

} // namespace wsmqtt::handshake

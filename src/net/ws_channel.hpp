// MQTT over WebSocket (MQTT 3.1.1 §6): Beast's websocket::stream over any next layer (a TCP
// socket, a TLS stream, or beast::test::stream in the tests), from the upgrade to the close.
// Beast masks our frames with its secure PRNG (RFC 6455 §10.3), answers PING between the
// fragments of a long write, answers the broker's close, and closes with 1002 or 1009 when the
// broker breaks RFC 6455 or sends a message over the limit. This file adds what MQTT asks of the
// upgrade (the subprotocol [MQTT-6.0.0-3/4], binary frames [MQTT-6.0.0-1]) and the words of
// each failure as a transport_error. Included by transport_ws.cpp and the transport tests only:
// Beast is slow to compile.
#pragma once

#include "wsmqtt/net/transport.hpp"
#include "wsmqtt/version.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket.hpp>

#include <fmt/format.h>

#include <cctype>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wsmqtt::ws {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

/// Close status codes we send (RFC 6455 §7.4.1).
inline constexpr std::uint16_t close_normal = 1000, close_protocol_error = 1002, close_too_big = 1009;

/// What the upgrade request says and what the channel accepts afterwards.
struct settings {
    std::string host_header;  ///< Host: host[:port] (RFC 9110 §7.2)
    std::string path = "/mqtt";
    std::string subprotocol = "mqtt"; ///< offered, and required in the answer [MQTT-6.0.0-4]
    std::string user_agent;   ///< empty: wsmqtt/<version>
    std::string origin;       ///< empty: none
    std::vector<std::pair<std::string, std::string>> headers; ///< -H
    bool compress = false;    ///< offer permessage-deflate (RFC 7692)
    std::uint64_t max_message = 0; ///< longer messages from the broker are refused with 1009 (0: any)
    std::string where;        ///< the broker's host:port, for the words of a failure
    std::function<void(std::string const&)> trace; ///< -d: the upgrade's answer, a line each
    std::size_t buffer_size = 64 * 1024; ///< socket reads land in a buffer this big
    std::size_t frame_size = 64 * 1024;  ///< outgoing messages go in frames this long at most
};

/// Outgoing messages are written in frames of settings::frame_size (64 KiB; Beast's write buffer): a
/// PING from the broker is answered between them, and a 16 MiB message is not masked in one copy.
/// Socket reads land in a buffer of settings::buffer_size (64 KiB; wsmqtt bench takes less a client).
inline constexpr std::size_t default_buffer_size = 64 * 1024;
/// How long a closing handshake may take once started (Beast's handshake timeout bounds it).
inline constexpr auto close_timeout = std::chrono::milliseconds{500};

/// The answer to an upgrade for -d, a line each: status, fields, the start of its body.
inline std::vector<std::string> describe_answer(websocket::response_type const& response)
{
    std::vector<std::string> lines{fmt::format("WebSocket upgrade answered: HTTP {} {}", response.result_int(), std::string_view{response.reason()})};
    for (auto const& field : response) lines.push_back(fmt::format("  {}: {}", std::string_view{field.name_string()}, std::string_view{field.value()}));
    auto const body = std::string_view{response.body()}.substr(0, 512);
    if (body.empty()) return lines;
    std::string shown;
    for (char const c : body)
        shown += std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    lines.push_back(fmt::format("  body: {}", shown));
    return lines;
}

/// Why an upgrade failed, from Beast's error and the answer (if one came).
inline transport_error upgrade_error(boost::system::error_code const& ec, websocket::response_type const& response, std::string const& where)
{
    namespace http = beast::http;
    using enum transport_errc;
    if (ec == websocket::error::upgrade_declined) {
        auto const location = response[http::field::location];
        return {ws_upgrade_refused, {}, std::string{response.reason()}, std::string{location}, response.result_int()};
    }
    if (ec == websocket::error::bad_sec_accept || ec == websocket::error::no_sec_accept) return {ws_wrong_accept};
    if (ec == websocket::error::no_upgrade || ec == websocket::error::no_upgrade_websocket || ec == websocket::error::no_connection ||
        ec == websocket::error::no_connection_upgrade)
        return {ws_not_an_upgrade};
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
        return {ws_handshake_closed, where};
    if (ec.category() == make_error_code(http::error::end_of_stream).category() || ec == websocket::error::bad_http_version)
        return {ws_malformed_answer, {}, "the answer is not HTTP/1.1 (" + ec.message() + ")"};
    return {ws_handshake_failed, where, ec.message()};
}

/// Whether the answer selected the subprotocol we offered [MQTT-6.0.0-4]; Beast does not check.
inline std::optional<transport_error> check_subprotocol(websocket::response_type const& response, std::string const& offered)
{
    auto const it = response.find(beast::http::field::sec_websocket_protocol);
    if (it == response.end()) return transport_error{transport_errc::ws_no_subprotocol, {}, {}, offered};
    if (it->value() != offered) return transport_error{transport_errc::ws_other_subprotocol, {}, std::string{it->value()}, offered};
    return std::nullopt;
}

/// One WebSocket connection carrying MQTT: `NextLayer` is connected (and TLS done) before
/// upgrade(). One read and one write may be in flight at once, and close() beside them.
template <class NextLayer>
class channel {
public:
    template <class... Args>
    explicit channel(Args&&... next_layer_args)
        : ws_{std::forward<Args>(next_layer_args)...}
    {
    }

    /// How a failed read or write of the next layer is told, and what TLS says of our
    /// certificate (TLS 1.3 gives its verdict during the upgrade): TLS has words of its own.
    using io_words = transport_error (*)(boost::system::error_code const&);
    using certificate_words = std::optional<transport_error> (*)(boost::system::error_code const&);
    void set_io_words(io_words on_lost, certificate_words on_certificate) noexcept
    {
        lost_ = on_lost;
        certificate_ = on_certificate;
    }

    [[nodiscard]] NextLayer& next_layer() noexcept { return ws_.next_layer(); }
    [[nodiscard]] websocket::stream<NextLayer>& stream() noexcept { return ws_; }

    /// The HTTP upgrade (RFC 6455 §4.1) with our subprotocol, headers and Origin.
    boost::asio::awaitable<std::optional<transport_error>> upgrade(settings const& s)
    {
        ws_.set_option(websocket::stream_base::decorator([&s](websocket::request_type& req) {
            req.set(beast::http::field::sec_websocket_protocol, s.subprotocol);
            req.set(beast::http::field::user_agent, s.user_agent.empty() ? std::string{"wsmqtt/"} + version : s.user_agent);
            if (!s.origin.empty()) req.set(beast::http::field::origin, s.origin);
            for (auto const& [name, value] : s.headers) req.set(name, value);
        }));
        if (s.compress) {
            websocket::permessage_deflate deflate;
            deflate.client_enable = true; // offer it; the server decides (RFC 7692)
            ws_.set_option(deflate);
        }
        websocket::response_type response;
        auto [ec] = co_await ws_.async_handshake(response, s.host_header, s.path, boost::asio::as_tuple(boost::asio::use_awaitable));
        bool const answered = !ec || ec.category() == make_error_code(websocket::error::closed).category();
        if (s.trace && answered)
            for (auto const& line : describe_answer(response)) s.trace(line);
        if (ec) {
            if (auto f = certificate_(ec)) co_return f;
            co_return upgrade_error(ec, response, s.where);
        }
        if (auto f = check_subprotocol(response, s.subprotocol)) co_return f;
        ws_.binary(true); // [MQTT-6.0.0-1]
        ws_.auto_fragment(true);
        read_size_ = std::max<std::size_t>(s.buffer_size, 64);
        ws_.write_buffer_bytes(std::max<std::size_t>(s.frame_size, 64)); // Beast allocates it on the first write
        ws_.read_message_max(s.max_message);
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = close_timeout;             // from now on it bounds the close handshake
        timeouts.idle_timeout = websocket::stream_base::none(); // MQTT's keepalive watches the line
        timeouts.keep_alive_pings = false;
        ws_.set_option(timeouts);
        co_return std::nullopt;
    }

    /// The next bytes of the broker's messages (MQTT packets may span messages [MQTT-6.0.0-2]):
    /// as many messages as arrive back to back, while the socket has more bytes waiting (64 KiB
    /// at most), so that a burst of small messages is decoded, printed and acknowledged in one
    /// pass, not one message at a time. An error after some bytes is told by the next read.
    boost::asio::awaitable<read_result> read()
    {
        if (ended_) co_return read_result{{}, ended_};
        std::size_t got = 0;
        while (true) {
            auto [ec, n] = co_await ws_.async_read_some(boost::asio::buffer(buffer() + got, read_size_ - got),
                                                        boost::asio::as_tuple(boost::asio::use_awaitable));
            if (text_frame(ec)) (void)co_await ws_.async_close(websocket::close_reason{close_protocol_error}, boost::asio::as_tuple(boost::asio::use_awaitable));
            if (auto r = after_read(ec, n, got)) co_return *r;
        }
    }

    /// read() without a coroutine (transport::read_when_ready()), the same reads as callbacks:
    /// `done` gets what they brought, or why the stream ended.
    template <class Done>
    void read_when_ready(Done done)
    {
        if (ended_) {
            boost::asio::post(ws_.get_executor(), [done = std::move(done), why = *ended_]() mutable { done(read_result{{}, why}); });
            return;
        }
        read_more(0, std::move(done));
    }

    /// All of `data` as one binary message.
    boost::asio::awaitable<std::optional<transport_error>> write(send_buffers const& data)
    {
        auto [ec, n] = co_await ws_.async_write(data, boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec) co_return lost(ec);
        co_return std::nullopt;
    }

    /// Our close frame with `code`, then the broker's answer (Beast reads it, or a pending
    /// read() does), within close_timeout. Errors are ignored: the connection is ending.
    boost::asio::awaitable<void> close(std::uint16_t code)
    {
        if (!ws_.is_open()) co_return;
        (void)co_await ws_.async_close(websocket::close_reason{code}, boost::asio::as_tuple(boost::asio::use_awaitable));
    }

    /// Ends every pending operation now.
    void abort() noexcept { beast::close_socket(beast::get_lowest_layer(ws_)); }

private:
    template <class Done>
    void read_more(std::size_t got, Done done)
    {
        ws_.async_read_some(boost::asio::buffer(buffer() + got, read_size_ - got),
                            [this, got, done = std::move(done)](boost::system::error_code ec, std::size_t n) mutable {
                                if (text_frame(ec)) {
                                    ws_.async_close(websocket::close_reason{close_protocol_error},
                                                    [this, got, done = std::move(done)](boost::system::error_code) mutable {
                                                        done(*after_read({}, 0, got)); // ended: a result, not another read
                                                    });
                                    return;
                                }
                                if (auto r = after_read(ec, n, got)) done(*r);
                                else read_more(got, std::move(done));
                            });
    }

    /// After one read of `n` bytes (`got` before it) or its error: the result, or nothing when
    /// another read is worth it (bytes wait on the socket, and there is room; or nothing came
    /// yet: an empty message). Bytes that came before an error still count; the next read tells
    /// the error.
    std::optional<read_result> after_read(boost::system::error_code const& ec, std::size_t n, std::size_t& got)
    {
        if (ec && !ended_) ended_ = lost(ec);
        if (ended_) {
            if (got > 0) return read_result{{buffer_.get(), got}, std::nullopt};
            return read_result{{}, ended_};
        }
        got += n;
        if (got < read_size_ && (got == 0 || more_waiting())) return std::nullopt;
        return read_result{{buffer_.get(), got}, std::nullopt};
    }

    /// Where reads land, made at the first read: read_size_ bytes, not zeroed (pages are
    /// touched as data arrives).
    std::uint8_t* buffer()
    {
        if (!buffer_) buffer_ = std::make_unique_for_overwrite<std::uint8_t[]>(read_size_);
        return buffer_.get();
    }

    /// A text message came: MQTT travels in binary frames only [MQTT-6.0.0-1]. The stream has
    /// ended (we close it with 1002).
    bool text_frame(boost::system::error_code const& ec)
    {
        if (ec || !ws_.got_text()) return false;
        ended_ = transport_error{transport_errc::ws_text_frame};
        return true;
    }

    /// Whether the socket holds bytes not read yet (a read now would not wait). Beast's own
    /// buffer is not looked at: a message it holds comes with the next read.
    bool more_waiting()
    {
        auto& socket = beast::get_lowest_layer(ws_);
        if constexpr (requires(boost::system::error_code& ec) { socket.available(ec); }) {
            boost::system::error_code ec;
            return socket.available(ec) > 0 && !ec;
        } else {
            return false; // beast::test::stream: a read at a time
        }
    }

    transport_error lost(boost::system::error_code const& ec) const
    {
        if (ec == websocket::error::closed) {
            auto const& reason = ws_.reason();
            return {transport_errc::ws_closed_by_broker, {}, std::string{reason.reason.data(), reason.reason.size()}, {}, reason.code};
        }
        if (ec == websocket::error::message_too_big)
            return {transport_errc::ws_protocol_error, {}, fmt::format("a WebSocket message over {} bytes (--max-packet-size)", ws_.read_message_max())};
        // Masked or malformed frames, bad opcodes, reserved bits: the broker broke RFC 6455, and
        // Beast told it so with 1002.
        if (ec.category() == make_error_code(websocket::error::closed).category())
            return {transport_errc::ws_protocol_error, {}, "WebSocket: " + ec.message()};
        return lost_(ec);
    }

    static transport_error plain_io_words(boost::system::error_code const& ec)
    {
        if (ec == boost::asio::error::eof || ec == beast::http::error::end_of_stream) return {transport_errc::closed_by_broker};
        return {transport_errc::connection_lost, {}, ec.message()};
    }

    websocket::stream<NextLayer> ws_;
    std::optional<transport_error> ended_; ///< the stream ended: what every read() says from now on
    io_words lost_ = &plain_io_words;
    certificate_words certificate_ = [](boost::system::error_code const&) -> std::optional<transport_error> { return std::nullopt; };
    std::unique_ptr<std::uint8_t[]> buffer_;
    std::size_t read_size_ = default_buffer_size;
};

} // namespace wsmqtt::ws

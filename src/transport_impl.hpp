// The transports behind transport.hpp: one class template for ws://, wss://, mqtt:// and
// mqtts://. Private to transport.cpp (TCP, ws://) and transport_tls.cpp (wss://, mqtts://),
// the only translation units that include Beast: they are slow to compile. OpenSSL's headers
// are here too, but only the TLS instantiations call it, and only transport_tls.cpp defines
// them: the wsmqtt binary does not link OpenSSL (see make_transport in transport.cpp).
#pragma once

#include "wsmqtt/transport.hpp"

#include "wsmqtt/output.hpp"
#include "wsmqtt/version.hpp"
#include "wsmqtt/ws_frames.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <random>
#include <string_view>
#include <type_traits>
#include <variant>

namespace wsmqtt::transport_detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t read_chunk_size = 64 * 1024;
constexpr auto close_timeout = std::chrono::seconds{2};
/// Masking buffer for outgoing WebSocket frames: one socket write per this many bytes.
constexpr std::size_t ws_write_buffer = 64 * 1024;

inline std::string_view sv(beast::string_view s) noexcept { return {s.data(), s.size()}; }

inline bool is_ip_address(std::string const& host)
{
    error_code ec;
    (void)net::ip::make_address(host, ec);
    return !ec;
}

inline std::string seconds_text(std::chrono::milliseconds d)
{
    return fmt::format("{:g} s", static_cast<double>(d.count()) / 1000.0);
}

inline failure network_failure(std::string message) { return {exit_code::network, std::move(message)}; }


// TLS only: defined in transport_tls.cpp, which is all of wsmqtt that calls OpenSSL.

/// TLS alerts about client certificates, in words; they may come during the handshake (TLS 1.2)
/// or with the first read after it (TLS 1.3).
std::optional<failure> client_certificate_problem(error_code const& ec);
/// The DNS names and addresses a certificate is valid for, for messages.
std::string certificate_names(X509* cert);
/// Certificate verification failures in words (the OpenSSL verify result after the handshake);
/// `names` are those of the broker's certificate.
failure verify_failure(long result, endpoint const& ep, std::string const& names);
/// The TLS client context, made only for wss:// and mqtts:// runs (so ws:// pays nothing for
/// the CA store).
std::unique_ptr<ssl::context> make_tls_context(config const& cfg, std::optional<failure>& error);
/// The transport for a wss:// or mqtts:// endpoint.
std::unique_ptr<transport> make_tls_transport(net::any_io_executor executor, config const& cfg);

/// Completion handler of tap_stream reads: keeps a copy of the bytes, then hands on.
template <class Handler, class Buffers>
struct recording_handler {
    Handler handler;
    Buffers buffers;
    std::vector<std::uint8_t>* record;

    using executor_type = net::associated_executor_t<Handler>;
    executor_type get_executor() const noexcept { return net::get_associated_executor(handler); }
    using allocator_type = net::associated_allocator_t<Handler>;
    allocator_type get_allocator() const noexcept { return net::get_associated_allocator(handler); }
    using cancellation_slot_type = net::associated_cancellation_slot_t<Handler>;
    cancellation_slot_type get_cancellation_slot() const noexcept { return net::get_associated_cancellation_slot(handler); }

    void operator()(error_code ec, std::size_t n)
    {
        if (record && n > 0) {
            auto const old = record->size();
            record->resize(old + n);
            net::buffer_copy(net::buffer(record->data() + old, n), buffers);
        }
        std::move(handler)(ec, n);
    }
};

/// The layer under Beast's WebSocket stream. While the handshake runs it keeps a copy of what
/// Beast reads: the frames a server may send in the same packet as its 101 answer stay in
/// Beast's buffer, and the transport, which reads frames itself afterwards, needs them.
template <class Next>
class tap_stream {
public:
    using next_layer_type = Next;
    using executor_type = typename Next::executor_type;

    template <class... Args>
    explicit tap_stream(Args&&... args) : next_(std::forward<Args>(args)...)
    {
    }

    executor_type get_executor() noexcept { return next_.get_executor(); }
    Next& next_layer() noexcept { return next_; }
    Next const& next_layer() const noexcept { return next_; }
    /// Copies what is read into `into` from now on; nullptr stops.
    void record(std::vector<std::uint8_t>* into) noexcept { record_ = into; }

    template <class MutableBuffers, class Token>
    auto async_read_some(MutableBuffers const& buffers, Token&& token)
    {
        return net::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, MutableBuffers const& b) {
                next_.async_read_some(b, recording_handler<std::decay_t<decltype(handler)>, MutableBuffers>{std::move(handler), b, record_});
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(ConstBuffers const& buffers, Token&& token)
    {
        return next_.async_write_some(buffers, std::forward<Token>(token));
    }

private:
    Next next_;
    std::vector<std::uint8_t>* record_ = nullptr;
};

// Beast closes a WebSocket connection through these (found by argument-dependent lookup).
template <class Next>
void teardown(beast::role_type role, tap_stream<Next>& stream, error_code& ec)
{
    using beast::websocket::teardown;
    teardown(role, stream.next_layer(), ec);
}

template <class Next, class Handler>
void async_teardown(beast::role_type role, tap_stream<Next>& stream, Handler&& handler)
{
    using beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer(), std::forward<Handler>(handler));
}

/// One class for the four transports: TCP or TLS underneath, WebSocket on top or not.
template <bool Tls, bool Ws>
class stream_transport final : public transport {
    using base_stream = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;
    using stream_type = std::conditional_t<Ws, websocket::stream<tap_stream<base_stream>>, base_stream>;
    /// Without TLS, nothing: not even a null pointer whose destructor would reach OpenSSL.
    using context_type = std::conditional_t<Tls, std::unique_ptr<ssl::context>, std::monostate>;

public:
    stream_transport(net::any_io_executor executor, config const& cfg)
        : cfg_{cfg}
        , ctx_{make_context(cfg, setup_error_)}
        , resolver_{executor}
        , stream_{make_stream(executor, ctx_)}
        , buffer_(read_chunk_size)
        , closed_{executor}
    {
    }

    net::awaitable<std::optional<failure>> connect() override
    {
        if (setup_error_) co_return setup_error_;
        auto const& ep = cfg_.endpoint;
        auto const* const via = cfg_.proxy ? &*cfg_.proxy : nullptr;
        // With a proxy, TCP goes to the proxy; the proxy then opens the way to the broker.
        endpoint const first_hop = via ? endpoint{ep.scheme, via->host, via->port, {}} : ep;
        auto const where = host_and_port(first_hop);
        auto const what = via ? std::string{"proxy "} : std::string{};
        if (cfg_.debug)
            fmt::print(stderr, "wsmqtt: connecting to {}{}\n", to_string(ep), via ? fmt::format(" through proxy {}", where) : "");

        auto resolved = co_await resolve(first_hop.host, first_hop.port, what);
        if (auto* f = std::get_if<failure>(&resolved)) co_return *f;

        // One deadline for TCP connect, proxy, TLS and WebSocket handshakes together.
        auto& lowest = beast::get_lowest_layer(stream_);
        lowest.expires_after(cfg_.connect_timeout);
        auto [connect_ec, connected] = co_await lowest.async_connect(std::get<tcp::resolver::results_type>(resolved), use_tuple);
        if (connect_ec) {
            auto const code = via ? exit_code::proxy : exit_code::network;
            if (connect_ec == net::error::connection_refused)
                co_return failure{code, via ? fmt::format("connection refused by proxy {}", where) : fmt::format("connection refused to {}", where)};
            if (connect_ec == beast::error::timeout)
                co_return failure{code, fmt::format("connection to {}{} timed out after {}", what, where, seconds_text(cfg_.connect_timeout))};
            co_return failure{code, fmt::format("cannot connect to {}{}: {}", what, where, connect_ec.message())};
        }
        // MQTT packets are small and latency matters more than Nagle's batching.
        error_code ignored;
        lowest.socket().set_option(tcp::no_delay{true}, ignored);
        if (via) {
            // Not `?:` around co_await: GCC 12 destroys the result twice there.
            std::optional<failure> f;
            if (via->type == proxy::kind::http) f = co_await http_connect(*via);
            else f = co_await socks5_connect(*via);
            if (f) co_return f;
        }

        if constexpr (Tls)
            if (auto f = co_await tls_handshake()) co_return f;
        if constexpr (Ws)
            if (auto f = co_await websocket_handshake()) co_return f;
        lowest.expires_never();
        co_return std::nullopt;
    }

    net::awaitable<read_result> read() override
    {
        if constexpr (Ws) {
            if (read_frames_) co_return co_await read_frames();
            // --compress: Beast reads (and inflates) one message at a time.
            auto [ec, n] = co_await stream_.async_read_some(net::buffer(buffer_), use_tuple);
            if (ec) co_return read_result{{}, connection_lost(ec)};
            if (stream_.got_text()) // MQTT travels in binary frames only [MQTT-6.0.0-1]
                co_return read_result{{}, failure{exit_code::protocol, "protocol error: the broker sent a text WebSocket frame"}};
            co_return read_result{{buffer_.data(), n}, std::nullopt, false}; // one message per read: never drained
        } else {
            auto [ec, n] = co_await read_source().async_read_some(net::buffer(buffer_), use_tuple);
            if (ec) co_return read_result{{}, connection_lost(ec)};
            co_return read_result{{buffer_.data(), n}, std::nullopt, n < buffer_.size()};
        }
    }

    /// All the frames of one socket read at once: their payload, as one read of the stream.
    net::awaitable<read_result> read_frames()
    {
        reading_ = true;
        auto const result = co_await read_frames_once();
        reading_ = false;
        if (result.error) closed_.cancel(); // a close() waiting for the end of the connection goes on
        co_return result;
    }

    net::awaitable<read_result> read_frames_once()
    {
        payload_.clear();
        std::span<std::uint8_t const> input{spare_}; // what came with the handshake, once
        bool drained = false; // the last socket read took all there was
        while (true) {
            if (input.empty()) {
                spare_.clear();
                if (!payload_.empty()) co_return read_result{{payload_.data(), payload_.size()}, std::nullopt, drained};
                auto [ec, n] = co_await read_source().async_read_some(net::buffer(buffer_), use_tuple);
                if (ec) co_return read_result{{}, connection_lost(ec)};
                input = std::span<std::uint8_t const>{buffer_.data(), n};
                drained = n < buffer_.size();
                continue;
            }
            auto const r = frames_.read(input, payload_);
            input = input.subspan(r.consumed);
            if (r.what == ws::frame_reader::stop::error)
                co_return read_result{{}, failure{exit_code::protocol, fmt::format("protocol error: {}", frames_.error())}};
            if (r.what == ws::frame_reader::stop::close) co_return read_result{{}, connection_lost(websocket::error::closed)};
            if (r.what == ws::frame_reader::stop::ping) {
                websocket::ping_data answer;
                answer.assign(frames_.control().data(), frames_.control().size());
                (void)co_await stream_.async_pong(answer, use_tuple); // a failure shows on the next read
            }
        }
    }

    net::awaitable<std::optional<failure>> write(send_buffers const& data) override
    {
        error_code ec;
        if constexpr (Ws) {
            std::tie(ec, std::ignore) = co_await stream_.async_write(data, use_tuple);
        } else {
            std::tie(ec, std::ignore) = co_await net::async_write(stream_, data, use_tuple);
        }
        if (ec) co_return connection_lost(ec);
        co_return std::nullopt;
    }

    net::awaitable<std::optional<failure>> write_part(send_buffers const& data, bool last) override
    {
        if constexpr (Ws) {
            auto [ec, n] = co_await stream_.async_write_some(last, data, use_tuple);
            if (ec) co_return connection_lost(ec);
            co_return std::nullopt;
        } else {
            co_return co_await write(data);
        }
    }

    net::awaitable<void> close() override
    {
        auto& lowest = beast::get_lowest_layer(stream_);
        if constexpr (Ws) {
            if (read_frames_) {
                co_await close_frames();
            } else {
                // --compress: Beast's close handshake, bounded by the stream's handshake
                // timeout; TLS teardown follows.
                (void)co_await stream_.async_close(websocket::close_code::normal, use_tuple);
                stop_websocket_timer();
            }
        } else if constexpr (Tls) {
            lowest.expires_after(close_timeout);
            (void)co_await stream_.async_shutdown(use_tuple);
        }
        error_code ignored;
        lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
        lowest.socket().close(ignored);
    }

    /// The close when read_frames() reads: Beast's close would wait for the answer through its
    /// own reads, which no longer see the connection. Sends the close frame (status 1000, masked
    /// as a client's must be), ends our side (FIN after all our data; over TLS that comes after
    /// close_notify, below), and waits, bounded, until the reader sees the server's close or end
    /// of stream (RFC 6455 §7.1.1): closing a socket with unread input resets it, which could
    /// lose what we sent last. Over TLS, close_notify follows once the reader is done (it cannot
    /// be sent while a read is pending on the TLS stream).
    net::awaitable<void> close_frames()
    {
        auto& lowest = beast::get_lowest_layer(stream_);
        std::uint32_t const key = std::random_device{}();
        std::array<std::uint8_t, 8> frame{0x88, 0x82, static_cast<std::uint8_t>(key >> 24), static_cast<std::uint8_t>(key >> 16),
                                          static_cast<std::uint8_t>(key >> 8), static_cast<std::uint8_t>(key), 0x03, 0xE8};
        frame[6] ^= frame[2];
        frame[7] ^= frame[3];
        lowest.expires_after(close_timeout);
        auto [ec, n] = co_await net::async_write(stream_.next_layer(), net::buffer(frame), use_tuple);
        if constexpr (!Tls) {
            error_code ignored;
            lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
        if (!ec && reading_) {
            closed_.expires_after(close_timeout);
            (void)co_await closed_.async_wait(use_tuple);
        }
        if constexpr (Tls) {
            if (!ec && !reading_) {
                lowest.expires_after(close_timeout);
                (void)co_await tls_layer().async_shutdown(use_tuple);
            }
        }
    }

    void cancel() noexcept override
    {
        resolver_.cancel();
        error_code ignored;
        beast::get_lowest_layer(stream_).socket().close(ignored);
        if constexpr (Ws) stop_websocket_timer();
    }

private:
    /// Beast's close timeout stays armed when the close ends in an error (a broker that closes
    /// at DISCONNECT, as mosquitto does), and kept the event loop, and wsmqtt, running 2 s more.
    void stop_websocket_timer() noexcept requires Ws
    {
        try {
            stream_.set_option(websocket::stream_base::timeout{websocket::stream_base::none(), websocket::stream_base::none(), false});
        } catch (...) { // Asio's timer cancel() throws only if the OS fails; nothing to do then
        }
    }

    static context_type make_context(config const& cfg, std::optional<failure>& error)
    {
        if constexpr (Tls)
            return make_tls_context(cfg, error);
        else
            return {};
    }

    /// A read or write failed after the connection was up.
    static failure connection_lost(error_code const& ec)
    {
        if constexpr (Tls) {
            if (auto f = client_certificate_problem(ec)) return *f;
            if (ec == ssl::error::stream_truncated) return network_failure("connection closed by the broker");
        }
        // Masked or malformed frames, bad opcodes, reserved bits: the broker broke RFC 6455.
        if (ec.category() == make_error_code(websocket::error::closed).category() && ec != websocket::error::closed)
            return {exit_code::protocol, fmt::format("protocol error: WebSocket: {}", ec.message())};
        if (ec == websocket::error::closed || ec == net::error::eof || ec == http::error::end_of_stream)
            return network_failure("connection closed by the broker");
        return network_failure(fmt::format("connection lost: {}", ec.message()));
    }

    static stream_type make_stream(net::any_io_executor executor, [[maybe_unused]] context_type const& ctx)
    {
        if constexpr (Tls)
            return stream_type(executor, *ctx);
        else
            return stream_type(executor);
    }

    /// Where MQTT bytes and WebSocket frames are read from: the TLS stream, or else the socket
    /// itself (past the tap, which only records during the handshake, and Beast's timeouts,
    /// which only bound the connect and the close).
    auto& read_source() noexcept
    {
        if constexpr (Tls)
            return tls_layer();
        else
            return beast::get_lowest_layer(stream_).socket();
    }

    beast::ssl_stream<beast::tcp_stream>& tls_layer() noexcept
    {
        if constexpr (Ws)
            return stream_.next_layer().next_layer();
        else
            return stream_;
    }

    /// Addresses of host:port, or why there are none.
    net::awaitable<std::variant<tcp::resolver::results_type, failure>> resolve(std::string const& host, std::uint16_t port,
                                                                             std::string const& what)
    {
        // An address needs no resolver: Asio's asynchronous resolver starts a thread.
        boost::system::error_code not_an_address;
        if (auto const address = net::ip::make_address(host, not_an_address); !not_an_address)
            co_return tcp::resolver::results_type::create(tcp::endpoint{address, port}, host, std::to_string(port));
        auto [ec, results] = co_await resolver_.async_resolve(host, std::to_string(port), use_tuple);
        if (!ec) co_return results;
        auto const code = what.empty() ? exit_code::network : exit_code::proxy;
        if (ec == net::error::host_not_found || ec == net::error::host_not_found_try_again || ec == net::error::no_data)
            co_return failure{code, fmt::format("{}host not found: {}", what, host)};
        co_return failure{code, fmt::format("cannot resolve {}{}: {}", what, host, ec.message())};
    }

    /// HTTP CONNECT (RFC 9110 §9.3.6): the proxy opens a TCP tunnel to the broker.
    net::awaitable<std::optional<failure>> http_connect(proxy const& via)
    {
        auto& lowest = beast::get_lowest_layer(stream_);
        auto const target = host_and_port(cfg_.endpoint);
        auto const where = host_and_port(endpoint{scheme::mqtt, via.host, via.port, {}});
        http::request<http::empty_body> req{http::verb::connect, target, 11};
        req.set(http::field::host, target);
        req.set(http::field::user_agent, std::string{"wsmqtt/"} + version);
        if (via.username) {
            std::string credentials;
            append_base64(*via.username + ":" + via.password.value_or(""), credentials);
            req.set(http::field::proxy_authorization, "Basic " + credentials);
        }
        if (auto [ec, n] = co_await http::async_write(lowest, req, use_tuple); ec)
            co_return failure{exit_code::proxy, fmt::format("proxy {} closed the connection: {}", where, ec.message())};
        beast::flat_buffer buffer;
        http::response_parser<http::empty_body> parser;
        parser.skip(true); // a CONNECT answer has no body: what follows is the tunnel
        if (auto [ec, n] = co_await http::async_read_header(lowest, buffer, parser, use_tuple); ec) {
            if (ec == beast::error::timeout)
                co_return failure{exit_code::proxy, fmt::format("proxy {} did not answer CONNECT within {}", where, seconds_text(cfg_.connect_timeout))};
            co_return failure{exit_code::proxy, fmt::format("proxy {} did not answer CONNECT: {}", where, ec.message())};
        }
        auto const& res = parser.get();
        // 407 is the proxy's answer for missing credentials; some (tinyproxy) say 401 for wrong ones.
        if (res.result() == http::status::proxy_authentication_required || res.result() == http::status::unauthorized)
            co_return failure{exit_code::proxy, fmt::format("proxy {} requires authentication (HTTP {}){}", where, res.result_int(),
                                                            via.username ? ": it refused the user name or password" : ": give it in --proxy http://user:pass@host:port")};
        if (res.result_int() / 100 != 2)
            co_return failure{exit_code::proxy, fmt::format("proxy {} could not reach the broker {}: HTTP {} {}", where, target,
                                                            res.result_int(), sv(res.reason()))};
        co_return std::nullopt;
    }

    /// SOCKS5 (RFC 1928, RFC 1929 for the user name and password).
    net::awaitable<std::optional<failure>> socks5_connect(proxy const& via)
    {
        auto& lowest = beast::get_lowest_layer(stream_);
        auto const& ep = cfg_.endpoint;
        auto const where = host_and_port(endpoint{scheme::mqtt, via.host, via.port, {}});
        auto const refused = [&](std::string why) { return failure{exit_code::proxy, fmt::format("SOCKS5 proxy {}: {}", where, why)}; };
        std::vector<std::uint8_t> msg;
        auto const exchange = [&](std::size_t answer_size) -> net::awaitable<std::optional<std::string>> {
            if (auto [ec, n] = co_await net::async_write(lowest, net::buffer(msg), use_tuple); ec) co_return ec.message();
            msg.assign(answer_size, 0);
            if (auto [ec, n] = co_await net::async_read(lowest, net::buffer(msg), use_tuple); ec)
                co_return ec == net::error::eof ? std::string{"it closed the connection"} : ec.message();
            co_return std::nullopt;
        };

        bool const credentials = via.username.has_value();
        msg = credentials ? std::vector<std::uint8_t>{5, 2, 0, 2} : std::vector<std::uint8_t>{5, 1, 0};
        if (auto e = co_await exchange(2)) co_return refused(*e);
        if (msg[0] != 5) co_return refused("not a SOCKS5 proxy");
        if (msg[1] == 2) {
            if (!credentials) co_return refused("it wants a user name and password (socks5://user:pass@host:port)");
            auto const& user = *via.username;
            auto const pass = via.password.value_or("");
            if (user.size() > 255 || pass.size() > 255) co_return refused("user name and password must be at most 255 bytes");
            msg = {1, static_cast<std::uint8_t>(user.size())};
            msg.insert(msg.end(), user.begin(), user.end());
            msg.push_back(static_cast<std::uint8_t>(pass.size()));
            msg.insert(msg.end(), pass.begin(), pass.end());
            if (auto e = co_await exchange(2)) co_return refused(*e);
            if (msg[1] != 0) co_return refused("it refused the user name or password");
        } else if (msg[1] != 0) {
            co_return refused(credentials ? "it accepts none of our authentication methods"
                                          : "it accepts none of our authentication methods (does it want socks5://user:pass@host:port?)");
        }

        msg = {5, 1, 0}; // CONNECT
        if (via.type == proxy::kind::socks5h) {
            if (ep.host.size() > 255) co_return refused("host name too long");
            msg.push_back(3); // the proxy resolves the name
            msg.push_back(static_cast<std::uint8_t>(ep.host.size()));
            msg.insert(msg.end(), ep.host.begin(), ep.host.end());
        } else {
            auto resolved = co_await resolve(ep.host, ep.port, {});
            if (auto* f = std::get_if<failure>(&resolved)) co_return *f;
            auto const address = std::get<tcp::resolver::results_type>(resolved).begin()->endpoint().address();
            if (address.is_v4()) {
                msg.push_back(1);
                auto const b = address.to_v4().to_bytes();
                msg.insert(msg.end(), b.begin(), b.end());
            } else {
                msg.push_back(4);
                auto const b = address.to_v6().to_bytes();
                msg.insert(msg.end(), b.begin(), b.end());
            }
        }
        msg.push_back(static_cast<std::uint8_t>(ep.port >> 8));
        msg.push_back(static_cast<std::uint8_t>(ep.port & 0xFF));
        if (auto e = co_await exchange(5)) co_return refused(*e);
        if (msg[1] != 0) {
            static constexpr char const* reasons[] = {"succeeded", "general failure", "not allowed by its rules",
                                                      "network unreachable", "host unreachable", "connection refused",
                                                      "TTL expired", "command not supported", "address type not supported"};
            co_return failure{exit_code::proxy, fmt::format("SOCKS5 proxy {} could not reach the broker {}: {}", where, host_and_port(ep),
                                                            msg[1] < 9 ? reasons[msg[1]] : "unknown error")};
        }
        // The rest of the reply: the bound address (its first byte is read) and the port.
        std::size_t const rest = msg[3] == 1 ? 3 + 2 : msg[3] == 4 ? 15 + 2 : msg[3] == 3 ? msg[4] + 2u : 0u;
        if (rest == 0) co_return refused("malformed reply");
        msg.assign(rest, 0);
        if (auto [ec, n] = co_await net::async_read(lowest, net::buffer(msg), use_tuple); ec) co_return refused(ec.message());
        co_return std::nullopt;
    }

    net::awaitable<std::optional<failure>> tls_handshake() requires Tls
    {
        auto const& ep = cfg_.endpoint;
        auto& tls = tls_layer();
        auto* const native = tls.native_handle();
        bool const ip = is_ip_address(ep.host);
        // SNI: many servers pick the certificate by name and refuse a handshake without it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast" // the OpenSSL macro casts
        if (!ip) SSL_set_tlsext_host_name(native, ep.host.c_str());
#pragma GCC diagnostic pop
        if (cfg_.tls.insecure && !cfg_.quiet)
            fmt::print(stderr, "wsmqtt: warning: --insecure: the broker's certificate is not verified\n");
        if (!cfg_.tls.insecure) {
            // OpenSSL drops the broker's certificate when verification fails: note its names.
            tls.set_verify_callback([this](bool preverified, ssl::verify_context& vc) {
                auto* const store = vc.native_handle();
                if (!preverified && X509_STORE_CTX_get_error_depth(store) == 0)
                    peer_names_ = certificate_names(X509_STORE_CTX_get_current_cert(store));
                return preverified;
            });
            // Let OpenSSL check the name (or IP SAN) so the verify result says what failed.
            auto* const param = SSL_get0_param(native);
            if (ip)
                X509_VERIFY_PARAM_set1_ip_asc(param, ep.host.c_str());
            else
                X509_VERIFY_PARAM_set1_host(param, ep.host.c_str(), ep.host.size());
        }
        auto [ec] = co_await tls.async_handshake(ssl::stream_base::client, use_tuple);
        if (!ec) co_return std::nullopt;
        if (auto const result = SSL_get_verify_result(native); !cfg_.tls.insecure && result != X509_V_OK)
            co_return verify_failure(result, ep, peer_names_);
        if (auto f = client_certificate_problem(ec)) co_return f;
        if (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE && cfg_.tls.cert.empty())
            co_return failure{exit_code::tls, fmt::format("TLS handshake with {} failed: {} (does the broker require a client certificate?)",
                                                          host_and_port(ep), ec.message())};
        if (ec == beast::error::timeout)
            co_return failure{exit_code::tls, fmt::format("TLS handshake with {} timed out after {}", host_and_port(ep), seconds_text(cfg_.connect_timeout))};
        if (ec == net::error::eof || ec == ssl::error::stream_truncated)
            co_return failure{exit_code::tls, fmt::format("TLS handshake with {} failed: connection closed (is it a TLS port?)", host_and_port(ep))};
        co_return failure{exit_code::tls, fmt::format("TLS handshake with {} failed: {}", host_and_port(ep), ec.message())};
    }

    net::awaitable<std::optional<failure>> websocket_handshake() requires Ws
    {
        auto const& ep = cfg_.endpoint;
        // MQTT 3.1.1 registers "mqtt"; MQTT 3.1 used "mqttv3.1" [MQTT-6.0.0-3].
        std::string const subprotocol = !cfg_.ws.subprotocol.empty()                 ? cfg_.ws.subprotocol
                                         : cfg_.version == mqtt::protocol_version::v31 ? "mqttv3.1"
                                                                                       : "mqtt";
        stream_.set_option(websocket::stream_base::decorator([subprotocol, options = &cfg_.ws](websocket::request_type& req) {
            req.set(http::field::sec_websocket_protocol, subprotocol);
            req.set(http::field::user_agent, options->user_agent.empty() ? std::string{"wsmqtt/"} + version : options->user_agent);
            if (!options->origin.empty()) req.set(http::field::origin, options->origin);
            for (auto const& [name, value] : options->headers) req.set(name, value);
        }));
        if (cfg_.ws.compress) {
            websocket::permessage_deflate deflate;
            deflate.client_enable = true; // offer it; the server decides (RFC 7692)
            stream_.set_option(deflate);
        }
        // Client frames are masked in this buffer and written one buffer at a time: Beast's 4 KiB
        // made a 16 MiB message 4096 socket writes (three times the time of the same over TCP).
        stream_.write_buffer_bytes(ws_write_buffer);
        websocket::response_type response;
        std::vector<std::uint8_t> answer; // the bytes of the upgrade answer, and any after it
        stream_.next_layer().record(&answer);
        // The Host header carries the port unless it is the scheme's default.
        auto [ec] = co_await stream_.async_handshake(response, host_header(ep), ep.path, use_tuple);
        stream_.next_layer().record(nullptr);
        if (cfg_.debug && (ec == websocket::error::upgrade_declined || !ec)) trace_response(response);
        if (ec == websocket::error::upgrade_declined) {
            auto message = fmt::format("WebSocket upgrade refused: HTTP {} {}", response.result_int(), sv(response.reason()));
            if (auto const location = response.find(http::field::location); location != response.end())
                message += fmt::format(" (redirected to {})", sv(location->value()));
            co_return failure{exit_code::websocket, std::move(message)};
        }
        // Over TLS 1.3 a broker's verdict on our certificate arrives with the first read.
        if constexpr (Tls)
            if (auto f = client_certificate_problem(ec)) co_return f;
        if (ec == beast::error::timeout)
            co_return failure{exit_code::websocket, fmt::format("WebSocket handshake with {} timed out after {}", host_and_port(ep), seconds_text(cfg_.connect_timeout))};
        if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset)
            co_return failure{exit_code::websocket, fmt::format("WebSocket handshake with {} failed: connection closed (is it a WebSocket port?)", host_and_port(ep))};
        if (ec)
            co_return failure{exit_code::websocket, fmt::format("WebSocket handshake with {} failed: {}", host_and_port(ep), ec.message())};

        // The server must select the subprotocol we offered [MQTT-6.0.0-4]; Beast does not check.
        auto const selected = response.find(http::field::sec_websocket_protocol);
        if (selected == response.end())
            co_return failure{exit_code::websocket, fmt::format("broker did not accept subprotocol {}", subprotocol)};
        if (sv(selected->value()) != subprotocol)
            co_return failure{exit_code::websocket, fmt::format("broker selected subprotocol '{}' instead of {}", sv(selected->value()), subprotocol)};

        if (!cfg_.ws.compress) {
            // Frames the server sent right behind its answer are in Beast's buffer: take them
            // from the copy, after the answer's header (a 101 has no body).
            constexpr std::string_view end_of_header = "\r\n\r\n";
            auto const end = std::search(answer.begin(), answer.end(), end_of_header.begin(), end_of_header.end());
            if (end != answer.end()) {
                spare_.assign(end + static_cast<std::ptrdiff_t>(end_of_header.size()), answer.end());
                read_frames_ = true;
            }
        }
        stream_.binary(true); // [MQTT-6.0.0-1]
        // Messages are read in chunks and MQTT packets are capped by the decoder
        // (--max-packet-size), so Beast's own 16 MB message limit would only get in the way.
        stream_.read_message_max(0);
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = close_timeout; // from now on it bounds the close handshake
        timeouts.idle_timeout = websocket::stream_base::none(); // MQTT keepalive watches the line
        timeouts.keep_alive_pings = false;
        stream_.set_option(timeouts);
        co_return std::nullopt;
    }

    /// -d: the upgrade answer's status, headers and the start of its body.
    static void trace_response(websocket::response_type const& res)
    {
        fmt::print(stderr, "wsmqtt: WebSocket upgrade answered: HTTP {} {}\n", res.result_int(), sv(res.reason()));
        for (auto const& field : res) fmt::print(stderr, "wsmqtt:   {}: {}\n", sv(field.name_string()), sv(field.value()));
        if (res.body().empty()) return;
        std::string body;
        for (char const c : res.body().substr(0, 512))
            body += std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        fmt::print(stderr, "wsmqtt:   body: {}{}\n", body, res.body().size() > 512 ? "..." : "");
    }

    config const& cfg_;
    std::string peer_names_; ///< names of the broker's certificate when verification failed
    std::optional<failure> setup_error_;
    context_type ctx_;
    tcp::resolver resolver_;
    stream_type stream_;
    std::vector<std::uint8_t> buffer_;
    bool read_frames_ = false;          ///< ws/wss without --compress: frames are read by frames_, not Beast
    bool reading_ = false;              ///< read_frames() waits for the server
    net::steady_timer closed_;          ///< close() waits on it for the server's end
    ws::frame_reader frames_;
    std::vector<std::uint8_t> spare_;   ///< bytes that came with the upgrade answer
    std::vector<std::uint8_t> payload_; ///< what read_frames() returns
};

} // namespace wsmqtt::transport_detail

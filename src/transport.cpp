// The transports behind transport.hpp: TCP or TLS underneath, MQTT or WebSocket on top. The
// handshakes (proxy, WebSocket upgrade) and the WebSocket framing are sans-I/O code
// (handshakes.hpp, ws_frames.hpp): this file only moves their bytes. `--compress` is Beast's
// WebSocket stream from the upgrade to the close, since Beast inflates. The only translation
// unit with Beast: it is slow to compile.
#include "wsmqtt/transport.hpp"

#include "race.hpp"
#include "tls.hpp"
#include "wsmqtt/handshakes.hpp"
#include "wsmqtt/version.hpp"
#include "wsmqtt/ws_frames.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <cctype>
#include <random>
#include <string_view>
#include <type_traits>

namespace wsmqtt {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using boost::system::error_code;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t read_chunk_size = 64 * 1024;
/// Outgoing WebSocket payloads are masked in parts of this size, one socket write each.
constexpr std::size_t write_chunk_size = 64 * 1024;
/// How long a closing handshake may take.
constexpr auto close_timeout = std::chrono::seconds{2};

std::string seconds_text(std::chrono::milliseconds d) { return fmt::format("{:g} s", static_cast<double>(d.count()) / 1000.0); }

tcp::socket& lowest(tcp::socket& s) noexcept { return s; }
tcp::socket& lowest(ssl::stream<tcp::socket>& s) noexcept { return s.next_layer(); }

/// The steps of connect(), for the words of a timeout.
enum class stage { resolve, connect, proxy, tls, websocket };

/// What the connect steps share, whatever the stream on top: the options, the resolver, the
/// TLS context, and where the steps are.
class setup {
public:
    setup(net::any_io_executor const& ex, transport_options o) : options{std::move(o)}, resolver{ex}
    {
        if (uses_tls(options.endpoint.scheme)) tls_context = tls::make_context(options.tls, error);
    }

    transport_options options;
    tcp::resolver resolver;
    std::unique_ptr<ssl::context> tls_context; ///< wss:// and mqtts:// only
    std::optional<failure> error;              ///< from making the TLS context
    stage at = stage::resolve;
    std::string peer_names; ///< of the broker's certificate, when its verification failed

    [[nodiscard]] endpoint first_hop() const
    {
        auto const& ep = options.endpoint;
        return options.proxy ? endpoint{ep.scheme, options.proxy->host, options.proxy->port, {}} : ep;
    }

    /// The failure for connect() running out of time, where it was.
    [[nodiscard]] failure timed_out() const
    {
        auto const limit = seconds_text(options.connect_timeout);
        auto const broker = host_and_port(options.endpoint);
        auto const hop = host_and_port(first_hop());
        bool const via = options.proxy.has_value();
        switch (at) {
        case stage::resolve: return {via ? exit_code::proxy : exit_code::network, fmt::format("cannot resolve {}: timed out after {}", first_hop().host, limit)};
        case stage::connect: return {via ? exit_code::proxy : exit_code::network, fmt::format("connection to {}{} timed out after {}", via ? "proxy " : "", hop, limit)};
        case stage::proxy: return {exit_code::proxy, fmt::format("proxy {} did not answer within {}", hop, limit)};
        case stage::tls: return {exit_code::tls, fmt::format("TLS handshake with {} timed out after {}", broker, limit)};
        case stage::websocket: return {exit_code::websocket, fmt::format("WebSocket handshake with {} timed out after {}", broker, limit)};
        }
        return {exit_code::network, "timed out"};
    }

    /// Addresses of host:port, or why there are none.
    net::awaitable<std::variant<tcp::resolver::results_type, failure>> resolve(std::string const& host, std::uint16_t port, bool of_proxy)
    {
        // An address needs no resolver: Asio's asynchronous resolver starts a thread.
        error_code not_an_address;
        if (auto const address = net::ip::make_address(host, not_an_address); !not_an_address)
            co_return tcp::resolver::results_type::create(tcp::endpoint{address, port}, host, std::to_string(port));
        auto [ec, results] = co_await resolver.async_resolve(host, std::to_string(port), use_tuple);
        if (!ec) co_return results;
        auto const code = of_proxy ? exit_code::proxy : exit_code::network;
        auto const what = of_proxy ? "proxy " : "";
        if (ec == net::error::host_not_found || ec == net::error::host_not_found_try_again || ec == net::error::no_data)
            co_return failure{code, fmt::format("{}host not found: {}", what, host)};
        co_return failure{code, fmt::format("cannot resolve {}{}: {}", what, host, ec.message())};
    }

    /// Connects `stream` as far as the byte stream that MQTT or WebSocket speaks over: TCP (to
    /// the proxy if there is one), the proxy's handshake, TLS.
    template <class Stream>
    net::awaitable<std::optional<failure>> open(Stream& stream)
    {
        if (error) co_return error;
        auto const& ep = options.endpoint;
        auto const* const via = options.proxy ? &*options.proxy : nullptr;
        auto const hop = first_hop();
        if (options.trace)
            options.trace(fmt::format("connecting to {}{}", to_string(ep), via ? fmt::format(" through proxy {}", host_and_port(hop)) : ""));
        at = stage::resolve;
        auto resolved = co_await resolve(hop.host, hop.port, via != nullptr);
        if (auto* f = std::get_if<failure>(&resolved)) co_return *f;

        at = stage::connect;
        auto& socket = lowest(stream);
        auto [ec, connected] = co_await net::async_connect(socket, std::get<tcp::resolver::results_type>(resolved), use_tuple);
        if (ec) {
            auto const code = via ? exit_code::proxy : exit_code::network;
            auto const where = host_and_port(hop);
            if (ec == net::error::connection_refused)
                co_return failure{code, via ? fmt::format("connection refused by proxy {}", where) : fmt::format("connection refused to {}", where)};
            co_return failure{code, fmt::format("cannot connect to {}{}: {}", via ? "proxy " : "", where, ec.message())};
        }
        // MQTT packets are small and latency matters more than Nagle's batching.
        error_code ignored;
        socket.set_option(tcp::no_delay{true}, ignored);

        if (via) {
            at = stage::proxy;
            if (via->type == proxy::kind::http) {
                handshake::http_connect h{*via, ep, std::string{"wsmqtt/"} + version};
                if (auto f = co_await exchange(socket, h, h.start(), nullptr)) co_return f;
            } else {
                std::vector<std::uint8_t> address; // socks5h: none, the proxy resolves the name
                if (via->type == proxy::kind::socks5) {
                    auto broker = co_await resolve(ep.host, ep.port, false);
                    if (auto* f = std::get_if<failure>(&broker)) co_return *f;
                    auto const a = std::get<tcp::resolver::results_type>(broker).begin()->endpoint().address();
                    if (a.is_v4()) {
                        auto const b = a.to_v4().to_bytes();
                        address.assign(b.begin(), b.end());
                    } else {
                        auto const b = a.to_v6().to_bytes();
                        address.assign(b.begin(), b.end());
                    }
                }
                handshake::socks5 h{*via, ep, std::move(address)};
                if (auto f = co_await exchange(socket, h, h.start(), nullptr)) co_return f;
            }
        }
        if constexpr (std::is_same_v<Stream, ssl::stream<tcp::socket>>) {
            at = stage::tls;
            if (auto f = co_await tls_handshake(stream)) co_return f;
        }
        co_return std::nullopt;
    }

    /// Runs a sans-I/O handshake over `stream`: sends what it asks, feeds it what comes back.
    /// Bytes a WebSocket server sent behind its answer go to `rest` (frames); a proxy sends none.
    template <class Stream, class Handshake>
    net::awaitable<std::optional<failure>> exchange(Stream& stream, Handshake& h, std::string out, std::vector<std::uint8_t>* rest)
    {
        auto const io_error = [&](error_code const& e) -> failure {
            if (auto f = tls::client_certificate_problem(e)) return *f; // TLS 1.3: the verdict on our certificate comes now
            bool const closed = e == net::error::eof || e == net::error::connection_reset || e == ssl::error::stream_truncated;
            if constexpr (std::is_same_v<Handshake, handshake::websocket_upgrade>)
                return h.io_error(closed ? "" : e.message(), host_and_port(options.endpoint));
            else
                return h.io_error(closed ? "" : e.message());
        };
        std::array<std::uint8_t, 4096> buffer;
        while (true) {
            if (!out.empty()) {
                auto [ec, n] = co_await net::async_write(stream, net::buffer(out), use_tuple);
                if (ec) co_return io_error(ec);
                out.clear();
            }
            auto [ec, n] = co_await stream.async_read_some(net::buffer(buffer), use_tuple);
            if (ec) co_return io_error(ec);
            auto s = h.feed({buffer.data(), n});
            if (s.error) co_return s.error;
            out = std::move(s.send);
            if (!s.done) continue;
            if constexpr (std::is_same_v<Handshake, handshake::websocket_upgrade>)
                rest->assign(buffer.begin() + static_cast<std::ptrdiff_t>(s.consumed), buffer.begin() + static_cast<std::ptrdiff_t>(n));
            else if (s.consumed < n) // nothing went through the tunnel yet: nothing can come back
                co_return h.io_error("it sent data before we spoke through the tunnel");
            if (!out.empty())
                if (auto [e, m] = co_await net::async_write(stream, net::buffer(out), use_tuple); e) co_return io_error(e);
            co_return std::nullopt;
        }
    }

    net::awaitable<std::optional<failure>> tls_handshake(ssl::stream<tcp::socket>& stream)
    {
        auto const& ep = options.endpoint;
        auto* const native = stream.native_handle();
        error_code not_an_address;
        (void)net::ip::make_address(ep.host, not_an_address);
        bool const ip = !not_an_address;
        // SNI: many servers pick the certificate by name and refuse a handshake without it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast" // the OpenSSL macro casts
        if (!ip) SSL_set_tlsext_host_name(native, ep.host.c_str());
#pragma GCC diagnostic pop
        if (!options.tls.insecure) {
            // OpenSSL drops the broker's certificate when verification fails: note its names.
            stream.set_verify_callback([this](bool preverified, ssl::verify_context& vc) {
                auto* const store = vc.native_handle();
                if (!preverified && X509_STORE_CTX_get_error_depth(store) == 0)
                    peer_names = tls::certificate_names(X509_STORE_CTX_get_current_cert(store));
                return preverified;
            });
            // Let OpenSSL check the name (or IP SAN) so the verify result says what failed.
            auto* const param = SSL_get0_param(native);
            if (ip) X509_VERIFY_PARAM_set1_ip_asc(param, ep.host.c_str());
            else X509_VERIFY_PARAM_set1_host(param, ep.host.c_str(), ep.host.size());
        }
        auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
        if (!ec) co_return std::nullopt;
        if (auto const result = SSL_get_verify_result(native); !options.tls.insecure && result != X509_V_OK)
            co_return tls::verify_failure(result, ep, peer_names);
        if (auto f = tls::client_certificate_problem(ec)) co_return f;
        if (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE && options.tls.cert.empty())
            co_return failure{exit_code::tls, fmt::format("TLS handshake with {} failed: {} (does the broker require a client certificate?)",
                                                          host_and_port(ep), ec.message())};
        if (ec == net::error::eof || ec == ssl::error::stream_truncated || ec == net::error::connection_reset)
            co_return failure{exit_code::tls, fmt::format("TLS handshake with {} failed: connection closed (is it a TLS port?)", host_and_port(ep))};
        co_return failure{exit_code::tls, fmt::format("TLS handshake with {} failed: {}", host_and_port(ep), ec.message())};
    }

    /// Runs `steps` within the connect timeout; on time out the socket is closed, which ends
    /// whatever step was under way.
    template <class Steps>
    net::awaitable<std::optional<failure>> within_deadline(Steps steps, tcp::socket& socket)
    {
        std::optional<failure> result;
        auto run = [&]() -> net::awaitable<void> { result = co_await steps(); };
        auto deadline = [&]() -> net::awaitable<void> {
            auto const executor = co_await net::this_coro::executor;
            net::steady_timer timer{executor, options.connect_timeout};
            co_await timer.async_wait(net::use_awaitable);
            resolver.cancel();
            error_code ignored;
            socket.close(ignored);
        };
        auto const first = co_await race(run(), deadline());
        if (first == 1) co_return timed_out();
        co_return result;
    }

    /// The WebSocket subprotocol's words for a failed read or write after connect().
    [[nodiscard]] static failure connection_lost(error_code const& ec)
    {
        if (auto f = tls::client_certificate_problem(ec)) return *f;
        if (ec == net::error::eof || ec == ssl::error::stream_truncated) return {exit_code::network, "connection closed by the broker"};
        return {exit_code::network, fmt::format("connection lost: {}", ec.message())};
    }
};

/// Waits until the connection may write: one writer at a time, between the data writer and
/// the reader's answers to PING and close.
class write_gate {
public:
    explicit write_gate(net::any_io_executor ex) : released_{std::move(ex)} {}
    net::awaitable<void> acquire()
    {
        while (busy_) {
            released_.expires_at(net::steady_timer::time_point::max());
            (void)co_await released_.async_wait(use_tuple);
            bool const was_cancelled = co_await cancelled();
            if (was_cancelled) throw boost::system::system_error{net::error::operation_aborted};
        }
        busy_ = true;
    }
    void release()
    {
        busy_ = false;
        released_.cancel();
    }

private:
    net::steady_timer released_;
    bool busy_ = false;
};

/// ws://, wss://, mqtt://, mqtts:// without --compress: MQTT straight on the byte stream, or in
/// WebSocket binary frames that we read and write ourselves.
template <class Stream>
class stream_transport final : public transport {
public:
    stream_transport(net::any_io_executor const& ex, transport_options options)
        : setup_{ex, std::move(options)}
        , stream_{make_stream(ex)}
        , ws_{uses_websocket(setup_.options.endpoint.scheme)}
        , frames_{setup_.options.max_frame}
        , gate_{ex}
        , buffer_(read_chunk_size)
    {
    }

    net::awaitable<std::optional<failure>> connect() override
    {
        co_return co_await setup_.within_deadline(
            [this]() -> net::awaitable<std::optional<failure>> {
                if (auto f = co_await setup_.open(stream_)) co_return f;
                if (ws_) {
                    setup_.at = stage::websocket;
                    if (auto f = co_await upgrade()) co_return f;
                }
                co_return std::nullopt;
            },
            lowest(stream_));
    }

    net::awaitable<read_result> read() override
    {
        if (!ws_) {
            auto [ec, n] = co_await stream_.async_read_some(net::buffer(buffer_), use_tuple);
            if (ec) co_return read_result{{}, setup::connection_lost(ec)};
            co_return read_result{{buffer_.data(), n}, std::nullopt};
        }
        if (ended_) co_return read_result{{}, ended_};
        payload_.clear();
        std::span<std::uint8_t const> input{spare_}; // what came behind the upgrade's answer, once
        while (true) {
            if (input.empty()) {
                spare_.clear();
                if (!payload_.empty()) co_return read_result{{payload_.data(), payload_.size()}, std::nullopt};
                auto [ec, n] = co_await stream_.async_read_some(net::buffer(buffer_), use_tuple);
                if (ec) co_return read_result{{}, setup::connection_lost(ec)};
                input = std::span<std::uint8_t const>{buffer_.data(), n};
                continue;
            }
            auto const r = frames_.read(input, payload_);
            input = input.subspan(r.consumed);
            switch (r.what) {
            case ws::frame_reader::stop::more: break;
            case ws::frame_reader::stop::ping:
                co_await send_control(ws::control_frame(ws::op_pong, frames_.control(), next_key()));
                break;
            case ws::frame_reader::stop::close: {
                // Answer with a close frame before the TCP close (RFC 6455 §5.5.1), unless
                // this is the answer to ours; say what the broker said.
                auto const status = ws::parse_close(frames_.control());
                if (!close_sent_) co_await send_control(ws::close_frame(status.code == 1005 ? ws::close_normal : status.code, {}, next_key()));
                close_sent_ = true;
                ended_ = failure{exit_code::network, fmt::format("connection closed by the broker (WebSocket close {})", ws::describe(status))};
                break;
            }
            case ws::frame_reader::stop::error:
                co_await fail(ws::close_protocol_error);
                ended_ = failure{exit_code::protocol, fmt::format("protocol error: {}", frames_.error())};
                break;
            case ws::frame_reader::stop::too_big:
                co_await fail(ws::close_too_big);
                ended_ = failure{exit_code::protocol, fmt::format("protocol error: {}", frames_.error())};
                break;
            }
            if (ended_) {
                // The messages that came before the end still count.
                if (!payload_.empty()) co_return read_result{{payload_.data(), payload_.size()}, std::nullopt};
                co_return read_result{{}, ended_};
            }
        }
    }

    net::awaitable<std::optional<failure>> write(send_buffers const& data) override
    {
        if (!ws_) {
            auto [ec, n] = co_await net::async_write(stream_, data, use_tuple);
            if (ec) co_return setup::connection_lost(ec);
            co_return std::nullopt;
        }
        co_await gate_.acquire();
        auto const result = co_await write_message(data);
        gate_.release();
        co_return result;
    }

    net::awaitable<void> shutdown() override
    {
        if (ws_ && !close_sent_) {
            close_sent_ = true;
            co_await send_control(ws::close_frame(ws::close_normal, {}, next_key()));
        }
        // FIN after all our data; over TLS the broker's end of the connection ends it.
        if constexpr (std::is_same_v<Stream, tcp::socket>) {
            error_code ignored;
            stream_.shutdown(tcp::socket::shutdown_send, ignored);
        }
    }

    net::awaitable<void> fail(std::uint16_t ws_status) override
    {
        if (!ws_ || close_sent_) co_return;
        close_sent_ = true;
        co_await send_control(ws::close_frame(ws_status, {}, next_key()));
    }

    void cancel() noexcept override
    {
        setup_.resolver.cancel();
        error_code ignored;
        lowest(stream_).close(ignored);
    }

private:
    Stream make_stream(net::any_io_executor const& ex)
    {
        if constexpr (std::is_same_v<Stream, tcp::socket>)
            return Stream{ex};
        else
            return Stream{ex, *setup_.tls_context};
    }

    ws::mask_key next_key()
    {
        auto const v = random_();
        return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    }

    net::awaitable<std::optional<failure>> upgrade()
    {
        auto const& o = setup_.options;
        std::array<std::uint8_t, 16> nonce;
        std::random_device entropy;
        for (auto& b : nonce) b = static_cast<std::uint8_t>(entropy());
        handshake::websocket_upgrade h{{host_header(o.endpoint), o.endpoint.path, o.ws.subprotocol,
                                        o.ws.user_agent.empty() ? std::string{"wsmqtt/"} + version : o.ws.user_agent, o.ws.origin,
                                        o.ws.headers},
                                       nonce};
        auto f = co_await setup_.exchange(stream_, h, h.start(), &spare_);
        if (o.trace && h.answered()) trace_answer(o.trace, h.response(), h.body());
        co_return f;
    }

    static void trace_answer(std::function<void(std::string const&)> const& trace, handshake::http_head const& head, std::string const& body)
    {
        trace(fmt::format("WebSocket upgrade answered: HTTP {} {}", head.status, head.reason));
        for (auto const& [name, value] : head.fields) trace(fmt::format("  {}: {}", name, value));
        if (body.empty()) return;
        std::string shown;
        for (char const c : body)
            shown += std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        trace(fmt::format("  body: {}", shown));
    }

    /// One binary frame with all of `data`, masked in parts of write_chunk_size (§5.3).
    net::awaitable<std::optional<failure>> write_message(send_buffers const& data)
    {
        auto const key = next_key();
        out_.clear();
        ws::append_frame_header(ws::op_binary, net::buffer_size(data), key, out_);
        std::uint64_t offset = 0;
        for (auto const piece : data) {
            auto const* bytes = static_cast<std::uint8_t const*>(piece.data());
            std::size_t left = piece.size();
            while (left > 0) {
                auto const take = std::min(left, write_chunk_size - std::min(out_.size(), write_chunk_size));
                if (take == 0) {
                    if (auto f = co_await flush_out()) co_return f;
                    continue;
                }
                auto const at = out_.size();
                out_.insert(out_.end(), bytes, bytes + take);
                ws::apply_mask({out_.data() + at, take}, key, offset);
                offset += take;
                bytes += take;
                left -= take;
            }
        }
        co_return co_await flush_out();
    }

    net::awaitable<std::optional<failure>> flush_out()
    {
        auto [ec, n] = co_await net::async_write(stream_, net::buffer(out_), use_tuple);
        out_.clear();
        if (ec) co_return setup::connection_lost(ec);
        co_return std::nullopt;
    }

    /// A PONG or close frame, between data writes; a failure shows on the next read.
    net::awaitable<void> send_control(std::vector<std::uint8_t> frame)
    {
        co_await gate_.acquire();
        (void)co_await net::async_write(stream_, net::buffer(frame), use_tuple);
        gate_.release();
    }

    setup setup_;
    Stream stream_;
    bool const ws_;
    ws::frame_reader frames_;
    write_gate gate_;
    std::vector<std::uint8_t> buffer_;  ///< socket reads
    std::vector<std::uint8_t> spare_;   ///< bytes that came behind the upgrade's answer
    std::vector<std::uint8_t> payload_; ///< what a WebSocket read returns
    std::vector<std::uint8_t> out_;     ///< a frame being masked and written
    std::optional<failure> ended_;      ///< the WebSocket ended: what read() says from now on
    bool close_sent_ = false;
    std::mt19937 random_{std::random_device{}()};
};

/// ws:// and wss:// with --compress: Beast's WebSocket stream does all of it, since it inflates
/// (permessage-deflate, RFC 7692). One message per read.
template <class Stream>
class deflate_transport final : public transport {
public:
    deflate_transport(net::any_io_executor const& ex, transport_options options)
        : setup_{ex, std::move(options)}, ws_{make_stream(ex)}, buffer_(read_chunk_size)
    {
    }

    net::awaitable<std::optional<failure>> connect() override
    {
        co_return co_await setup_.within_deadline(
            [this]() -> net::awaitable<std::optional<failure>> {
                if (auto f = co_await setup_.open(ws_.next_layer())) co_return f;
                setup_.at = stage::websocket;
                co_return co_await upgrade();
            },
            lowest(ws_.next_layer()));
    }

    net::awaitable<read_result> read() override
    {
        auto [ec, n] = co_await ws_.async_read_some(net::buffer(buffer_), use_tuple);
        if (ec) co_return read_result{{}, lost(ec)};
        if (ws_.got_text()) // MQTT travels in binary frames only [MQTT-6.0.0-1]
            co_return read_result{{}, failure{exit_code::protocol, "protocol error: the broker sent a text WebSocket frame"}};
        co_return read_result{{buffer_.data(), n}, std::nullopt};
    }

    net::awaitable<std::optional<failure>> write(send_buffers const& data) override
    {
        auto [ec, n] = co_await ws_.async_write(data, use_tuple);
        if (ec) co_return lost(ec);
        co_return std::nullopt;
    }

    net::awaitable<void> shutdown() override { (void)co_await ws_.async_close(websocket::close_code::normal, use_tuple); }

    net::awaitable<void> fail(std::uint16_t ws_status) override
    {
        (void)co_await ws_.async_close(static_cast<websocket::close_code>(ws_status), use_tuple);
    }

    void cancel() noexcept override
    {
        setup_.resolver.cancel();
        error_code ignored;
        lowest(ws_.next_layer()).close(ignored);
    }

private:
    websocket::stream<Stream> make_stream(net::any_io_executor const& ex)
    {
        if constexpr (std::is_same_v<Stream, tcp::socket>)
            return websocket::stream<Stream>{ex};
        else
            return websocket::stream<Stream>{ex, *setup_.tls_context};
    }

    failure lost(error_code const& ec) const
    {
        if (ec == websocket::error::closed) {
            auto const& reason = ws_.reason();
            return {exit_code::network, fmt::format("connection closed by the broker (WebSocket close {})",
                                                    ws::describe({static_cast<std::uint16_t>(reason.code), std::string{reason.reason.data(), reason.reason.size()}}))};
        }
        // Masked or malformed frames, bad opcodes, reserved bits: the broker broke RFC 6455.
        if (ec.category() == make_error_code(websocket::error::closed).category())
            return {exit_code::protocol, fmt::format("protocol error: WebSocket: {}", ec.message())};
        return setup::connection_lost(ec);
    }

    net::awaitable<std::optional<failure>> upgrade()
    {
        auto const& o = setup_.options;
        auto const& ep = o.endpoint;
        ws_.set_option(websocket::stream_base::decorator([&o](websocket::request_type& req) {
            req.set(beast::http::field::sec_websocket_protocol, o.ws.subprotocol);
            req.set(beast::http::field::user_agent, o.ws.user_agent.empty() ? std::string{"wsmqtt/"} + version : o.ws.user_agent);
            if (!o.ws.origin.empty()) req.set(beast::http::field::origin, o.ws.origin);
            for (auto const& [name, value] : o.ws.headers) req.set(name, value);
        }));
        websocket::permessage_deflate deflate;
        deflate.client_enable = true; // offer it; the server decides (RFC 7692)
        ws_.set_option(deflate);
        websocket::response_type response;
        auto [ec] = co_await ws_.async_handshake(response, host_header(ep), ep.path, use_tuple);
        if (o.trace && (!ec || ec == websocket::error::upgrade_declined)) {
            o.trace(fmt::format("WebSocket upgrade answered: HTTP {} {}", response.result_int(), std::string_view{response.reason()}));
            for (auto const& field : response)
                o.trace(fmt::format("  {}: {}", std::string_view{field.name_string()}, std::string_view{field.value()}));
        }
        if (ec == websocket::error::upgrade_declined) {
            auto message = fmt::format("WebSocket upgrade refused: HTTP {} {}", response.result_int(), std::string_view{response.reason()});
            if (auto const location = response.find(beast::http::field::location); location != response.end())
                message += fmt::format(" (redirected to {})", std::string_view{location->value()});
            co_return failure{exit_code::websocket, std::move(message)};
        }
        if (auto f = tls::client_certificate_problem(ec)) co_return f;
        if (ec == beast::http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset)
            co_return failure{exit_code::websocket, fmt::format("WebSocket handshake with {} failed: connection closed (is it a WebSocket port?)", host_and_port(ep))};
        if (ec) co_return failure{exit_code::websocket, fmt::format("WebSocket handshake with {} failed: {}", host_and_port(ep), ec.message())};
        // The server must select the subprotocol we offered [MQTT-6.0.0-4]; Beast does not check.
        auto const selected = response.find(beast::http::field::sec_websocket_protocol);
        if (selected == response.end())
            co_return failure{exit_code::websocket, fmt::format("broker did not accept subprotocol {}", o.ws.subprotocol)};
        if (std::string_view{selected->value()} != o.ws.subprotocol)
            co_return failure{exit_code::websocket, fmt::format("broker selected subprotocol '{}' instead of {}", std::string_view{selected->value()}, o.ws.subprotocol)};
        ws_.binary(true); // [MQTT-6.0.0-1]
        ws_.read_message_max(o.max_frame);
        ws_.write_buffer_bytes(write_chunk_size);
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = close_timeout; // from now on it bounds the close handshake
        timeouts.idle_timeout = websocket::stream_base::none(); // MQTT keepalive watches the line
        timeouts.keep_alive_pings = false;
        ws_.set_option(timeouts);
        co_return std::nullopt;
    }

    setup setup_;
    websocket::stream<Stream> ws_;
    std::vector<std::uint8_t> buffer_;
};

/// Stands in for a transport that cannot be made: connecting fails with the reason.
template <class T>
std::unique_ptr<transport> make(net::any_io_executor const& ex, transport_options&& o)
{
    return std::make_unique<T>(ex, std::move(o));
}

} // namespace

transport_options transport_options_from(config const& cfg)
{
    transport_options o;
    o.endpoint = cfg.endpoint;
    o.proxy = cfg.proxy;
    o.tls = cfg.tls;
    o.ws = cfg.ws;
    // MQTT 3.1.1 registers "mqtt"; MQTT 3.1 used "mqttv3.1" [MQTT-6.0.0-3].
    if (o.ws.subprotocol.empty()) o.ws.subprotocol = cfg.version == mqtt::protocol_version::v31 ? "mqttv3.1" : "mqtt";
    o.connect_timeout = cfg.connect_timeout;
    o.max_frame = cfg.max_packet_size;
    return o;
}

std::unique_ptr<transport> make_transport(net::any_io_executor executor, transport_options options)
{
    using tls_stream = ssl::stream<tcp::socket>;
    bool const tls = uses_tls(options.endpoint.scheme);
    if (uses_websocket(options.endpoint.scheme) && options.ws.compress)
        return tls ? make<deflate_transport<tls_stream>>(executor, std::move(options)) : make<deflate_transport<tcp::socket>>(executor, std::move(options));
    return tls ? make<stream_transport<tls_stream>>(executor, std::move(options)) : make<stream_transport<tcp::socket>>(executor, std::move(options));
}

} // namespace wsmqtt

// ws://, wss://, mqtt:// and mqtts:// behind one interface. The only translation unit that
// includes Beast and OpenSSL: they are slow to compile.
#include "wsmqtt/transport.hpp"

#include "wsmqtt/version.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <string_view>
#include <type_traits>

namespace wsmqtt {
namespace {

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

std::string_view sv(beast::string_view s) noexcept { return {s.data(), s.size()}; }

bool is_ip_address(std::string const& host)
{
    error_code ec;
    (void)net::ip::make_address(host, ec);
    return !ec;
}

std::string seconds_text(std::chrono::milliseconds d)
{
    return fmt::format("{:g} s", static_cast<double>(d.count()) / 1000.0);
}

failure network_failure(std::string message) { return {exit_code::network, std::move(message)}; }

/// A read or write failed after the connection was up.
failure connection_lost(error_code const& ec)
{
    if (ec == websocket::error::closed || ec == net::error::eof || ec == ssl::error::stream_truncated ||
        ec == http::error::end_of_stream)
        return network_failure("connection closed by the broker");
    return network_failure(fmt::format("connection lost: {}", ec.message()));
}

/// Certificate verification failures in words (the OpenSSL verify result after the handshake).
failure verify_failure(long result, endpoint const& ep)
{
    auto const reason = X509_verify_cert_error_string(result);
    switch (result) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return {exit_code::tls, fmt::format("TLS: host name mismatch: the broker's certificate is not valid for '{}'", ep.host)};
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return {exit_code::tls, "TLS: the broker's certificate has expired"};
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return {exit_code::tls, "TLS: the broker's certificate is not yet valid"};
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        return {exit_code::tls, fmt::format("TLS: certificate not trusted ({}); name its CA with --cafile", reason)};
    default:
        return {exit_code::tls, fmt::format("TLS: certificate verification failed: {}", reason)};
    }
}

/// The TLS client context, made only for wss:// and mqtts:// runs.
std::unique_ptr<ssl::context> make_tls_context(config const& cfg, std::optional<failure>& error)
{
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    if (cfg.tls.insecure) {
        ctx->set_verify_mode(ssl::verify_none);
        return ctx;
    }
    error_code ec;
    ctx->set_default_verify_paths(ec); // the system CA store
    if (!cfg.tls.cafile.empty()) {
        ctx->load_verify_file(cfg.tls.cafile, ec);
        if (ec) error = failure{exit_code::tls, fmt::format("cannot load CA file '{}': {}", cfg.tls.cafile, ec.message())};
    }
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
}

/// One class for the four transports: TCP or TLS underneath, WebSocket on top or not.
template <bool Tls, bool Ws>
class stream_transport final : public transport {
    using base_stream = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;
    using stream_type = std::conditional_t<Ws, websocket::stream<base_stream>, base_stream>;

public:
    stream_transport(net::any_io_executor executor, config const& cfg)
        : cfg_{cfg}
        , ctx_{Tls ? make_tls_context(cfg, setup_error_) : nullptr}
        , resolver_{executor}
        , stream_{make_stream(executor, ctx_.get())}
        , buffer_(read_chunk_size)
    {
    }

    net::awaitable<std::optional<failure>> connect() override
    {
        if (setup_error_) co_return setup_error_;
        auto const& ep = cfg_.endpoint;
        auto const where = host_and_port(ep);

        auto [resolve_ec, results] = co_await resolver_.async_resolve(ep.host, std::to_string(ep.port), use_tuple);
        if (resolve_ec) {
            if (resolve_ec == net::error::host_not_found || resolve_ec == net::error::host_not_found_try_again ||
                resolve_ec == net::error::no_data)
                co_return network_failure(fmt::format("host not found: {}", ep.host));
            co_return network_failure(fmt::format("cannot resolve {}: {}", ep.host, resolve_ec.message()));
        }

        // One deadline for TCP connect, TLS and WebSocket handshakes together.
        auto& lowest = beast::get_lowest_layer(stream_);
        lowest.expires_after(cfg_.connect_timeout);
        auto [connect_ec, connected] = co_await lowest.async_connect(results, use_tuple);
        if (connect_ec) {
            if (connect_ec == net::error::connection_refused)
                co_return network_failure(fmt::format("connection refused to {}", where));
            if (connect_ec == beast::error::timeout)
                co_return network_failure(fmt::format("connection to {} timed out after {}", where, seconds_text(cfg_.connect_timeout)));
            co_return network_failure(fmt::format("cannot connect to {}: {}", where, connect_ec.message()));
        }
        // MQTT packets are small and latency matters more than Nagle's batching.
        error_code ignored;
        lowest.socket().set_option(tcp::no_delay{true}, ignored);

        if constexpr (Tls)
            if (auto f = co_await tls_handshake()) co_return f;
        if constexpr (Ws)
            if (auto f = co_await websocket_handshake()) co_return f;
        lowest.expires_never();
        co_return std::nullopt;
    }

    net::awaitable<read_result> read() override
    {
        auto [ec, n] = co_await stream_.async_read_some(net::buffer(buffer_), use_tuple);
        if (ec) co_return read_result{{}, connection_lost(ec)};
        if constexpr (Ws) {
            if (stream_.got_text()) // MQTT travels in binary frames only [MQTT-6.0.0-1]
                co_return read_result{{}, failure{exit_code::protocol, "protocol error: the broker sent a text WebSocket frame"}};
        }
        co_return read_result{{buffer_.data(), n}, std::nullopt};
    }

    net::awaitable<std::optional<failure>> write(std::span<std::uint8_t const> data) override
    {
        error_code ec;
        if constexpr (Ws) {
            std::tie(ec, std::ignore) = co_await stream_.async_write(net::buffer(data.data(), data.size()), use_tuple);
        } else {
            std::tie(ec, std::ignore) = co_await net::async_write(stream_, net::buffer(data.data(), data.size()), use_tuple);
        }
        if (ec) co_return connection_lost(ec);
        co_return std::nullopt;
    }

    net::awaitable<void> close() override
    {
        auto& lowest = beast::get_lowest_layer(stream_);
        if constexpr (Ws) {
            // Close handshake, bounded by the stream's handshake timeout; TLS teardown follows.
            (void)co_await stream_.async_close(websocket::close_code::normal, use_tuple);
        } else if constexpr (Tls) {
            lowest.expires_after(close_timeout);
            (void)co_await stream_.async_shutdown(use_tuple);
        }
        error_code ignored;
        lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
        lowest.socket().close(ignored);
    }

    void cancel() noexcept override
    {
        resolver_.cancel();
        error_code ignored;
        beast::get_lowest_layer(stream_).socket().close(ignored);
    }

private:
    static stream_type make_stream(net::any_io_executor executor, ssl::context* ctx)
    {
        if constexpr (Tls)
            return stream_type(executor, *ctx);
        else
            return stream_type(executor);
    }

    beast::ssl_stream<beast::tcp_stream>& tls_layer() noexcept
    {
        if constexpr (Ws)
            return stream_.next_layer();
        else
            return stream_;
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
        if (!cfg_.tls.insecure) {
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
            co_return verify_failure(result, ep);
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
        std::string const subprotocol = cfg_.version == mqtt::protocol_version::v31 ? "mqttv3.1" : "mqtt";
        stream_.set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& req) {
            req.set(http::field::sec_websocket_protocol, subprotocol);
            req.set(http::field::user_agent, std::string{"wsmqtt/"} + version);
        }));
        websocket::response_type response;
        // The Host header carries the port unless it is the scheme's default.
        auto [ec] = co_await stream_.async_handshake(response, host_header(ep), ep.path, use_tuple);
        if (ec == websocket::error::upgrade_declined) {
            auto message = fmt::format("WebSocket upgrade refused: HTTP {} {}", response.result_int(), sv(response.reason()));
            if (auto const location = response.find(http::field::location); location != response.end())
                message += fmt::format(" (redirected to {})", sv(location->value()));
            co_return failure{exit_code::websocket, std::move(message)};
        }
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

        stream_.binary(true); // [MQTT-6.0.0-1]
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = close_timeout; // from now on it bounds the close handshake
        timeouts.idle_timeout = websocket::stream_base::none(); // MQTT keepalive watches the line
        timeouts.keep_alive_pings = false;
        stream_.set_option(timeouts);
        co_return std::nullopt;
    }

    config const& cfg_;
    std::optional<failure> setup_error_;
    std::unique_ptr<ssl::context> ctx_;
    tcp::resolver resolver_;
    stream_type stream_;
    std::vector<std::uint8_t> buffer_;
};

} // namespace

std::unique_ptr<transport> make_transport(net::any_io_executor executor, config const& cfg)
{
    switch (cfg.endpoint.scheme) {
    case scheme::ws: return std::make_unique<stream_transport<false, true>>(executor, cfg);
    case scheme::wss: return std::make_unique<stream_transport<true, true>>(executor, cfg);
    case scheme::mqtt: return std::make_unique<stream_transport<false, false>>(executor, cfg);
    case scheme::mqtts: return std::make_unique<stream_transport<true, false>>(executor, cfg);
    }
    return nullptr;
}

} // namespace wsmqtt

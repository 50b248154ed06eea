// The connect steps' words and the parts that are not templates (connect_steps.hpp).
#include "connect_steps.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace wsmqtt::transport_detail {
namespace {

std::string seconds_text(std::chrono::milliseconds d) { return fmt::format("{:g} s", static_cast<double>(d.count()) / 1000.0); }

} // namespace

/// The failure for connect() running out of time, where it was.
failure connect_steps::timed_out() const
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
net::awaitable<std::variant<tcp::resolver::results_type, failure>> connect_steps::resolve(std::string const& host, std::uint16_t port, bool of_proxy)
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

net::awaitable<std::optional<failure>> connect_steps::tls_handshake(tls_stream& stream)
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

/// The WebSocket subprotocol's words for a failed read or write after connect().
failure connect_steps::connection_lost(error_code const& ec)
{
    if (auto f = tls::client_certificate_problem(ec)) return *f;
    if (ec == net::error::eof || ec == ssl::error::stream_truncated) return {exit_code::network, "connection closed by the broker"};
    return {exit_code::network, fmt::format("connection lost: {}", ec.message())};
}

} // namespace wsmqtt::transport_detail

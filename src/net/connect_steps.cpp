// The parts of the connect steps that are not templates (connect_steps.hpp).
#include "connect_steps.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace wsmqtt::transport_detail {

/// connect() ran out of time, where it was.
transport_error connect_steps::timed_out() const
{
    using enum transport_errc;
    auto const limit = static_cast<std::uint64_t>(options.connect_timeout.count());
    auto const broker = host_and_port(options.endpoint);
    bool const via = options.proxy.has_value();
    switch (at) {
    case stage::resolve: return {resolve_timed_out, first_hop().host, {}, {}, limit};
    case stage::connect: return {connect_timed_out, host_and_port(first_hop()), {}, via ? "proxy" : "", limit};
    case stage::proxy: return {proxy_timed_out, host_and_port(first_hop()), {}, {}, limit};
    case stage::tls: return {tls_timed_out, broker, {}, {}, limit};
    case stage::websocket: return {websocket_timed_out, broker, {}, {}, limit};
    }
    return {connect_timed_out, broker, {}, {}, limit};
}

/// Addresses of host:port, or why there are none.
net::awaitable<std::variant<tcp::resolver::results_type, transport_error>> connect_steps::resolve(std::string const& host, std::uint16_t port, bool of_proxy)
{
    // An address needs no resolver: Asio's asynchronous resolver starts a thread.
    error_code not_an_address;
    if (auto const address = net::ip::make_address(host, not_an_address); !not_an_address)
        co_return tcp::resolver::results_type::create(tcp::endpoint{address, port}, host, std::to_string(port));
    auto [ec, results] = co_await resolver.async_resolve(host, std::to_string(port), use_tuple);
    if (!ec) co_return results;
    using enum transport_errc;
    if (ec == net::error::host_not_found || ec == net::error::host_not_found_try_again || ec == net::error::no_data)
        co_return transport_error{of_proxy ? proxy_host_not_found : host_not_found, host};
    co_return transport_error{of_proxy ? proxy_resolve_failed : resolve_failed, host, ec.message()};
}

net::awaitable<std::optional<transport_error>> connect_steps::tls_handshake(tls_stream& stream)
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
    // The callback above points into these steps, which end with connect(); nothing is
    // verified after the handshake.
    if (!options.tls.insecure) stream.set_verify_callback([](bool preverified, ssl::verify_context&) { return preverified; });
    if (!ec) co_return std::nullopt;
    if (auto const result = SSL_get_verify_result(native); !options.tls.insecure && result != X509_V_OK)
        co_return tls::verify_failure(result, ep, peer_names);
    if (auto f = tls::client_certificate_problem(ec)) co_return f;
    if (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE && options.tls.cert.empty())
        co_return transport_error{transport_errc::tls_handshake_failed_no_cert, host_and_port(ep), ec.message()};
    if (ec == net::error::eof || ec == ssl::error::stream_truncated || ec == net::error::connection_reset)
        co_return transport_error{transport_errc::tls_not_tls, host_and_port(ep)};
    co_return transport_error{transport_errc::tls_handshake_failed, host_and_port(ep), ec.message()};
}

/// A failed read or write after connect().
transport_error connect_steps::connection_lost(error_code const& ec)
{
    if (auto f = tls::client_certificate_problem(ec)) return *f;
    if (ec == net::error::eof || ec == ssl::error::stream_truncated) return {transport_errc::closed_by_broker};
    return {transport_errc::connection_lost, {}, ec.message()};
}

} // namespace wsmqtt::transport_detail

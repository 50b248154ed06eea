// TLS for wss:// and mqtts://: the client context, and what went wrong with certificates.
#pragma once

#include "wsmqtt/net/endpoint.hpp"
#include "wsmqtt/net/transport_error.hpp"

#include <boost/asio/ssl.hpp>

#include <memory>
#include <optional>
#include <string>

namespace wsmqtt::tls {

namespace ssl = boost::asio::ssl;

/// The TLS client context, made only for wss:// and mqtts:// runs (so others pay nothing for
/// the CA store). A bad option (an unreadable file, an unknown cipher) sets `error`.
[[nodiscard]] std::unique_ptr<ssl::context> make_context(tls_options const& tls, std::optional<transport_error>& error);
/// TLS alerts about client certificates; they may come during the handshake (TLS 1.2)
/// or with the first read after it (TLS 1.3).
[[nodiscard]] std::optional<transport_error> client_certificate_problem(boost::system::error_code const& ec);
/// The DNS names and addresses a certificate is valid for, for messages.
[[nodiscard]] std::string certificate_names(X509* cert);
/// Certificate verification failures (the OpenSSL verify result after the handshake); `names`
/// are those of the broker's certificate.
[[nodiscard]] transport_error verify_failure(long result, endpoint const& ep, std::string const& names);

} // namespace wsmqtt::tls

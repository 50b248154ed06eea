// TLS for wss:// and mqtts://: the client context, and what went wrong with certificates. Asio's
// TLS stream and OpenSSL; no Beast.
#include "tls.hpp"

#include <boost/asio/ip/address_v6.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

namespace wsmqtt::tls {

namespace net = boost::asio;
using boost::system::error_code;
namespace {

/// Where --tls-keylog writes: kept with the SSL_CTX, closed with it.
int keylog_index()
{
    static int const index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr,
                                                      [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
                                                          if (ptr) std::fclose(static_cast<std::FILE*>(ptr));
                                                      });
    return index;
}

void write_keylog(SSL const* ssl, char const* line)
{
    if (auto* const file = static_cast<std::FILE*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keylog_index()))) {
        std::fprintf(file, "%s\n", line);
        std::fflush(file);
    }
}

} // namespace

/// TLS alerts about client certificates; they may come during the handshake (TLS 1.2) or with
/// the first read after it (TLS 1.3).
std::optional<transport_error> client_certificate_problem(error_code const& ec)
{
    if (ec.category() != net::error::get_ssl_category()) return std::nullopt;
    switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        return transport_error{transport_errc::tls_certificate_required};
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
        return transport_error{transport_errc::tls_certificate_rejected, {}, ec.message()};
    default:
        return std::nullopt;
    }
}

/// The DNS names and addresses a certificate is valid for, for messages.
std::string certificate_names(X509* cert)
{
    if (!cert) return {};
    std::string names;
    auto* const sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
        auto const* const name = sk_GENERAL_NAME_value(sans, i);
        std::string entry;
        if (name->type == GEN_DNS) {
            auto const* const s = name->d.dNSName;
            entry.assign(reinterpret_cast<char const*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
        } else if (name->type == GEN_IPADD) {
            auto const* const s = name->d.iPAddress;
            auto const* const data = ASN1_STRING_get0_data(s);
            if (ASN1_STRING_length(s) == 4) {
                entry = fmt::format("{}.{}.{}.{}", data[0], data[1], data[2], data[3]);
            } else if (ASN1_STRING_length(s) == 16) {
                net::ip::address_v6::bytes_type b;
                std::copy(data, data + 16, b.begin());
                entry = net::ip::address_v6{b}.to_string();
            }
        }
        if (entry.empty()) continue;
        if (!names.empty()) names += ", ";
        names += entry;
    }
    GENERAL_NAMES_free(sans);
    if (names.empty()) {
        // No subjectAltName: the common name is what older certificates carry.
        char cn[256] = {};
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) names = cn;
    }
    return names;
}

/// Certificate verification failures (the OpenSSL verify result after the handshake); `names`
/// are those of the broker's certificate.
transport_error verify_failure(long result, endpoint const& ep, std::string const& names)
{
    using enum transport_errc;
    std::string reason = X509_verify_cert_error_string(result);
    switch (result) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return {tls_host_mismatch, ep.host, {}, names};
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return {tls_certificate_expired, host_and_port(ep)};
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return {tls_certificate_not_yet_valid, host_and_port(ep)};
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        return {tls_certificate_untrusted, host_and_port(ep), std::move(reason)};
    default:
        return {tls_verify_failed, host_and_port(ep), std::move(reason)};
    }
}

/// The TLS client context, made only for wss:// and mqtts:// runs (so ws:// pays nothing for
/// the CA store).
std::unique_ptr<ssl::context> make_context(tls_options const& tls, std::optional<transport_error>& error)
{
    using enum transport_errc;
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    auto* const native = ctx->native_handle();
    auto const fail = [&](transport_errc code, std::string const& subject, std::string detail = {}, std::uint64_t number = 0) {
        if (!error) error = transport_error{code, subject, std::move(detail), {}, number};
    };
    SSL_CTX_set_min_proto_version(native, tls.version == "tlsv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
    if (tls.version == "tlsv1.2") SSL_CTX_set_max_proto_version(native, TLS1_2_VERSION);
    if (!tls.ciphers.empty() && SSL_CTX_set_cipher_list(native, tls.ciphers.c_str()) != 1)
        fail(tls_bad_ciphers, tls.ciphers);
    if (!tls.alpn.empty()) {
        std::string wire; // length-prefixed list (RFC 7301)
        for (auto const& a : tls.alpn) wire += static_cast<char>(a.size()) + a;
        SSL_CTX_set_alpn_protos(native, reinterpret_cast<unsigned char const*>(wire.data()), static_cast<unsigned>(wire.size()));
    }
    if (!tls.keylog.empty()) {
        if (auto* const file = std::fopen(tls.keylog.c_str(), "a")) {
            SSL_CTX_set_ex_data(native, keylog_index(), file);
            SSL_CTX_set_keylog_callback(native, write_keylog);
        } else {
            fail(tls_keylog_unopenable, tls.keylog, std::strerror(errno));
        }
    }
    error_code ec;
    if (!tls.cert.empty()) {
        // Without --key-password-file an encrypted key fails to load: OpenSSL must not prompt.
        ctx->set_password_callback([password = tls.key_password.value_or("")](std::size_t, ssl::context::password_purpose) {
            return password;
        });
        ctx->use_certificate_chain_file(tls.cert, ec);
        if (ec) fail(tls_cert_unloadable, tls.cert, ec.message());
        ctx->use_private_key_file(tls.key, ssl::context::pem, ec);
        if (ec) {
            bool const mismatch = ec.category() == net::error::get_ssl_category() &&
                                  ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
            fail(tls_key_unloadable, tls.key, ec.message(), mismatch ? 2 : tls.key_password ? 1 : 0);
        }
    }
    if (tls.insecure) {
        ctx->set_verify_mode(ssl::verify_none);
        return ctx;
    }
    ctx->set_default_verify_paths(ec); // the system CA store
    if (!tls.cafile.empty()) {
        ctx->load_verify_file(tls.cafile, ec);
        if (ec) fail(tls_cafile_unloadable, tls.cafile, ec.message());
    }
    if (!tls.capath.empty()) {
        ctx->add_verify_path(tls.capath, ec);
        if (ec) fail(tls_capath_unusable, tls.capath, ec.message());
    }
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
}

} // namespace wsmqtt::tls

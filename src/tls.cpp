// TLS for wss:// and mqtts://: the client context, and certificate problems in words. Asio's
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

/// TLS alerts about client certificates, in words; they may come during the handshake (TLS 1.2)
/// or with the first read after it (TLS 1.3).
std::optional<failure> client_certificate_problem(error_code const& ec)
{
    if (ec.category() != net::error::get_ssl_category()) return std::nullopt;
    switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        return failure{exit_code::tls, "TLS: the broker requires a client certificate (give --cert and --key)"};
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
        return failure{exit_code::tls, fmt::format("TLS: the broker rejected our client certificate ({})", ec.message())};
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

/// Certificate verification failures in words (the OpenSSL verify result after the handshake);
/// `names` are those of the broker's certificate.
failure verify_failure(long result, endpoint const& ep, std::string const& names)
{
    auto const reason = X509_verify_cert_error_string(result);
    switch (result) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return {exit_code::tls, fmt::format("TLS: host name mismatch: the broker's certificate is not valid for '{}'{}", ep.host,
                                            names.empty() ? "" : " (it is for: " + names + ")")};
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

/// The TLS client context, made only for wss:// and mqtts:// runs (so ws:// pays nothing for
/// the CA store).
std::unique_ptr<ssl::context> make_context(tls_options const& tls, std::optional<failure>& error)
{
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    auto* const native = ctx->native_handle();
    auto const fail = [&](std::string message) {
        if (!error) error = failure{exit_code::tls, std::move(message)};
    };
    SSL_CTX_set_min_proto_version(native, tls.version == "tlsv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
    if (tls.version == "tlsv1.2") SSL_CTX_set_max_proto_version(native, TLS1_2_VERSION);
    if (!tls.ciphers.empty() && SSL_CTX_set_cipher_list(native, tls.ciphers.c_str()) != 1)
        fail(fmt::format("--ciphers '{}' names no cipher OpenSSL knows", tls.ciphers));
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
            fail(fmt::format("cannot open --tls-keylog '{}': {}", tls.keylog, std::strerror(errno)));
        }
    }
    error_code ec;
    if (!tls.cert.empty()) {
        // Without --key-password-file an encrypted key fails to load: OpenSSL must not prompt.
        ctx->set_password_callback([password = tls.key_password.value_or("")](std::size_t, ssl::context::password_purpose) {
            return password;
        });
        ctx->use_certificate_chain_file(tls.cert, ec);
        if (ec) fail(fmt::format("cannot load --cert '{}': {}", tls.cert, ec.message()));
        ctx->use_private_key_file(tls.key, ssl::context::pem, ec);
        if (ec) fail(fmt::format("cannot load --key '{}': {}{}", tls.key, ec.message(),
                                 tls.key_password ? "" : " (an encrypted key needs --key-password-file)"));
    }
    if (tls.insecure) {
        ctx->set_verify_mode(ssl::verify_none);
        return ctx;
    }
    ctx->set_default_verify_paths(ec); // the system CA store
    if (!tls.cafile.empty()) {
        ctx->load_verify_file(tls.cafile, ec);
        if (ec) fail(fmt::format("cannot load CA file '{}': {}", tls.cafile, ec.message()));
    }
    if (!tls.capath.empty()) {
        ctx->add_verify_path(tls.capath, ec);
        if (ec) fail(fmt::format("cannot use CA folder '{}': {}", tls.capath, ec.message()));
    }
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
}

} // namespace wsmqtt::tls

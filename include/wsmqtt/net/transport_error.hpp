// Why a transport could not connect, or why its connection ended: facts, not words. The
// transport, the handshakes and TLS return these; describe() (transport_words.cpp) words them
// and picks the exit code, in one table, at the edge where messages are made.
#pragma once

#include "wsmqtt/exit_code.hpp"

#include <cstdint>
#include <string>

namespace wsmqtt {

/// What happened. Each names the fields of transport_error it fills; `subject` is the host
/// (host:port) or file the error is about unless said otherwise.
enum class transport_errc : std::uint8_t {
    // Reaching the broker, or the proxy when there is one (proxy_*).
    host_not_found,           ///< subject: the host name
    resolve_failed,           ///< subject: the host name; detail: the resolver's words
    connection_refused,       ///< subject: host:port
    connect_failed,           ///< detail: the system's words
    proxy_host_not_found,     ///< as host_not_found, for the proxy
    proxy_resolve_failed,     ///< as resolve_failed, for the proxy
    proxy_connection_refused, ///< as connection_refused, for the proxy
    proxy_connect_failed,     ///< as connect_failed, for the proxy
    // Out of time (connect timeout); number: the limit in milliseconds.
    resolve_timed_out,   ///< subject: the host name
    connect_timed_out,   ///< subject: host:port of the first hop; target: "proxy" when it is one
    proxy_timed_out,     ///< subject: the proxy
    tls_timed_out,       ///< subject: the broker
    websocket_timed_out, ///< subject: the broker
    // HTTP CONNECT proxy; subject: the proxy.
    proxy_malformed_answer,   ///< detail: what is wrong with it
    proxy_wants_credentials,  ///< number: the HTTP status (407, 401); none were given
    proxy_refused_credentials,///< number: the HTTP status
    proxy_cannot_reach,       ///< target: the broker; number: HTTP status; detail: its reason
    proxy_no_answer,          ///< detail: the system's words, empty when it closed
    proxy_sent_early,         ///< it sent data before anything went through the tunnel
    // SOCKS5 proxy; subject: the proxy.
    socks_not_socks5,
    socks_wants_credentials,  ///< none were given
    socks_credentials_too_long,
    socks_host_too_long,
    socks_no_method,          ///< number: 1 when credentials were given
    socks_refused_credentials,
    socks_cannot_reach,       ///< target: the broker; number: the reply code (RFC 1928 §6)
    socks_malformed_reply,
    socks_no_answer,          ///< detail: the system's words, empty when it closed
    socks_sent_early,
    // TLS options that cannot be used; subject: the option's value.
    tls_bad_ciphers,
    tls_keylog_unopenable,    ///< detail: the system's words
    tls_cert_unloadable,      ///< detail: OpenSSL's words
    tls_key_unloadable,       ///< detail: OpenSSL's words; number: 1 a password was given, 2 not the key of --cert
    tls_cafile_unloadable,    ///< detail: OpenSSL's words
    tls_capath_unusable,      ///< detail: OpenSSL's words
    // The TLS handshake and certificates; subject: the broker (host for tls_host_mismatch).
    tls_certificate_required,  ///< the broker wants our certificate
    tls_certificate_rejected,  ///< detail: the alert
    tls_host_mismatch,         ///< target: the names the certificate is for
    tls_certificate_expired,
    tls_certificate_not_yet_valid,
    tls_certificate_untrusted, ///< detail: OpenSSL's verify words
    tls_verify_failed,         ///< detail: OpenSSL's verify words
    tls_handshake_failed,      ///< detail: OpenSSL's words
    tls_handshake_failed_no_cert, ///< detail: OpenSSL's words; we gave no certificate
    tls_not_tls,               ///< closed during the handshake
    // The WebSocket upgrade; subject: the broker.
    ws_upgrade_refused,     ///< number: HTTP status; detail: its reason; target: Location, if any
    ws_no_subprotocol,      ///< target: the subprotocol offered [MQTT-6.0.0-4]
    ws_other_subprotocol,   ///< target: offered; detail: the one selected
    ws_malformed_answer,    ///< detail: what is wrong with it
    ws_not_an_upgrade,      ///< the answer does not upgrade to WebSocket
    ws_wrong_accept,        ///< Sec-WebSocket-Accept (RFC 6455 §4.1)
    ws_unoffered_extension,
    ws_handshake_closed,    ///< closed before the answer
    ws_handshake_failed,    ///< detail: the system's words
    http_answer,            ///< MQTT over TCP was answered in HTTP: a WebSocket port
    // After connecting.
    closed,                 ///< the connection ended, nobody said why
    closed_by_broker,       ///< TCP or TLS end of stream
    ws_closed_by_broker,    ///< number: the close code (0: none); detail: its reason
    connection_lost,        ///< detail: the system's words
    ws_protocol_error,      ///< detail: what the frames broke (ws_frames)
    ws_text_frame,          ///< MQTT goes in binary frames [MQTT-6.0.0-1]
};

struct transport_error {
    transport_errc code = transport_errc::closed;
    std::string subject;
    std::string detail;
    std::string target;
    std::uint64_t number = 0;
    /// The port took our WebSocket upgrade before (a reconnect): no hint that it may be MQTT's.
    bool port_proven = false;
};

/// The error's line (without "wsmqtt: error: ") and the exit code it ends a run with.
[[nodiscard]] failure describe(transport_error const& e);

} // namespace wsmqtt

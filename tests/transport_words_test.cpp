// The transport's errors in words and exit codes (transport_words.cpp): every code has its own
// line, and the exit code README.md's table gives it.
#include <catch2/catch.hpp>

#include "wsmqtt/net/transport_error.hpp"

#include <set>
#include <string>

using namespace wsmqtt;
using enum transport_errc;

TEST_CASE("every transport error has its own words", "[transport_words]")
{
    std::set<std::string> seen;
    for (auto c = 0; c <= static_cast<int>(ws_text_frame); ++c) {
        auto const f = describe({static_cast<transport_errc>(c), "host.test:1", "why", "other", 7});
        INFO("code " << c << ": " << f.message);
        CHECK(f.message != "connection failed");
        CHECK(f.code != exit_code::ok);
        CHECK(seen.insert(f.message).second);
    }
}

TEST_CASE("exit codes as README.md's table says", "[transport_words]")
{
    auto const code = [](transport_errc c) { return describe({c, "h:1"}).code; };
    CHECK(code(host_not_found) == exit_code::network);
    CHECK(code(connection_refused) == exit_code::network);
    CHECK(code(connection_lost) == exit_code::network);
    CHECK(code(closed_by_broker) == exit_code::network);
    CHECK(code(ws_closed_by_broker) == exit_code::network);
    // "timed out" is a network failure, whichever step ran out of time.
    for (auto const c : {resolve_timed_out, connect_timed_out, proxy_timed_out, tls_timed_out, websocket_timed_out})
        CHECK(code(c) == exit_code::network);
    CHECK(code(proxy_host_not_found) == exit_code::proxy);
    CHECK(code(proxy_wants_credentials) == exit_code::proxy);
    CHECK(code(socks_cannot_reach) == exit_code::proxy);
    CHECK(code(socks_sent_early) == exit_code::proxy);
    CHECK(code(tls_bad_ciphers) == exit_code::tls);
    CHECK(code(tls_host_mismatch) == exit_code::tls);
    CHECK(code(tls_not_tls) == exit_code::tls);
    CHECK(code(ws_upgrade_refused) == exit_code::websocket);
    CHECK(code(ws_handshake_failed) == exit_code::websocket);
    CHECK(code(http_answer) == exit_code::websocket);
    CHECK(code(ws_protocol_error) == exit_code::protocol);
    CHECK(code(ws_text_frame) == exit_code::protocol);
}

TEST_CASE("the words carry the facts: limits, statuses, close codes, names", "[transport_words]")
{
    CHECK(describe({tls_timed_out, "b:8883", {}, {}, 2500}).message == "TLS handshake with b:8883 timed out after 2.5 s");
    CHECK(describe({connect_timed_out, "p:3128", {}, "proxy", 10000}).message == "connection to proxy p:3128 timed out after 10 s");
    CHECK(describe({ws_closed_by_broker, {}, "bye", {}, 1001}).message == "connection closed by the broker (WebSocket close 1001 going away: \"bye\")");
    CHECK(describe({tls_host_mismatch, "localhost", {}, "example.com"}).message ==
          "TLS: host name mismatch: the broker's certificate is not valid for 'localhost' (it is for: example.com)");
    CHECK(describe({socks_cannot_reach, "p:1080", {}, "b:1", 5}).message == "SOCKS5 proxy p:1080 could not reach the broker b:1: connection refused");
    CHECK(describe({socks_cannot_reach, "p:1080", {}, "b:1", 200}).message == "SOCKS5 proxy p:1080 could not reach the broker b:1: unknown error");
    // A key that cannot be loaded: encrypted without a password, or not the certificate's key.
    CHECK(describe({tls_key_unloadable, "k.pem", "bad decrypt"}).message == "cannot load --key 'k.pem': bad decrypt (an encrypted key needs --key-password-file)");
    CHECK(describe({tls_key_unloadable, "k.pem", "key values mismatch", {}, 2}).message ==
          "cannot load --key 'k.pem': key values mismatch (it is not the key of --cert)");
    CHECK(describe({tls_key_unloadable, "k.pem", "bad decrypt", {}, 1}).message == "cannot load --key 'k.pem': bad decrypt");
}

TEST_CASE("a WebSocket handshake that gets nowhere hints at --tcp, naming MQTT's own ports", "[transport_words]")
{
    CHECK(describe({ws_handshake_closed, "b:1883"}).message == "WebSocket handshake with b:1883 failed: connection closed (port 1883 is for MQTT over TCP: add --tcp)");
    CHECK(describe({websocket_timed_out, "b:8883", {}, {}, 1000}).message ==
          "WebSocket handshake with b:8883 timed out after 1 s (port 8883 is for MQTT over TCP: add --tcp)");
    CHECK(describe({ws_handshake_closed, "b:9001"}).message ==
          "WebSocket handshake with b:9001 failed: connection closed (is it a WebSocket port? For MQTT over TCP add --tcp)");
    CHECK(describe({http_answer, "b:8080"}).message == "b:8080 answered in HTTP: it is a WebSocket port, not MQTT over TCP (drop --tcp)");
    // On a reconnect the port has taken our upgrade before: no hint (a proxy whose broker restarts).
    CHECK(describe({ws_handshake_closed, "b:9001", {}, {}, 0, true}).message == "WebSocket handshake with b:9001 failed: connection closed");
    CHECK(describe({websocket_timed_out, "b:9001", {}, {}, 2000, true}).message == "WebSocket handshake with b:9001 timed out after 2 s");
}

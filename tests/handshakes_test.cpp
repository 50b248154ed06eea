// The proxy handshakes without I/O: HTTP CONNECT and SOCKS5, fed as a proxy would answer, whole
// and a byte at a time. The WebSocket upgrade is tested in process in transport_test.cpp.
#include <catch2/catch.hpp>

#include "wsmqtt/net/handshakes.hpp"

#include <string>
#include <vector>

using namespace wsmqtt;
using namespace wsmqtt::handshake;

namespace {

std::span<std::uint8_t const> bytes_of(std::string const& s) { return {reinterpret_cast<std::uint8_t const*>(s.data()), s.size()}; }

/// Feeds `answer` to `h` in pieces of `step` bytes until it is done or fails; what it asked to
/// send goes to `sent`.
template <class H>
step feed_all(H& h, std::string const& answer, std::size_t step_size, std::string* sent = nullptr)
{
    step last;
    std::size_t at = 0;
    while (at < answer.size()) {
        auto const n = std::min(step_size, answer.size() - at);
        last = h.feed(bytes_of(answer.substr(at, n)));
        if (sent) *sent += last.send;
        if (last.done || last.error) {
            last.consumed += at;
            return last;
        }
        at += n;
    }
    return last;
}

proxy http_proxy(std::optional<std::string> user = {})
{
    proxy p;
    p.type = proxy::kind::http;
    p.host = "proxy.test";
    p.port = 3128;
    p.username = user;
    if (user) p.password = "pw";
    return p;
}

/// A SOCKS5 proxy at 127.0.0.1:1080, with `user` and `password` when given.
proxy socks_proxy(proxy::kind type, std::optional<std::string> user = {}, std::string password = {})
{
    proxy p;
    p.type = type;
    p.host = "127.0.0.1";
    p.port = 1080;
    p.username = std::move(user);
    if (p.username) p.password = std::move(password);
    return p;
}

endpoint broker() { return endpoint{scheme::ws, "broker.test", 8080, "/mqtt"}; }

} // namespace

TEST_CASE("HTTP CONNECT asks for a tunnel to host:port, with Basic credentials when given", "[handshakes]")
{
    http_connect plain{http_proxy(), broker(), "wsmqtt/1"};
    CHECK(plain.start() == "CONNECT broker.test:8080 HTTP/1.1\r\nHost: broker.test:8080\r\nUser-Agent: wsmqtt/1\r\n\r\n");
    http_connect with_user{http_proxy("alice"), broker(), "wsmqtt/1"};
    CHECK_THAT(with_user.start(), Catch::Contains("Proxy-Authorization: Basic YWxpY2U6cHc=\r\n")); // alice:pw
}

TEST_CASE("HTTP CONNECT is done at the end of a 2xx answer's head, however it is split", "[handshakes]")
{
    auto const split = GENERATE(std::size_t{1}, std::size_t{7}, std::size_t{1000});
    http_connect h{http_proxy(), broker(), "wsmqtt/1"};
    auto const s = feed_all(h, "HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n", split);
    CHECK(s.done);
    CHECK_FALSE(s.error);
}

TEST_CASE("HTTP CONNECT refusals are named: authentication, an unreachable broker, a broken answer", "[handshakes]")
{
    http_connect anonymous{http_proxy(), broker(), "wsmqtt/1"};
    auto s = anonymous.feed(bytes_of("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"));
    REQUIRE(s.error);
    CHECK(s.error->code == transport_errc::proxy_wants_credentials);
    CHECK(describe(*s.error).code == exit_code::proxy);
    CHECK(describe(*s.error).message == "proxy proxy.test:3128 requires authentication (HTTP 407): give it in --proxy http://user:pass@host:port");
    http_connect wrong{http_proxy("alice"), broker(), "wsmqtt/1"};
    s = wrong.feed(bytes_of("HTTP/1.1 401 Unauthorized\r\n\r\n"));
    REQUIRE(s.error);
    CHECK(describe(*s.error).message == "proxy proxy.test:3128 requires authentication (HTTP 401): it refused the user name or password");
    http_connect unreachable{http_proxy(), broker(), "wsmqtt/1"};
    s = unreachable.feed(bytes_of("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    REQUIRE(s.error);
    CHECK(describe(*s.error).message == "proxy proxy.test:3128 could not reach the broker broker.test:8080: HTTP 502 Bad Gateway");
    http_connect garbage{http_proxy(), broker(), "wsmqtt/1"};
    s = garbage.feed(bytes_of("SSH-2.0-OpenSSH\r\n\r\n"));
    REQUIRE(s.error);
    CHECK(describe(*s.error).message == "proxy proxy.test:3128 answered CONNECT with an answer that is not HTTP (bad version)");
    CHECK(describe(garbage.io_error("")).message == "proxy proxy.test:3128 did not answer CONNECT: it closed the connection");
}

TEST_CASE("SOCKS5 without credentials: greeting, CONNECT by name (socks5h) or address, bound address", "[handshakes]")
{
    auto via = socks_proxy(proxy::kind::socks5h);
    socks5 by_name{via, broker(), {}};
    CHECK(by_name.start() == std::string{"\x05\x01\x00", 3});
    auto s = by_name.feed(bytes_of(std::string{"\x05\x00", 2}));
    CHECK(s.send == std::string{"\x05\x01\x00\x03\x0b" "broker.test\x1f\x90", 18});
    CHECK_FALSE(s.done);
    // Success with an IPv4 bound address, a byte at a time.
    auto const reply = std::string{"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38", 10};
    s = feed_all(by_name, reply, 1);
    CHECK(s.done);
    CHECK(s.consumed == reply.size());

    via.type = proxy::kind::socks5;
    socks5 by_address{via, broker(), {10, 0, 0, 7}};
    s = by_address.feed(bytes_of(std::string{"\x05\x00", 2}));
    CHECK(s.send == std::string{"\x05\x01\x00\x01\x0a\x00\x00\x07\x1f\x90", 10});
}

TEST_CASE("SOCKS5 with a user name and password (RFC 1929), and each refusal in words", "[handshakes]")
{
    auto via = socks_proxy(proxy::kind::socks5h, "bob", "secret");
    socks5 h{via, broker(), {}};
    CHECK(h.start() == std::string{"\x05\x02\x00\x02", 4});
    auto s = h.feed(bytes_of(std::string{"\x05\x02", 2}));
    CHECK(s.send == std::string{"\x01\x03" "bob\x06" "secret", 12});
    s = h.feed(bytes_of(std::string{"\x01\x01", 2}));
    REQUIRE(s.error);
    CHECK(describe(*s.error).message == "SOCKS5 proxy 127.0.0.1:1080: it refused the user name or password");

    socks5 refused{via, broker(), {}};
    (void)refused.feed(bytes_of(std::string{"\x05\x00", 2}));
    s = refused.feed(bytes_of(std::string{"\x05\x05\x00\x01\x00", 5}));
    REQUIRE(s.error);
    CHECK(describe(*s.error).message == "SOCKS5 proxy 127.0.0.1:1080 could not reach the broker broker.test:8080: connection refused");

    via.username.reset();
    socks5 wants_password{via, broker(), {}};
    s = wants_password.feed(bytes_of(std::string{"\x05\x02", 2}));
    REQUIRE(s.error);
    CHECK(describe(*s.error).message == "SOCKS5 proxy 127.0.0.1:1080: it wants a user name and password (socks5://user:pass@host:port)");
    socks5 not_socks{via, broker(), {}};
    s = not_socks.feed(bytes_of("HTTP"));
    REQUIRE(s.error);
    CHECK(describe(*s.error).message == "SOCKS5 proxy 127.0.0.1:1080: not a SOCKS5 proxy");
}

TEST_CASE("SOCKS5: what is sent and why it failed do not depend on how the answer was split", "[handshakes]")
{
    // The method choice and the refusal of the credentials in one read: the credentials were
    // still asked to be sent, as when the two come apart (found by the fuzzer).
    auto const via = socks_proxy(proxy::kind::socks5, "u", "p");
    auto const answer = std::string{"\x05\x02\x01\x01", 4};
    for (std::size_t const split : {std::size_t{1}, std::size_t{4}}) {
        socks5 h{via, broker(), {127, 0, 0, 1}};
        std::string sent;
        auto const s = feed_all(h, answer, split, &sent);
        REQUIRE(s.error);
        CHECK(s.error->code == transport_errc::socks_refused_credentials);
        CHECK(sent == std::string{"\x01\x01u\x01p", 5});
    }
}

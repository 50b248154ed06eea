// MQTT over WebSocket in process: our ws::channel (Beast's websocket::stream with MQTT's rules)
// against a Beast WebSocket server, joined by beast::test::stream, as Beast tests its own
// streams. The upgrade answered every way, closes from either side, PING during a long write,
// oversized and fragmented messages, and every step of the client failing in turn (fail_count):
// each ends in one transport_error, never a hang. Real brokers are in tests/integration.
#include <catch2/catch.hpp>

#include "../src/net/race.hpp"
#include "../src/net/ws_channel.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>

#include <exception>
#include <optional>
#include <string>
#include <vector>

using namespace wsmqtt;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using boost::system::error_code;

namespace {

constexpr auto tuple = net::as_tuple(net::use_awaitable);

using client = ws::channel<beast::test::stream>;
using server = websocket::stream<beast::test::stream>;

/// A client channel and a server stream joined in memory; `fc` makes the client's stream fail.
struct joined {
    net::io_context ioc;
    std::optional<beast::test::fail_count> fc;
    client c;
    server s;

    joined() : c{ioc.get_executor()}, s{beast::test::stream{ioc}} { c.next_layer().connect(s.next_layer()); }
    explicit joined(std::size_t fail_at) : fc{fail_at}, c{ioc, *fc}, s{beast::test::stream{ioc}}
    {
        c.next_layer().connect(s.next_layer());
    }

    /// Runs `client_side` and `server_side` until the client's ends; then both streams close,
    /// so the server's ends too. False if the client's did not end (a hang).
    template <class Server>
    bool run(net::awaitable<void> client_side, Server server_side)
    {
        bool done = false;
        std::exception_ptr failed;
        net::co_spawn(ioc, std::move(client_side), [&](std::exception_ptr e) {
            done = true;
            failed = e;
            c.abort();
            s.next_layer().close();
        });
        net::co_spawn(ioc, std::move(server_side), [](std::exception_ptr) {});
        ioc.run_for(std::chrono::seconds{30}); // a guard against a hang, not a timing
        if (failed) std::rethrow_exception(failed);
        return done;
    }
};

ws::settings settings(std::uint64_t max_message = 0)
{
    ws::settings s;
    s.host_header = "broker.test:8080";
    s.path = "/mqtt";
    s.user_agent = "wsmqtt-test";
    s.origin = "https://app.test";
    s.headers = {{"X-Token", "t1"}};
    s.max_message = max_message;
    s.where = "broker.test:8080";
    return s;
}

/// A server that accepts the upgrade and selects `subprotocol` (none when empty).
net::awaitable<void> accept(server& s, std::string subprotocol = "mqtt", http::request<http::empty_body>* seen = nullptr)
{
    beast::flat_buffer buffer;
    http::request<http::empty_body> req;
    auto [ec, n] = co_await http::async_read(s.next_layer(), buffer, req, tuple);
    if (ec) co_return;
    if (seen) *seen = req;
    s.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& r) {
        if (!subprotocol.empty()) r.set(http::field::sec_websocket_protocol, subprotocol);
    }));
    (void)co_await s.async_accept(req, tuple);
}

/// A server that answers the upgrade with `answer` as it is.
net::awaitable<void> answer_with(server& s, std::string answer)
{
    beast::flat_buffer buffer;
    http::request<http::empty_body> req;
    (void)co_await http::async_read(s.next_layer(), buffer, req, tuple);
    (void)co_await net::async_write(s.next_layer(), net::buffer(answer), tuple);
}

/// A server that accepts, sends `frames` (binary; each with its FIN bit), then a text message,
/// and notes the close code that answers it in `seen`.
net::awaitable<void> frames_then_text(server& s, std::vector<std::pair<bool, std::string>> frames, std::uint16_t& seen)
{
    co_await accept(s);
    s.binary(true);
    for (auto const& [fin, bytes] : frames) (void)co_await s.async_write_some(fin, net::buffer(bytes), tuple);
    s.text(true);
    (void)co_await s.async_write(net::buffer(std::string{"text"}), tuple);
    beast::flat_buffer b;
    auto [ec, n] = co_await s.async_read(b, tuple);
    if (ec == websocket::error::closed) seen = s.reason().code;
}

std::string text(read_result const& r) { return {reinterpret_cast<char const*>(r.data.data()), r.data.size()}; }

send_buffers one(std::string const& data) { return {net::buffer(data)}; }

} // namespace

TEST_CASE("ws: the upgrade offers mqtt with our headers, and binary messages go both ways", "[transport]")
{
    joined l;
    http::request<http::empty_body> seen;
    std::optional<transport_error> upgraded{transport_error{}};
    std::string got, server_got;
    bool binary = false;
    auto const ok = l.run(
        [&]() -> net::awaitable<void> {
            upgraded = co_await l.c.upgrade(settings());
            if (upgraded) co_return;
            (void)co_await l.c.write(one("from client"));
            auto r = co_await l.c.read();
            got = text(r);
        }(),
        [&]() -> net::awaitable<void> {
            co_await accept(l.s, "mqtt", &seen);
            beast::flat_buffer b;
            (void)co_await l.s.async_read(b, tuple);
            binary = l.s.got_binary();
            server_got = beast::buffers_to_string(b.data());
            l.s.binary(true);
            (void)co_await l.s.async_write(net::buffer(std::string{"from broker"}), tuple);
        }());
    REQUIRE(ok);
    CHECK_FALSE(upgraded);
    CHECK(seen[http::field::sec_websocket_protocol] == "mqtt"); // [MQTT-6.0.0-3]
    CHECK(seen[http::field::host] == "broker.test:8080");
    CHECK(seen[http::field::user_agent] == "wsmqtt-test");
    CHECK(seen[http::field::origin] == "https://app.test");
    CHECK(seen["X-Token"] == "t1");
    CHECK(seen.target() == "/mqtt");
    CHECK(server_got == "from client");
    CHECK(binary); // [MQTT-6.0.0-1]
    CHECK(got == "from broker");
}

TEST_CASE("ws: an upgrade answered 404 or 503 is refused with its status, the body shown by -d", "[transport]")
{
    auto const [status, line] = GENERATE(std::pair<unsigned, std::string>{404, "404 Not Found"},
                                         std::pair<unsigned, std::string>{503, "503 Service Unavailable"});
    joined l;
    std::vector<std::string> traced;
    auto s = settings();
    s.trace = [&](std::string const& t) { traced.push_back(t); };
    std::optional<transport_error> result;
    REQUIRE(l.run([&]() -> net::awaitable<void> { result = co_await l.c.upgrade(s); }(),
                  answer_with(l.s, "HTTP/1.1 " + line + "\r\nContent-Length: 9\r\n\r\nnot here!")));
    REQUIRE(result);
    CHECK(result->code == transport_errc::ws_upgrade_refused);
    CHECK(result->number == status);
    auto const f = describe(*result);
    CHECK(f.code == exit_code::websocket);
    CHECK(f.message == "WebSocket upgrade refused: HTTP " + line);
    REQUIRE_FALSE(traced.empty());
    CHECK(traced.front() == "WebSocket upgrade answered: HTTP " + line);
    CHECK(traced.back() == "  body: not here!");
}

TEST_CASE("ws: an upgrade without our subprotocol, or with another, is refused [MQTT-6.0.0-4]", "[transport]")
{
    auto const [selected, words] = GENERATE(std::pair<std::string, std::string>{"", "broker did not accept subprotocol mqtt"},
                                            std::pair<std::string, std::string>{"mqttv3.1", "broker selected subprotocol 'mqttv3.1' instead of mqtt"});
    joined l;
    std::optional<transport_error> result;
    REQUIRE(l.run([&]() -> net::awaitable<void> { result = co_await l.c.upgrade(settings()); }(), accept(l.s, selected)));
    REQUIRE(result);
    CHECK(describe(*result).message == words);
    CHECK(describe(*result).code == exit_code::websocket);
}

TEST_CASE("ws: a connection closed before the upgrade's answer asks whether it is a WebSocket port", "[transport]")
{
    joined l;
    std::optional<transport_error> result;
    REQUIRE(l.run([&]() -> net::awaitable<void> { result = co_await l.c.upgrade(settings()); }(),
                  [&]() -> net::awaitable<void> {
                      beast::flat_buffer buffer;
                      http::request<http::empty_body> req;
                      (void)co_await http::async_read(l.s.next_layer(), buffer, req, tuple);
                      l.s.next_layer().close();
                  }()));
    REQUIRE(result);
    CHECK(result->code == transport_errc::ws_handshake_closed);
    CHECK(describe(*result).message ==
          "WebSocket handshake with broker.test:8080 failed: connection closed (is it a WebSocket port? For MQTT over TCP add --tcp)");
}

TEST_CASE("ws: the broker's close is answered, and its code and reason are shown", "[transport]")
{
    joined l;
    std::optional<read_result> r;
    std::optional<error_code> server_close;
    REQUIRE(l.run(
        [&]() -> net::awaitable<void> {
            if (auto f = co_await l.c.upgrade(settings())) co_return;
            r = co_await l.c.read();
        }(),
        [&]() -> net::awaitable<void> {
            co_await accept(l.s);
            auto [ec] = co_await l.s.async_close(websocket::close_reason{websocket::close_code::going_away, "restarting"}, tuple);
            server_close = ec; // Beast's close ends when our answer arrives
        }()));
    REQUIRE(r);
    REQUIRE(r->error);
    CHECK(r->error->code == transport_errc::ws_closed_by_broker);
    CHECK(r->error->number == 1001);
    CHECK(describe(*r->error).message == "connection closed by the broker (WebSocket close 1001 going away: \"restarting\")");
    REQUIRE(server_close);
    CHECK_FALSE(*server_close); // our close frame answered it (RFC 6455 §5.5.1)
}

TEST_CASE("ws: our close carries its code to the broker (1000 after DISCONNECT, 1002 on a protocol error)", "[transport]")
{
    auto const code = GENERATE(std::uint16_t{1000}, std::uint16_t{1002});
    joined l;
    std::uint16_t seen = 0;
    REQUIRE(l.run(
        [&]() -> net::awaitable<void> {
            if (auto f = co_await l.c.upgrade(settings())) co_return;
            co_await l.c.close(code);
        }(),
        [&]() -> net::awaitable<void> {
            co_await accept(l.s);
            beast::flat_buffer b;
            auto [ec, n] = co_await l.s.async_read(b, tuple); // answers the close, then says closed
            if (ec == websocket::error::closed) seen = l.s.reason().code;
        }()));
    CHECK(seen == code);
}

TEST_CASE("ws: a PING is answered between the frames of a long write", "[transport]")
{
    joined l;
    std::string const big(1024 * 1024, 'm');
    std::size_t message_bytes_before_pong = 0, message_bytes = 0;
    bool pong = false;
    REQUIRE(l.run(
        [&]() -> net::awaitable<void> {
            if (auto f = co_await l.c.upgrade(settings())) co_return;
            // The reader answers the PING while the writer holds the stream for its message;
            // the broker closes once it has all of it.
            co_await race([&]() -> net::awaitable<void> { (void)co_await l.c.read(); }(),
                          [&]() -> net::awaitable<void> {
                              (void)co_await l.c.write(one(big));
                              co_await park();
                          }());
        }(),
        [&]() -> net::awaitable<void> {
            co_await accept(l.s);
            l.s.control_callback([&](websocket::frame_type kind, beast::string_view) {
                if (kind == websocket::frame_type::pong && !pong) {
                    pong = true;
                    message_bytes_before_pong = message_bytes;
                }
            });
            (void)co_await l.s.async_ping({}, tuple);
            std::vector<char> buffer(16 * 1024);
            while (message_bytes < big.size()) {
                auto [ec, n] = co_await l.s.async_read_some(net::buffer(buffer), tuple);
                if (ec) co_return;
                message_bytes += n;
            }
            (void)co_await l.s.async_close(websocket::close_code::normal, tuple);
        }()));
    CHECK(message_bytes == big.size());
    CHECK(pong);
    CHECK(message_bytes_before_pong < big.size());
}

TEST_CASE("ws: a message over the limit is refused with 1009", "[transport]")
{
    joined l;
    std::optional<read_result> r;
    std::uint16_t seen = 0;
    REQUIRE(l.run(
        [&]() -> net::awaitable<void> {
            if (auto f = co_await l.c.upgrade(settings(1000))) co_return;
            r = co_await l.c.read();
        }(),
        [&]() -> net::awaitable<void> {
            co_await accept(l.s);
            l.s.binary(true);
            (void)co_await l.s.async_write(net::buffer(std::string(2000, 'x')), tuple);
            beast::flat_buffer b;
            auto [ec, n] = co_await l.s.async_read(b, tuple);
            if (ec == websocket::error::closed) seen = l.s.reason().code;
        }()));
    REQUIRE(r);
    REQUIRE(r->error);
    CHECK(describe(*r->error).message == "protocol error: a WebSocket message over 1000 bytes (--max-packet-size)");
    CHECK(describe(*r->error).code == exit_code::protocol);
    CHECK(seen == 1009); // RFC 6455 §7.4.1
}

TEST_CASE("ws: a message in fragments arrives whole, and a text frame is a protocol error [MQTT-6.0.0-1]", "[transport]")
{
    joined l;
    std::string got;
    std::optional<transport_error> end;
    std::uint16_t seen = 0;
    REQUIRE(l.run(
        [&]() -> net::awaitable<void> {
            if (auto f = co_await l.c.upgrade(settings())) co_return;
            while (true) {
                auto r = co_await l.c.read();
                if (r.error) {
                    end = r.error;
                    co_return;
                }
                got += text(r);
            }
        }(),
        frames_then_text(l.s, {{false, std::string{"\x30\x07\x00", 3}}, {false, "\x01t"}, {true, "abc"}}, seen)));
    CHECK(got == std::string{"\x30\x07\x00\x01tabc", 8});
    REQUIRE(end);
    CHECK(end->code == transport_errc::ws_text_frame);
    CHECK(seen == 1002);
}

TEST_CASE("ws: read_when_ready() reads as read() does, a text frame ends it with 1002, and a read after the end says why", "[transport]")
{
    // wsmqtt bench's reader: a callback a read, the next asked for from inside the last.
    joined l;
    std::string got;
    std::vector<transport_errc> ends;
    std::uint16_t seen = 0;
    bool asking = false, answered_inline = false;
    REQUIRE(l.run(
        [&]() -> net::awaitable<void> {
            if (auto f = co_await l.c.upgrade(settings())) co_return;
            wakeup ended{co_await net::this_coro::executor};
            std::function<void(read_result const&)> on_read = [&](read_result const& r) {
                if (!r.error) {
                    got += text(r);
                    l.c.read_when_ready(on_read);
                } else {
                    ends.push_back(r.error->code);
                    if (ends.size() == 1) {
                        asking = true; // after the end: the answer is posted, not given inside the call
                        l.c.read_when_ready(on_read);
                        asking = false;
                    } else {
                        answered_inline = asking;
                        ended.notify();
                    }
                }
            };
            l.c.read_when_ready(on_read);
            co_await ended.wait();
        }(),
        frames_then_text(l.s, {{false, std::string{"\x30\x07\x00", 3}}, {true, "\x01tabc"}, {true, std::string{"\xd0\x00", 2}}}, seen)));
    CHECK(got == std::string{"\x30\x07\x00\x01tabc\xd0\x00", 10});
    CHECK(ends == std::vector<transport_errc>{transport_errc::ws_text_frame, transport_errc::ws_text_frame});
    CHECK_FALSE(answered_inline);
    CHECK(seen == 1002); // [MQTT-6.0.0-1]
}

TEST_CASE("ws: a failure at every step of upgrade, write, read and close ends in one transport_error, never a hang", "[transport]")
{
    // Beast's own technique: fail the client's stream at its 1st, 2nd, 3rd... operation until
    // the whole exchange succeeds.
    std::size_t n = 0;
    for (; n < 200; ++n) {
        joined l{n};
        int errors = 0;
        bool complete = false;
        auto const ended = l.run(
            [&]() -> net::awaitable<void> {
                if (auto f = co_await l.c.upgrade(settings())) {
                    ++errors;
                    co_return;
                }
                if (auto f = co_await l.c.write(one("ping?"))) {
                    ++errors;
                    co_return;
                }
                auto r = co_await l.c.read();
                if (r.error) {
                    ++errors;
                    co_return;
                }
                co_await l.c.close(ws::close_normal);
                complete = text(r) == "pong!";
            }(),
            [&]() -> net::awaitable<void> {
                co_await accept(l.s);
                beast::flat_buffer b;
                auto [ec, m] = co_await l.s.async_read(b, tuple);
                if (ec) co_return;
                l.s.binary(true);
                (void)co_await l.s.async_write(net::buffer(std::string{"pong!"}), tuple);
                (void)co_await l.s.async_read(b, tuple);
            }());
        INFO("failing at operation " << n);
        REQUIRE(ended);
        if (complete) break;
        CHECK(errors == 1);
    }
    CHECK(n > 3); // the loop did fail the upgrade, the write and the read before it passed
    CHECK(n < 200);
}

// A WebSocket <-> TCP relay in front of an MQTT broker's TCP listener, for tests and benchmarks:
//   ws_relay LISTEN_PORT TARGET_PORT [--deflate] [--frame-per-packet]
// It answers the WebSocket upgrade (subprotocol mqtt; permessage-deflate when --deflate and
// offered), relays bytes both ways, and for each connection prints one line on stdout:
//   closed: wire_in=N payload_in=M deflate=0|1
// where wire_in counts TCP bytes from the client and payload_in the WebSocket payload relayed.
// LISTEN_PORT 0 picks a free port; the first line printed is "listening PORT".
// --frame-per-packet sends the broker's MQTT packets one per WebSocket frame, as brokers do;
// without it, each read from the broker becomes one frame (several packets, or part of one).
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::uint64_t tcp_bytes_received(int fd);

namespace {

struct connection_stats {
    int client_fd = -1;
    std::uint64_t wire_in = 0; ///< sampled after each message: the socket is gone at the end
    std::uint64_t payload_in = 0;
    bool deflate = false;
};

net::awaitable<void> client_to_broker(websocket::stream<beast::tcp_stream>& ws, tcp::socket& broker, connection_stats& stats)
{
    beast::flat_buffer buffer;
    while (true) {
        // Parts of a message as they come: a large message is not held until it is complete.
        auto [ec, n] = co_await ws.async_read_some(buffer, 64 * 1024, use_tuple);
        if (ec) break;
        stats.payload_in += n;
        stats.wire_in = tcp_bytes_received(stats.client_fd);
        auto [wec, wn] = co_await net::async_write(broker, buffer.data(), use_tuple);
        if (wec) break;
        buffer.consume(n);
    }
    boost::system::error_code ignored;
    broker.shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> broker_to_client(websocket::stream<beast::tcp_stream>& ws, tcp::socket& broker)
{
    std::vector<char> buffer(64 * 1024);
    while (true) {
        auto [ec, n] = co_await broker.async_read_some(net::buffer(buffer), use_tuple);
        if (ec) break;
        auto [wec, wn] = co_await ws.async_write(net::buffer(buffer.data(), n), use_tuple);
        if (wec) break;
    }
    auto [ec] = co_await ws.async_close(websocket::close_code::normal, use_tuple);
    (void)ec;
}

void append_frame_header(std::vector<std::uint8_t>& out, std::size_t size)
{
    out.push_back(0x82); // FIN, binary; a server's frames are not masked (RFC 6455 §5.1)
    if (size < 126) {
        out.push_back(static_cast<std::uint8_t>(size));
    } else if (size < 65536) {
        out.insert(out.end(), {126, static_cast<std::uint8_t>(size >> 8), static_cast<std::uint8_t>(size)});
    } else {
        out.push_back(127);
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(size >> shift));
    }
}

/// Like a broker's WebSocket listener: one binary frame per MQTT packet. The frames of one read
/// from the broker go out in one socket write, straight to the TCP stream, so that the relay is
/// not the bottleneck (the WebSocket stream itself is only used for the upgrade and the close).
/// A frame's header goes out as soon as the packet's length is known and its payload as it
/// comes: a large packet is not held until it is complete (a 16 MiB message would wait for all
/// of it, twice over, and the benchmark would measure the relay).
net::awaitable<void> broker_to_client_per_packet(websocket::stream<beast::tcp_stream>& ws, tcp::socket& broker)
{
    std::vector<std::uint8_t> chunk(64 * 1024);
    std::vector<std::uint8_t> head; // the fixed header of the next packet, as far as it came
    std::size_t remaining = 0;      // bytes of the current packet not relayed yet
    std::vector<std::uint8_t> out;
    while (true) {
        auto [ec, n] = co_await broker.async_read_some(net::buffer(chunk), use_tuple);
        if (ec) break;
        out.clear();
        for (std::size_t at = 0; at < n;) {
            if (remaining > 0) {
                auto const take = std::min(remaining, n - at);
                out.insert(out.end(), chunk.begin() + static_cast<std::ptrdiff_t>(at),
                           chunk.begin() + static_cast<std::ptrdiff_t>(at + take));
                remaining -= take;
                at += take;
                continue;
            }
            // Type byte, then 1-4 bytes of Remaining Length; the last has its top bit clear.
            head.push_back(chunk[at++]);
            if (head.size() < 2 || (head.back() & 0x80) != 0) continue;
            std::size_t length = 0;
            for (std::size_t i = head.size() - 1; i >= 1; --i) length = length * 128 + (head[i] & 0x7Fu);
            append_frame_header(out, head.size() + length);
            out.insert(out.end(), head.begin(), head.end());
            head.clear();
            remaining = length;
        }
        if (out.empty()) continue;
        auto [wec, wn] = co_await net::async_write(ws.next_layer(), net::buffer(out), use_tuple);
        if (wec) break;
    }
    auto [ec] = co_await ws.async_close(websocket::close_code::normal, use_tuple);
    (void)ec;
}

net::awaitable<void> relay(tcp::socket client, std::uint16_t target_port, bool deflate, bool per_packet)
{
    auto executor = co_await net::this_coro::executor;
    int const client_fd = client.native_handle();
    websocket::stream<beast::tcp_stream> ws{std::move(client)};
    ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
        res.set(beast::http::field::sec_websocket_protocol, "mqtt");
    }));
    if (deflate) {
        websocket::permessage_deflate pmd;
        pmd.server_enable = true;
        ws.set_option(pmd);
    }
    beast::http::request<beast::http::string_body> req;
    beast::flat_buffer buffer;
    if (auto [ec, n] = co_await beast::http::async_read(ws.next_layer(), buffer, req, use_tuple); ec) co_return;
    connection_stats stats;
    stats.client_fd = client_fd;
    stats.deflate = deflate && req[beast::http::field::sec_websocket_extensions].find("permessage-deflate") != beast::string_view::npos;
    if (auto [ec] = co_await ws.async_accept(req, use_tuple); ec) co_return;
    ws.binary(true);
    ws.read_message_max(0); // no cap: the benchmark sends 16 MiB messages
    tcp::socket broker{executor};
    if (auto [ec] = co_await broker.async_connect({net::ip::make_address("127.0.0.1"), target_port}, use_tuple); ec) co_return;
    broker.set_option(tcp::no_delay{true});
    using namespace net::experimental::awaitable_operators;
    if (per_packet && !stats.deflate)
        co_await (client_to_broker(ws, broker, stats) && broker_to_client_per_packet(ws, broker));
    else
        co_await (client_to_broker(ws, broker, stats) && broker_to_client(ws, broker));
    std::printf("closed: wire_in=%llu payload_in=%llu deflate=%d\n",
                static_cast<unsigned long long>(stats.wire_in),
                static_cast<unsigned long long>(stats.payload_in), stats.deflate ? 1 : 0);
    std::fflush(stdout);
}

net::awaitable<void> serve(tcp::acceptor acceptor, std::uint16_t target_port, bool deflate, bool per_packet)
{
    while (true) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (ec) co_return;
        socket.set_option(tcp::no_delay{true});
        net::co_spawn(acceptor.get_executor(), relay(std::move(socket), target_port, deflate, per_packet), net::detached);
    }
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: ws_relay LISTEN_PORT TARGET_PORT [--deflate] [--frame-per-packet]\n");
        return 2;
    }
    auto const listen_port = static_cast<std::uint16_t>(std::stoi(argv[1]));
    auto const target_port = static_cast<std::uint16_t>(std::stoi(argv[2]));
    bool deflate = false;
    bool per_packet = false;
    for (int i = 3; i < argc; ++i) {
        if (std::strcmp(argv[i], "--deflate") == 0) deflate = true;
        else if (std::strcmp(argv[i], "--frame-per-packet") == 0) per_packet = true;
    }
    net::io_context ioc{1};
    tcp::acceptor acceptor{ioc, {net::ip::make_address("127.0.0.1"), listen_port}};
    std::printf("listening %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
    std::fflush(stdout);
    net::signal_set signals{ioc, SIGINT, SIGTERM};
    signals.async_wait([&](auto, int) { ioc.stop(); });
    net::co_spawn(ioc, serve(std::move(acceptor), target_port, deflate, per_packet), net::detached);
    ioc.run();
}

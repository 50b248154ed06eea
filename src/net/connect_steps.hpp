// Connecting as far as the byte stream that MQTT or WebSocket speaks over: resolve, TCP (to the
// proxy if there is one), the proxy's handshake, TLS; all within the connect timeout. Shared by
// the transports (transport.cpp, transport_deflate.cpp); private to them.
#pragma once

#include "race.hpp"
#include "tls.hpp"
#include "wsmqtt/net/handshakes.hpp"
#include "wsmqtt/net/transport.hpp"
#include "wsmqtt/version.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <tuple>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

namespace wsmqtt::transport_detail {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;
using tls_stream = ssl::stream<tcp::socket>;

/// Where socket reads land: transport_options::buffer_size bytes (64 KiB), made at the first
/// read and not zeroed, so that its pages are touched only as data arrives (a one-shot publish
/// reads a few bytes: 60 KiB less resident memory; a wsmqtt bench client reading into the
/// shared buffer never makes one).
class read_buffer {
public:
    explicit read_buffer(std::size_t size) : size_{size} {}
    [[nodiscard]] std::uint8_t* data() const noexcept { return bytes_.get(); }
    [[nodiscard]] net::mutable_buffer buffer()
    {
        if (!bytes_) bytes_ = std::make_unique_for_overwrite<std::uint8_t[]>(size_);
        return {bytes_.get(), size_};
    }

private:
    std::unique_ptr<std::uint8_t[]> bytes_;
    std::size_t size_;
};

inline tcp::socket& lowest(tcp::socket& s) noexcept { return s; }
inline tcp::socket& lowest(tls_stream& s) noexcept { return s.next_layer(); }

/// The steps of connect(), for the words of a timeout.
enum class stage { resolve, connect, proxy, tls, websocket };

/// What the connect steps share, whatever the stream on top: the options, the resolver, the
/// TLS context, and where the steps are.
class connect_steps {
public:
    connect_steps(net::any_io_executor const& ex, transport_options o) : options{std::move(o)}, resolver{ex}
    {
        if (!uses_tls(options.endpoint.scheme)) return;
        if (options.tls_context) tls_context = options.tls_context;
        else tls_context = tls::make_context(options.tls, error);
    }

    transport_options options;
    tcp::resolver resolver;
    std::shared_ptr<ssl::context> tls_context; ///< wss:// and mqtts:// only
    std::optional<transport_error> error;      ///< from making the TLS context
    stage at = stage::resolve;
    std::string peer_names; ///< of the broker's certificate, when its verification failed

    /// The stream the transport reads and writes: a TCP socket, or TLS over one.
    template <class Stream>
    [[nodiscard]] Stream make_stream(net::any_io_executor const& ex)
    {
        if constexpr (std::is_same_v<Stream, tcp::socket>)
            return Stream{ex};
        else
            return Stream{ex, *tls_context};
    }

    [[nodiscard]] endpoint first_hop() const
    {
        auto const& ep = options.endpoint;
        return options.proxy ? endpoint{ep.scheme, options.proxy->host, options.proxy->port, {}} : ep;
    }
    /// connect() ran out of time, where it was.
    [[nodiscard]] transport_error timed_out() const;
    /// Addresses of host:port, or why there are none.
    net::awaitable<std::variant<tcp::resolver::results_type, transport_error>> resolve(std::string const& host, std::uint16_t port, bool of_proxy);

    /// Connects `stream` as far as the byte stream that MQTT or WebSocket speaks over: TCP (to
    /// the proxy if there is one), the proxy's handshake, TLS.
    template <class Stream>
    net::awaitable<std::optional<transport_error>> open(Stream& stream)
    {
        if (error) co_return error;
        auto const& ep = options.endpoint;
        auto const* const via = options.proxy ? &*options.proxy : nullptr;
        auto const hop = first_hop();
        if (options.trace)
            options.trace(fmt::format("connecting to {}{}", to_string(ep), via ? fmt::format(" through proxy {}", host_and_port(hop)) : ""));
        at = stage::resolve;
        auto resolved = co_await resolve(via || options.address.empty() ? hop.host : options.address, hop.port, via != nullptr);
        if (auto* f = std::get_if<transport_error>(&resolved)) co_return *f;

        at = stage::connect;
        auto& socket = lowest(stream);
        auto ec = co_await connect_socket(socket, std::get<tcp::resolver::results_type>(resolved));
        if (ec) {
            using enum transport_errc;
            if (ec == net::error::connection_refused) co_return transport_error{via ? proxy_connection_refused : connection_refused, host_and_port(hop)};
            co_return transport_error{via ? proxy_connect_failed : connect_failed, host_and_port(hop), ec.message()};
        }
        // MQTT packets are small and latency matters more than Nagle's batching.
        error_code ignored;
        socket.set_option(tcp::no_delay{true}, ignored);

        if (via) {
            at = stage::proxy;
            if (via->type == proxy::kind::http) {
                handshake::http_connect h{*via, ep, std::string{"wsmqtt/"} + version};
                if (auto f = co_await exchange(socket, h, h.start())) co_return f;
            } else {
                std::vector<std::uint8_t> address; // socks5h: none, the proxy resolves the name
                if (via->type == proxy::kind::socks5) {
                    auto broker = co_await resolve(ep.host, ep.port, false);
                    if (auto* f = std::get_if<transport_error>(&broker)) co_return *f;
                    auto const a = std::get<tcp::resolver::results_type>(broker).begin()->endpoint().address();
                    if (a.is_v4()) {
                        auto const b = a.to_v4().to_bytes();
                        address.assign(b.begin(), b.end());
                    } else {
                        auto const b = a.to_v6().to_bytes();
                        address.assign(b.begin(), b.end());
                    }
                }
                handshake::socks5 h{*via, ep, std::move(address)};
                if (auto f = co_await exchange(socket, h, h.start())) co_return f;
            }
        }
        if (options.marks) options.marks->tcp = std::chrono::steady_clock::now();
        if constexpr (std::is_same_v<Stream, tls_stream>) {
            at = stage::tls;
            if (auto f = co_await tls_handshake(stream)) co_return f;
            if (options.marks) options.marks->tls = std::chrono::steady_clock::now();
        }
        co_return std::nullopt;
    }

    /// Connects to the first address that answers; from options.bind_address when it is set.
    net::awaitable<error_code> connect_socket(tcp::socket& socket, tcp::resolver::results_type const& addresses)
    {
        if (options.bind_address.empty()) {
            auto [ec, connected] = co_await net::async_connect(socket, addresses, use_tuple);
            co_return ec;
        }
        error_code ec = net::error::host_not_found;
        auto const local = net::ip::make_address(options.bind_address, ec);
        if (ec) co_return ec;
        for (auto const& entry : addresses) {
            auto const remote = entry.endpoint();
            if (remote.address().is_v4() != local.is_v4()) continue;
            socket.close(ec);
            socket.open(remote.protocol(), ec);
            if (ec) continue;
            // The port is picked at connect(), per destination: not one of 28 000 per address.
            int const yes = 1;
            ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &yes, sizeof yes);
            socket.bind(tcp::endpoint{local, 0}, ec);
            if (ec) co_return ec;
            std::tie(ec) = co_await socket.async_connect(remote, use_tuple);
            if (!ec) co_return ec;
        }
        co_return ec;
    }

    /// Runs a proxy's sans-I/O handshake over `socket`: sends what it asks, feeds it what comes
    /// back.
    template <class Handshake>
    net::awaitable<std::optional<transport_error>> exchange(tcp::socket& stream, Handshake& h, std::string out)
    {
        auto const io_error = [&](error_code const& e) -> transport_error {
            bool const closed = e == net::error::eof || e == net::error::connection_reset;
            return h.io_error(closed ? "" : e.message());
        };
        std::array<std::uint8_t, 4096> buffer;
        while (true) {
            if (!out.empty()) {
                auto [ec, n] = co_await net::async_write(stream, net::buffer(out), use_tuple);
                if (ec) co_return io_error(ec);
                out.clear();
            }
            auto [ec, n] = co_await stream.async_read_some(net::buffer(buffer), use_tuple);
            if (ec) co_return io_error(ec);
            auto s = h.feed({buffer.data(), n});
            if (s.error) co_return s.error;
            out = std::move(s.send);
            if (!s.done) continue;
            if (s.consumed < n) // nothing went through the tunnel yet: nothing can come back
                co_return h.sent_early();
            if (!out.empty())
                if (auto [e, m] = co_await net::async_write(stream, net::buffer(out), use_tuple); e) co_return io_error(e);
            co_return std::nullopt;
        }
    }
    /// TLS: SNI, the broker's name checked by OpenSSL, and what failed.
    net::awaitable<std::optional<transport_error>> tls_handshake(tls_stream& stream);

    /// Runs `steps` within the connect timeout; on time out the socket is closed, which ends
    /// whatever step was under way.
    template <class Steps>
    net::awaitable<std::optional<transport_error>> within_deadline(Steps steps, tcp::socket& socket)
    {
        std::optional<transport_error> result;
        auto run = [&]() -> net::awaitable<void> { result = co_await steps(); };
        auto deadline = [&]() -> net::awaitable<void> {
            auto const executor = co_await net::this_coro::executor;
            net::steady_timer timer{executor, options.connect_timeout};
            co_await timer.async_wait(net::use_awaitable);
            resolver.cancel();
            error_code ignored;
            socket.close(ignored);
        };
        auto const first = co_await race(run(), deadline());
        if (first == 1) co_return timed_out();
        co_return result;
    }
    /// A failed read or write after connect().
    [[nodiscard]] static transport_error connection_lost(error_code const& ec);
};

/// Ends the connect steps, connected or not: what they held (a copy of the options, the
/// resolver: about 1 KiB) goes, for wsmqtt bench's thousands of connections; the TLS context,
/// which the stream uses as long as it lives, is what is left.
[[nodiscard]] inline std::shared_ptr<ssl::context> end_steps(std::unique_ptr<connect_steps>& steps)
{
    auto context = std::move(steps->tls_context);
    steps.reset();
    return context;
}

/// ws:// and wss:// (transport_ws.cpp): Beast's WebSocket stream.
[[nodiscard]] std::unique_ptr<transport> make_websocket_transport(net::any_io_executor const& ex, transport_options options);

} // namespace wsmqtt::transport_detail

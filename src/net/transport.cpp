// The transports behind transport.hpp: MQTT straight on TCP or TLS (mqtt://, mqtts://) here,
// WebSocket (ws://, wss://) in transport_ws.cpp. No Beast here.
#include "connect_steps.hpp"

namespace wsmqtt {
namespace transport_detail {
namespace {

/// mqtt:// and mqtts://: MQTT straight on the TCP or TLS byte stream.
template <class Stream>
class stream_transport final : public transport {
public:
    stream_transport(net::any_io_executor const& ex, transport_options options) : setup_{ex, std::move(options)}, stream_{setup_.make_stream<Stream>(ex)} {}

    net::awaitable<std::optional<transport_error>> connect() override
    {
        co_return co_await setup_.within_deadline([this]() { return setup_.open(stream_); }, lowest(stream_));
    }

    net::awaitable<read_result> read() override
    {
        auto [ec, n] = co_await stream_.async_read_some(buffer_.buffer(), use_tuple);
        if (ec) co_return read_result{{}, connect_steps::connection_lost(ec)};
        // A WebSocket server answers our CONNECT with an HTTP error: say so, not "invalid
        // fixed-header flags" (no MQTT packet starts with 'H': type 4 takes flags 0).
        if (std::exchange(first_read_, false) && std::string_view{reinterpret_cast<char const*>(buffer_.data()), n}.starts_with("HTTP/"))
            co_return read_result{{}, transport_error{transport_errc::http_answer, host_and_port(setup_.options.endpoint)}};
        co_return read_result{{buffer_.data(), n}, std::nullopt};
    }

    net::awaitable<std::optional<transport_error>> write(send_buffers const& data) override
    {
        auto [ec, n] = co_await net::async_write(stream_, data, use_tuple);
        if (ec) co_return connect_steps::connection_lost(ec);
        co_return std::nullopt;
    }

    net::awaitable<bool> shutdown() override
    {
        // FIN after all our data (over TLS the socket's close ends it) [MQTT-3.14.4-1].
        if constexpr (std::is_same_v<Stream, tcp::socket>) {
            error_code ignored;
            stream_.shutdown(tcp::socket::shutdown_send, ignored);
        }
        co_return false;
    }

    net::awaitable<void> fail(std::uint16_t) override { co_return; }

    void cancel() noexcept override
    {
        setup_.resolver.cancel();
        error_code ignored;
        lowest(stream_).close(ignored);
    }

private:
    connect_steps setup_;
    Stream stream_;
    read_buffer buffer_{setup_.options.buffer_size};
    bool first_read_ = true;
};

} // namespace
} // namespace transport_detail

std::unique_ptr<transport> make_transport(boost::asio::any_io_executor executor, transport_options options)
{
    using namespace transport_detail;
    if (uses_websocket(options.endpoint.scheme)) return make_websocket_transport(executor, std::move(options));
    if (uses_tls(options.endpoint.scheme)) return std::make_unique<stream_transport<tls_stream>>(executor, std::move(options));
    return std::make_unique<stream_transport<tcp::socket>>(executor, std::move(options));
}

} // namespace wsmqtt

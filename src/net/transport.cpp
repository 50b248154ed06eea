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
    stream_transport(net::any_io_executor const& ex, transport_options options)
        : setup_{std::make_unique<connect_steps>(ex, std::move(options))}
        , where_{host_and_port(setup_->options.endpoint)}
        , shared_buffer_{setup_->options.shared_buffer}
        , stream_{setup_->make_stream<Stream>(ex)}
        , buffer_{setup_->options.buffer_size}
    {
    }

    net::awaitable<std::optional<transport_error>> connect() override
    {
        auto outcome = co_await setup_->within_deadline([this]() { return setup_->open(stream_); }, lowest(stream_));
        tls_context_ = end_steps(setup_);
        co_return outcome;
    }

    net::awaitable<read_result> read() override
    {
        auto [ec, n] = co_await stream_.async_read_some(buffer_.buffer(), use_tuple);
        co_return result(ec, buffer_.data(), n);
    }

    void read_when_ready(std::function<void(read_result const&)> done) override
    {
        if constexpr (std::is_same_v<Stream, tcp::socket>) {
            if (auto const into = shared_buffer_; !into.empty()) {
                // Nothing held while the socket is idle: the bytes are read once they are there.
                stream_.async_wait(tcp::socket::wait_read, [this, into, done = std::move(done)](error_code ec) mutable {
                    std::size_t n = 0;
                    if (!ec && !stream_.non_blocking()) stream_.non_blocking(true, ec);
                    if (!ec) n = stream_.read_some(net::buffer(into.data(), into.size()), ec);
                    if (ec == net::error::would_block || ec == net::error::try_again) return read_when_ready(std::move(done)); // woken for nothing
                    done(result(ec, into.data(), n));
                });
                return;
            }
        }
        // TLS: OpenSSL may hold bytes the socket no longer shows, so read as read() does.
        stream_.async_read_some(buffer_.buffer(), [this, done = std::move(done)](error_code ec, std::size_t n) { done(result(ec, buffer_.data(), n)); });
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
        if (setup_) setup_->resolver.cancel();
        error_code ignored;
        lowest(stream_).close(ignored);
    }

private:
    /// What a read of `n` bytes at `data` tells, or its error.
    read_result result(error_code const& ec, std::uint8_t const* data, std::size_t n)
    {
        if (ec) return {{}, connect_steps::connection_lost(ec)};
        // A WebSocket server answers our CONNECT with an HTTP error: say so, not "invalid
        // fixed-header flags" (no MQTT packet starts with 'H': type 4 takes flags 0).
        if (std::exchange(first_read_, false) && std::string_view{reinterpret_cast<char const*>(data), n}.starts_with("HTTP/"))
            return {{}, transport_error{transport_errc::http_answer, where_}};
        return {{data, n}, std::nullopt};
    }

    std::unique_ptr<connect_steps> setup_; ///< until connect() ends
    std::shared_ptr<ssl::context> tls_context_; ///< from connect() on (mqtts://); the stream uses it
    std::string where_; ///< the broker's host:port, for the words of an HTTP answer
    std::span<std::uint8_t> shared_buffer_;
    Stream stream_;
    read_buffer buffer_;
    bool first_read_ = true;
};

} // namespace
} // namespace transport_detail

std::shared_ptr<boost::asio::ssl::context> make_tls_context(tls_options const& tls, std::optional<transport_error>& error)
{
    return tls::make_context(tls, error);
}

std::unique_ptr<transport> make_transport(boost::asio::any_io_executor executor, transport_options options)
{
    using namespace transport_detail;
    if (uses_websocket(options.endpoint.scheme)) return make_websocket_transport(executor, std::move(options));
    if (uses_tls(options.endpoint.scheme)) return std::make_unique<stream_transport<tls_stream>>(executor, std::move(options));
    return std::make_unique<stream_transport<tcp::socket>>(executor, std::move(options));
}

} // namespace wsmqtt

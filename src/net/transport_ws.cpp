// ws:// and wss://: the connect steps (resolve, TCP, proxy, TLS) under the connect deadline,
// then Beast's WebSocket stream (ws_channel.hpp) from the upgrade to the close. One of the two
// translation units with Beast's WebSocket (the other is its test): it is slow to compile.
#include "connect_steps.hpp"
#include "ws_channel.hpp"

#include <boost/beast/websocket/ssl.hpp>

namespace wsmqtt::transport_detail {
namespace {

template <class Stream>
class websocket_transport final : public transport {
public:
    websocket_transport(net::any_io_executor const& ex, transport_options options) : setup_{std::make_unique<connect_steps>(ex, std::move(options))}, ws_{setup_->make_stream<Stream>(ex)}
    {
        ws_.set_io_words(&connect_steps::connection_lost, &tls::client_certificate_problem);
    }

    net::awaitable<std::optional<transport_error>> connect() override
    {
        auto outcome = co_await setup_->within_deadline(
            [this]() -> net::awaitable<std::optional<transport_error>> {
                if (auto f = co_await setup_->open(ws_.next_layer())) co_return f;
                setup_->at = stage::websocket;
                auto f = co_await ws_.upgrade(settings());
                if (!f && setup_->options.marks) setup_->options.marks->websocket = std::chrono::steady_clock::now();
                co_return f;
            },
            lowest(ws_.next_layer()));
        tls_context_ = end_steps(setup_);
        co_return outcome;
    }

    net::awaitable<read_result> read() override { co_return co_await ws_.read(); }

    void read_when_ready(std::function<void(read_result const&)> done) override { ws_.read_when_ready(std::move(done)); }

    net::awaitable<std::optional<transport_error>> write(send_buffers const& data) override { co_return co_await ws_.write(data); }

    net::awaitable<bool> shutdown() override
    {
        co_await ws_.close(ws::close_normal); // Beast waits for the broker's answer, 0.5 s at most
        co_return false;
    }

    net::awaitable<void> fail(std::uint16_t ws_status) override { co_await ws_.close(ws_status); }

    void cancel() noexcept override
    {
        if (setup_) setup_->resolver.cancel();
        ws_.abort();
    }

private:
    ws::settings settings() const
    {
        auto const& o = setup_->options;
        return {host_header(o.endpoint), o.endpoint.path, o.ws.subprotocol, o.ws.user_agent, o.ws.origin, o.ws.headers, o.ws.compress,
                o.max_frame, host_and_port(o.endpoint), o.trace, o.buffer_size, o.frame_size};
    }

    std::unique_ptr<connect_steps> setup_;      ///< until connect() ends
    std::shared_ptr<ssl::context> tls_context_; ///< from connect() on (wss://); the stream uses it
    ws::channel<Stream> ws_;
};

} // namespace

std::unique_ptr<transport> make_websocket_transport(net::any_io_executor const& ex, transport_options options)
{
    if (uses_tls(options.endpoint.scheme)) return std::make_unique<websocket_transport<tls_stream>>(ex, std::move(options));
    return std::make_unique<websocket_transport<tcp::socket>>(ex, std::move(options));
}

} // namespace wsmqtt::transport_detail

// ws:// and wss:// with --compress: Beast's WebSocket stream from the upgrade to the close, since
// Beast inflates (permessage-deflate, RFC 7692). The only translation unit with Beast: it is slow
// to compile.
#include "connect_steps.hpp"

#include "wsmqtt/version.hpp"
#include "wsmqtt/ws_frames.hpp"

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace wsmqtt::transport_detail {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

/// ws:// and wss:// with --compress: Beast's WebSocket stream does all of it, since it inflates
/// (permessage-deflate, RFC 7692). One message per read.
template <class Stream>
class deflate_transport final : public transport {
public:
    deflate_transport(net::any_io_executor const& ex, transport_options options)
        : setup_{ex, std::move(options)}, ws_{make_stream(ex)}
    {
    }

    net::awaitable<std::optional<transport_error>> connect() override
    {
        co_return co_await setup_.within_deadline(
            [this]() -> net::awaitable<std::optional<transport_error>> {
                if (auto f = co_await setup_.open(ws_.next_layer())) co_return f;
                setup_.at = stage::websocket;
                co_return co_await upgrade();
            },
            lowest(ws_.next_layer()));
    }

    net::awaitable<read_result> read() override
    {
        auto [ec, n] = co_await ws_.async_read_some(buffer_.buffer(), use_tuple);
        if (ec) co_return read_result{{}, lost(ec)};
        if (ws_.got_text()) // MQTT travels in binary frames only [MQTT-6.0.0-1]
            co_return read_result{{}, transport_error{transport_errc::ws_text_frame}};
        co_return read_result{{buffer_.data(), n}, std::nullopt};
    }

    net::awaitable<std::optional<transport_error>> write(send_buffers const& data) override
    {
        auto [ec, n] = co_await ws_.async_write(data, use_tuple);
        if (ec) co_return lost(ec);
        co_return std::nullopt;
    }

    net::awaitable<bool> shutdown() override
    {
        (void)co_await ws_.async_close(websocket::close_code::normal, use_tuple); // Beast waits for the answer
        co_return false;
    }

    net::awaitable<void> fail(std::uint16_t ws_status) override
    {
        (void)co_await ws_.async_close(static_cast<websocket::close_code>(ws_status), use_tuple);
    }

    void cancel() noexcept override
    {
        setup_.resolver.cancel();
        error_code ignored;
        lowest(ws_.next_layer()).close(ignored);
    }

private:
    websocket::stream<Stream> make_stream(net::any_io_executor const& ex)
    {
        if constexpr (std::is_same_v<Stream, tcp::socket>)
            return websocket::stream<Stream>{ex};
        else
            return websocket::stream<Stream>{ex, *setup_.tls_context};
    }

    transport_error lost(error_code const& ec) const
    {
        if (ec == websocket::error::closed) {
            auto const& reason = ws_.reason();
            return {transport_errc::ws_closed_by_broker, {}, std::string{reason.reason.data(), reason.reason.size()}, {}, reason.code};
        }
        // Masked or malformed frames, bad opcodes, reserved bits: the broker broke RFC 6455.
        if (ec.category() == make_error_code(websocket::error::closed).category())
            return {transport_errc::ws_protocol_error, {}, "WebSocket: " + ec.message()};
        return connect_steps::connection_lost(ec);
    }

    net::awaitable<std::optional<transport_error>> upgrade()
    {
        auto const& o = setup_.options;
        auto const& ep = o.endpoint;
        ws_.set_option(websocket::stream_base::decorator([&o](websocket::request_type& req) {
            req.set(beast::http::field::sec_websocket_protocol, o.ws.subprotocol);
            req.set(beast::http::field::user_agent, o.ws.user_agent.empty() ? std::string{"wsmqtt/"} + version : o.ws.user_agent);
            if (!o.ws.origin.empty()) req.set(beast::http::field::origin, o.ws.origin);
            for (auto const& [name, value] : o.ws.headers) req.set(name, value);
        }));
        websocket::permessage_deflate deflate;
        deflate.client_enable = true; // offer it; the server decides (RFC 7692)
        ws_.set_option(deflate);
        websocket::response_type response;
        auto [ec] = co_await ws_.async_handshake(response, host_header(ep), ep.path, use_tuple);
        // The answer in the shape our own upgrade reads, so that both check and trace it alike.
        handshake::http_head head{response.result_int(), std::string{response.reason()}, {}};
        for (auto const& field : response) head.fields.emplace_back(std::string{field.name_string()}, std::string{field.value()});
        if (o.trace && (!ec || ec == websocket::error::upgrade_declined))
            for (auto const& line : handshake::describe_answer(head, std::string_view{response.body()}.substr(0, 512))) o.trace(line);
        if (ec == websocket::error::upgrade_declined) co_return handshake::upgrade_refused(head);
        if (auto f = tls::client_certificate_problem(ec)) co_return f;
        bool const closed = ec == beast::http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset;
        if (ec) co_return handshake::upgrade_failed(closed ? "" : ec.message(), host_and_port(ep));
        if (auto f = handshake::check_subprotocol(head, o.ws.subprotocol)) co_return f;
        ws_.binary(true); // [MQTT-6.0.0-1]
        ws_.read_message_max(o.max_frame);
        ws_.write_buffer_bytes(write_chunk_size);
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = close_timeout; // from now on it bounds the close handshake
        timeouts.idle_timeout = websocket::stream_base::none(); // MQTT keepalive watches the line
        timeouts.keep_alive_pings = false;
        ws_.set_option(timeouts);
        co_return std::nullopt;
    }

    connect_steps setup_;
    websocket::stream<Stream> ws_;
    read_buffer buffer_;
};

} // namespace

std::unique_ptr<transport> make_deflate_transport(net::any_io_executor const& ex, transport_options options)
{
    if (uses_tls(options.endpoint.scheme)) return std::make_unique<deflate_transport<tls_stream>>(ex, std::move(options));
    return std::make_unique<deflate_transport<tcp::socket>>(ex, std::move(options));
}

} // namespace wsmqtt::transport_detail

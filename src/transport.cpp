// The transports behind transport.hpp, but --compress's: TCP or TLS underneath (connect_steps),
// then MQTT straight on the byte stream, or in WebSocket frames that we read and write ourselves
// (ws_frames.hpp, after the upgrade in handshakes.hpp). No Beast here.
#include "connect_steps.hpp"

#include "wsmqtt/version.hpp"
#include "wsmqtt/ws_frames.hpp"

#include <random>

namespace wsmqtt {
namespace transport_detail {
namespace {

/// Waits until the connection may write: one writer at a time, between the data writer and
/// the reader's answers to PING and close.
class write_gate {
public:
    explicit write_gate(net::any_io_executor ex) : released_{std::move(ex)} {}
    net::awaitable<void> acquire()
    {
        while (busy_) {
            released_.expires_at(net::steady_timer::time_point::max());
            (void)co_await released_.async_wait(use_tuple);
            auto const state = co_await boost::asio::this_coro::cancellation_state;
            if (cancelled(state)) throw boost::system::system_error{net::error::operation_aborted};
        }
        busy_ = true;
    }
    void release()
    {
        busy_ = false;
        released_.cancel();
    }

private:
    net::steady_timer released_;
    bool busy_ = false;
};

/// ws://, wss://, mqtt://, mqtts:// without --compress: MQTT straight on the byte stream, or in
/// WebSocket binary frames that we read and write ourselves.
template <class Stream>
class stream_transport final : public transport {
public:
    stream_transport(net::any_io_executor const& ex, transport_options options)
        : setup_{ex, std::move(options)}
        , stream_{make_stream(ex)}
        , ws_{uses_websocket(setup_.options.endpoint.scheme)}
        , frames_{setup_.options.max_frame}
        , gate_{ex}
    {
    }

    net::awaitable<std::optional<transport_error>> connect() override
    {
        co_return co_await setup_.within_deadline(
            [this]() -> net::awaitable<std::optional<transport_error>> {
                if (auto f = co_await setup_.open(stream_)) co_return f;
                if (ws_) {
                    setup_.at = stage::websocket;
                    if (auto f = co_await upgrade()) co_return f;
                }
                co_return std::nullopt;
            },
            lowest(stream_));
    }

    net::awaitable<read_result> read() override
    {
        if (!ws_) {
            auto [ec, n] = co_await stream_.async_read_some(buffer_.buffer(), use_tuple);
            if (ec) co_return read_result{{}, connect_steps::connection_lost(ec)};
            // A WebSocket server answers our CONNECT with an HTTP error: say so, not "invalid
            // fixed-header flags" (no MQTT packet starts with 'H': type 4 takes flags 0).
            if (std::exchange(first_read_, false) && std::string_view{reinterpret_cast<char const*>(buffer_.data()), n}.starts_with("HTTP/"))
                co_return read_result{{}, transport_error{transport_errc::http_answer, host_and_port(setup_.options.endpoint)}};
            co_return read_result{{buffer_.data(), n}, std::nullopt};
        }
        if (ended_) co_return read_result{{}, ended_};
        payload_.clear();
        std::span<std::uint8_t const> input{spare_}; // what came behind the upgrade's answer, once
        while (true) {
            if (input.empty()) {
                spare_.clear();
                if (!payload_.empty()) co_return read_result{{payload_.data(), payload_.size()}, std::nullopt};
                auto [ec, n] = co_await stream_.async_read_some(buffer_.buffer(), use_tuple);
                if (ec) co_return read_result{{}, connect_steps::connection_lost(ec)};
                input = std::span<std::uint8_t const>{buffer_.data(), n};
                continue;
            }
            auto const r = frames_.read(input, payload_);
            input = input.subspan(r.consumed);
            switch (r.what) {
            case ws::frame_reader::stop::more: break;
            case ws::frame_reader::stop::ping:
                co_await send_control(ws::control_frame(ws::op_pong, frames_.control(), next_key()));
                break;
            case ws::frame_reader::stop::close: {
                // Answer with a close frame before the TCP close (RFC 6455 §5.5.1), unless
                // this is the answer to ours; say what the broker said.
                auto const status = ws::parse_close(frames_.control());
                if (!close_sent_) co_await send_control(ws::close_frame(status.code == 1005 ? ws::close_normal : status.code, {}, next_key()));
                close_sent_ = true;
                ended_ = transport_error{transport_errc::ws_closed_by_broker, {}, status.reason, {}, status.code};
                break;
            }
            case ws::frame_reader::stop::error:
                co_await fail(ws::close_protocol_error);
                ended_ = transport_error{transport_errc::ws_protocol_error, {}, frames_.error()};
                break;
            case ws::frame_reader::stop::too_big:
                co_await fail(ws::close_too_big);
                ended_ = transport_error{transport_errc::ws_protocol_error, {}, frames_.error()};
                break;
            }
            if (ended_) {
                // The messages that came before the end still count.
                if (!payload_.empty()) co_return read_result{{payload_.data(), payload_.size()}, std::nullopt};
                co_return read_result{{}, ended_};
            }
        }
    }

    net::awaitable<std::optional<transport_error>> write(send_buffers const& data) override
    {
        if (!ws_) {
            auto [ec, n] = co_await net::async_write(stream_, data, use_tuple);
            if (ec) co_return connect_steps::connection_lost(ec);
            co_return std::nullopt;
        }
        co_await gate_.acquire();
        auto const result = co_await write_message(data);
        gate_.release();
        co_return result;
    }

    net::awaitable<bool> shutdown() override
    {
        if (ws_ && !close_sent_) {
            close_sent_ = true;
            co_await send_control(ws::close_frame(ws::close_normal, {}, next_key()));
        }
        // FIN after all our data (over TLS the socket's close ends it).
        if constexpr (std::is_same_v<Stream, tcp::socket>) {
            error_code ignored;
            stream_.shutdown(tcp::socket::shutdown_send, ignored);
        }
        co_return ws_;
    }

    net::awaitable<void> fail(std::uint16_t ws_status) override
    {
        if (!ws_ || close_sent_) co_return;
        close_sent_ = true;
        co_await send_control(ws::close_frame(ws_status, {}, next_key()));
    }

    void cancel() noexcept override
    {
        setup_.resolver.cancel();
        error_code ignored;
        lowest(stream_).close(ignored);
    }

private:
    Stream make_stream(net::any_io_executor const& ex)
    {
        if constexpr (std::is_same_v<Stream, tcp::socket>)
            return Stream{ex};
        else
            return Stream{ex, *setup_.tls_context};
    }

    ws::mask_key next_key()
    {
        auto const v = random_();
        return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    }

    net::awaitable<std::optional<transport_error>> upgrade()
    {
        auto const& o = setup_.options;
        std::array<std::uint8_t, 16> nonce;
        std::random_device entropy;
        for (auto& b : nonce) b = static_cast<std::uint8_t>(entropy());
        handshake::websocket_upgrade h{{host_header(o.endpoint), o.endpoint.path, o.ws.subprotocol,
                                        o.ws.user_agent.empty() ? std::string{"wsmqtt/"} + version : o.ws.user_agent, o.ws.origin,
                                        o.ws.headers},
                                       nonce};
        auto f = co_await setup_.exchange(stream_, h, h.start(), &spare_);
        if (o.trace && h.answered())
            for (auto const& line : handshake::describe_answer(h.response(), h.body())) o.trace(line);
        co_return f;
    }

    /// One binary frame with all of `data`, masked in parts of write_chunk_size (§5.3).
    net::awaitable<std::optional<transport_error>> write_message(send_buffers const& data)
    {
        auto const key = next_key();
        out_.clear();
        ws::append_frame_header(ws::op_binary, net::buffer_size(data), key, out_);
        std::uint64_t offset = 0;
        for (auto const piece : data) {
            auto const* bytes = static_cast<std::uint8_t const*>(piece.data());
            std::size_t left = piece.size();
            while (left > 0) {
                auto const take = std::min(left, write_chunk_size - std::min(out_.size(), write_chunk_size));
                if (take == 0) {
                    if (auto f = co_await flush_out()) co_return f;
                    continue;
                }
                auto const at = out_.size();
                out_.insert(out_.end(), bytes, bytes + take);
                ws::apply_mask({out_.data() + at, take}, key, offset);
                offset += take;
                bytes += take;
                left -= take;
            }
        }
        co_return co_await flush_out();
    }

    net::awaitable<std::optional<transport_error>> flush_out()
    {
        auto [ec, n] = co_await net::async_write(stream_, net::buffer(out_), use_tuple);
        out_.clear();
        if (ec) co_return connect_steps::connection_lost(ec);
        co_return std::nullopt;
    }

    /// A PONG or close frame, between data writes; a failure shows on the next read.
    net::awaitable<void> send_control(std::vector<std::uint8_t> frame)
    {
        co_await gate_.acquire();
        (void)co_await net::async_write(stream_, net::buffer(frame), use_tuple);
        gate_.release();
    }

    connect_steps setup_;
    Stream stream_;
    bool const ws_;
    ws::frame_reader frames_;
    write_gate gate_;
    read_buffer buffer_;                ///< socket reads
    std::vector<std::uint8_t> spare_;   ///< bytes that came behind the upgrade's answer
    std::vector<std::uint8_t> payload_; ///< what a WebSocket read returns
    std::vector<std::uint8_t> out_;     ///< a frame being masked and written
    std::optional<transport_error> ended_;      ///< the WebSocket ended: what read() says from now on
    bool close_sent_ = false;
    bool first_read_ = true;
    std::mt19937 random_{std::random_device{}()};
};

} // namespace
} // namespace transport_detail

transport_options transport_options_from(config const& cfg)
{
    transport_options o;
    o.endpoint = cfg.endpoint;
    o.proxy = cfg.proxy;
    o.tls = cfg.tls;
    o.ws = cfg.ws;
    // MQTT 3.1.1 registers "mqtt"; MQTT 3.1 used "mqttv3.1" [MQTT-6.0.0-3].
    if (o.ws.subprotocol.empty()) o.ws.subprotocol = cfg.version == mqtt::protocol_version::v31 ? "mqttv3.1" : "mqtt";
    o.connect_timeout = cfg.connect_timeout;
    o.max_frame = cfg.max_packet_size;
    return o;
}

std::unique_ptr<transport> make_transport(boost::asio::any_io_executor executor, transport_options options)
{
    using namespace transport_detail;
    if (uses_websocket(options.endpoint.scheme) && options.ws.compress) return make_deflate_transport(executor, std::move(options));
    if (uses_tls(options.endpoint.scheme)) return std::make_unique<stream_transport<tls_stream>>(executor, std::move(options));
    return std::make_unique<stream_transport<tcp::socket>>(executor, std::move(options));
}

} // namespace wsmqtt

#include "wsmqtt/ws_frames.hpp"

#include <algorithm>

namespace wsmqtt::ws {

namespace {

constexpr std::uint8_t continuation = 0x0, text = 0x1, binary = 0x2, close_frame = 0x8, ping = 0x9, pong = 0xA;

/// Header bytes once the first two are known: extended length (§5.2), and a masking key,
/// which a server must not send but whose bytes are still counted to report it cleanly.
std::size_t header_size(std::uint8_t second)
{
    auto const length = second & 0x7Fu;
    std::size_t const extended = length == 126 ? 2 : length == 127 ? 8 : 0;
    std::size_t const key = (second & 0x80) ? 4 : 0;
    return 2 + extended + key;
}

} // namespace

frame_reader::result frame_reader::fail(std::string why, std::size_t consumed)
{
    error_ = std::move(why);
    return {stop::error, consumed};
}

frame_reader::result frame_reader::read(std::span<std::uint8_t const> in, std::vector<std::uint8_t>& payload)
{
    std::size_t at = 0;
    while (at < in.size()) {
        if (!in_frame_) {
            // Gather the header, which may itself arrive in pieces.
            while (header_size_ < 2 && at < in.size()) header_[header_size_++] = in[at++];
            if (header_size_ < 2) break;
            auto const first = header_[0];
            auto const second = header_[1];
            if (header_size_ == 2) { // checked once, as soon as the first two bytes are in
                if (first & 0x70) return fail("WebSocket: reserved bits set, but no extension was negotiated (RFC 6455 §5.2)", at);
                if (second & 0x80) return fail("WebSocket: the server masked a frame (RFC 6455 §5.1)", at);
            }
            auto const need = header_size(second);
            auto const take = std::min(need - header_size_, in.size() - at);
            std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(at), take, header_ + header_size_);
            header_size_ += take;
            at += take;
            if (header_size_ < need) break;
            header_size_ = 0;

            std::uint64_t length = second & 0x7Fu;
            if (length == 126) {
                length = (std::uint64_t{header_[2]} << 8) | header_[3];
            } else if (length == 127) {
                length = 0;
                for (int i = 2; i < 10; ++i) length = (length << 8) | header_[i];
                if (length >> 63) return fail("WebSocket: a frame length with its top bit set (RFC 6455 §5.2)", at);
            }
            fin_ = (first & 0x80) != 0;
            opcode_ = first & 0x0F;
            switch (opcode_) {
            case continuation:
                if (!in_message_) return fail("WebSocket: a continuation frame with no message to continue", at);
                in_message_ = !fin_;
                break;
            case binary:
                if (in_message_) return fail("WebSocket: a new message began before the last one ended", at);
                in_message_ = !fin_;
                break;
            case text:
                return fail("the broker sent a text WebSocket frame", at); // [MQTT-6.0.0-1]
            case close_frame:
            case ping:
            case pong:
                if (!fin_ || length > 125)
                    return fail("WebSocket: a control frame fragmented or longer than 125 bytes (RFC 6455 §5.5)", at);
                control_.clear();
                break;
            default:
                return fail("WebSocket: a frame with the reserved opcode " + std::to_string(opcode_), at);
            }
            in_frame_ = true;
            remaining_ = length;
        }

        auto const take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - at));
        auto const bytes = in.subspan(at, take);
        if (opcode_ == binary || opcode_ == continuation) payload.insert(payload.end(), bytes.begin(), bytes.end());
        else control_.append(bytes.begin(), bytes.end());
        at += take;
        remaining_ -= take;
        if (remaining_ > 0) break;
        in_frame_ = false;
        if (opcode_ == ping) return {stop::ping, at};
        if (opcode_ == close_frame) return {stop::close, at};
    }
    return {stop::more, at};
}

} // namespace wsmqtt::ws

#include "wsmqtt/ws_frames.hpp"

#include <algorithm>
#include <cstring>

namespace wsmqtt::ws {

namespace {

constexpr std::uint8_t continuation = op_continuation, text = op_text, binary = op_binary, close_op = op_close, ping = op_ping,
                       pong = op_pong;

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
            case close_op:
            case ping:
            case pong:
                if (!fin_ || length > 125)
                    return fail("WebSocket: a control frame fragmented or longer than 125 bytes (RFC 6455 §5.5)", at);
                control_.clear();
                break;
            default:
                return fail("WebSocket: a frame with the reserved opcode " + std::to_string(opcode_), at);
            }
            if (max_frame_ > 0 && length > max_frame_) {
                error_ = "a WebSocket frame of " + std::to_string(length) + " bytes, over the limit of " + std::to_string(max_frame_) +
                         " (--max-packet-size)";
                return {stop::too_big, at};
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
        if (opcode_ == close_op) return {stop::close, at};
    }
    return {stop::more, at};
}

close_status parse_close(std::string_view payload)
{
    close_status s;
    if (payload.size() < 2) return s;
    s.code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]));
    s.reason = payload.substr(2);
    return s;
}

std::string describe(close_status const& s)
{
    char const* name = nullptr;
    switch (s.code) {
    case 1000: name = "normal"; break;
    case 1001: name = "going away"; break;
    case 1002: name = "protocol error"; break;
    case 1003: name = "unsupported data"; break;
    case 1005: name = "no status"; break;
    case 1007: name = "invalid data"; break;
    case 1008: name = "policy violation"; break;
    case 1009: name = "message too big"; break;
    case 1011: name = "server error"; break;
    case 1012: name = "service restart"; break;
    case 1013: name = "try again later"; break;
    default: break;
    }
    auto text = std::to_string(s.code);
    if (name) text += std::string{" "} + name;
    if (!s.reason.empty()) text += ": \"" + s.reason + "\"";
    return text;
}

void append_frame_header(std::uint8_t opcode, std::uint64_t length, mask_key key, std::vector<std::uint8_t>& out)
{
    out.push_back(static_cast<std::uint8_t>(0x80 | opcode));
    if (length < 126) {
        out.push_back(static_cast<std::uint8_t>(0x80 | length));
    } else if (length < 65536) {
        out.push_back(0x80 | 126);
        out.push_back(static_cast<std::uint8_t>(length >> 8));
        out.push_back(static_cast<std::uint8_t>(length));
    } else {
        out.push_back(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(length >> shift));
    }
    out.insert(out.end(), key.begin(), key.end());
}

void apply_mask(std::span<std::uint8_t> data, mask_key key, std::uint64_t offset) noexcept
{
    // Eight bytes at a time: a large payload is masked at memory speed.
    std::uint8_t rotated[8];
    for (std::size_t i = 0; i < 8; ++i) rotated[i] = key[(offset + i) % 4];
    std::uint64_t word;
    std::memcpy(&word, rotated, 8);
    std::size_t i = 0;
    for (; i + 8 <= data.size(); i += 8) {
        std::uint64_t v;
        std::memcpy(&v, data.data() + i, 8);
        v ^= word;
        std::memcpy(data.data() + i, &v, 8);
    }
    for (; i < data.size(); ++i) data[i] ^= rotated[i % 8];
}

std::vector<std::uint8_t> control_frame(std::uint8_t opcode, std::string_view payload, mask_key key)
{
    payload = payload.substr(0, 125);
    std::vector<std::uint8_t> out;
    append_frame_header(opcode, payload.size(), key, out);
    auto const at = out.size();
    out.insert(out.end(), payload.begin(), payload.end());
    apply_mask({out.data() + at, payload.size()}, key, 0);
    return out;
}

std::vector<std::uint8_t> close_frame(std::uint16_t code, std::string_view reason, mask_key key)
{
    std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    payload += reason.substr(0, 123);
    return control_frame(op_close, payload, key);
}

} // namespace wsmqtt::ws

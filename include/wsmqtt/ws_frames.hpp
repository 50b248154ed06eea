// WebSocket framing (RFC 6455 §5), without I/O, both ways: the frames a server sends are read
// here, all the frames of one socket read in one go, and a client's frames are built here
// (masked, §5.3). The transport moves the bytes; --compress is left to Beast entirely.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wsmqtt::ws {

inline constexpr std::uint8_t op_continuation = 0x0, op_text = 0x1, op_binary = 0x2, op_close = 0x8, op_ping = 0x9, op_pong = 0xA;

/// Close status codes we send (RFC 6455 §7.4.1).
inline constexpr std::uint16_t close_normal = 1000, close_protocol_error = 1002, close_too_big = 1009;

class frame_reader {
public:
    /// Frames longer than `max_frame` are refused (0: no limit).
    explicit frame_reader(std::uint64_t max_frame = 0) : max_frame_{max_frame} {}

    enum class stop {
        more,    ///< all input taken; read more
        ping,    ///< a PING arrived: answer it with control() as the PONG's payload, then go on
        close,   ///< the server closed the WebSocket (control(): status code and reason)
        error,   ///< the server broke RFC 6455 or MQTT's use of it: error() says how
        too_big, ///< a frame longer than the limit: error() says how long
    };
    struct result {
        stop what = stop::more;
        std::size_t consumed = 0; ///< bytes of the input taken; the rest goes to the next call
    };

    /// Takes frames from `in`, appending the payload of binary frames (and their
    /// continuations) to `payload`. Stops after a PING or a close frame so that the caller can
    /// answer it, and at the first error. A frame may be split anywhere across calls.
    result read(std::span<std::uint8_t const> in, std::vector<std::uint8_t>& payload);

    /// Payload of the last PING or close frame.
    [[nodiscard]] std::string const& control() const noexcept { return control_; }
    [[nodiscard]] std::string const& error() const noexcept { return error_; }

private:
    result fail(std::string why, std::size_t consumed);

    std::uint64_t max_frame_ = 0;
    std::uint8_t header_[14]{}; ///< the frame header being gathered
    std::size_t header_size_ = 0;
    std::uint64_t remaining_ = 0; ///< payload bytes of the current frame still to come
    bool in_frame_ = false;       ///< between a header and the end of its payload
    std::uint8_t opcode_ = 0;
    bool fin_ = false;
    bool in_message_ = false;     ///< a binary message continues in the next frames
    std::string control_;
    std::string error_;
};

/// The status of a close frame: its code (1005, "no status", when it has none) and reason.
struct close_status {
    std::uint16_t code = 1005;
    std::string reason;
};
[[nodiscard]] close_status parse_close(std::string_view payload);
/// "1001 going away: \"reason\"" for messages.
[[nodiscard]] std::string describe(close_status const& s);

using mask_key = std::array<std::uint8_t, 4>;

/// Appends the header of one whole (FIN) client frame of `length` bytes, masked with `key`.
void append_frame_header(std::uint8_t opcode, std::uint64_t length, mask_key key, std::vector<std::uint8_t>& out);
/// XORs `data` with `key`, as the bytes starting `offset` bytes into a frame's payload (§5.3).
void apply_mask(std::span<std::uint8_t> data, mask_key key, std::uint64_t offset) noexcept;
/// A whole masked control frame (PONG, close); `payload` at most 125 bytes.
[[nodiscard]] std::vector<std::uint8_t> control_frame(std::uint8_t opcode, std::string_view payload, mask_key key);
/// A masked close frame with a status code and a reason (cut to fit 125 bytes).
[[nodiscard]] std::vector<std::uint8_t> close_frame(std::uint16_t code, std::string_view reason, mask_key key);

} // namespace wsmqtt::ws

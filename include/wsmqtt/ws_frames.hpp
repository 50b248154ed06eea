// Reading the WebSocket frames a server sends (RFC 6455 §5), without I/O: the transport reads
// the socket itself and hands every byte it got to this reader, so that all the frames of one
// read are decoded in one go (Beast completes one read per message: one trip through the event
// loop per MQTT packet, as brokers send one frame per packet). Beast still does the handshake,
// the writes and compression.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace wsmqtt::ws {

class frame_reader {
public:
    enum class stop {
        more,  ///< all input taken; read more
        ping,  ///< a PING arrived: answer it with control() as the PONG's payload, then go on
        close, ///< the server closed the WebSocket (control(): status code and reason)
        error, ///< the server broke RFC 6455 or MQTT's use of it: error() says how
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

} // namespace wsmqtt::ws

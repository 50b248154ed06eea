// The MQTT wire format (3.1.1, 3.1 and 5.0): encode packets to bytes, decode bytes to packets.
// No I/O.
#pragma once

#include "wsmqtt/mqtt/packet.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

namespace wsmqtt::mqtt {

using bytes = std::vector<std::uint8_t>;

struct fixed_header;

/// Appends the wire form of `p` to `out` in protocol version `v` (a CONNECT says its own). On
/// error `out` is left as it was. Checks what the client must guarantee: string lengths, QoS
/// range, non-zero ids, and properties allowed where they are (MQTT 5) or none at all (older).
[[nodiscard]] std::error_code encode(packet const& p, bytes& out, protocol_version v = protocol_version::v311);

/// As encode() for a PUBLISH whose payload is not in it (`p` holds none) but follows these bytes,
/// sent by the caller from where it lies: its `payload_size` bytes are counted in the Remaining
/// Length. Large payloads are never copied this way.
[[nodiscard]] std::error_code encode_publish_head(packet const& p, std::size_t payload_size, bytes& out,
                                                 protocol_version v = protocol_version::v311);

/// Default cap on one received packet (fixed header included). The spec allows 256 MiB;
/// a CLI has no use for more than this, and it bounds memory against hostile brokers.
constexpr std::size_t default_max_packet_size = 256u * 1024u * 1024u + 5u;

/// Incremental decoder: feed any split of the byte stream, pull whole packets.
/// A WebSocket message may hold several or partial packets [MQTT-6.0.0-2].
class decoder {
public:
    explicit decoder(std::size_t max_packet_size = default_max_packet_size, protocol_version v = protocol_version::v311) noexcept
        : max_packet_size_{max_packet_size}, version_{v}
    {
    }
    /// The version packets are read in (CONNECT says its own).
    void set_version(protocol_version v) noexcept { version_ = v; }

    /// Appends received bytes.
    void feed(std::span<std::uint8_t const> data);

    /// The next whole packet; nullopt with !ec when more bytes are needed; nullopt with ec
    /// when the stream is malformed (the connection must then be closed [MQTT-4.8.0-1]).
    /// A packet larger than the maximum is refused as soon as its header is complete,
    /// before its body is buffered.
    [[nodiscard]] std::optional<packet> next(std::error_code& ec);

    /// Bytes fed but not yet decoded.
    /// Memory held for input, reserved room included (what a header's announced size may not
    /// inflate before the bytes arrive).
    [[nodiscard]] std::size_t held() const noexcept
    {
        return buffer_.capacity() + (large_ ? large_->payload.capacity() : 0);
    }
    [[nodiscard]] std::size_t buffered() const noexcept
    {
        return buffer_.size() - start_ + (large_ ? large_->payload.size() : 0);
    }

    /// Forgets any partial packet (after a reconnect).
    void reset() noexcept
    {
        buffer_.clear();
        start_ = 0;
        large_.reset();
        large_missing_ = 0;
    }

    /// A PUBLISH at least this large is not buffered whole: once its topic is in, its payload
    /// is written straight into the message, so memory stays at one copy of it.
    static constexpr std::size_t stream_threshold = 64 * 1024;

private:
    bool start_large_publish(fixed_header const& header, std::span<std::uint8_t const> pending, std::error_code& ec);
    /// Room in the large PUBLISH's payload for `coming` more bytes.
    void grow_large_payload(std::size_t coming);

    std::size_t max_packet_size_;
    protocol_version version_;
    bytes buffer_;
    std::size_t start_ = 0;            ///< first byte not yet decoded
    std::optional<publish> large_;     ///< a large PUBLISH whose payload is arriving
    std::size_t large_missing_ = 0;    ///< its payload bytes still to come
};

/// Decodes exactly one packet from a complete frame (fixed header + body): for tests and tools.
[[nodiscard]] std::optional<packet> decode_one(std::span<std::uint8_t const> frame, std::error_code& ec,
                                               protocol_version v = protocol_version::v311);

} // namespace wsmqtt::mqtt

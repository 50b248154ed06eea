// MQTT 5 properties (§2.2.2 of MQTT 5.0; the values are in packet.hpp): their types and the
// packets that may carry them; encoded and decoded in the order they came.
#pragma once

#include "wsmqtt/mqtt/codec.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace wsmqtt::mqtt {

/// How a property's value is written (§1.5).
enum class property_type : std::uint8_t { byte, two_byte, four_byte, varint, utf8, binary, utf8_pair };

/// Where properties appear: a packet type number (1 CONNECT … 14 DISCONNECT, 15 AUTH), or the
/// Will Properties of a CONNECT.
inline constexpr std::uint8_t will_properties = 0;
inline constexpr std::uint8_t auth_packet = 15;

/// The property's type; nullopt for an identifier MQTT 5 does not define.
[[nodiscard]] std::optional<property_type> type_of(std::uint8_t id) noexcept;
/// The property's name as the spec and mosquitto's -D spell it: "payload-format-indicator".
[[nodiscard]] char const* property_name(property_id id) noexcept;
/// The property called `name` (as property_name() gives it).
[[nodiscard]] std::optional<property_id> property_from_name(std::string_view name) noexcept;
/// Whether `id` may appear in `where` (a packet type number or will_properties).
[[nodiscard]] bool allowed_in(property_id id, std::uint8_t where) noexcept;

/// Bytes the Property Length and the properties take.
[[nodiscard]] std::size_t properties_size(properties const& props) noexcept;
/// Appends the Property Length and the properties.
void encode_properties(properties const& props, bytes& out);

/// Whether `props` may be sent in `where`: each allowed there, at most once unless it may
/// repeat, values in range, strings within 65 535 bytes and UTF-8 where they must be.
[[nodiscard]] std::error_code check_properties(properties const& props, std::uint8_t where) noexcept;

/// Reads a Property Length and the properties after it from the start of `in`, for a packet
/// of kind `where`; on success `in` is left after them. Malformed, unknown, misplaced,
/// repeated or out-of-range properties are errors (the connection must then be closed).
[[nodiscard]] std::error_code decode_properties(std::span<std::uint8_t const>& in, std::uint8_t where, properties& out);

/// The first property `id` in `props`, or nullptr.
[[nodiscard]] property const* find(properties const& props, property_id id) noexcept;

} // namespace wsmqtt::mqtt

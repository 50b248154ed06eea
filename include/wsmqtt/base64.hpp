// Base64 (RFC 4648) and hex: shared by the output, the CLI's binary values and the proxies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wsmqtt {

/// Appends `data` in base64 (RFC 4648, with padding).
void append_base64(std::string_view data, std::string& out);

/// Appends `data` as two hex digits a byte, lower case unless `upper`.
void append_hex(std::string_view data, std::string& out, bool upper = false);

/// The bytes of base64 text (RFC 4648, padded); nullopt when it is not base64.
[[nodiscard]] std::optional<std::string> decode_base64(std::string_view text);

} // namespace wsmqtt

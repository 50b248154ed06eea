// Rules for UTF-8 strings, topic names and topic filters (MQTT 3.1.1 §1.5.3, §4.7).
#pragma once

#include <string_view>
#include <system_error>

namespace wsmqtt::mqtt {

/// Well-formed UTF-8 without U+0000 and without surrogates or overlongs [MQTT-1.5.3-1/2].
[[nodiscard]] bool is_valid_utf8(std::string_view s) noexcept;

/// A topic name as used in PUBLISH: 1..65535 bytes, valid UTF-8, no wildcards
/// [MQTT-4.7.3-1/3, MQTT-3.3.2-2, MQTT-4.7.1-1]. Returns an empty code when valid.
[[nodiscard]] std::error_code check_topic_name(std::string_view topic) noexcept;

/// A topic filter as used in SUBSCRIBE: like a name, but '+' must fill a whole level
/// and '#' must be last and fill a whole level [MQTT-4.7.1-2/3].
[[nodiscard]] std::error_code check_topic_filter(std::string_view filter) noexcept;

/// Whether a topic name matches a filter, with the '$' rule of §4.7.2.
[[nodiscard]] bool topic_matches(std::string_view filter, std::string_view topic) noexcept;

} // namespace wsmqtt::mqtt

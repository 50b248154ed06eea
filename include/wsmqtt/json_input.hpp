// What `wsmqtt pub --json` reads: one JSON object per line, as `wsmqtt sub --json` writes them.
// Pure parsing, no I/O: a line in, a message (or why not) out.
#pragma once

#include "wsmqtt/mqtt/packet.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace wsmqtt {

/// The fields of one line that matter for publishing; what a line leaves out is unset, for the
/// command line to fill (-t, -q, -r, -D). `tst`, `mid`, `payloadlen` and unknown fields are
/// ignored.
struct json_message {
    std::optional<std::string> topic;
    std::optional<std::string> payload; ///< the bytes: base64 decoded when "payload_encoding" says so;
                                        ///< a payload that is a JSON value other than a string (%J) is its text
    std::optional<mqtt::qos> qos;
    std::optional<bool> retain;
    std::optional<std::string> tst;     ///< the receive time, RFC 3339 (for --pace recorded)
    mqtt::properties props;             ///< MQTT 5: from "properties", in the order they came
};

/// Parses one line. On failure returns nullopt and sets `error` to the reason ("not JSON: …",
/// "qos must be 0, 1 or 2", "bad base64 in payload").
[[nodiscard]] std::optional<json_message> parse_json_message(std::string_view line, std::string& error);

/// Seconds since the epoch of an RFC 3339 time as `sub --json` writes it
/// ("2026-11-26T01:02:03.123456Z"); nullopt if it is not one.
[[nodiscard]] std::optional<double> parse_rfc3339(std::string_view text) noexcept;

} // namespace wsmqtt

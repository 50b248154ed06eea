// Subscriber output: a format compiled once, rendered per message, written once per batch.
#pragma once

#include "wsmqtt/mqtt/packet.hpp"

#include "wsmqtt/base64.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsmqtt {

/// The default line: `Topic: <topic> | <payload>`.
constexpr std::string_view default_format = "Topic: %t | %p";

/// What --json prints: one JSON object per line (JSON Lines).
constexpr std::string_view json_format = "%j";

using wall_time = std::chrono::system_clock::time_point;

/// mosquitto_sub's -F language: `%` fields with optional `-`/`0` flags, width and `.precision`
/// (`%t %p %q %r %l %m %x %X %I %U %j %J %%`, plus `%b` base64), the MQTT 5 properties (`%A`
/// topic alias, `%C` content type, `%D` correlation data, `%E` message expiry, `%F` payload
/// format, `%P` user properties `k:v k:v`, `%R` response topic, `%S` subscription identifiers,
/// comma-separated; a `#` flag prints any field in hex, for binary values: `%#D`), `@`
/// strftime fields with `@N` nanoseconds and `@@`, and the escapes
/// `\n \t \r \0 \a \e \v \\`.
class output_format {
public:
    /// Compiles `spec`; a newline is appended to each message unless `no_newline`.
    /// Returns nullopt and sets `error` (naming the offending specifier) when it is invalid.
    [[nodiscard]] static std::optional<output_format> compile(std::string_view spec, bool no_newline,
                                                              std::string& error);

    /// Appends the rendering of `m`, received at `when`, to `out`.
    void render(mqtt::publish const& m, wall_time when, std::string& out) const;
    /// As render(), but leaves out the payload where the format prints it as it is (a plain
    /// `%p`), and returns where in `out` it belongs; nullopt (and a full rendering) otherwise.
    /// For large payloads, which can then go to stdout without a copy.
    std::optional<std::size_t> render_around_payload(mqtt::publish const& m, wall_time when, std::string& out) const;

    /// Whether rendering reads the time (so the caller can skip the clock otherwise).
    [[nodiscard]] bool uses_time() const noexcept { return uses_time_; }

private:
    enum class field {
        literal, topic, payload, qos, retain, length, packet_id, hex_lower, hex_upper, base64,
        iso_time, unix_time, json, json_raw, strftime, nanoseconds,
        // MQTT 5 properties (nothing when a message has none)
        topic_alias, content_type, correlation_data, message_expiry, payload_format, user_properties, response_topic,
        subscription_ids,
    };
    struct token {
        field kind = field::literal;
        std::string text;          ///< literal text, or the strftime conversion for @ fields
        bool left_align = false;   ///< `-` flag
        bool zero_pad = false;     ///< `0` flag
        bool hex = false;          ///< `#` flag: the value in lower-case hex (binary-safe: %#D, %#p)
        std::size_t width = 0;     ///< minimum width, 0 = none
        std::optional<std::size_t> precision; ///< maximum width

        static token of(field k, std::string text = {})
        {
            token t;
            t.kind = k;
            t.text = std::move(text);
            return t;
        }
    };
    void render_field(token const& t, mqtt::publish const& m, wall_time when, std::string& out) const;
    void render_tokens(mqtt::publish const& m, wall_time when, std::string& out, std::optional<std::size_t>* payload_at) const;

    std::vector<token> tokens_;
    bool uses_time_ = false;
};



/// Appends `s` as a JSON string literal (RFC 8259), quotes included; `s` must be UTF-8.
void append_json_string(std::string_view s, std::string& out);

/// Whether `s` is exactly one JSON value (RFC 8259), surrounding white space allowed.
[[nodiscard]] bool is_json(std::string_view s) noexcept;

/// stdout as a batch sink: render into buffer(), then flush() once per read.
/// Whether stderr may carry colour: it is a terminal and NO_COLOR is unset or empty (no-color.org).
[[nodiscard]] bool stderr_wants_colour() noexcept;

/// `text` in the SGR style `sgr` ("1" bold, "32" green, "1;36" bold cyan) when `colour`.
[[nodiscard]] std::string paint(std::string_view text, std::string_view sgr, bool colour);

/// Byte counts for people: "512 B", "4.5 KiB", "12.0 MiB", "1.5 GiB".
[[nodiscard]] std::string human_bytes(std::uint64_t bytes);

/// The progress line of a publisher: "45% 4.5 MiB of 10.0 MiB, 1234 messages", or without a
/// total "4.5 MiB, 1234 messages" (a pipe).
[[nodiscard]] std::string progress_text(std::uint64_t done, std::optional<std::uint64_t> total, std::uint64_t messages);

/// Writes `text` to stderr as it is; a failure (a closed or full stderr) is ignored, so a
/// diagnostic that cannot be written never changes what the run does.
void write_stderr(std::string_view text) noexcept;

/// The one line a failure prints: "wsmqtt: error: <message>" (through write_stderr).
void write_error(std::string_view message) noexcept;

class stdout_writer {
public:
    /// closed: the reader has gone (EPIPE), a normal end; failed: error() says why (ENOSPC, EIO).
    enum class status { ok, closed, failed };

    [[nodiscard]] std::string& buffer() noexcept { return buffer_; }
    /// Writes everything buffered. `closed` when the reader has gone (EPIPE): exit quietly.
    [[nodiscard]] status flush();
    /// Writes the buffer with `insert` written at offset `at` of it, without copying `insert`.
    [[nodiscard]] status flush(std::string_view insert, std::size_t at);
    /// The errno of the last failed write.
    [[nodiscard]] int error() const noexcept { return error_; }

private:
    std::string buffer_;
    int error_ = 0;
};

} // namespace wsmqtt

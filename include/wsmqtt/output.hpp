// Subscriber output: a format compiled once, rendered per message, written once per batch.
#pragma once

#include "wsmqtt/mqtt/packet.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsmqtt {

/// The default line: `Topic: <topic> | <payload>`.
constexpr std::string_view default_format = "Topic: %t | %p";

/// A mosquitto-style output format (-F): `%t %p %q %r %l %m %x %X %%` and the escapes
/// `\n \t \r \0 \a \e \v \\`.
class output_format {
public:
    /// Compiles `spec`; a newline is appended to each message unless `no_newline`.
    /// Returns nullopt and sets `error` (naming the offending specifier) when it is invalid.
    [[nodiscard]] static std::optional<output_format> compile(std::string_view spec, bool no_newline,
                                                              std::string& error);

    /// Appends the rendering of `m` to `out`.
    void render(mqtt::publish const& m, std::string& out) const;

private:
    enum class field { literal, topic, payload, qos, retain, length, packet_id, hex_lower, hex_upper };
    struct token {
        field kind;
        std::string text; ///< for literal tokens
    };
    std::vector<token> tokens_;
};

/// stdout as a batch sink: render into buffer(), then flush() once per read.
class stdout_writer {
public:
    enum class status { ok, closed };

    [[nodiscard]] std::string& buffer() noexcept { return buffer_; }
    /// Writes everything buffered. `closed` when the reader has gone (EPIPE): exit quietly.
    [[nodiscard]] status flush();

private:
    std::string buffer_;
};

} // namespace wsmqtt

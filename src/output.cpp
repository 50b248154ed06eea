// Rendering messages with a compiled format, and writing stdout in batches.
#include "wsmqtt/output.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <iterator>
#include <utility>
#include <unistd.h>

namespace wsmqtt {

std::optional<output_format> output_format::compile(std::string_view spec, bool no_newline, std::string& error)
{
    output_format f;
    std::string literal;
    auto const push_field = [&](field kind) {
        if (!literal.empty()) f.tokens_.push_back({field::literal, std::exchange(literal, {})});
        f.tokens_.push_back({kind, {}});
    };
    for (std::size_t i = 0; i < spec.size(); ++i) {
        char const c = spec[i];
        if (c != '%' && c != '\\') {
            literal += c;
            continue;
        }
        if (i + 1 == spec.size()) {
            error = fmt::format("format ends with a lone '{}'", c);
            return std::nullopt;
        }
        char const s = spec[++i];
        if (c == '\\') {
            switch (s) {
            case 'n': literal += '\n'; break;
            case 't': literal += '\t'; break;
            case 'r': literal += '\r'; break;
            case '0': literal += '\0'; break;
            case 'a': literal += '\a'; break;
            case 'e': literal += '\x1b'; break;
            case 'v': literal += '\v'; break;
            case '\\': literal += '\\'; break;
            default: error = fmt::format("invalid escape '\\{}' in format", s); return std::nullopt;
            }
            continue;
        }
        switch (s) {
        case '%': literal += '%'; break;
        case 't': push_field(field::topic); break;
        case 'p': push_field(field::payload); break;
        case 'q': push_field(field::qos); break;
        case 'r': push_field(field::retain); break;
        case 'l': push_field(field::length); break;
        case 'm': push_field(field::packet_id); break;
        case 'x': push_field(field::hex_lower); break;
        case 'X': push_field(field::hex_upper); break;
        default: error = fmt::format("invalid format specifier '%{}'", s); return std::nullopt;
        }
    }
    if (!no_newline) literal += '\n';
    if (!literal.empty()) f.tokens_.push_back({field::literal, std::move(literal)});
    return f;
}

void output_format::render(mqtt::publish const& m, std::string& out) const
{
    auto it = std::back_inserter(out);
    for (auto const& t : tokens_) {
        switch (t.kind) {
        case field::literal: out += t.text; break;
        case field::topic: out += m.topic; break;
        case field::payload: out += m.payload; break;
        case field::qos: out += static_cast<char>('0' + static_cast<int>(m.qos)); break;
        case field::retain: out += m.retain ? '1' : '0'; break;
        case field::length: fmt::format_to(it, "{}", m.payload.size()); break;
        case field::packet_id: fmt::format_to(it, "{}", m.packet_id); break;
        case field::hex_lower:
        case field::hex_upper: {
            char const* digits = t.kind == field::hex_lower ? "0123456789abcdef" : "0123456789ABCDEF";
            for (char const c : m.payload) {
                auto const b = static_cast<unsigned char>(c);
                out += digits[b >> 4];
                out += digits[b & 0x0F];
            }
            break;
        }
        }
    }
}

stdout_writer::status stdout_writer::flush()
{
    std::size_t done = 0;
    while (done < buffer_.size()) {
        auto const n = ::write(STDOUT_FILENO, buffer_.data() + done, buffer_.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            buffer_.clear();
            return status::closed; // EPIPE (reader gone) or a dead terminal: nothing more to say
        }
        done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
    return status::ok;
}

} // namespace wsmqtt

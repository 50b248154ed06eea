// Base64 (RFC 4648) and hex: -F %b %x %#D, JSON output of binary payloads, -d, proxy credentials.
#include "wsmqtt/base64.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace wsmqtt {

void append_base64(std::string_view data, std::string& out)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    auto const byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])); };
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        auto const v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    auto const rest = data.size() - i;
    if (rest == 0) return;
    auto const v = (byte(i) << 16) | (rest == 2 ? byte(i + 1) << 8 : 0u);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
}

void append_hex(std::string_view data, std::string& out, bool upper)
{
    char const* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    out.reserve(out.size() + 2 * data.size());
    for (char const c : data) {
        auto const b = static_cast<unsigned char>(c);
        out += digits[b >> 4];
        out += digits[b & 0x0F];
    }
}

std::optional<std::string> decode_base64(std::string_view text)
{
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    std::uint32_t bits = 0;
    std::size_t padding = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char const c = text[i];
        std::uint32_t v = 0;
        if (c >= 'A' && c <= 'Z') v = static_cast<std::uint32_t>(c - 'A');
        else if (c >= 'a' && c <= 'z') v = static_cast<std::uint32_t>(c - 'a' + 26);
        else if (c >= '0' && c <= '9') v = static_cast<std::uint32_t>(c - '0' + 52);
        else if (c == '+') v = 62;
        else if (c == '/') v = 63;
        else if (c == '=' && text.size() - i <= 2) ++padding; // only in the last two places
        else return std::nullopt;
        if (c != '=' && padding > 0) return std::nullopt; // nothing after padding
        bits = (bits << 6) | v;
        if (i % 4 == 3) {
            out += static_cast<char>(bits >> 16);
            out += static_cast<char>((bits >> 8) & 0xFF);
            out += static_cast<char>(bits & 0xFF);
            bits = 0;
        }
    }
    out.resize(out.size() - padding);
    return out;
}

} // namespace wsmqtt

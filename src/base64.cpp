// Base64 (RFC 4648): -F %b, JSON output of binary payloads, and proxy credentials. On its own so
// that the TLS module (transport_tls.cpp) can have it without the rest of output.cpp.
#include "wsmqtt/output.hpp"

#include <cstdint>

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

} // namespace wsmqtt

// The MQTT data representations (§1.5 of 3.1.1, §1.5 of 5.0): big-endian integers, Variable
// Byte Integers, length-prefixed strings and binary data, written and read. Private to the
// MQTT layer (codec, properties).
#pragma once

#include "wsmqtt/mqtt/codec.hpp"
#include "wsmqtt/mqtt/error.hpp"
#include "wsmqtt/mqtt/properties.hpp"
#include "wsmqtt/mqtt/topic.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace wsmqtt::mqtt {

/// A UTF-8 string or binary field that fits its 2-byte length, and is well-formed UTF-8 when
/// `utf8` [MQTT-1.5.3-1/2, MQTT-1.5.4-1/2].
[[nodiscard]] inline std::error_code check_string(std::string_view s, bool utf8) noexcept
{
    if (s.size() > max_string_length) return errc::string_too_long;
    if (utf8 && !is_valid_utf8(s)) return errc::invalid_utf8;
    return {};
}

class writer {
public:
    explicit writer(bytes& out) noexcept : out_{out} {}
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) // big-endian (§1.5.2)
    {
        out_.push_back(static_cast<std::uint8_t>(v >> 8));
        out_.push_back(static_cast<std::uint8_t>(v & 0xFF));
    }
    void u32(std::uint32_t v)
    {
        u16(static_cast<std::uint16_t>(v >> 16));
        u16(static_cast<std::uint16_t>(v & 0xFFFF));
    }
    void raw(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }
    void str(std::string_view s) // 2-byte length + bytes (§1.5.3)
    {
        u16(static_cast<std::uint16_t>(s.size()));
        raw(s);
    }
    /// A Variable Byte Integer: the Remaining Length's encoding (§2.2.3), 1 to 4 bytes.
    void remaining_length(std::size_t n)
    {
        do {
            auto byte = static_cast<std::uint8_t>(n % 128);
            n /= 128;
            if (n > 0) byte |= 0x80;
            out_.push_back(byte);
        } while (n > 0);
    }
    void varint(std::uint32_t n) { remaining_length(n); }
    /// MQTT 5: the Property Length and the properties (§2.2.2).
    void props(properties const& p) { encode_properties(p, out_); }

private:
    bytes& out_;
};

/// Bytes a Variable Byte Integer of `n` takes.
[[nodiscard]] constexpr std::size_t varint_size(std::size_t n) noexcept
{
    return n < 128 ? 1 : n < 16'384 ? 2 : n < 2'097'152 ? 3 : 4;
}

class reader {
public:
    explicit reader(std::span<std::uint8_t const> body) noexcept : p_{body.data()}, end_{p_ + body.size()} {}

    [[nodiscard]] std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - p_); }
    [[nodiscard]] bool u8(std::uint8_t& v) noexcept
    {
        if (left() < 1) return false;
        v = *p_++;
        return true;
    }
    [[nodiscard]] bool u16(std::uint16_t& v) noexcept
    {
        if (left() < 2) return false;
        v = static_cast<std::uint16_t>((p_[0] << 8) | p_[1]);
        p_ += 2;
        return true;
    }
    [[nodiscard]] bool u32(std::uint32_t& v) noexcept
    {
        std::uint16_t high = 0, low = 0;
        if (left() < 4 || !u16(high) || !u16(low)) return false;
        v = (static_cast<std::uint32_t>(high) << 16) | low;
        return true;
    }
    /// A Variable Byte Integer of at most 4 bytes; false when cut short or longer.
    [[nodiscard]] bool varint(std::uint32_t& v) noexcept
    {
        v = 0;
        for (int i = 0; i < 4; ++i) {
            std::uint8_t byte = 0;
            if (!u8(byte)) return false;
            v |= static_cast<std::uint32_t>(byte & 0x7F) << (7 * i);
            if ((byte & 0x80) == 0) return true;
        }
        return false;
    }
    [[nodiscard]] bool str(std::string& s)
    {
        std::uint16_t n = 0;
        if (!u16(n) || left() < n) return false;
        s.assign(reinterpret_cast<char const*>(p_), n);
        p_ += n;
        return true;
    }
    /// The next `n` bytes as a reader of their own, or false when fewer are left.
    [[nodiscard]] bool take(std::size_t n, reader& part) noexcept
    {
        if (left() < n) return false;
        part = reader{{p_, n}};
        p_ += n;
        return true;
    }
    /// What is left, for a part read elsewhere (properties); advance() past what it took.
    [[nodiscard]] std::span<std::uint8_t const> remaining() const noexcept { return {p_, left()}; }
    void advance(std::size_t n) noexcept { p_ += n; }
    /// MQTT 5: a Property Length and the properties, for a packet of kind `where`.
    [[nodiscard]] std::error_code props(std::uint8_t where, properties& out)
    {
        auto in = remaining();
        auto const before = in.size();
        auto const ec = decode_properties(in, where, out);
        if (!ec) advance(before - in.size());
        return ec;
    }
    void rest(std::string& s)
    {
        s.assign(reinterpret_cast<char const*>(p_), left());
        p_ = end_;
    }

private:
    std::uint8_t const* p_;
    std::uint8_t const* end_;
};

} // namespace wsmqtt::mqtt

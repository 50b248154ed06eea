// Helpers shared by the unit tests: encode/decode without ceremony.
#pragma once

#include "wsmqtt/mqtt/codec.hpp"
#include "wsmqtt/mqtt/error.hpp"

#include <catch2/catch.hpp>

#include <initializer_list>
#include <vector>

namespace wsmqtt::test {

inline mqtt::bytes b(std::initializer_list<int> values)
{
    mqtt::bytes out;
    for (int v : values) out.push_back(static_cast<std::uint8_t>(v));
    return out;
}

inline mqtt::bytes encoded(mqtt::packet const& p)
{
    mqtt::bytes out;
    auto const ec = mqtt::encode(p, out);
    INFO("encode error: " << ec.message());
    REQUIRE(!ec);
    return out;
}

inline mqtt::packet decoded(mqtt::bytes const& frame)
{
    std::error_code ec;
    auto p = mqtt::decode_one(frame, ec);
    INFO("decode error: " << ec.message());
    REQUIRE(p);
    return *p;
}

/// Decoding must fail with exactly `expected`.
inline void require_decode_error(mqtt::bytes const& frame, mqtt::errc expected)
{
    std::error_code ec;
    auto p = mqtt::decode_one(frame, ec);
    CHECK_FALSE(p);
    CHECK(ec == expected);
}

/// All whole packets in a byte stream (e.g. what a session wants to send).
inline std::vector<mqtt::packet> decode_all(mqtt::bytes const& stream)
{
    mqtt::decoder d;
    d.feed(stream);
    std::vector<mqtt::packet> out;
    std::error_code ec;
    while (auto p = d.next(ec)) out.push_back(std::move(*p));
    REQUIRE(!ec);
    REQUIRE(d.buffered() == 0);
    return out;
}

} // namespace wsmqtt::test

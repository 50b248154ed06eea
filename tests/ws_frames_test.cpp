// The WebSocket frame reader: frames as servers send them, split anywhere, and every way a
// server can break RFC 6455 or MQTT's use of it.
#include <catch2/catch.hpp>

#include "wsmqtt/ws_frames.hpp"

#include <string>
#include <vector>

using wsmqtt::ws::frame_reader;
using bytes = std::vector<std::uint8_t>;

namespace {

bytes frame(std::uint8_t first, bytes const& payload)
{
    bytes out{first};
    if (payload.size() < 126) {
        out.push_back(static_cast<std::uint8_t>(payload.size()));
    } else if (payload.size() < 65536) {
        out.push_back(126);
        out.push_back(static_cast<std::uint8_t>(payload.size() >> 8));
        out.push_back(static_cast<std::uint8_t>(payload.size()));
    } else {
        out.push_back(127);
        for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(payload.size() >> shift));
    }
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

bytes cat(std::initializer_list<bytes> parts)
{
    bytes out;
    for (auto const& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

bytes filled(std::size_t n, std::uint8_t seed)
{
    bytes out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7);
    return out;
}

/// Feeds `stream` in pieces of `step` bytes; returns the payload and the control stops seen.
std::pair<bytes, std::vector<std::string>> read_all(frame_reader& r, bytes const& stream, std::size_t step)
{
    bytes payload;
    std::vector<std::string> stops;
    for (std::size_t at = 0; at < stream.size();) {
        auto const piece = std::span{stream}.subspan(at, std::min(step, stream.size() - at));
        auto const got = r.read(piece, payload);
        at += got.consumed;
        if (got.what == frame_reader::stop::ping) stops.push_back("ping:" + r.control());
        if (got.what == frame_reader::stop::close) stops.push_back("close");
        if (got.what == frame_reader::stop::error) {
            stops.push_back("error: " + r.error());
            break;
        }
        if (got.what == frame_reader::stop::more) REQUIRE(got.consumed == piece.size()); // all taken
    }
    return {payload, stops};
}

} // namespace

TEST_CASE("binary frames of every length encoding, split anywhere, give their payloads in order", "[ws]")
{
    auto const small = filled(40, 1), medium = filled(300, 2), large = filled(70000, 3);
    auto const stream = cat({frame(0x82, small), frame(0x82, {}), frame(0x82, medium), frame(0x82, large)});
    for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{13}, std::size_t{1536}, stream.size()}) {
        frame_reader r;
        auto const [payload, stops] = read_all(r, stream, step);
        CHECK(stops.empty());
        CHECK(payload == cat({small, medium, large}));
    }
}

TEST_CASE("a fragmented message is continued, with a PING in between that is answered [RFC 6455 5.4, 5.5.2]", "[ws]")
{
    auto const stream = cat({frame(0x02, {1, 2}), frame(0x89, {'h', 'i'}), frame(0x00, {3}), frame(0x80, {4, 5}),
                             frame(0x8A, {'x'}) /* unsolicited PONG: ignored */, frame(0x82, {6})});
    for (std::size_t step : {std::size_t{1}, std::size_t{5}, stream.size()}) {
        frame_reader r;
        auto const [payload, stops] = read_all(r, stream, step);
        CHECK(payload == bytes{1, 2, 3, 4, 5, 6});
        CHECK(stops == std::vector<std::string>{"ping:hi"});
    }
}

TEST_CASE("a close frame stops the reader with its status", "[ws]")
{
    frame_reader r;
    bytes payload;
    auto const stream = cat({frame(0x82, {9}), frame(0x88, {0x03, 0xE8}), frame(0x82, {10})});
    auto const got = r.read(stream, payload);
    CHECK(got.what == frame_reader::stop::close);
    CHECK(got.consumed == 3 + 4); // the frame after the close is not taken
    CHECK(payload == bytes{9});
    CHECK(r.control() == std::string("\x03\xE8", 2));
}

TEST_CASE("what a server must not send is an error naming it", "[ws]")
{
    struct bad {
        bytes stream;
        std::string says;
    };
    std::vector<bad> const cases{
        {frame(0x81, {'x'}), "the broker sent a text WebSocket frame"},          // [MQTT-6.0.0-1]
        {bytes{0x82, 0x81, 1, 2, 3, 4, 5}, "masked"},                            // RFC 6455 §5.1
        {frame(0xC2, {1}), "reserved bits"},                                     // RSV1 without deflate
        {frame(0x83, {1}), "reserved opcode 3"},
        {frame(0x80, {1}), "no message to continue"},
        {cat({frame(0x02, {1}), frame(0x82, {2})}), "before the last one ended"},
        {frame(0x09, {1}), "control frame"},                                     // fragmented PING
        {frame(0x89, filled(126, 0)), "control frame"},                          // PING > 125 bytes
        {bytes{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, "top bit"},
    };
    for (auto const& c : cases) {
        for (std::size_t step : {std::size_t{1}, c.stream.size()}) {
            frame_reader r;
            auto const [payload, stops] = read_all(r, c.stream, step);
            REQUIRE(stops.size() == 1);
            CHECK_THAT(stops[0], Catch::Contains(c.says));
        }
    }
}

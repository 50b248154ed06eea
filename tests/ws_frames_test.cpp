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

TEST_CASE("a frame longer than the limit is refused from its header, before its payload (close 1009)", "[ws]")
{
    // A 2^62-byte frame header: the reader must not wait for keepalive to notice.
    bytes const huge{0x82, 127, 0x40, 0, 0, 0, 0, 0, 0, 0};
    frame_reader r{256 * 1024 * 1024};
    bytes payload;
    auto const got = r.read(huge, payload);
    CHECK(got.what == frame_reader::stop::too_big);
    CHECK_THAT(r.error(), Catch::Contains("4611686018427387904 bytes"));
    frame_reader limited{100};
    CHECK(limited.read(frame(0x82, filled(100, 1)), payload).what == frame_reader::stop::more);
    CHECK(limited.read(frame(0x82, filled(101, 1)), payload).what == frame_reader::stop::too_big);
}

TEST_CASE("client frames: FIN, masked, each length encoding, unmasked they give the payload back (RFC 6455 5.2, 5.3)", "[ws]")
{
    wsmqtt::ws::mask_key const key{0x37, 0xfa, 0x21, 0x3d}; // RFC 6455 §5.7's example key
    for (std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{125}, std::size_t{126}, std::size_t{65535}, std::size_t{65536}}) {
        auto const data = filled(n, 9);
        bytes out;
        wsmqtt::ws::append_frame_header(wsmqtt::ws::op_binary, n, key, out);
        std::size_t const header = n < 126 ? 2 : n < 65536 ? 4 : 10;
        REQUIRE(out.size() == header + 4);
        CHECK(out[0] == 0x82);
        CHECK((out[1] & 0x80) == 0x80); // masked, as a client must
        CHECK(bytes(out.end() - 4, out.end()) == bytes{0x37, 0xfa, 0x21, 0x3d});
        // Masking in pieces at any offset is the same as masking in one go, and undoes itself.
        auto whole = data;
        wsmqtt::ws::apply_mask(whole, key, 0);
        auto pieces = data;
        for (std::size_t at = 0; at < n; at += 13)
            wsmqtt::ws::apply_mask(std::span{pieces}.subspan(at, std::min<std::size_t>(13, n - at)), key, at);
        CHECK(pieces == whole);
        wsmqtt::ws::apply_mask(whole, key, 0);
        CHECK(whole == data);
    }
    // §5.7: "Hello" masked with that key.
    auto const hello = wsmqtt::ws::control_frame(0x1, "Hello", key);
    CHECK(hello == bytes{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
}

TEST_CASE("close frames: status and reason both ways, in words", "[ws]")
{
    auto const f = wsmqtt::ws::close_frame(1002, "bad", {0, 0, 0, 0});
    CHECK(f == bytes{0x88, 0x85, 0, 0, 0, 0, 0x03, 0xEA, 'b', 'a', 'd'});
    auto const s = wsmqtt::ws::parse_close(std::string{"\x03\xE9going", 7});
    CHECK(s.code == 1001);
    CHECK(s.reason == "going");
    CHECK(wsmqtt::ws::describe(s) == "1001 going away: \"going\"");
    CHECK(wsmqtt::ws::describe(wsmqtt::ws::parse_close("")) == "1005 no status");
}

// libFuzzer target for the sans-I/O layers: arbitrary bytes from a "broker", split at
// arbitrary points, through the MQTT decoder and session in 3.1.1 and 5 (with requests and
// timers in between)
// and through the proxy handshakes (HTTP CONNECT, SOCKS5) and pub --json's line reader. The
// WebSocket frames are Beast's (fuzzed by Beast).
// Oracles: no crash or sanitizer report; every decoded packet (MQTT 3.1.1 and 5) encodes and
// decodes to itself; a handshake decides the same however its input is split.
#include "wsmqtt/mqtt/codec.hpp"
#include "wsmqtt/net/handshakes.hpp"
#include "wsmqtt/json_input.hpp"
#include "wsmqtt/mqtt/topic.hpp"
#include "wsmqtt/output.hpp"
#include "wsmqtt/mqtt/session.hpp"

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <span>
#include <vector>

using namespace wsmqtt::mqtt;

namespace {

void decoder_round_trips(std::span<std::uint8_t const> data, std::size_t chunk, protocol_version v)
{
    decoder d{4096, v};
    std::error_code ec;
    for (std::size_t at = 0; at < data.size() && !ec; at += chunk) {
        d.feed(data.subspan(at, std::min(chunk, data.size() - at)));
        while (auto p = d.next(ec)) {
            bytes wire;
            if (encode(*p, wire, v)) std::abort(); // a packet we accept must be one we can write
            std::error_code again;
            auto const back = decode_one(wire, again, v);
            if (!back || !(*back == *p)) std::abort();
        }
    }
}

void session_survives(std::span<std::uint8_t const> data, std::uint8_t control, protocol_version v)
{
    session_options options;
    options.connect.version = v;
    // MQTT 5: aliases allowed both ways, a small Receive Maximum of ours, and (by a control bit)
    // an authentication method, so that alias, flow-control and AUTH paths are reached.
    if (v == protocol_version::v5) {
        options.connect.props = {{property_id::topic_alias_maximum, 4, {}, {}}, {property_id::receive_maximum, 3, {}, {}}};
        if ((control & 0x80) != 0) options.connect.props.push_back({property_id::authentication_method, 0, "FUZZ", {}});
        options.disconnect_props = {{property_id::user_property, 0, "k", "v"}};
    }
    options.connect.client_id = "fuzz";
    options.connect.clean_session = (control & 0x10) != 0;
    options.connect.keep_alive = 5;
    options.max_packet_size = 2048;
    session s{options};
    time_point now{};
    auto const chunk = static_cast<std::size_t>((control & 0x0F) + 1);
    auto const q = static_cast<qos>((control >> 5) % 3);
    for (int round = 0; round < 2; ++round) {
        s.start(now);
        for (std::size_t at = 0; at < data.size(); at += chunk) {
            s.receive(data.subspan(at, std::min(chunk, data.size() - at)), now);
            while (auto e = s.poll_event()) {
            }
            if (s.is_connected()) {
                (void)s.publish({"fuzz/t", "payload", q, false, false, 0}, now);
                if (v == protocol_version::v5) // the topic once, then the alias alone
                    (void)s.publish({"fuzz/t", "aliased", q, false, false, 0, {{property_id::topic_alias, 2, {}, {}}}}, now);
                if (at % 3 == 0) (void)s.subscribe({{"fuzz/#", q}}, now);
                if (at % 5 == 0) (void)s.unsubscribe({"fuzz/#"}, now);
            }
            now += std::chrono::milliseconds{1500};
            s.on_timer(now);
            s.output().clear();
            s.attachments().clear();
        }
        s.on_connection_lost(); // and again, on a "reconnected" session
    }
}

/// What a handshake made of an answer fed in pieces of `chunk` bytes: its last step's outcome.
struct handshake_outcome {
    bool done = false;
    std::optional<std::string> error;
    std::size_t consumed = 0; ///< of the whole answer, when done (after an error it does not matter)
    std::string sent;
    bool operator==(handshake_outcome const&) const = default;
};

template <class Handshake>
handshake_outcome feed_handshake(Handshake h, std::span<std::uint8_t const> data, std::size_t chunk)
{
    handshake_outcome out;
    for (std::size_t at = 0; at < data.size();) {
        auto const piece = data.subspan(at, std::min(chunk, data.size() - at));
        auto const s = h.feed(piece);
        if (s.consumed > piece.size()) std::abort();
        out.sent += s.send;
        if (s.done || s.error) {
            out.done = s.done;
            if (s.error) out.error = describe(*s.error).message; // the words too: no code without them
            if (s.done) out.consumed = at + s.consumed; // exact: the rest is the next layer's
            return out;
        }
        if (s.consumed != piece.size()) std::abort(); // not done: all of it was taken
        at += piece.size();
    }
    return out;
}

/// The proxy handshakes take a hostile peer's answer without crashing, and what
/// they decide does not depend on how the answer was split.
void handshakes_hold(std::span<std::uint8_t const> data, std::size_t chunk)
{
    wsmqtt::proxy via;
    via.host = "proxy.test";
    via.port = 1080;
    wsmqtt::endpoint const target{wsmqtt::scheme::ws, "broker.test", 8080, "/mqtt"};
    auto const same = [&](auto make) {
        if (feed_handshake(make(), data, chunk) != feed_handshake(make(), data, data.size() + 1)) std::abort();
    };
    same([&] { return wsmqtt::handshake::http_connect{via, target, "fuzz"}; });
    via.type = wsmqtt::proxy::kind::socks5h;
    same([&] { return wsmqtt::handshake::socks5{via, target, {}}; });
    via.username = "u";
    via.password = "p";
    same([&] { return wsmqtt::handshake::socks5{via, target, {127, 0, 0, 1}}; });
}

} // namespace

/// pub --json's reader on any line: no crash, and a message it accepts has valid UTF-8 strings.
void json_line_holds(std::span<std::uint8_t const> data)
{
    std::string_view const line{reinterpret_cast<char const*>(data.data()), data.size()};
    std::string error;
    auto const m = wsmqtt::parse_json_message(line, error);
    if (m && m->topic && !wsmqtt::mqtt::is_valid_utf8(*m->topic)) std::abort();
    if (!m && error.empty()) std::abort(); // a refusal always says why
    (void)wsmqtt::is_json(line);
    (void)wsmqtt::parse_rfc3339(line);
}

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    if (size < 1) return 0;
    std::uint8_t const control = data[0];
    std::span<std::uint8_t const> const rest{data + 1, size - 1};
    decoder_round_trips(rest, static_cast<std::size_t>((control & 0x0F) + 1), protocol_version::v311);
    decoder_round_trips(rest, static_cast<std::size_t>((control & 0x0F) + 1), protocol_version::v5);
    session_survives(rest, control, protocol_version::v311);
    session_survives(rest, control, protocol_version::v5);
    handshakes_hold(rest, static_cast<std::size_t>((control & 0x0F) + 1));
    json_line_holds(rest);
    return 0;
}

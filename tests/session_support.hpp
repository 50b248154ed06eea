// What the session tests share: a session driven with a fake clock, its output decoded.
#pragma once

#include "test_support.hpp"

#include "wsmqtt/mqtt/session.hpp"

namespace session_support {

using namespace wsmqtt::mqtt;
using namespace std::chrono_literals;
using wsmqtt::test::decode_all;
using wsmqtt::test::encoded;

/// A session plus the broker's side of the conversation.
struct harness {
    time_point now{};
    session s;

    explicit harness(connect c = default_connect()) : s{session_options{std::move(c), 5s, default_max_packet_size}} {}

    static connect default_connect()
    {
        connect c;
        c.client_id = "test";
        c.keep_alive = 60;
        return c;
    }

    /// The bytes on the wire since the last call: the output with attached payloads in place.
    bytes wire()
    {
        bytes out;
        std::size_t from = 0;
        for (auto const& a : s.attachments()) {
            out.insert(out.end(), s.output().begin() + static_cast<std::ptrdiff_t>(from), s.output().begin() + static_cast<std::ptrdiff_t>(a.at));
            out.insert(out.end(), a.payload->begin(), a.payload->end());
            from = a.at;
        }
        out.insert(out.end(), s.output().begin() + static_cast<std::ptrdiff_t>(from), s.output().end());
        s.output().clear();
        s.attachments().clear();
        return out;
    }

    /// What the session queued for sending since the last call.
    std::vector<packet> sent() { return decode_all(wire()); }

    std::vector<event> events()
    {
        std::vector<event> out;
        while (auto e = s.poll_event()) out.push_back(std::move(*e));
        return out;
    }

    void broker_sends(packet const& p) { s.receive(encoded(p), now); }

    /// start + CONNACK accepted, with the output and events cleared.
    void connect_ok(bool session_present = false)
    {
        s.start(now);
        broker_sends(connack{session_present, 0});
        (void)sent();
        auto const e = events();
        REQUIRE(e.size() == 1);
        REQUIRE(std::holds_alternative<connected>(e[0]));
    }

    session_failed single_failure()
    {
        auto const e = events();
        REQUIRE(e.size() == 1);
        REQUIRE(std::holds_alternative<session_failed>(e[0]));
        return std::get<session_failed>(e[0]);
    }
};

inline publish message(std::string topic, qos q, std::string payload = "p")
{
    return publish{std::move(topic), std::move(payload), q, false, false, 0};
}

} // namespace session_support

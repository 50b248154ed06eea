// The session: keepalive, failures, reconnects, large payloads, with a fake clock.
#include "session_support.hpp"

using namespace session_support;

TEST_CASE("PINGREQ goes out after keepalive seconds without sending [MQTT-3.1.2-23]", "[session]")
{
    harness h;
    h.connect_ok();
    CHECK(h.s.next_deadline() == h.now + 60s);
    h.s.on_timer(h.now + 59s);
    CHECK(h.sent().empty());
    h.s.on_timer(h.now + 60s);
    CHECK(h.sent() == std::vector<packet>{pingreq{}});
}

TEST_CASE("sending anything postpones the next PINGREQ", "[session]")
{
    harness h;
    h.connect_ok();
    (void)h.s.publish(message("a", qos::at_most_once), h.now + 30s);
    CHECK(h.s.next_deadline() == h.now + 90s);
}

TEST_CASE("no PINGRESP within half the keepalive fails the session (§3.1.2.10)", "[session]")
{
    harness h;
    h.connect_ok();
    h.s.on_timer(h.now + 60s);
    (void)h.sent();
    CHECK(h.s.next_deadline() == h.now + 90s);
    h.s.on_timer(h.now + 89s);
    CHECK(h.events().empty());
    h.s.on_timer(h.now + 90s);
    CHECK(h.single_failure().ec == errc::pingresp_timeout);
}

TEST_CASE("PINGRESP in time keeps the session alive", "[session]")
{
    harness h;
    h.connect_ok();
    h.s.on_timer(h.now + 60s);
    CHECK(h.sent() == std::vector<packet>{pingreq{}});
    h.broker_sends(pingresp{});
    h.s.on_timer(h.now + 95s);
    CHECK(h.events().empty());
    CHECK(h.sent().empty());
}

TEST_CASE("keepalive 0 never pings", "[session]")
{
    auto c = harness::default_connect();
    c.keep_alive = 0;
    harness h{c};
    h.connect_ok();
    CHECK_FALSE(h.s.next_deadline());
    h.s.on_timer(h.now + 10h);
    CHECK(h.sent().empty());
}

TEST_CASE("a packet only clients send is a protocol error (§4.8)", "[session]")
{
    for (packet const& p : {packet{pingreq{}}, packet{disconnect{}}, packet{subscribe{1, {{"a", qos::at_most_once}}}}}) {
        harness h;
        h.connect_ok();
        h.broker_sends(p);
        CHECK(h.single_failure().ec == errc::server_only_packet);
    }
}

TEST_CASE("malformed bytes from the broker fail the session [MQTT-4.8.0-1]", "[session]")
{
    harness h;
    h.connect_ok();
    h.s.receive(wsmqtt::test::b({0x36, 0x03, 0x00, 0x01, 't'}), h.now); // QoS 3
    CHECK(h.single_failure().ec == errc::invalid_qos);
    // Once failed, further input is ignored.
    h.broker_sends(publish{"t", "x", qos::at_most_once, false, false, 0});
    CHECK(h.events().empty());
}

TEST_CASE("packets after a failure in the same read are not delivered", "[session]")
{
    harness h;
    h.connect_ok();
    auto stream = wsmqtt::test::b({0x90, 0x03, 0x00, 0x09, 0x00}); // SUBACK for id 9, never sent
    auto const next = encoded(publish{"t", "x", qos::at_most_once, false, false, 0});
    stream.insert(stream.end(), next.begin(), next.end());
    h.s.receive(stream, h.now);
    CHECK(h.single_failure().ec == errc::unknown_packet_id);
}

TEST_CASE("unacknowledged QoS 1 is resent with DUP after reconnecting a persistent session [MQTT-4.4.0-1]", "[session]")
{
    auto c = harness::default_connect();
    c.clean_session = false;
    harness h{c};
    h.connect_ok();
    auto const a = h.s.publish(message("a", qos::at_least_once, "1"), h.now).packet_id;
    auto const b = h.s.publish(message("b", qos::exactly_once, "2"), h.now).packet_id;
    auto const c2 = h.s.publish(message("c", qos::exactly_once, "3"), h.now).packet_id;
    (void)h.sent();
    h.broker_sends(pubrec{c2}); // c reached the broker: only PUBREL is owed
    (void)h.sent();

    h.s.on_connection_lost();
    h.s.start(h.now);
    h.broker_sends(connack{true, 0});
    auto const out = h.sent();
    REQUIRE(out.size() == 4);
    CHECK(std::holds_alternative<connect>(out[0]));
    // In the original order [MQTT-4.6.0-1], PUBLISH with DUP=1 [MQTT-3.3.1-1], PUBREL for c.
    CHECK(out[1] == packet{publish{"a", "1", qos::at_least_once, false, true, a}});
    CHECK(out[2] == packet{publish{"b", "2", qos::exactly_once, false, true, b}});
    CHECK(out[3] == packet{pubrel{c2}});
}

TEST_CASE("a clean session publishes unacknowledged messages again as new ones after a reconnect [MQTT-3.1.2-6]", "[session]")
{
    harness h;
    h.connect_ok();
    (void)h.s.publish(message("a", qos::at_least_once, "1"), h.now);
    (void)h.s.publish(message("b", qos::exactly_once, "2"), h.now);
    auto const c = h.s.publish(message("c", qos::exactly_once, "3"), h.now).packet_id;
    h.broker_sends(pubrec{c}); // c reached the broker: not sent again
    (void)h.sent();
    h.s.on_connection_lost();
    h.s.start(h.now);
    CHECK(h.s.in_flight() == 2); // nothing lost while disconnected
    h.broker_sends(connack{false, 0});
    auto const out = h.sent();
    REQUIRE(out.size() == 3);
    CHECK(std::holds_alternative<connect>(out[0]));
    auto const& first = std::get<publish>(out[1]);
    auto const& second = std::get<publish>(out[2]);
    // New messages of the new session: in order, DUP=0, identifiers from the fresh space.
    CHECK((first.topic == "a" && first.payload == "1" && !first.dup && first.qos == qos::at_least_once));
    CHECK((second.topic == "b" && second.payload == "2" && !second.dup && second.qos == qos::exactly_once));
    CHECK(h.s.in_flight() == 2);
    h.broker_sends(puback{first.packet_id});
    CHECK(h.s.in_flight() == 1);
}

TEST_CASE("nothing is sent after DISCONNECT [MQTT-3.14.4-2]", "[session]")
{
    harness h;
    h.connect_ok();
    h.s.disconnect(h.now);
    CHECK(h.sent() == std::vector<packet>{disconnect{}});
    CHECK(h.s.publish(message("a", qos::at_most_once), h.now).ec == errc::not_connected);
    h.broker_sends(publish{"t", "x", qos::at_least_once, false, false, 3});
    CHECK(h.sent().empty());
    CHECK(h.events().empty());
}

TEST_CASE("requests before CONNACK are refused", "[session]")
{
    harness h;
    h.s.start(h.now);
    CHECK(h.s.publish(message("a", qos::at_most_once), h.now).ec == errc::not_connected);
    CHECK(h.s.subscribe({{"a", qos::at_most_once}}, h.now).ec == errc::not_connected);
}

TEST_CASE("a large payload is attached to the output, not copied into it, and the wire holds the whole packet", "[session]")
{
    harness h;
    h.connect_ok();
    std::string const big(session::attach_threshold + 10, 'p');
    (void)h.s.publish(message("small", qos::at_most_once, "s"), h.now);
    (void)h.s.publish(message("big", qos::at_most_once, big), h.now);
    (void)h.s.publish(message("after", qos::at_most_once, "a"), h.now);
    REQUIRE(h.s.attachments().size() == 1);
    CHECK(h.s.attachments()[0].payload->size() == big.size());
    CHECK(h.s.output().size() < 100); // three packets' headers and two tiny payloads
    auto const out = h.sent();
    REQUIRE(out.size() == 3);
    CHECK(out[0] == packet{message("small", qos::at_most_once, "s")});
    CHECK(out[1] == packet{message("big", qos::at_most_once, big)});
    CHECK(out[2] == packet{message("after", qos::at_most_once, "a")});
    CHECK(h.s.attachments().empty());
    // Just under the threshold: copied as before.
    (void)h.s.publish(message("edge", qos::at_most_once, std::string(session::attach_threshold - 1, 'e')), h.now);
    CHECK(h.s.attachments().empty());
}

TEST_CASE("a large unacknowledged payload is attached again when resent, with DUP or as a new message", "[session]")
{
    std::string const big(session::attach_threshold * 2, 'q');
    for (bool const clean : {false, true}) {
        DYNAMIC_SECTION("clean session " << clean)
        {
            auto c = harness::default_connect();
            c.clean_session = clean;
            harness h{c};
            h.connect_ok();
            auto const id = h.s.publish(message("big", qos::at_least_once, big), h.now).packet_id;
            auto const first = h.s.attachments().at(0).payload;
            (void)h.sent();
            h.s.on_connection_lost();
            h.s.start(h.now);
            CHECK(h.s.attachments().empty()); // the lost connection's output is gone
            h.broker_sends(connack{false, 0});
            REQUIRE(h.s.attachments().size() == 1);
            CHECK(h.s.attachments()[0].payload == first); // the same bytes, not a copy
            auto const out = h.sent();
            REQUIRE(out.size() == 2);
            auto const& again = std::get<publish>(out[1]);
            CHECK(again.payload == big);
            CHECK(again.dup == !clean); // [MQTT-3.3.1-1]; a clean session sends it as new [MQTT-3.1.2-6]
            if (!clean) CHECK(again.packet_id == id);
            h.broker_sends(puback{again.packet_id});
            CHECK(h.s.in_flight() == 0);
        }
    }
}

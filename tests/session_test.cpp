// The session state machine, driven with packets and a fake clock: no sockets, no sleeping.
#include "session_support.hpp"

using namespace session_support;

TEST_CASE("start queues CONNECT as the first packet [MQTT-3.1.0-1]", "[session]")
{
    harness h;
    h.s.start(h.now);
    auto const out = h.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0] == packet{harness::default_connect()});
    CHECK(h.events().empty());
}

TEST_CASE("CONNACK accepted reports connected with the session-present flag", "[session]")
{
    auto c = harness::default_connect();
    c.clean_session = false;
    harness h{c};
    h.s.start(h.now);
    h.broker_sends(connack{true, 0});
    auto const e = h.events();
    REQUIRE(e.size() == 1);
    CHECK(std::get<connected>(e[0]).session_present);
    CHECK(h.s.is_connected());
}

TEST_CASE("CONNACK refused reports the return code [MQTT-3.2.2-5]", "[session]")
{
    harness h;
    h.s.start(h.now);
    h.broker_sends(connack{false, 4});
    auto const f = h.single_failure();
    CHECK(f.ec == errc::connection_refused);
    CHECK(f.connack_code == 4);
    CHECK_FALSE(h.s.is_connected());
}

TEST_CASE("a first packet other than CONNACK is a protocol error [MQTT-3.2.0-1]", "[session]")
{
    harness h;
    h.s.start(h.now);
    h.broker_sends(publish{"t", "x", qos::at_most_once, false, false, 0});
    CHECK(h.single_failure().ec == errc::connack_not_first);
}

TEST_CASE("a second CONNACK is a protocol error", "[session]")
{
    harness h;
    h.connect_ok();
    h.broker_sends(connack{false, 0});
    CHECK(h.single_failure().ec == errc::unexpected_connack);
}

TEST_CASE("session present on a clean session is a protocol error [MQTT-3.2.2-1]", "[session]")
{
    harness h;
    h.s.start(h.now);
    h.broker_sends(connack{true, 0});
    CHECK(h.single_failure().ec == errc::session_present_on_clean);
}

TEST_CASE("no CONNACK within the timeout fails the session", "[session]")
{
    harness h;
    h.s.start(h.now);
    REQUIRE(h.s.next_deadline() == h.now + 5s);
    h.s.on_timer(h.now + 4s);
    CHECK(h.events().empty());
    h.s.on_timer(h.now + 5s);
    CHECK(h.single_failure().ec == errc::connack_timeout);
}

TEST_CASE("QoS 0 publish goes out without packet identifier and completes nothing", "[session]")
{
    harness h;
    h.connect_ok();
    auto const r = h.s.publish(message("a", qos::at_most_once), h.now);
    CHECK(!r.ec);
    CHECK(r.packet_id == 0);
    auto const out = h.sent();
    REQUIRE(out.size() == 1);
    CHECK(std::get<publish>(out[0]).packet_id == 0);
    CHECK(h.s.in_flight() == 0);
}

TEST_CASE("QoS 1 publish completes on PUBACK and frees its identifier [MQTT-4.3.2-1]", "[session]")
{
    harness h;
    h.connect_ok();
    auto const r = h.s.publish(message("a", qos::at_least_once), h.now);
    REQUIRE(r.packet_id != 0);
    auto const out = h.sent();
    REQUIRE(out.size() == 1);
    auto const& p = std::get<publish>(out[0]);
    CHECK(p.packet_id == r.packet_id);
    CHECK_FALSE(p.dup);
    CHECK(h.s.in_flight() == 1);
    h.broker_sends(puback{r.packet_id});
    auto const e = h.events();
    REQUIRE(e.size() == 1);
    CHECK(std::get<publish_complete>(e[0]).packet_id == r.packet_id);
    CHECK(h.s.in_flight() == 0);
}

TEST_CASE("QoS 2 publish: PUBREC is answered by PUBREL, PUBCOMP completes [MQTT-4.3.3-1]", "[session]")
{
    harness h;
    h.connect_ok();
    auto const r = h.s.publish(message("a", qos::exactly_once), h.now);
    (void)h.sent();
    h.broker_sends(pubrec{r.packet_id});
    CHECK(h.sent() == std::vector<packet>{pubrel{r.packet_id}});
    CHECK(h.events().empty());
    h.broker_sends(pubcomp{r.packet_id});
    auto const e = h.events();
    REQUIRE(e.size() == 1);
    CHECK(std::get<publish_complete>(e[0]).packet_id == r.packet_id);
}

TEST_CASE("PUBACK, PUBREC or PUBCOMP for an identifier not in use is ignored and reported, not fatal", "[session]")
{
    // mosquitto_sub and MQTT.js ignore such a slip: a long-running pipeline must not die of it.
    for (auto const& [ack, type] : {std::pair<packet, std::uint8_t>{puback{42}, 4}, {pubrec{42}, 5}, {pubcomp{42}, 7}}) {
        harness h;
        h.connect_ok();
        h.broker_sends(ack);
        auto const e = h.events();
        REQUIRE(e.size() == 1);
        auto const& ignored = std::get<ignored_acknowledgement>(e[0]);
        CHECK(ignored.type == type);
        CHECK(ignored.packet_id == 42);
        CHECK(h.s.is_connected());
        CHECK(h.sent().empty());
        // The session goes on: a message after it is delivered.
        h.broker_sends(publish{"t", "x", qos::at_most_once, false, false, 0});
        CHECK(h.events().size() == 1);
    }
}

TEST_CASE("an acknowledgement that does not fit its message's QoS flow is a protocol error", "[session]")
{
    SECTION("PUBCOMP before PUBREC")
    {
        harness h;
        h.connect_ok();
        auto const r = h.s.publish(message("a", qos::exactly_once), h.now);
        h.broker_sends(pubcomp{r.packet_id});
        CHECK(h.single_failure().ec == errc::acknowledgement_out_of_order);
    }
    SECTION("PUBREC for a QoS 1 message")
    {
        harness h;
        h.connect_ok();
        auto const r = h.s.publish(message("a", qos::at_least_once), h.now);
        h.broker_sends(pubrec{r.packet_id});
        CHECK(h.single_failure().ec == errc::acknowledgement_out_of_order);
    }
    SECTION("SUBACK for an identifier not in use [MQTT-2.3.1-7]")
    {
        harness h;
        h.connect_ok();
        h.broker_sends(suback{9, {0}});
        CHECK(h.single_failure().ec == errc::unknown_packet_id);
    }
}

TEST_CASE("PUBACK for a QoS 2 message names a broker that supports QoS 1 at most (RabbitMQ)", "[session]")
{
    harness h;
    h.connect_ok();
    auto const r = h.s.publish(message("a", qos::exactly_once), h.now);
    h.broker_sends(puback{r.packet_id});
    CHECK(h.single_failure().ec == errc::qos2_answered_with_puback);
}

TEST_CASE("incoming QoS 1 is delivered and acknowledged with its identifier [MQTT-4.3.2-2]", "[session]")
{
    harness h;
    h.connect_ok();
    h.broker_sends(publish{"t", "x", qos::at_least_once, false, false, 77});
    auto const e = h.events();
    REQUIRE(e.size() == 1);
    CHECK(std::get<message_received>(e[0]).message.payload == "x");
    CHECK(h.sent() == std::vector<packet>{puback{77}});
}

TEST_CASE("incoming QoS 2 is delivered once, on PUBLISH, even when repeated before PUBREL [MQTT-4.3.3-2]", "[session]")
{
    harness h;
    h.connect_ok();
    publish const m{"t", "once", qos::exactly_once, false, false, 5};
    h.broker_sends(m);
    auto e = h.events();
    REQUIRE(e.size() == 1);
    CHECK(std::get<message_received>(e[0]).message == m);
    auto dup = m;
    dup.dup = true;
    h.broker_sends(dup);
    CHECK(h.events().empty());
    CHECK(h.sent() == std::vector<packet>{pubrec{5}, pubrec{5}});
    h.broker_sends(pubrel{5});
    CHECK(h.sent() == std::vector<packet>{pubcomp{5}});
    CHECK(h.events().empty());
    // After PUBREL the identifier is a new publication.
    h.broker_sends(m);
    CHECK(h.events().size() == 1);
}

TEST_CASE("a persistent session remembers a delivered QoS 2 message across a reconnect until PUBREL", "[session]")
{
    auto c = harness::default_connect();
    c.clean_session = false;
    harness h{c};
    h.connect_ok();
    publish const m{"t", "kept", qos::exactly_once, false, false, 8};
    h.broker_sends(m);
    CHECK(h.events().size() == 1);
    h.s.on_connection_lost();
    h.s.start(h.now);
    h.broker_sends(connack{true, 0});
    (void)h.events();
    (void)h.sent();
    auto again = m;
    again.dup = true;
    h.broker_sends(again); // our PUBREC was lost with the connection: not delivered twice
    CHECK(h.events().empty());
    CHECK(h.sent() == std::vector<packet>{pubrec{8}});
    h.broker_sends(pubrel{8}); // the broker resumes the flow [MQTT-4.4.0-1]
    CHECK(h.sent() == std::vector<packet>{pubcomp{8}});
}

TEST_CASE("a message is acknowledged when it is taken, not when it arrives", "[session]")
{
    harness h;
    h.connect_ok();
    h.broker_sends(publish{"t", "1", qos::at_least_once, false, false, 1});
    h.broker_sends(publish{"t", "2", qos::exactly_once, false, false, 2});
    CHECK(h.sent().empty());
    CHECK(h.s.poll_event().has_value());
    CHECK(h.sent() == std::vector<packet>{puback{1}});
    CHECK(h.s.poll_event().has_value());
    CHECK(h.sent() == std::vector<packet>{pubrec{2}});
}

TEST_CASE("messages not taken before DISCONNECT are never acknowledged (sub -C with a persistent session)", "[session]")
{
    // Four QoS 1 messages waiting in a persistent session, -C 2: the third and fourth must stay
    // with the broker for the next run.
    auto c = harness::default_connect();
    c.clean_session = false;
    harness h{c};
    h.connect_ok();
    for (std::uint16_t id = 1; id <= 4; ++id) h.broker_sends(publish{"t", std::to_string(id), qos::at_least_once, false, false, id});
    for (int taken = 0; taken < 2; ++taken) CHECK(h.s.poll_event().has_value());
    h.s.disconnect(h.now);
    while (h.s.poll_event()) {
    }
    CHECK(h.sent() == std::vector<packet>{puback{1}, puback{2}, disconnect{}});
}

TEST_CASE("PUBREL for an unknown identifier is still answered with PUBCOMP [MQTT-4.3.3-2]", "[session]")
{
    harness h;
    h.connect_ok();
    h.broker_sends(pubrel{1000});
    CHECK(h.sent() == std::vector<packet>{pubcomp{1000}});
    CHECK(h.events().empty());
}

TEST_CASE("SUBACK reports each return code, 0x80 included", "[session]")
{
    harness h;
    h.connect_ok();
    auto const r = h.s.subscribe({{"a/#", qos::at_least_once}, {"b", qos::exactly_once}}, h.now);
    REQUIRE(!r.ec);
    CHECK(h.sent() == std::vector<packet>{subscribe{r.packet_id, {{"a/#", qos::at_least_once}, {"b", qos::exactly_once}}}});
    h.broker_sends(suback{r.packet_id, {0x01, 0x80}});
    auto const e = h.events();
    REQUIRE(e.size() == 1);
    auto const& done = std::get<subscribe_complete>(e[0]);
    CHECK(done.return_codes == std::vector<std::uint8_t>{0x01, 0x80});
    CHECK(done.subscriptions[1].filter == "b");
}

TEST_CASE("SUBACK with the wrong number of codes is a protocol error [MQTT-3.9.3-1]", "[session]")
{
    harness h;
    h.connect_ok();
    auto const r = h.s.subscribe({{"a", qos::at_most_once}, {"b", qos::at_most_once}}, h.now);
    h.broker_sends(suback{r.packet_id, {0x00}});
    CHECK(h.single_failure().ec == errc::ack_count_mismatch);
}

TEST_CASE("UNSUBACK completes the matching UNSUBSCRIBE", "[session]")
{
    harness h;
    h.connect_ok();
    auto const r = h.s.unsubscribe({"a"}, h.now);
    CHECK(h.sent() == std::vector<packet>{unsubscribe{r.packet_id, {"a"}}});
    h.broker_sends(unsuback{r.packet_id});
    auto const e = h.events();
    REQUIRE(e.size() == 1);
    CHECK(std::holds_alternative<unsubscribe_complete>(e[0]));
}

TEST_CASE("packet identifiers skip those in use and wrap from 65535 to 1 [MQTT-2.3.1-2]", "[session]")
{
    harness h;
    h.connect_ok();
    auto const first = h.s.publish(message("a", qos::at_least_once), h.now).packet_id;
    CHECK(first == 1);
    // Complete 65533 more so the counter comes round to 65535, keeping id 1 in flight.
    for (int i = 0; i < 65533; ++i) {
        auto const id = h.s.publish(message("a", qos::at_least_once), h.now).packet_id;
        h.broker_sends(puback{id});
    }
    (void)h.events();
    CHECK(h.s.publish(message("a", qos::at_least_once), h.now).packet_id == 65535);
    CHECK(h.s.publish(message("a", qos::at_least_once), h.now).packet_id == 2); // 1 is still in use
}

TEST_CASE("with every identifier in flight, a new QoS 1 publish is refused", "[session]")
{
    harness h;
    h.connect_ok();
    for (int i = 0; i < 65535; ++i) REQUIRE(!h.s.publish(message("a", qos::at_least_once), h.now).ec);
    CHECK(h.s.publish(message("a", qos::at_least_once), h.now).ec == errc::no_packet_id_available);
    CHECK(!h.s.publish(message("a", qos::at_most_once), h.now).ec); // QoS 0 needs no identifier
}

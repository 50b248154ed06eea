// The session state machine, driven with packets and a fake clock: no sockets, no sleeping.
#include "test_support.hpp"

#include "wsmqtt/mqtt/session.hpp"

using namespace wsmqtt::mqtt;
using namespace std::chrono_literals;
using wsmqtt::test::decode_all;
using wsmqtt::test::encoded;

namespace {

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

publish message(std::string topic, qos q, std::string payload = "p")
{
    return publish{std::move(topic), std::move(payload), q, false, false, 0};
}

} // namespace

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

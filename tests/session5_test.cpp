// The session in MQTT 5: the broker's limits from CONNACK, reason codes, DISCONNECT from the
// broker, incoming topic aliases. Packets in, packets and events out, a fake clock.
#include "test_support.hpp"

#include "wsmqtt/mqtt/session.hpp"

using namespace wsmqtt::mqtt;
using namespace std::chrono_literals;

namespace {

constexpr auto v5 = protocol_version::v5;

property number(property_id id, std::uint32_t n) { return {id, n, {}, {}}; }
property text(property_id id, std::string s) { return {id, 0, std::move(s), {}}; }

struct harness5 {
    time_point now{};
    session s;

    explicit harness5(properties connect_props = {}) : s{options(std::move(connect_props))} {}

    static session_options options(properties props)
    {
        connect c;
        c.version = v5;
        c.client_id = "test";
        c.keep_alive = 60;
        c.props = std::move(props);
        return session_options{std::move(c), 5s, default_max_packet_size};
    }

    std::vector<packet> sent()
    {
        bytes wire = std::move(s.output());
        s.output().clear();
        std::vector<packet> out;
        decoder d{default_max_packet_size, v5};
        d.feed(wire);
        std::error_code ec;
        while (auto p = d.next(ec)) out.push_back(std::move(*p));
        REQUIRE_FALSE(ec);
        return out;
    }

    std::vector<event> events()
    {
        std::vector<event> out;
        while (auto e = s.poll_event()) out.push_back(std::move(*e));
        return out;
    }

    void broker_sends(packet const& p)
    {
        bytes out;
        REQUIRE_FALSE(encode(p, out, v5));
        s.receive(out, now);
    }

    /// start, then the broker's CONNACK with `props`; the output cleared, the events returned.
    std::vector<event> accepted(properties props = {})
    {
        s.start(now);
        auto const first = sent();
        REQUIRE(first.size() == 1);
        CHECK(std::get<wsmqtt::mqtt::connect>(first[0]).version == v5);
        broker_sends(connack{false, 0, std::move(props)});
        (void)sent();
        return events();
    }

    session_failed single_failure()
    {
        auto const e = events();
        REQUIRE(e.size() == 1);
        REQUIRE(std::holds_alternative<session_failed>(e[0]));
        return std::get<session_failed>(e[0]);
    }
};

publish message(std::string topic, qos q, properties props = {})
{
    return publish{std::move(topic), "p", q, false, false, 0, std::move(props)};
}

} // namespace

TEST_CASE("MQTT 5: the CONNACK's properties reach the connected event (assigned client id, limits)", "[session5]")
{
    harness5 h;
    auto const e = h.accepted({text(property_id::assigned_client_identifier, "auto-1"), number(property_id::receive_maximum, 3)});
    REQUIRE(e.size() == 1);
    auto const& c = std::get<connected>(e[0]);
    REQUIRE(find(c.props, property_id::assigned_client_identifier));
    CHECK(find(c.props, property_id::assigned_client_identifier)->value == "auto-1");
    CHECK(h.s.receive_maximum() == 3);
}

TEST_CASE("MQTT 5: a refused CONNECT gives the reason code and the broker's Reason String", "[session5]")
{
    harness5 h;
    h.s.start(h.now);
    (void)h.sent();
    h.broker_sends(connack{false, 0x87, {text(property_id::reason_string, "bad credentials")}});
    auto const f = h.single_failure();
    CHECK(f.ec == errc::connection_refused);
    CHECK(f.connack_code == 0x87);
    REQUIRE(find(f.props, property_id::reason_string));
    CHECK(find(f.props, property_id::reason_string)->value == "bad credentials");
}

TEST_CASE("MQTT 5: Server Keep Alive replaces ours for that connection [MQTT-3.2.2-21]", "[session5]")
{
    harness5 h;
    (void)h.accepted({number(property_id::server_keep_alive, 10)});
    CHECK(h.s.keep_alive() == 10);
    REQUIRE(h.s.next_deadline());
    CHECK(*h.s.next_deadline() == h.now + 10s);
    h.now += 10s;
    h.s.on_timer(h.now);
    auto const out = h.sent();
    REQUIRE(out.size() == 1);
    CHECK(std::holds_alternative<pingreq>(out[0]));
    // It holds for that connection only.
    h.s.on_connection_lost();
    (void)h.accepted();
    CHECK(h.s.keep_alive() == 60);
}

TEST_CASE("MQTT 5: nothing above the broker's Maximum QoS, Retain Available and Maximum Packet Size is sent", "[session5]")
{
    harness5 h;
    (void)h.accepted({number(property_id::maximum_qos, 1), number(property_id::retain_available, 0),
                     number(property_id::maximum_packet_size, 100)});
    CHECK(h.s.publish(message("t", qos::exactly_once), h.now).ec == errc::qos_not_supported);       // [MQTT-3.2.2-11]
    auto retained = message("t", qos::at_most_once);
    retained.retain = true;
    CHECK(h.s.publish(retained, h.now).ec == errc::retain_not_supported);                          // [MQTT-3.2.2-14]
    auto big = message("t", qos::at_least_once);
    big.payload = std::string(200, 'x');
    CHECK(h.s.publish(big, h.now).ec == errc::packet_too_large_for_broker);                       // [MQTT-3.2.2-15]
    CHECK(h.sent().empty());
    CHECK(h.s.in_flight() == 0); // and no packet identifier kept for it
    CHECK_FALSE(h.s.publish(message("t", qos::at_least_once), h.now).ec);
    CHECK(h.sent().size() == 1);
}

TEST_CASE("MQTT 5: a PUBACK or PUBREC of 0x80 or more ends the flow with its reason, without PUBREL", "[session5]")
{
    harness5 h;
    (void)h.accepted();
    auto const one = h.s.publish(message("t", qos::at_least_once), h.now);
    auto const two = h.s.publish(message("t", qos::exactly_once), h.now);
    (void)h.sent();
    h.broker_sends(puback{one.packet_id, 0x87, {text(property_id::reason_string, "not yours")}});
    h.broker_sends(pubrec{two.packet_id, 0x97});
    auto const e = h.events();
    REQUIRE(e.size() == 2);
    CHECK(std::get<publish_complete>(e[0]).reason_code == 0x87);
    CHECK(find(std::get<publish_complete>(e[0]).props, property_id::reason_string)->value == "not yours");
    CHECK(std::get<publish_complete>(e[1]).reason_code == 0x97);
    CHECK(h.sent().empty()); // no PUBREL for a refused QoS 2 message (§4.3.3)
    CHECK(h.s.in_flight() == 0);
}

TEST_CASE("MQTT 5: a DISCONNECT from the broker ends the session with its reason and Server Reference", "[session5]")
{
    harness5 h;
    (void)h.accepted();
    h.broker_sends(disconnect{0x9C, {text(property_id::server_reference, "other.example")}});
    auto const f = h.single_failure();
    CHECK(f.ec == errc::disconnected_by_broker);
    CHECK(f.connack_code == 0x9C);
    CHECK(find(f.props, property_id::server_reference)->value == "other.example");
}

TEST_CASE("MQTT 5: an AUTH we did not ask for is a protocol error [MQTT-4.12.0-6]", "[session5]")
{
    harness5 h;
    (void)h.accepted();
    h.broker_sends(auth{0x18});
    CHECK(h.single_failure().ec == errc::unexpected_auth);
}

TEST_CASE("MQTT 5: incoming topic aliases up to our Topic Alias Maximum, per connection (§3.3.2.3.4)", "[session5]")
{
    harness5 h{{number(property_id::topic_alias_maximum, 2)}};
    (void)h.accepted();
    h.broker_sends(message("sensors/a", qos::at_most_once, {number(property_id::topic_alias, 2)}));
    h.broker_sends(message("", qos::at_most_once, {number(property_id::topic_alias, 2)}));
    auto e = h.events();
    REQUIRE(e.size() == 2);
    CHECK(std::get<message_received>(e[1]).message.topic == "sensors/a");
    // An alias set on another connection is not known on this one [MQTT-3.3.2-7].
    h.s.on_connection_lost();
    (void)h.accepted();
    h.broker_sends(message("", qos::at_most_once, {number(property_id::topic_alias, 2)}));
    CHECK(h.single_failure().ec == errc::invalid_topic_alias);
}

TEST_CASE("MQTT 5: a topic alias when we allowed none is refused [MQTT-3.1.2-27]", "[session5]")
{
    harness5 h;
    (void)h.accepted();
    h.broker_sends(message("t", qos::at_most_once, {number(property_id::topic_alias, 1)}));
    CHECK(h.single_failure().ec == errc::invalid_topic_alias);
}

TEST_CASE("MQTT 3.1.1: a DISCONNECT from the server is still a protocol error (§4.8)", "[session5]")
{
    connect c;
    c.client_id = "old";
    session s{session_options{c, 5s, default_max_packet_size}};
    s.start({});
    bytes in;
    REQUIRE_FALSE(encode(connack{}, in));
    REQUIRE_FALSE(encode(disconnect{}, in));
    s.receive(in, {});
    (void)s.poll_event(); // connected
    auto const f = s.poll_event();
    REQUIRE(f);
    CHECK(std::get<session_failed>(*f).ec == errc::server_only_packet);
}

TEST_CASE("MQTT 5: we tell the broker why we close: DISCONNECT 0x94, 0x93, 0x81 [MQTT-4.13.1-1]", "[session5]")
{
    auto const reason_sent = [](harness5& h) {
        auto const out = h.sent();
        REQUIRE(out.size() == 1);
        return std::get<disconnect>(out[0]).reason_code;
    };
    SECTION("a topic alias above our maximum")
    {
        harness5 h{{number(property_id::topic_alias_maximum, 2)}};
        (void)h.accepted();
        h.broker_sends(message("t", qos::at_most_once, {number(property_id::topic_alias, 3)}));
        auto const f = h.single_failure();
        CHECK(f.ec == errc::invalid_topic_alias);
        CHECK(f.disconnect_queued); // the driver sends it before it closes
        CHECK(reason_sent(h) == 0x94);
    }
    SECTION("more unacknowledged QoS 1 and 2 messages than our Receive Maximum (§3.3.4)")
    {
        harness5 h{{number(property_id::receive_maximum, 2)}};
        (void)h.accepted();
        auto one = message("t", qos::at_least_once);
        one.packet_id = 1;
        auto two = message("t", qos::exactly_once);
        two.packet_id = 2;
        h.broker_sends(one);
        h.broker_sends(two);
        auto const taken = h.events(); // taken: the QoS 1 one is acknowledged, the QoS 2 one awaits PUBREL
        CHECK(taken.size() == 2);
        (void)h.sent();
        auto three = message("t", qos::at_least_once);
        three.packet_id = 3;
        h.broker_sends(three); // two unacknowledged now: allowed
        CHECK(h.sent().empty());
        auto four = message("t", qos::at_least_once);
        four.packet_id = 4;
        h.broker_sends(four); // three
        auto const e = h.events();
        REQUIRE(e.size() == 2);
        CHECK(std::get<session_failed>(e[1]).ec == errc::receive_maximum_exceeded);
        // The message before the failure is not acknowledged either: the connection is failing.
        CHECK(reason_sent(h) == 0x93);
    }
    SECTION("a malformed packet")
    {
        harness5 h;
        (void)h.accepted();
        h.s.receive(wsmqtt::test::b({0x40, 0x01, 0x00}), h.now); // PUBACK too short
        CHECK(h.single_failure().ec == errc::malformed_packet);
        CHECK(reason_sent(h) == 0x81);
    }
    SECTION("not before CONNACK, nor when the broker ended it")
    {
        harness5 h;
        h.s.start(h.now);
        (void)h.sent();
        h.broker_sends(suback{1, {0}});
        auto const f = h.single_failure();
        CHECK(f.ec == errc::connack_not_first);
        CHECK_FALSE(f.disconnect_queued);
        CHECK(h.sent().empty());
        harness5 g;
        (void)g.accepted();
        g.broker_sends(disconnect{0x8B});
        CHECK(g.single_failure().ec == errc::disconnected_by_broker);
        CHECK(g.sent().empty());
    }
}

TEST_CASE("MQTT 5: an outgoing topic alias carries the topic once per connection, then alone (§3.3.2.3.4)", "[session5]")
{
    harness5 h;
    (void)h.accepted({number(property_id::topic_alias_maximum, 5)});
    auto const aliased = [](std::string topic) { return message(std::move(topic), qos::at_least_once, {number(property_id::topic_alias, 5)}); };
    (void)h.s.publish(aliased("sensors/a"), h.now);
    (void)h.s.publish(aliased("sensors/a"), h.now);
    (void)h.s.publish(aliased("sensors/b"), h.now); // another topic: set again
    (void)h.s.publish(aliased("sensors/b"), h.now);
    auto const out = h.sent();
    REQUIRE(out.size() == 4);
    CHECK(std::get<publish>(out[0]).topic == "sensors/a");
    CHECK(std::get<publish>(out[1]).topic.empty());
    CHECK(std::get<publish>(out[2]).topic == "sensors/b");
    CHECK(std::get<publish>(out[3]).topic.empty());
    // None above the broker's Topic Alias Maximum, none when it named none [MQTT-3.2.2-17/18].
    harness5 g;
    (void)g.accepted();
    CHECK(g.s.publish(aliased("t"), g.now).ec == errc::topic_alias_not_allowed);
    CHECK(g.s.in_flight() == 0);
}

TEST_CASE("MQTT 5: messages sent again after a reconnect carry their topic with the alias [MQTT-3.3.2-7]", "[session5]")
{
    harness5 h{};
    h.s.start(h.now);
    (void)h.sent();
    h.broker_sends(connack{false, 0, {number(property_id::topic_alias_maximum, 5)}});
    (void)h.events();
    auto const aliased = message("sensors/a", qos::at_least_once, {number(property_id::topic_alias, 1)});
    (void)h.s.publish(aliased, h.now);
    (void)h.s.publish(aliased, h.now);
    CHECK(h.sent().size() == 2);
    h.s.on_connection_lost();
    h.s.start(h.now);
    (void)h.sent();
    h.broker_sends(connack{false, 0, {number(property_id::topic_alias_maximum, 5)}});
    auto const again = h.sent(); // clean start: both published again as new messages
    REQUIRE(again.size() == 2);
    CHECK(std::get<publish>(again[0]).topic == "sensors/a");
    CHECK(std::get<publish>(again[1]).topic.empty());
}

TEST_CASE("MQTT 5: an Assigned Client Identifier is the session's from then on [MQTT-3.2.2-16]", "[session5]")
{
    harness5 h;
    (void)h.accepted({text(property_id::assigned_client_identifier, "auto-7")});
    CHECK(h.s.client_id() == "auto-7");
    h.s.on_connection_lost();
    h.s.start(h.now);
    auto const out = h.sent();
    REQUIRE(out.size() == 1);
    CHECK(std::get<wsmqtt::mqtt::connect>(out[0]).client_id == "auto-7");
}

TEST_CASE("MQTT 5: SUBSCRIBE, UNSUBSCRIBE and DISCONNECT carry the properties and options asked for", "[session5]")
{
    connect c = harness5::options({}).connect;
    session s{session_options{c, 5s, default_max_packet_size, {number(property_id::session_expiry_interval, 0)}}};
    s.start({});
    bytes ack;
    REQUIRE_FALSE(encode(connack{}, ack, v5));
    s.receive(ack, {});
    s.output().clear();
    (void)s.subscribe({{"a/#", qos::at_least_once, true, true, 2}}, {}, {number(property_id::subscription_identifier, 9)});
    (void)s.unsubscribe({"b"}, {}, {property{property_id::user_property, 0, "k", "v"}});
    s.disconnect({});
    decoder d{default_max_packet_size, v5};
    d.feed(s.output());
    std::error_code ec;
    auto const sub = d.next(ec);
    auto const unsub = d.next(ec);
    auto const bye = d.next(ec);
    REQUIRE((sub && unsub && bye));
    auto const& subscribe_packet = std::get<subscribe>(*sub);
    CHECK(subscribe_packet.subscriptions.front() == subscription{"a/#", qos::at_least_once, true, true, 2});
    CHECK(subscribe_packet.props == properties{number(property_id::subscription_identifier, 9)});
    CHECK(std::get<unsubscribe>(*unsub).props == properties{property{property_id::user_property, 0, "k", "v"}});
    CHECK(std::get<disconnect>(*bye).props == properties{number(property_id::session_expiry_interval, 0)});
}

TEST_CASE("MQTT 5: enhanced authentication: one step only, a challenge or another method ends it (§4.12)", "[session5]")
{
    properties const method{text(property_id::authentication_method, "SCRAM-SHA-256"), text(property_id::authentication_data, "n,,n=u")};
    SECTION("a challenge before CONNACK (AUTH 0x18) cannot be answered")
    {
        harness5 h{method};
        h.s.start(h.now);
        (void)h.sent();
        h.broker_sends(auth{0x18, {text(property_id::authentication_method, "SCRAM-SHA-256")}});
        CHECK(h.single_failure().ec == errc::auth_step_unsupported);
    }
    SECTION("re-authentication (AUTH 0x19) later neither")
    {
        harness5 h{method};
        (void)h.accepted({text(property_id::authentication_method, "SCRAM-SHA-256")});
        h.broker_sends(auth{0x19, {text(property_id::authentication_method, "SCRAM-SHA-256")}});
        CHECK(h.single_failure().ec == errc::auth_step_unsupported);
    }
    SECTION("a CONNACK naming another method, or none [MQTT-4.12.0-5]")
    {
        harness5 h{method};
        h.s.start(h.now);
        (void)h.sent();
        h.broker_sends(connack{false, 0});
        CHECK(h.single_failure().ec == errc::auth_method_mismatch);
    }
    SECTION("the same method: connected")
    {
        harness5 h{method};
        auto const e = h.accepted({text(property_id::authentication_method, "SCRAM-SHA-256")});
        REQUIRE(e.size() == 1);
        CHECK(std::holds_alternative<connected>(e[0]));
    }
}

TEST_CASE("MQTT 5: UNSUBACK gives a reason code per filter, one for each [MQTT-3.11.3-1]", "[session5]")
{
    harness5 h;
    (void)h.accepted();
    auto const r = h.s.unsubscribe({"a", "b"}, h.now);
    (void)h.sent();
    h.broker_sends(unsuback{r.packet_id, {0x11, 0x87}, {text(property_id::reason_string, "acl")}});
    auto const e = h.events();
    REQUIRE(e.size() == 1);
    auto const& u = std::get<unsubscribe_complete>(e[0]);
    CHECK(u.filters == std::vector<std::string>{"a", "b"});
    CHECK(u.reason_codes == std::vector<std::uint8_t>{0x11, 0x87});
    CHECK(find(u.props, property_id::reason_string)->value == "acl");
    auto const again = h.s.unsubscribe({"a", "b"}, h.now);
    h.broker_sends(unsuback{again.packet_id, {0x00}});
    CHECK(h.single_failure().ec == errc::ack_count_mismatch);
}

TEST_CASE("MQTT 5: a Server Keep Alive applies even when we asked for none (-k 0) [MQTT-3.2.2-21]", "[session5]")
{
    connect c = harness5::options({}).connect;
    c.keep_alive = 0;
    session s{session_options{c, 5s, default_max_packet_size}};
    s.start({});
    bytes ack;
    REQUIRE_FALSE(encode(connack{false, 0, {number(property_id::server_keep_alive, 30)}}, ack, v5));
    s.receive(ack, {});
    CHECK(s.keep_alive() == 30);
    REQUIRE(s.next_deadline());
}

TEST_CASE("MQTT 5: with request-problem-information 0 a Reason String on an acknowledgement is refused [MQTT-3.1.2-29]", "[session5]")
{
    harness5 h{{number(property_id::request_problem_information, 0)}};
    (void)h.accepted({text(property_id::reason_string, "fine on CONNACK")});
    auto const r = h.s.publish(message("t", qos::at_least_once), h.now);
    (void)h.sent();
    h.broker_sends(publish{"t", "p", qos::at_most_once, false, false, 0, {property{property_id::user_property, 0, "k", "v"}}}); // fine on PUBLISH
    CHECK(h.events().size() == 1);
    h.broker_sends(puback{r.packet_id, 0x10, {text(property_id::reason_string, "no subscribers")}});
    CHECK(h.single_failure().ec == errc::problem_information_sent);
    auto const out = h.sent();
    REQUIRE(out.size() == 1);
    CHECK(std::get<disconnect>(out[0]).reason_code == 0x82);
}

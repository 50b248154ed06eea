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

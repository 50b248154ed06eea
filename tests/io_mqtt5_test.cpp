// MQTT 5 in the I/O layer, in process against a scripted transport (io_support.hpp): reason
// codes to and from the broker, refusals, session take-over, Receive Maximum.
#include "io_support.hpp"

#include <csignal>
#include <string>
#include <unistd.h>

using namespace io_support;

TEST_CASE("io: MQTT 5: a protocol error goes to the broker as DISCONNECT with its reason, then the close frame", "[io][mqtt5]")
{
    broker_script script;
    script.version = mqtt::protocol_version::v5;
    script.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        well_behaved(p, t);
        if (std::holds_alternative<mqtt::subscribe>(p)) // a topic alias we never allowed [MQTT-3.1.2-27]
            t.send(mqtt::publish{"t", "x", mqtt::qos::at_most_once, false, false, 0, {{mqtt::property_id::topic_alias, 1}}});
    };
    auto cfg = sub_config();
    cfg.version = mqtt::protocol_version::v5;
    captured err{2};
    CHECK(run_against(script, cfg) == 5);
    CHECK(err.text() == "wsmqtt: error: protocol error: a Topic Alias we did not allow, or one never set [MQTT-3.3.2-10]\n");
    auto const sent = all_of<mqtt::disconnect>(script.received);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].reason_code == 0x94); // topic alias invalid [MQTT-4.13.1-1]
    CHECK(script.ws_fail_statuses == std::vector<std::uint16_t>{1002});
}

TEST_CASE("io: MQTT 5: a message the broker refuses is an error naming the reason (exit 17)", "[io][mqtt5]")
{
    broker_script script;
    script.version = mqtt::protocol_version::v5;
    script.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        if (std::holds_alternative<mqtt::connect>(p)) t.send(mqtt::connack{false, 0});
        if (auto const* m = std::get_if<mqtt::publish>(&p))
            t.send(mqtt::puback{m->packet_id, 0x87, {{mqtt::property_id::reason_string, 0, "not yours"}}});
    };
    auto cfg = pub_config("x");
    cfg.version = mqtt::protocol_version::v5;
    captured err{2};
    CHECK(run_against(script, cfg) == 17);
    CHECK(err.text() == "wsmqtt: error: the broker refused the message: 0x87 not authorized (\"not yours\")\n");
    CHECK(std::holds_alternative<mqtt::disconnect>(script.received.back())); // still a polite end
}

TEST_CASE("io: MQTT 5: with some subscriptions refused the others stand (a warning), with all refused exit 6", "[io][mqtt5]")
{
    auto const granting = [](std::vector<std::uint8_t> codes) {
        return [codes](mqtt::packet const& p, scripted_transport& t) {
            if (std::holds_alternative<mqtt::connect>(p)) t.send(mqtt::connack{false, 0});
            if (auto const* s = std::get_if<mqtt::subscribe>(&p)) {
                t.send(mqtt::suback{s->packet_id, codes, {{mqtt::property_id::reason_string, 0, "acl"}}});
                if (codes.front() < 0x80) t.send(mqtt::publish{"a", "ok", mqtt::qos::at_most_once, false, false, 0});
            }
        };
    };
    auto cfg = sub_config({"a", "b"});
    cfg.version = mqtt::protocol_version::v5;
    cfg.count = 1;
    {
        broker_script script;
        script.version = mqtt::protocol_version::v5;
        script.on_packet = granting({0x00, 0x87});
        captured out{1};
        captured err{2};
        CHECK(run_against(script, cfg) == 0);
        CHECK(out.text() == "Topic: a | ok\n");
        CHECK(err.text() == "wsmqtt: warning: subscription to 'b' refused by the broker: 0x87 not authorized (\"acl\"); the others stand\n");
    }
    {
        broker_script script;
        script.version = mqtt::protocol_version::v5;
        script.on_packet = granting({0x87, 0xA2});
        captured err{2};
        CHECK(run_against(script, cfg) == 6);
        CHECK(err.text() == "wsmqtt: error: every subscription refused by the broker: 'a' (0x87 not authorized (\"acl\")), 'b' (0xA2 "
                            "wildcard subscriptions not supported (\"acl\"))\n");
    }
}

TEST_CASE("io: MQTT 5: a subscriber whose session another client took over says so and does not fight back", "[io][mqtt5]")
{
    broker_script script;
    script.version = mqtt::protocol_version::v5;
    script.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        well_behaved(p, t);
        if (std::holds_alternative<mqtt::subscribe>(p)) t.send(mqtt::disconnect{0x8E});
    };
    auto cfg = sub_config();
    cfg.version = mqtt::protocol_version::v5;
    captured err{2};
    CHECK(run_against(script, cfg) == 1);
    CHECK(err.text() == "wsmqtt: error: the broker ended the session: 0x8E session taken over (another client connected with the same "
                        "client id: give each its own -i)\n");
    CHECK(script.connections == 1); // no reconnect: it would take the session back, and so on for ever
    CHECK(all_of<mqtt::disconnect>(script.received).empty()); // nor a DISCONNECT after the broker's [MQTT-3.14.4-1]
}

TEST_CASE("io: MQTT 5: a subscriber reconnects after the broker shut down (0x8B)", "[io][mqtt5]")
{
    broker_script script;
    script.version = mqtt::protocol_version::v5;
    script.on_packet = [&script](mqtt::packet const& p, scripted_transport& t) {
        well_behaved(p, t);
        if (!std::holds_alternative<mqtt::subscribe>(p)) return;
        if (script.connections == 1) t.send(mqtt::disconnect{0x8B});
        else t.send(mqtt::publish{"t", "back", mqtt::qos::at_most_once, false, false, 0});
    };
    auto cfg = sub_config();
    cfg.version = mqtt::protocol_version::v5;
    cfg.count = 1;
    captured out{1};
    captured err{2};
    CHECK(run_against(script, cfg) == 0);
    CHECK(out.text() == "Topic: t | back\n");
    CHECK_THAT(err.text(), Catch::StartsWith("wsmqtt: the broker ended the session: 0x8B server shutting down; reconnecting in"));
    CHECK(script.connections == 2);
}

TEST_CASE("io: MQTT 5: an unsubscribe the broker refuses is a warning with its reason", "[io][mqtt5]")
{
    broker_script script;
    script.version = mqtt::protocol_version::v5;
    script.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        well_behaved(p, t);
        if (auto const* u = std::get_if<mqtt::unsubscribe>(&p)) t.send(mqtt::unsuback{u->packet_id, {0x11, 0x87}});
    };
    auto cfg = sub_config({});
    cfg.version = mqtt::protocol_version::v5;
    cfg.unsubscribe_topics = {"gone", "kept"};
    captured err{2};
    CHECK(run_against(script, cfg) == 0); // -U alone: unsubscribes and exits
    CHECK(err.text() == "wsmqtt: warning: unsubscribe from 'kept' refused by the broker: 0x87 not authorized\n");
}

TEST_CASE("io: MQTT 5: the broker's Receive Maximum narrows the window below -M [MQTT-3.3.4-7]", "[io][mqtt5]")
{
    broker_script script;
    script.version = mqtt::protocol_version::v5;
    std::vector<std::uint16_t> waiting;
    std::size_t publishes = 0, most_in_flight = 0;
    script.on_packet = [&](mqtt::packet const& p, scripted_transport& t) {
        if (std::holds_alternative<mqtt::connect>(p)) t.send(mqtt::connack{false, 0, {{mqtt::property_id::receive_maximum, 2}}});
        auto const* m = std::get_if<mqtt::publish>(&p);
        if (!m) return;
        most_in_flight = std::max(most_in_flight, ++publishes - script.acks_read);
        waiting.push_back(m->packet_id);
        if (waiting.size() < 2) return; // acknowledged only once the window is full
        for (auto id : waiting) t.send(mqtt::puback{id});
        waiting.clear();
    };
    auto cfg = pub_config("w");
    cfg.version = mqtt::protocol_version::v5;
    cfg.repeat = 30;
    cfg.max_inflight = 20;
    captured err{2};
    CHECK(run_against(script, cfg) == 0);
    CHECK(err.text().empty());
    CHECK(publishes == 30);
    CHECK(most_in_flight == 2);
}

// The publisher in process against a scripted transport (io_support.hpp): protocol errors, the
// in-flight window, -W and signals while reconnecting.
#include "io_support.hpp"

#include <csignal>
#include <string>
#include <unistd.h>

using namespace io_support;

TEST_CASE("io: a protocol error from the broker ends the run with exit 5 and tells a WebSocket broker why", "[io]")
{
    broker_script script;
    script.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        if (std::holds_alternative<mqtt::connect>(p)) t.send_bytes({0x20, 0x02, 0x00, 0x06}); // reserved CONNACK code
    };
    captured err{2};
    CHECK(run_against(script, sub_config()) == 5);
    CHECK(err.text() == "wsmqtt: error: protocol error: invalid return code\n");
    CHECK(script.ws_fail_statuses == std::vector<std::uint16_t>{1002});
}

TEST_CASE("io: the in-flight window holds while the broker withholds acknowledgements (back-pressure)", "[io]")
{
    // -M 5 and 40 messages; the broker acknowledges in batches, once 5 are waiting. At every
    // PUBLISH, what the client has sent but not yet seen acknowledged must be 5 at most.
    broker_script script;
    std::vector<std::uint16_t> waiting;
    std::size_t publishes = 0, most_in_flight = 0;
    script.on_packet = [&](mqtt::packet const& p, scripted_transport& t) {
        if (std::holds_alternative<mqtt::connect>(p)) t.send(mqtt::connack{false, 0});
        auto const* m = std::get_if<mqtt::publish>(&p);
        if (!m) return;
        most_in_flight = std::max(most_in_flight, ++publishes - script.acks_read);
        waiting.push_back(m->packet_id);
        if (waiting.size() < 5) return;
        for (auto id : waiting) t.send(mqtt::puback{id});
        waiting.clear();
    };
    auto cfg = pub_config("w");
    cfg.repeat = 40;
    cfg.max_inflight = 5;
    captured err{2};
    CHECK(run_against(script, cfg) == 0);
    CHECK(err.text().empty());
    CHECK(publishes == 40);
    CHECK(most_in_flight == 5);
    CHECK(script.acks_read == 40);
}

TEST_CASE("io: -W while reconnecting names the unacknowledged messages once", "[io]")
{
    // pub -l -q 1: the broker takes the PUBLISH, never acknowledges it, and goes away for good.
    stdin_pipe input{"m\n"};
    broker_script script;
    script.on_packet = [&](mqtt::packet const& p, scripted_transport& t) {
        if (std::holds_alternative<mqtt::connect>(p)) t.send(mqtt::connack{false, 0});
        if (std::holds_alternative<mqtt::publish>(p)) {
            script.refuse_connects = 1'000'000;
            t.close_by_broker();
        }
    };
    auto cfg = pub_config();
    cfg.line_mode = true;
    cfg.timeout = std::chrono::seconds{1};
    cfg.reconnect_max = std::chrono::milliseconds{50};
    captured err{2};
    auto const code = run_against(script, cfg);
    CHECK(code == 27);
    auto const text = err.text();
    std::string const lost = "1 message not acknowledged by the broker";
    CHECK_THAT(text, Catch::Contains("wsmqtt: error: timed out after 1 s (" + lost + ")\n"));
    CHECK(text.find(lost) == text.rfind(lost)); // once
}

TEST_CASE("io: -W before the message went out says it was not published", "[io]")
{
    // Defect: "timed out after 1 s" and nothing about the message (the README promises the count).
    broker_script script; // accepts the connection, never answers CONNECT
    auto cfg = pub_config();
    cfg.timeout = std::chrono::seconds{1};
    captured err{2};
    CHECK(run_against(script, cfg) == 27);
    CHECK(err.text() == "wsmqtt: error: timed out after 1 s (the message was not published)\n");
}

TEST_CASE("io: pub -l given SIGTERM while reconnecting says which lines it read and did not publish (exit 143)", "[io]")
{
    // Defect: 23 lines read, 22 published, exit 0 and not a word.
    stdin_pipe input{"a\nb\n"};
    broker_script script;
    script.on_packet = [&](mqtt::packet const& p, scripted_transport& t) {
        if (std::holds_alternative<mqtt::connect>(p)) t.send(mqtt::connack{false, 0});
        if (std::holds_alternative<mqtt::publish>(p)) { // "a", never acknowledged; "b" waits for the window
            script.refuse_connects = 1'000'000;
            t.close_by_broker();
            std::raise(SIGTERM);
        }
    };
    auto cfg = pub_config();
    cfg.line_mode = true;
    cfg.max_inflight = 1;
    cfg.reconnect_max = std::chrono::milliseconds{50};
    captured err{2};
    auto const code = run_against(script, cfg);
    CHECK(code == 128 + SIGTERM);
    CHECK_THAT(err.text(), Catch::EndsWith("wsmqtt: error: interrupted: 1 message not acknowledged by the broker; 1 line read from "
                                           "standard input not published\n"));
    CHECK(all_of<mqtt::publish>(script.received).size() == 1);
}

TEST_CASE("io: pub -l after one SIGINT waits for a PUBACK that is on its way and exits 0", "[io]")
{
    // Defect (11 of 30 runs, with our own WebSocket frames): exit 130 "1 message not
    // acknowledged" some 20 ms after the signal, the PUBACK already on its way.
    stdin_pipe input{"a\nb\n"};
    broker_script script;
    script.on_packet = [&](mqtt::packet const& p, scripted_transport& t) {
        if (std::holds_alternative<mqtt::connect>(p)) t.send(mqtt::connack{false, 0});
        if (auto const* m = std::get_if<mqtt::publish>(&p)) {
            if (m->payload == "b") std::raise(SIGINT); // the PUBACK goes behind the signal
            t.send(mqtt::puback{m->packet_id});
        }
    };
    auto cfg = pub_config();
    cfg.line_mode = true;
    captured err{2};
    auto const code = run_against(script, cfg);
    CHECK(code == 0);
    CHECK(err.text().empty());
    CHECK(all_of<mqtt::publish>(script.received).size() == 2);
    CHECK(std::holds_alternative<mqtt::disconnect>(script.received.back()));
}

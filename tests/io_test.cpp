// The I/O layer (supervisor, connection, roles) in process, against a scripted transport
// (io_support.hpp): connections, the subscriber, stdout and stderr, signals, reconnects.
// No sockets, no broker; stdout and stderr are captured from their descriptors.
#include "io_support.hpp"

#include <csignal>
#include <string>
#include <unistd.h>

using namespace io_support;

TEST_CASE("io: a publisher connects, publishes at QoS 1, waits for PUBACK, then disconnects", "[io]")
{
    broker_script script;
    script.on_packet = well_behaved;
    captured err{2};
    CHECK(run_against(script, pub_config("hello")) == 0);
    CHECK(err.text().empty());
    REQUIRE(script.received.size() == 3);
    CHECK(std::holds_alternative<mqtt::connect>(script.received[0])); // [MQTT-3.1.0-1]
    CHECK(std::get<mqtt::publish>(script.received[1]).payload == "hello");
    CHECK(std::holds_alternative<mqtt::disconnect>(script.received[2])); // [MQTT-3.14.4-1]
    CHECK(script.shutdowns == 1);
    CHECK(script.alive == 0);
}

TEST_CASE("io: a subscriber dropped after every SUBACK reconnects, and each lost transport is freed at once", "[io]")
{
    // Defect: every reconnect attempt used to keep its transport for ever (70 kB each).
    broker_script script;
    script.on_packet = [&](mqtt::packet const& p, scripted_transport& t) {
        well_behaved(p, t);
        if (std::holds_alternative<mqtt::subscribe>(p)) {
            if (script.connections < 30) t.close_by_broker();
            else t.send(mqtt::publish{"t", "at last", mqtt::qos::at_most_once, false, false, 0});
        }
    };
    captured out{1};
    captured err{2};
    auto cfg = sub_config();
    cfg.count = 1;
    CHECK(run_against(script, cfg) == 0);
    CHECK(script.connections == 30);
    CHECK(script.most_alive == 1);
    CHECK(script.alive == 0);
    CHECK(out.text() == "Topic: t | at last\n");
    auto const notes = err.text();
    CHECK_THAT(notes, Catch::Contains("wsmqtt: connection closed by the broker; reconnecting in"));
    CHECK_THAT(notes, Catch::Contains("wsmqtt: reconnected\n"));
    // After three rounds, once: a broker that keeps closing an accepted connection may be
    // knocking us off for another client with our id.
    std::string const hint = "is another client connected with the id 'io-test'? Give each client its own -i";
    auto const at = notes.find(hint);
    CHECK(at != std::string::npos);
    CHECK(notes.find(hint, at + 1) == std::string::npos);
}

TEST_CASE("io: an exception while handling input ends the run with one error line and exit 9", "[io]")
{
    // Defect: an exception in a detached coroutine was swallowed and the client hung.
    broker_script script;
    script.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        well_behaved(p, t);
        if (std::holds_alternative<mqtt::subscribe>(p)) {
            t.throw_on_read = true;
            t.send(mqtt::publish{"t", "x", mqtt::qos::at_most_once, false, false, 0});
        }
    };
    captured err{2};
    CHECK(run_against(script, sub_config()) == to_int(exit_code::internal));
    CHECK(err.text() == "wsmqtt: error: out of memory\n");
    CHECK(script.alive == 0);
}

TEST_CASE("io: sub -C 2 with four QoS 1 messages waiting acknowledges only the two it printed", "[io]")
{
    // Defect: -C 2 printed 2 and PUBACKed all 4, so a persistent session lost the other two.
    broker_script script;
    script.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        if (std::holds_alternative<mqtt::connect>(p)) {
            mqtt::bytes burst;
            REQUIRE(!mqtt::encode(mqtt::connack{true, 0}, burst));
            for (std::uint16_t id = 1; id <= 4; ++id)
                REQUIRE(!mqtt::encode(mqtt::publish{"t", std::to_string(id), mqtt::qos::at_least_once, false, false, id}, burst));
            t.send_bytes(std::move(burst)); // all in one read
        }
    };
    captured out{1};
    auto cfg = sub_config();
    cfg.clean_session = false;
    cfg.count = 2;
    cfg.qos = mqtt::qos::at_least_once;
    CHECK(run_against(script, cfg) == 0);
    CHECK(out.text() == "Topic: t | 1\nTopic: t | 2\n");
    auto const acks = all_of<mqtt::puback>(script.received);
    REQUIRE(acks.size() == 2);
    CHECK(acks[0].packet_id == 1);
    CHECK(acks[1].packet_id == 2);
    CHECK(std::holds_alternative<mqtt::disconnect>(script.received.back()));
}

TEST_CASE("io: a message whose write to stdout failed is never acknowledged (| head -1, /dev/full)", "[io]")
{
    // Defect: sub -c -q 1 -F %p | head -1 lost message 2: its write failed with EPIPE, and its
    // PUBACK and DISCONNECT went out anyway, so the persistent session never had it again.
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    int read_end = fds[0];
    std::string first;
    broker_script script;
    script.on_packet = [&](mqtt::packet const& p, scripted_transport& t) {
        well_behaved(p, t);
        if (std::holds_alternative<mqtt::subscribe>(p)) t.send(mqtt::publish{"t", "1", mqtt::qos::at_least_once, false, false, 1});
        if (auto const* a = std::get_if<mqtt::puback>(&p); a && a->packet_id == 1) {
            char buffer[64];
            auto const n = ::read(read_end, buffer, sizeof buffer); // what `head -1` read
            first.assign(buffer, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
            ::close(read_end); // and it exits
            read_end = -1;
            t.send(mqtt::publish{"t", "2", mqtt::qos::at_least_once, false, false, 2});
        }
    };
    auto cfg = sub_config();
    cfg.clean_session = false;
    cfg.qos = mqtt::qos::at_least_once;
    int status = 0;
    {
        int const saved = ::dup(1);
        ::dup2(fds[1], 1);
        ::close(fds[1]);
        status = run_against(script, cfg);
        ::dup2(saved, 1);
        ::close(saved);
    }
    CHECK(status == 0); // the reader left: not an error, as mosquitto_sub
    CHECK(first == "Topic: t | 1\n");
    auto const acks = all_of<mqtt::puback>(script.received);
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].packet_id == 1); // 2 was not delivered: the broker keeps it for the session
    CHECK(std::holds_alternative<mqtt::disconnect>(script.received.back()));

    // The same on a full disk: an error, and still no acknowledgement.
    broker_script full_disk;
    full_disk.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        well_behaved(p, t);
        if (std::holds_alternative<mqtt::subscribe>(p)) t.send(mqtt::publish{"t", "1", mqtt::qos::exactly_once, false, false, 1});
    };
    captured full{1, "/dev/full"};
    captured err{2};
    CHECK(run_against(full_disk, cfg) == to_int(exit_code::output));
    CHECK(all_of<mqtt::pubrec>(full_disk.received).empty());
}

TEST_CASE("io: stdout on a full disk is an error (exit 8), not a quiet success", "[io]")
{
    broker_script script;
    script.on_packet = publishing("lost?");
    captured full{1, "/dev/full"};
    captured err{2};
    CHECK(run_against(script, sub_config()) == to_int(exit_code::output));
    CHECK(err.text() == "wsmqtt: error: cannot write to stdout: No space left on device\n");
}

TEST_CASE("io: diagnostics that cannot be written are dropped, the message is still published", "[io]")
{
    // Defect: a failed write to stderr (-d 2>&1 | head, 2>/dev/full) wedged the process.
    broker_script script;
    script.on_packet = well_behaved;
    captured full{2, "/dev/full"};
    auto cfg = pub_config("still sent");
    cfg.debug = true;
    CHECK(run_against(script, cfg) == 0);
    REQUIRE(all_of<mqtt::publish>(script.received).size() == 1);
    CHECK(all_of<mqtt::publish>(script.received)[0].payload == "still sent");
}

TEST_CASE("io: PUBACK for an identifier not in use is ignored, the subscriber goes on", "[io]")
{
    broker_script script;
    script.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        well_behaved(p, t);
        if (std::holds_alternative<mqtt::subscribe>(p)) {
            t.send(mqtt::puback{0x1234});
            t.send(mqtt::publish{"t", "after", mqtt::qos::at_most_once, false, false, 0});
        }
    };
    captured out{1};
    captured err{2};
    auto cfg = sub_config();
    cfg.count = 1;
    cfg.debug = true;
    CHECK(run_against(script, cfg) == 0);
    CHECK(out.text() == "Topic: t | after\n");
    CHECK_THAT(err.text(), Catch::Contains("wsmqtt: ignored PUBACK for packet identifier 4660, which is not in use\n"));
}

TEST_CASE("io: a broker that answers QoS 2 with PUBACK is named, with what to do (exit 5, close 1002)", "[io]")
{
    broker_script script;
    script.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        if (std::holds_alternative<mqtt::connect>(p)) t.send(mqtt::connack{false, 0});
        if (auto const* m = std::get_if<mqtt::publish>(&p)) t.send(mqtt::puback{m->packet_id}); // RabbitMQ 3.10
    };
    captured err{2};
    CHECK(run_against(script, pub_config("x", mqtt::qos::exactly_once)) == 5);
    CHECK(err.text() == "wsmqtt: error: protocol error: the broker answered a QoS 2 PUBLISH with PUBACK: it supports QoS 1 at most; "
                        "publish with -q 1\n");
    CHECK(script.ws_fail_statuses == std::vector<std::uint16_t>{1002});
}

TEST_CASE("io: when a write fails, the reader's words win (a TLS alert races the reset)", "[io]")
{
    broker_script script;
    script.fail_write = 2; // CONNECT goes, the PUBLISH after CONNACK fails
    script.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        if (!std::holds_alternative<mqtt::connect>(p)) return;
        t.send(mqtt::connack{false, 0});
        t.close_by_broker({transport_errc::tls_certificate_rejected, {}, "certificate unknown"});
    };
    captured err{2};
    CHECK(run_against(script, pub_config()) == 3);
    CHECK(err.text() == "wsmqtt: error: TLS: the broker rejected our client certificate (certificate unknown)\n");
}

TEST_CASE("io: SIGTERM before CONNACK: pub exits 143 and says nothing was published", "[io]")
{
    // Defect: it exited 0 although nothing was published (mosquitto_pub: 143).
    broker_script script;
    script.on_packet = [](mqtt::packet const& p, scripted_transport&) {
        if (std::holds_alternative<mqtt::connect>(p)) std::raise(SIGTERM); // and no CONNACK
    };
    captured err{2};
    CHECK(run_against(script, pub_config()) == 128 + SIGTERM);
    CHECK(err.text() == "wsmqtt: error: interrupted before the message was published\n");
    CHECK(script.alive == 0);
}

TEST_CASE("io: SIGINT with a QoS 1 message unacknowledged waits briefly, then says how many (exit 130)", "[io]")
{
    // Defect: the polite wait was bounded only by keepalive.
    broker_script script;
    script.on_packet = [](mqtt::packet const& p, scripted_transport& t) {
        if (std::holds_alternative<mqtt::connect>(p)) t.send(mqtt::connack{false, 0});
        if (std::holds_alternative<mqtt::publish>(p)) std::raise(SIGINT); // and no PUBACK, ever
    };
    captured err{2};
    CHECK(run_against(script, pub_config()) == 128 + SIGINT);
    CHECK(err.text() == "wsmqtt: error: interrupted: 1 message not acknowledged by the broker\n");
    CHECK(std::holds_alternative<mqtt::disconnect>(script.received.back()));
}

TEST_CASE("io: SIGTERM with the PUBACK on its way: the publisher waits for it and exits 0", "[io]")
{
    broker_script script;
    scripted_transport* connection = nullptr;
    script.on_packet = [&](mqtt::packet const& p, scripted_transport& t) {
        if (std::holds_alternative<mqtt::connect>(p)) t.send(mqtt::connack{false, 0});
        if (auto const* m = std::get_if<mqtt::publish>(&p)) {
            connection = &t;
            std::raise(SIGTERM);
            t.send(mqtt::puback{m->packet_id}); // behind the signal
        }
    };
    captured err{2};
    CHECK(run_against(script, pub_config()) == 0);
    CHECK(err.text().empty());
    CHECK(connection != nullptr);
}

TEST_CASE("io: an upgrade refused on a reconnect (503 while the broker restarts) is retried, on the first connect it ends the run", "[io]")
{
    // Defect: sub gave up with exit 4 and an "add --tcp" hint when a reverse proxy answered 503.
    broker_script script;
    script.refusal = {transport_errc::ws_upgrade_refused, {}, "Service Unavailable", {}, 503};
    script.on_packet = [&](mqtt::packet const& p, scripted_transport& t) {
        well_behaved(p, t);
        if (!std::holds_alternative<mqtt::subscribe>(p)) return;
        if (script.connections == 1) {
            script.refuse_connects = 2;
            t.close_by_broker();
        } else {
            t.send(mqtt::publish{"t", "back", mqtt::qos::at_most_once, false, false, 0});
        }
    };
    captured out{1};
    captured err{2};
    auto cfg = sub_config();
    cfg.count = 1;
    CHECK(run_against(script, cfg) == 0);
    CHECK(out.text() == "Topic: t | back\n");
    CHECK_THAT(err.text(), Catch::Contains("wsmqtt: reconnect failed: WebSocket upgrade refused: HTTP 503 Service Unavailable; retrying in"));
    CHECK(script.connections == 2);

    broker_script first;
    first.refuse_connects = 1;
    first.refusal = script.refusal;
    captured err2{2};
    CHECK(run_against(first, sub_config()) == to_int(exit_code::websocket));
}

TEST_CASE("io: a first connection that fails ends the run with its words, --retry-first tries again", "[io]")
{
    broker_script refused;
    refused.refuse_connects = 1;
    refused.on_packet = well_behaved;
    {
        captured err{2};
        CHECK(run_against(refused, sub_config()) == 1);
        CHECK(err.text() == "wsmqtt: error: connection refused to scripted:1\n");
    }
    broker_script retried;
    retried.refuse_connects = 3;
    retried.on_packet = publishing("up");
    captured out{1};
    captured err{2};
    auto cfg = sub_config();
    cfg.retry_first = true;
    cfg.count = 1;
    CHECK(run_against(retried, cfg) == 0);
    CHECK(out.text() == "Topic: t | up\n");
    auto const notes = err.text();
    CHECK_THAT(notes, Catch::Contains("wsmqtt: cannot connect: connection refused to scripted:1; reconnecting in"));
    CHECK_THAT(notes, Catch::Contains("wsmqtt: reconnect failed: connection refused to scripted:1; retrying in"));
}

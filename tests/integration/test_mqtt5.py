"""MQTT 5 against a real mosquitto 2.0: properties both ways, reason codes in words, sessions."""

import base64
import json
import shutil
import subprocess
import unittest

from harness import (ENV, READER, READER_PASSWORD, USER, PASSWORD, WSMQTT, BrokerTestCase, Broker,
                     ScriptedBroker, Subscriber, run)


class Mqtt5(BrokerTestCase):

    def ws(self):
        return ["-h", "127.0.0.1", "-p", self.port("ws")]

    def publish(self, *args):
        got = run("pub", *self.ws(), *args)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stderr, "")
        return got

    def test_properties_both_ways_over_ws_and_tcp(self):
        for transport in ("ws", "tcp"):
            with self.subTest(transport=transport):
                topic = f"v5/props/{transport}"
                sub = Subscriber(*self.transport_args(transport), "-V", "5", "-t", topic, "-C", "1",
                                 "--subscription-id", "42",
                                 "-F", "%t|%C|%R|%P|%E|%F|%S|%x").ready()
                got = run("pub", *self.transport_args(transport), "-t", topic, "-m", "hi",
                          "--content-type", "text/plain", "--response-topic", "replies/1",
                          "--user-property", "b=2", "--user-property", "a=1=one",
                          "-D", "publish", "user-property", "b", "3",
                          "--message-expiry", "300", "--payload-format", "utf8",
                          "--correlation-data", "hex:00ff", "-q", "1")
                self.assertEqual(got.returncode, 0, got.stderr)
                code, out = sub.finish()
                self.assertEqual(code, 0)
                topic_, content, response, users, expiry, fmt, ids, payload = out.decode().rstrip("\n").split("|")
                self.assertEqual((topic_, content, response, fmt, ids, payload),
                                 (topic, "text/plain", "replies/1", "1", "42", "6869"))
                self.assertEqual(users, "b:2 a:1=one b:3")  # in order, duplicates kept
                self.assertTrue(0 < int(expiry) <= 300, expiry)  # the broker counts it down

    def test_json_has_a_properties_object_with_binary_correlation_data_in_base64(self):
        sub = Subscriber(*self.ws(), "-V", "5", "-t", "v5/json", "-C", "1", "--json").ready()
        self.publish("-t", "v5/json", "-m", "{}", "--correlation-data", "base64:AAEC/w==",
                     "--user-property", "k=v", "--user-property", "k=w", "--content-type", "application/json")
        code, out = sub.finish()
        self.assertEqual(code, 0)
        message = json.loads(out)
        self.assertEqual(message["properties"], {
            "content-type": "application/json",
            "correlation-data": base64.b64encode(b"\0\1\2\xff").decode(),
            "user-properties": [{"k": "v"}, {"k": "w"}],
        })
        self.assertEqual(message["payload"], "{}")

    @unittest.skipUnless(shutil.which("mosquitto_sub"), "needs mosquitto_sub (mosquitto-clients)")
    def test_format_codes_print_what_mosquitto_sub_prints(self):
        # The same retained message, read by both (no waiting for a SUBACK from mosquitto_sub).
        self.publish("-t", "v5/cross", "-m", "same", "-r", "--content-type", "ct", "--response-topic", "rt",
                     "--user-property", "a=1", "--user-property", "b=2", "--user-property", "a=3",
                     "--payload-format", "utf8", "--correlation-data", "corr")
        spec = "%t|%C|%R|%P|%F|%D|%p"
        theirs = subprocess.run(["mosquitto_sub", "-V", "5", "-h", "127.0.0.1", "-p", str(self.port("tcp")),
                                 "-t", "v5/cross", "-C", "1", "-F", spec], capture_output=True, timeout=15, env=ENV)
        ours = run("sub", *self.ws(), "-V", "5", "-t", "v5/cross", "-C", "1", "-F", spec)
        self.publish("-t", "v5/cross", "-n", "-r")  # clean up
        self.assertEqual((theirs.returncode, ours.returncode), (0, 0), ours.stderr)
        self.assertEqual(ours.stdout, b"v5/cross|ct|rt|a:1 b:2 a:3|1|corr|same\n")
        self.assertEqual(ours.stdout, theirs.stdout)

    def test_a_refused_publish_names_the_reason_and_exits_17(self):
        # mosquitto answers a QoS 1 PUBLISH the ACL denies with PUBACK 0x87 (mosquitto_pub exits 0).
        auth = ["-h", "127.0.0.1", "-p", self.port("ws_auth"), "-u", READER, "-P", READER_PASSWORD, "-V", "5"]
        got = run("pub", *auth, "-t", "denied/x", "-m", "x", "-q", "1")
        self.assertSingleError(got, 17, "the broker refused the message: 0x87 not authorized")
        lines = "\n".join(f"line {i}" for i in range(3)) + "\n"
        # One at a time (-M 1): mosquitto 2.0.11 drops a connection that has more QoS 1 messages in
        # flight after one it refused (DISCONNECT 0x82 over WebSocket, a reset over TCP).
        got = run("pub", *auth, "-t", "denied/x", "-l", "-q", "1", "-M", "1", input=lines.encode())
        self.assertEqual(got.returncode, 17, got.stderr)
        self.assertEqual(got.stderr.count("wsmqtt: warning: the broker refused a message: 0x87 not authorized"), 3)
        self.assertIn("wsmqtt: error: the broker refused 3 of 3 messages (the first: 0x87 not authorized)", got.stderr)
        # What the ACL allows still goes through.
        got = run("pub", "-h", "127.0.0.1", "-p", self.port("ws_auth"), "-u", USER, "-P", PASSWORD, "-V", "5",
                  "-t", "allowed/x", "-m", "x", "-q", "1")
        self.assertEqual((got.returncode, got.stderr), (0, ""))

    def test_a_refused_connection_says_the_reason_code_in_words(self):
        got = run("pub", "-h", "127.0.0.1", "-p", self.port("ws_auth"), "-V", "5", "-u", USER, "-P", "wrong",
                  "-t", "a", "-m", "x")
        self.assertSingleError(got, 15, "the broker refused the connection: 0x87 not authorized (check the user name and password)")
        self.assertNotIn("wrong", got.stderr)

    def test_an_authentication_method_the_broker_lacks_is_named(self):
        got = run("pub", *self.ws(), "--auth-method", "SCRAM-SHA-256", "--auth-data", "base64:biwsbj11c2Vy",
                  "-t", "a", "-m", "x")
        self.assertSingleError(got, 14, "the broker refused the connection: 0x8C bad authentication method")

    def test_retain_handling_never_skips_the_retained_message(self):
        self.publish("-t", "v5/retained", "-m", "stale", "-r", "-q", "1")
        sub = Subscriber(*self.ws(), "-t", "v5/retained", "--retain-handling", "never", "-C", "1", "-v").ready()
        self.assertIn("'v5/retained' q0 retain-handling 2",
                      "\n".join(l for l in sub.stderr_lines if "sent SUBSCRIBE" in l))
        self.publish("-t", "v5/retained", "-m", "live")
        code, out = sub.finish()
        self.assertEqual((code, out), (0, b"v5/retained live\n"))
        self.publish("-t", "v5/retained", "-n", "-r")  # clean up

    def test_topic_alias_sends_the_topic_once_and_every_message_arrives(self):
        sub = Subscriber(*self.ws(), "-t", "v5/alias", "-C", "3", "-F", "%t %p").ready()
        got = run("pub", *self.ws(), "-t", "v5/alias", "-m", "m", "--repeat", "3", "--topic-alias", "1", "-d")
        self.assertEqual(got.returncode, 0, got.stderr)
        sent = [l for l in got.stderr.splitlines() if "sent PUBLISH" in l]
        self.assertEqual(len(sent), 3)
        self.assertIn("'v5/alias'", sent[0])
        self.assertTrue(all("''" in l and "topic-alias=1" in l for l in sent[1:]), sent)
        code, out = sub.finish()
        self.assertEqual((code, out), (0, b"v5/alias m\n" * 3))

    def test_debug_shows_every_property_and_the_brokers_limits(self):
        got = run("pub", *self.ws(), "-t", "v5/debug", "-m", "x", "-d", "-D", "connect", "user-property", "who", "me")
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertIn("sent CONNECT (client id", got.stderr)
        self.assertIn("[user-property 'who'='me']", got.stderr)
        self.assertIn("wsmqtt: the broker allows: maximum QoS 2, retain yes", got.stderr)
        self.assertIn("topic alias maximum 10", got.stderr)  # mosquitto's default


class ScriptedMqtt5(unittest.TestCase):
    """What mosquitto 2.0 never sends: a scripted MQTT 5 broker over TCP drives the real binary."""

    CONNACK = b"\x20\x03\x00\x00\x00"  # accepted, no properties

    def talk(self, answers, *args):
        broker = ScriptedBroker(answers)
        try:
            return broker, run(*args[:1], "--tcp", "-h", "127.0.0.1", "-p", broker.port, "-V", "5", *args[1:])
        finally:
            broker.close()

    def test_topic_aliases_from_the_broker_are_resolved(self):
        # mosquitto_sub 2.0 fails the second message with "protocol error" (research/mqtt5-cli.md 6.1).
        first = b"\x30\x0c\x00\x03t/a\x03\x23\x00\x01one"   # topic t/a, Topic Alias 1
        second = b"\x30\x09\x00\x00\x03\x23\x00\x01two"     # the alias alone
        _, got = self.talk({1: self.CONNACK, 8: b"\x90\x04{id}\x00\x00" + first + second},
                           "sub", "-t", "t/#", "-C", "2", "-v", "-D", "connect", "topic-alias-maximum", "5")
        self.assertEqual((got.returncode, got.stdout, got.stderr), (0, b"t/a one\nt/a two\n", ""))

    def test_a_broker_that_sends_us_elsewhere_is_not_reconnected_to(self):
        reference = b"other.example:1883"
        disconnect = b"\xe0\x17\x9c\x15\x1c\x00\x12" + reference  # 0x9C use another server
        broker, got = self.talk({1: self.CONNACK, 8: b"\x90\x04{id}\x00\x00" + disconnect}, "sub", "-t", "t")
        self.assertEqual(got.returncode, 1, got.stderr)
        self.assertEqual(got.stderr, "wsmqtt: error: the broker ended the session: 0x9C use another server, go to "
                                     "other.example:1883\n")
        self.assertEqual(broker.received, [1, 8])  # no DISCONNECT after the broker's [MQTT-3.14.4-1]

    def test_an_authentication_challenge_names_the_method(self):
        challenge = b"\xf0\x12\x18\x10\x15\x00\x0dSCRAM-SHA-256"  # AUTH 0x18 continue
        broker, got = self.talk({1: challenge}, "pub", "-t", "t", "-m", "x", "--auth-method", "SCRAM-SHA-256",
                                "--auth-data", "n,,n=user,r=abc")
        self.assertEqual(got.returncode, 14, got.stderr)
        self.assertEqual(got.stderr, "wsmqtt: error: the broker asks for another step of SCRAM-SHA-256 authentication, "
                                     "which wsmqtt cannot answer: it sends --auth-data once (single-step methods only)\n")
        self.assertEqual(broker.received, [1])  # nothing but CONNECT was sent [MQTT-3.1.2-30]


class RequestResponse(BrokerTestCase):
    """wsmqtt rr against a responder made of wsmqtt sub --json and wsmqtt pub, as in the README."""

    def ws(self):
        return ["-h", "127.0.0.1", "-p", self.port("ws")]

    def requester(self, *args):
        return subprocess.Popen([WSMQTT, "rr", *map(str, [*self.ws(), *args])], env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def answer(self, request_line, payload, correlation=None):
        request = json.loads(request_line)
        props = request["properties"]
        got = run("pub", *self.ws(), "-t", props["response-topic"], "-m", payload,
                  "--correlation-data", "base64:" + (correlation or props["correlation-data"]))
        self.assertEqual(got.returncode, 0, got.stderr)

    def test_only_the_answer_with_our_correlation_data_is_taken(self):
        responder = Subscriber(*self.ws(), "-V", "5", "-t", "svc/echo", "-C", "1", "--json").ready()
        rr = self.requester("-t", "svc/echo", "-m", "ping", "-W", "10")
        request = responder.read_line(timeout=10)
        self.assertIsNotNone(request, "the request never came")
        self.assertEqual(json.loads(request)["payload"], "ping")
        self.answer(request, "not yours", correlation=base64.b64encode(b"someone else").decode())  # ignored
        self.answer(request, "pong")
        out, err = rr.communicate(timeout=15)
        self.assertEqual((rr.returncode, out, err), (0, b"pong\n", b""))
        self.assertEqual(responder.finish()[0], 0)

    def test_a_stale_retained_message_on_the_response_topic_is_no_answer(self):
        self.assertEqual(run("pub", *self.ws(), "-t", "rr/answers", "-m", "stale", "-r", "-V", "5",
                             "--correlation-data", "old").returncode, 0)
        responder = Subscriber(*self.ws(), "-V", "5", "-t", "svc/stale", "-C", "1", "--json").ready()
        rr = self.requester("-t", "svc/stale", "-e", "rr/answers", "-m", "now?", "-W", "10", "-v")
        self.answer(responder.read_line(timeout=10), "fresh")
        out, err = rr.communicate(timeout=15)
        self.assertEqual((rr.returncode, out, err), (0, b"rr/answers fresh\n", b""))
        self.assertEqual(responder.finish()[0], 0)
        run("pub", *self.ws(), "-t", "rr/answers", "-n", "-r")

    def test_count_collects_several_answers(self):
        responder = Subscriber(*self.ws(), "-V", "5", "-t", "svc/many", "-C", "1", "--json").ready()
        rr = self.requester("-t", "svc/many", "-m", "all", "-C", "2", "-q", "1", "-W", "10")
        request = responder.read_line(timeout=10)
        self.answer(request, "one")
        self.answer(request, "two")
        out, err = rr.communicate(timeout=15)
        self.assertEqual((rr.returncode, out, err), (0, b"one\ntwo\n", b""))
        self.assertEqual(responder.finish()[0], 0)

    def test_fewer_answers_than_asked_say_how_many_came(self):
        # Defect: rr -C 3 said "no answer" after printing one.
        responder = Subscriber(*self.ws(), "-V", "5", "-t", "svc/few", "-C", "1", "--json").ready()
        rr = self.requester("-t", "svc/few", "-e", "rr/few", "-m", "all?", "-C", "3", "-W", "2")
        self.answer(responder.read_line(timeout=10), "only one")
        out, err = rr.communicate(timeout=15)
        self.assertEqual((rr.returncode, out), (27, b"only one\n"))
        self.assertEqual(err.decode(), "wsmqtt: error: 1 of 3 answers on 'rr/few' within 2 s (-W)\n")
        self.assertEqual(responder.finish()[0], 0)

    def test_a_response_topic_given_with_D_is_where_the_answer_is_awaited(self):
        # Defect: -D publish response-topic foo sent foo but listened on its default topic.
        responder = Subscriber(*self.ws(), "-V", "5", "-t", "svc/d", "-C", "1", "--json").ready()
        rr = self.requester("-t", "svc/d", "-D", "publish", "response-topic", "rr/by-d", "-m", "q", "-W", "10", "-v")
        request = responder.read_line(timeout=10)
        self.assertEqual(json.loads(request)["properties"]["response-topic"], "rr/by-d")
        self.answer(request, "a")
        out, err = rr.communicate(timeout=15)
        self.assertEqual((rr.returncode, out, err), (0, b"rr/by-d a\n", b""))
        self.assertEqual(responder.finish()[0], 0)

    def test_no_answer_exits_27_naming_the_topic(self):
        got = run("rr", *self.ws(), "-t", "svc/nobody", "-e", "rr/silence", "-m", "hello?", "-W", "1")
        self.assertSingleError(got, 27, "no answer on 'rr/silence' within 1 s (-W)")

    def test_rr_is_mqtt5_only(self):
        got = run("rr", *self.ws(), "-t", "svc/x", "-m", "x", "-V", "mqttv311")
        self.assertSingleError(got, 2, "wsmqtt rr needs MQTT 5: leave -V out or give -V 5")


class Mqtt5Sessions(BrokerTestCase):
    """-c with MQTT 5 keeps the session (Session Expiry Interval): queued messages wait for us."""

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(persistent=True).start()

    def test_a_persistent_session_gets_what_was_published_while_away(self):
        ws = ["-h", "127.0.0.1", "-p", self.port("ws")]
        session = ["-V", "5", "-c", "-i", "v5-session", "-q", "1"]
        got = run("sub", *ws, *session, "-t", "v5/queue", "-E")  # creates the session, then leaves
        self.assertEqual((got.returncode, got.stderr), (0, ""))
        for n in range(3):
            got = run("pub", *ws, "-t", "v5/queue", "-m", f"m{n}", "-q", "1")
            self.assertEqual(got.returncode, 0, got.stderr)
        got = run("sub", *ws, *session, "-t", "v5/queue", "-C", "2", "-v")
        self.assertEqual((got.returncode, got.stdout), (0, b"v5/queue m0\nv5/queue m1\n"))
        self.broker.restart()  # the session outlives the broker too (never expires)
        got = run("sub", *ws, *session, "-t", "v5/queue", "-C", "1", "-v")
        self.assertEqual((got.returncode, got.stdout), (0, b"v5/queue m2\n"))

    def test_without_c_the_session_ends_with_the_connection(self):
        ws = ["-h", "127.0.0.1", "-p", self.port("ws")]
        got = run("sub", *ws, "-V", "5", "-i", "v5-clean", "-q", "1", "-t", "v5/gone", "-E")
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(run("pub", *ws, "-t", "v5/gone", "-m", "lost", "-q", "1").returncode, 0)
        sub = Subscriber(*ws, "-V", "5", "-c", "-i", "v5-clean", "-q", "1", "-t", "v5/gone", "-C", "1", "-v").ready()
        self.publish_after = run("pub", *ws, "-t", "v5/gone", "-m", "new", "-q", "1")
        code, out = sub.finish()
        self.assertEqual((code, out), (0, b"v5/gone new\n"))  # "lost" was never kept


if __name__ == "__main__":
    unittest.main()

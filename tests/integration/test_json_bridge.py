"""pub --json reads what sub --json writes: bridges between brokers, recordings and replays."""

import json
import subprocess
import unittest

from harness import ENV, WSMQTT, Broker, BrokerTestCase, Subscriber, run


class JsonBridge(BrokerTestCase):
    """Broker A (this class's) over WebSocket, broker B (a second mosquitto) over TCP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = Broker().start()

    @classmethod
    def tearDownClass(cls):
        cls.other.stop()
        super().tearDownClass()

    def a(self):
        return ["-h", "127.0.0.1", "-p", str(self.port("ws"))]

    def b(self):
        return ["--tcp", "-h", "127.0.0.1", "-p", str(self.other.ports["tcp"])]

    def bridge(self, count, *pub_args, sub_args=(), filter="bridge/#"):
        """sub A --json -C count | pub B --json: the two processes, started."""
        source = subprocess.Popen([WSMQTT, "sub", "-d", *self.a(), "-t", filter, "-q", "2", "--json", "-C", str(count),
                                   *sub_args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        sink = subprocess.Popen([WSMQTT, "pub", *self.b(), "--json", *pub_args], stdin=source.stdout,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        source.stdout.close()  # the pipe is the sink's now
        # The source is subscribed once -d says SUBACK.
        for raw in source.stderr:
            if raw.startswith(b"wsmqtt: received SUBACK"):
                break
        return source, sink

    def finish(self, *processes):
        results = []
        for p in processes:
            out, err = p.communicate(timeout=60)
            results.append((p.returncode, out, err.decode() if err else ""))
        return results

    def test_a_bridge_carries_binary_payloads_retain_and_every_qos_without_loss(self):
        count = 100_000
        receiver = Subscriber(*self.b(), "-t", "bridge/#", "-q", "2", "-C", str(count + 4), "-F", "%t %q %r %x").ready()
        self.assertEqual(run("pub", *self.a(), "-t", "bridge/retained", "-m", "kept", "-r", "-q", "1").returncode, 0)
        source, sink = self.bridge(count + 4)  # the retained one, three special ones, then the stream
        for args in (["-t", "bridge/bin", "-f", "/dev/null"], ["-t", "bridge/q2", "-m", "two", "-q", "2"],
                     ["-t", "bridge/q1", "-m", "one", "-q", "1"]):
            self.assertEqual(run("pub", *self.a(), *args).returncode, 0)
        lines = "".join(f"m{n}\n" for n in range(count)).encode()
        got = run("pub", *self.a(), "-t", "bridge/stream", "-l", "-q", "1", input=lines, timeout=120)
        self.assertEqual(got.returncode, 0, got.stderr)
        (src_code, _, src_err), (sink_code, _, sink_err) = self.finish(source, sink)
        self.assertEqual((src_code, sink_code, sink_err), (0, 0, ""), src_err)
        code, out = receiver.finish(timeout=120)
        self.assertEqual(code, 0)
        printed = out.decode().splitlines()
        self.assertEqual(len(printed), count + 4)
        # The retained message came to the bridge as retained and was published retained.
        self.assertEqual(printed[0], "bridge/retained 1 0 " + b"kept".hex())
        self.assertEqual(printed[1:4], ["bridge/bin 0 0 ", "bridge/q2 2 0 " + b"two".hex(), "bridge/q1 1 0 " + b"one".hex()])
        stream = [l for l in printed if l.startswith("bridge/stream ")]
        self.assertEqual(stream, [f"bridge/stream 1 0 {f'm{n}'.encode().hex()}" for n in range(count)])  # all, in order
        kept = run("sub", *self.b(), "-t", "bridge/retained", "-C", "1", "--retained-only", "-F", "%r %p")
        self.assertEqual(kept.stdout, b"1 kept\n")
        run("pub", *self.a(), "-t", "bridge/retained", "-n", "-r")
        run("pub", *self.b(), "-t", "bridge/retained", "-n", "-r")

    def test_binary_payloads_and_mqtt5_properties_survive_the_round_trip(self):
        receiver = Subscriber(*self.b(), "-V", "5", "-t", "props/#", "-C", "1", "-F", "%t|%x|%P|%C|%#D").ready()
        source, sink = self.bridge(1, "-V", "5", sub_args=("-V", "5"), filter="props/#")
        got = run("pub", *self.a(), "-t", "props/x", "-f", "/proc/self/cmdline", "--user-property", "k=1",
                  "--user-property", "j=2", "--user-property", "k=3", "--content-type", "x/y", "--correlation-data", "hex:00ff")
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual([r[0] for r in self.finish(source, sink)], [0, 0])
        code, out = receiver.finish()
        topic, payload, users, content, correlation = out.decode().rstrip("\n").split("|")
        self.assertEqual((topic, users, content, correlation), ("props/x", "k:1 j:2 k:3", "x/y", "00ff"))
        self.assertIn(b"\0", bytes.fromhex(payload))  # /proc/self/cmdline: NUL-separated, not UTF-8 text

    def test_bad_lines_are_skipped_with_their_number_and_the_rest_is_published(self):
        receiver = Subscriber(*self.b(), "-t", "replay/#", "-C", "3", "-F", "%t %p").ready()
        lines = "\n".join([
            '{"topic":"replay/a","payload":"1"}',
            'not json',
            '{"topic":"replay/b","payload":"2"}',
            '{"topic":"replay/+","payload":"wild"}',
            '{"payload":"no topic"}',
            '{"topic":"replay/c","payload":"3","qos":1}',
        ]) + "\n"
        got = run("pub", *self.b(), "--json", input=lines.encode())
        self.assertEqual(got.returncode, 2)
        self.assertEqual(got.stderr.splitlines(), [
            "wsmqtt: warning: line 2 skipped: not JSON: unexpected character at column 1",
            "wsmqtt: warning: line 4 skipped: invalid topic 'replay/+': invalid topic name",
            "wsmqtt: warning: line 5 skipped: no topic (and no -t)",
            "wsmqtt: error: 3 lines were skipped (see the warnings above); the others were published",
        ])
        self.assertEqual(receiver.finish(), (0, b"replay/a 1\nreplay/b 2\nreplay/c 3\n"))

    def test_a_recording_replays_in_order(self):
        # A recording as sub --json and as mosquitto_sub -F %j write it ("Z+0000"), replayed twice
        # as fast. The spacing itself is tested with an injected clock (pacing_test.cpp).
        recording = "".join(json.dumps({"tst": tst, "topic": "pace/x", "qos": 0, "retain": False, "payload": str(n)}) + "\n"
                            for n, tst in enumerate(["2026-11-30T10:00:00.000000Z", "2026-11-30T10:00:00.400000Z+0000",
                                                     "2026-11-30T11:00:00.800000+01:00"]))
        receiver = Subscriber(*self.b(), "-t", "pace/#", "-C", "3", "-F", "%p").ready()
        got = run("pub", *self.b(), "--json", "--pace", "recorded", "--speed", "2", input=recording.encode())
        self.assertEqual((got.returncode, got.stderr), (0, ""))
        self.assertEqual(receiver.finish(), (0, b"0\n1\n2\n"))

    def test_a_line_without_a_usable_time_is_not_replayed_at_once_but_skipped(self):
        # Defect: unparsable tst values were ignored, and such a recording replayed instantly, exit 0.
        lines = [{"tst": "2026-11-30T10:00:00Z", "topic": "pace/y", "payload": "a"},
                 {"tst": "yesterday", "topic": "pace/y", "payload": "b"},
                 {"topic": "pace/y", "payload": "c"}]
        got = run("pub", *self.b(), "--json", "--pace", "recorded", input="".join(json.dumps(l) + "\n" for l in lines).encode())
        self.assertEqual(got.returncode, 2)
        self.assertEqual(got.stderr.splitlines(), [
            "wsmqtt: warning: line 2 skipped: --pace recorded: tst 'yesterday' is not a time (RFC 3339 or ISO 8601)",
            "wsmqtt: warning: line 3 skipped: --pace recorded: the line has no tst",
            "wsmqtt: error: 2 lines were skipped (see the warnings above); the others were published",
        ])
        # A recording without one usable time is refused whole: nothing goes out.
        got = run("pub", *self.b(), "--json", "--pace", "recorded", input="".join(json.dumps(l) + "\n" for l in lines[1:]).encode())
        self.assertEqual(got.returncode, 2)
        self.assertEqual(got.stderr.splitlines()[-1], "wsmqtt: error: 2 lines were skipped (see the warnings above); nothing was published")

    def test_a_bridge_from_a_broker_to_itself_is_named_as_the_loop_it_is(self):
        # sub and pub on one broker, the filter taking what pub publishes: the seed goes round until
        # the source's -C; pub says what is happening.
        source = subprocess.Popen([WSMQTT, "sub", "-d", *self.b(), "-t", "loop/#", "--json", "-C", "1500"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        sink = subprocess.Popen([WSMQTT, "pub", *self.b(), "--json"], stdin=source.stdout, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=ENV)
        source.stdout.close()
        for raw in source.stderr:
            if raw.startswith(b"wsmqtt: received SUBACK"):
                break
        self.assertEqual(run("pub", *self.b(), "-t", "loop/x", "-m", "seed").returncode, 0)
        source.stderr.close()
        self.assertEqual(source.wait(timeout=60), 0)
        _, err = sink.communicate(timeout=60)
        self.assertEqual(sink.returncode, 0)
        self.assertEqual(err.decode(), "wsmqtt: warning: the last 1000 lines were messages this pub had just published: the "
                                       "source subscribes to what it publishes (the same broker and an overlapping filter?), "
                                       "a loop that never ends\n")

    def test_a_recording_of_one_message_repeated_is_no_loop(self):
        line = json.dumps({"tst": "2026-11-30T00:00:00.000000Z", "topic": "same/x", "payload": "on"}) + "\n"
        got = run("pub", *self.b(), "--json", input=(line * 1500).encode())
        self.assertEqual((got.returncode, got.stderr), (0, ""))

    def test_rate_publishes_every_line_of_pub_l_in_order(self):
        # The spacing is tested with an injected clock (pacing_test.cpp); here, the flag end to end.
        receiver = Subscriber(*self.b(), "-t", "rate/#", "-C", "4", "-F", "%p").ready()
        got = run("pub", *self.b(), "-t", "rate/x", "-l", "--rate", "50", input=b"1\n2\n3\n4\n")
        self.assertEqual((got.returncode, got.stderr), (0, ""))
        self.assertEqual(receiver.finish(), (0, b"1\n2\n3\n4\n"))

    def test_the_command_line_fills_in_and_q_forces(self):
        receiver = Subscriber(*self.b(), "-t", "fill/#", "-q", "2", "-C", "2", "-F", "%t %q %p").ready()
        lines = '{"payload":"no topic of its own"}\n{"topic":"fill/own","payload":"q2 asked","qos":2}\n'
        got = run("pub", *self.b(), "--json", "-t", "fill/default", "-q", "1", input=lines.encode())
        self.assertEqual((got.returncode, got.stderr), (0, ""))
        self.assertEqual(receiver.finish(), (0, b"fill/default 1 no topic of its own\nfill/own 1 q2 asked\n"))


if __name__ == "__main__":
    unittest.main()

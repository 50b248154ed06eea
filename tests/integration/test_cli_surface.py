"""The mosquitto_sub/mosquitto_pub command line, and what wsmqtt adds, against a real mosquitto."""

import base64
import json
import os
import re
import signal
import subprocess
import tempfile
import time

from harness import ENV, WSMQTT, BrokerTestCase, PASSWORD, USER, Subscriber, run


class SubscriberOutput(BrokerTestCase):

    def ws(self):
        return self.transport_args("ws")

    def test_verbose_and_no_newline(self):
        sub = Subscriber(*self.ws(), "-t", "out/v", "-C", 1, "-W", 10, "-v").ready()
        run("pub", *self.ws(), "-t", "out/v", "-m", "payload here")
        self.assertEqual(sub.finish(), (0, b"out/v payload here\n"))
        sub = Subscriber(*self.ws(), "-t", "out/n", "-C", 2, "-W", 10, "-N", "-F", "%p,").ready()
        run("pub", *self.ws(), "-t", "out/n", "-m", "a", "-q", 1)
        run("pub", *self.ws(), "-t", "out/n", "-m", "b", "-q", 1)
        self.assertEqual(sub.finish(), (0, b"a,b,"))

    def test_time_fields_and_widths(self):
        sub = Subscriber(*self.ws(), "-t", "out/time", "-C", 1, "-W", 10,
                         "-F", "%I|%U|@Y-@m-@d|[%-8t]|%05l|%.3p").ready()
        run("pub", *self.ws(), "-t", "out/time", "-m", "abcdef")
        code, out = sub.finish()
        self.assertEqual(code, 0)
        iso, unix, date, topic, length, payload = out.decode().rstrip("\n").split("|")
        self.assertRegex(iso, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$")
        self.assertLess(abs(float(unix) - time.time()), 60)
        self.assertEqual(date, time.strftime("%Y-%m-%d"))
        self.assertEqual((topic, length, payload), ("[out/time]", "00006", "abc"))

    def test_json_lines_keep_text_and_binary_payloads(self):
        binary = bytes(range(256)) * 4
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(binary)
        try:
            sub = Subscriber(*self.ws(), "-t", "out/json/#", "-C", 2, "-W", 10, "--json", "-q", 1).ready()
            run("pub", *self.ws(), "-t", "out/json/text", "-m", "h\u00e9llo \"quoted\"", "-q", 1)
            run("pub", *self.ws(), "-t", "out/json/bin", "-f", f.name, "-q", 1, "-r")
            code, out = sub.finish()
        finally:
            os.unlink(f.name)
            run("pub", *self.ws(), "-t", "out/json/bin", "-n", "-r")
        self.assertEqual(code, 0)
        lines = out.decode().splitlines()
        self.assertEqual(len(lines), 2)
        text, data = (json.loads(l) for l in lines)  # every line is one JSON object
        self.assertEqual(text["topic"], "out/json/text")
        self.assertEqual(text["payload"], "h\u00e9llo \"quoted\"")
        self.assertEqual(text["qos"], 1)
        self.assertNotIn("payload_encoding", text)
        self.assertRegex(text["tst"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        self.assertEqual(data["payload_encoding"], "base64")
        self.assertEqual(base64.b64decode(data["payload"]), binary)
        self.assertEqual(data["payloadlen"], len(binary))

    def test_raw_json_payload_is_embedded(self):
        sub = Subscriber(*self.ws(), "-t", "out/J", "-C", 2, "-W", 10, "-F", "%J", "-q", 1).ready()
        run("pub", *self.ws(), "-t", "out/J", "-m", '{"temp": 21.5, "ok": true}', "-q", 1)
        run("pub", *self.ws(), "-t", "out/J", "-m", "plain text", "-q", 1)
        code, out = sub.finish()
        first, second = (json.loads(l) for l in out.decode().splitlines())
        self.assertEqual(first["payload"], {"temp": 21.5, "ok": True})
        self.assertEqual(second["payload"], "plain text")  # not JSON: kept as a string

    def test_base64_specifier(self):
        sub = Subscriber(*self.ws(), "-t", "out/b64", "-C", 1, "-W", 10, "-F", "%b").ready()
        run("pub", *self.ws(), "-t", "out/b64", "-s", input=b"\x00\xffbinary")
        code, out = sub.finish()
        self.assertEqual(base64.b64decode(out.strip()), b"\x00\xffbinary")

    def test_filter_out_hides_matching_topics(self):
        sub = Subscriber(*self.ws(), "-t", "tf/#", "-T", "tf/hidden/#", "-C", 1, "-W", 10, "-v").ready()
        run("pub", *self.ws(), "-t", "tf/hidden/a", "-m", "no", "-q", 1)
        run("pub", *self.ws(), "-t", "tf/shown", "-m", "yes", "-q", 1)
        self.assertEqual(sub.finish(), (0, b"tf/shown yes\n"))

    def test_rate_meter_on_stderr(self):
        # Waits for events, not for seconds: the messages, then a rate line that counted some.
        sub = Subscriber(*self.ws(), "-t", "rate/x", "-W", 60, "--rate", "-F", "%p").ready()
        pub = run("pub", *self.ws(), "-t", "rate/x", "-m", "0123456789", "--repeat", 30, "-q", 1)
        self.assertEqual(pub.returncode, 0, pub.stderr)
        for _ in range(30):
            self.assertEqual(sub.read_line(timeout=20), b"0123456789\n")

        def counted():
            lines = [l for l in sub.stderr_lines if l.startswith("wsmqtt: rate: ")]
            counts = [int(re.match(r"wsmqtt: rate: (\d+) msg/s, (\d+) B/s$", l).group(1)) for l in lines]
            return counts if sum(counts) == 30 else None
        counts = None
        while counts is None and sub.process.poll() is None:  # a rate line comes once a second
            counts = counted()
            time.sleep(0.05)
        sub.signal(signal.SIGTERM)
        self.assertEqual(sub.finish()[0], 0)
        self.assertEqual(sum(counts), 30, sub.stderr_lines)


class Retained(BrokerTestCase):

    def ws(self):
        return self.transport_args("ws")

    def publish_retained(self, topic, payload):
        self.assertEqual(run("pub", *self.ws(), "-t", topic, "-m", payload, "-r", "-q", 1).returncode, 0)

    def test_retained_only_prints_retained_and_stops_at_the_first_live_message(self):
        self.publish_retained("ro/a", "A")
        self.publish_retained("ro/b", "B")
        sub = Subscriber(*self.ws(), "-t", "ro/#", "--retained-only", "-v", "-W", 10).ready()
        time.sleep(0.3)  # let the retained messages arrive first
        run("pub", *self.ws(), "-t", "ro/live", "-m", "L")
        code, out = sub.finish()
        self.assertEqual(code, 0)
        self.assertEqual(sorted(out.splitlines()), [b"ro/a A", b"ro/b B"])

    def test_remove_retained_clears_all_but_filtered_out_topics(self):
        for t in ("rr/a", "rr/b", "rr/keep"):
            self.publish_retained(t, t)
        got = run("sub", *self.ws(), "-t", "rr/#", "--remove-retained", "-T", "rr/keep", "-W", 2, "-v")
        self.assertEqual(got.returncode, 27)
        self.assertEqual(sorted(got.stdout.splitlines()), [b"rr/a rr/a", b"rr/b rr/b"])
        left = run("sub", *self.ws(), "-t", "rr/#", "-W", 1, "-v")
        self.assertEqual(left.stdout, b"rr/keep rr/keep\n")

    def test_no_retained_skips_stale_messages(self):
        self.publish_retained("sr/x", "old")
        sub = Subscriber(*self.ws(), "-t", "sr/x", "-R", "-C", 1, "-W", 10).ready()
        run("pub", *self.ws(), "-t", "sr/x", "-m", "new")
        self.assertEqual(sub.finish(), (0, b"Topic: sr/x | new\n"))


class Sessions(BrokerTestCase):

    def ws(self):
        return self.transport_args("ws")

    def test_exit_after_subscribe_creates_a_persistent_session(self):
        client = f"wsmqtt-e-{os.getpid()}"
        first = run("sub", *self.ws(), "-c", "-i", client, "-q", 1, "-t", "ps/x", "-E")
        self.assertEqual(first.returncode, 0, first.stderr)
        run("pub", *self.ws(), "-t", "ps/x", "-m", "while away", "-q", 1)
        later = run("sub", *self.ws(), "-c", "-i", client, "-q", 1, "-t", "ps/x", "-C", 1, "-W", 10)
        self.assertEqual((later.returncode, later.stdout), (0, b"Topic: ps/x | while away\n"))

    def test_unsubscribe_removes_a_persistent_subscription(self):
        client = f"wsmqtt-u-{os.getpid()}"
        self.assertEqual(run("sub", *self.ws(), "-c", "-i", client, "-q", 1, "-t", "us/x", "-E").returncode, 0)
        gone = run("sub", *self.ws(), "-c", "-i", client, "-U", "us/x")  # -U alone: unsubscribe, exit
        self.assertEqual(gone.returncode, 0, gone.stderr)
        run("pub", *self.ws(), "-t", "us/x", "-m", "nobody listens", "-q", 1)
        later = run("sub", *self.ws(), "-c", "-i", client, "-q", 1, "-t", "us/other", "-W", 1)
        self.assertEqual((later.returncode, later.stdout), (27, b""))

    def test_client_id_prefix(self):
        got = run("sub", *self.ws(), "-I", "probe-", "-t", "idp", "-E", "-d")
        self.assertRegex(got.stderr, r"sent CONNECT \(client id 'probe-\d+'")

    def test_last_will_is_sent_when_the_client_vanishes_not_on_ctrl_c(self):
        watcher = Subscriber(*self.ws(), "-t", "will/+", "-v", "-W", 10, "-C", 1).ready()
        polite = Subscriber(*self.ws(), "-t", "x", "--will-topic", "will/polite", "--will-payload", "bye").ready()
        polite.signal(signal.SIGINT)  # DISCONNECT discards the will [MQTT-3.14.4-3]
        self.assertEqual(polite.finish()[0], 0)
        crash = Subscriber(*self.ws(), "-t", "x", "--will-topic", "will/crash", "--will-payload", "gone").ready()
        crash.kill()
        self.assertEqual(watcher.finish(), (0, b"will/crash gone\n"))

    def test_retained_will_at_qos_1(self):
        crash = Subscriber(*self.ws(), "-t", "x", "--will-topic", "will/kept", "--will-payload", "offline",
                           "--will-qos", 1, "--will-retain").ready()
        crash.kill()
        try:
            # Retained: a subscriber that comes later still learns of it.
            got = run("sub", *self.ws(), "-t", "will/kept", "-C", 1, "-W", 10, "-F", "%q %r %p", "-q", 1)
            self.assertEqual((got.returncode, got.stdout), (0, b"1 1 offline\n"))
        finally:
            run("pub", *self.ws(), "-t", "will/kept", "-n", "-r")


class Publisher(BrokerTestCase):

    def ws(self):
        return self.transport_args("ws")

    def test_lines_blank_lines_and_a_last_line_without_newline(self):
        sub = Subscriber(*self.ws(), "-t", "pl/x", "-C", 3, "-W", 10, "-F", "[%p]", "-q", 1).ready()
        pub = run("pub", *self.ws(), "-t", "pl/x", "-l", "-q", 1, input=b"one\n\nthree")
        self.assertEqual(pub.returncode, 0, pub.stderr)
        # Blank lines are sent as empty messages (mosquitto since 1.6.8).
        self.assertEqual(sub.finish(), (0, b"[one]\n[]\n[three]\n"))

    def test_lines_are_sent_as_they_arrive(self):
        sub = Subscriber(*self.ws(), "-t", "pl/live", "-W", 20, "-F", "%p").ready()
        pub = subprocess.Popen([WSMQTT, "pub", *map(str, self.ws()), "-t", "pl/live", "-l", "-q", "1"],
                               stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        try:
            for line in (b"first", b"second"):
                pub.stdin.write(line + b"\n")
                pub.stdin.flush()
                # Delivered while stdin is still open: nothing waits for the end of input.
                self.assertEqual(sub.read_line(timeout=5), line + b"\n")
            pub.stdin.close()
            self.assertEqual(pub.wait(timeout=10), 0)
        finally:
            if pub.poll() is None:
                pub.kill()
                pub.wait()
            pub.stderr.close()
            sub.signal(signal.SIGTERM)
            sub.finish()

    def test_100000_lines_all_arrive_in_order(self):
        count = 100_000
        lines = b"".join(b"line-%06d\n" % i for i in range(count))
        args = self.transport_args("tcp")
        sub = Subscriber(*args, "-t", "pl/many", "-q", 1, "-C", count, "-W", 120, "-F", "%p").ready()
        pub = run("pub", *args, "-t", "pl/many", "-l", "-q", 1, input=lines, timeout=120)
        self.assertEqual(pub.returncode, 0, pub.stderr)
        code, out = sub.finish(timeout=120)
        self.assertEqual(code, 0)
        self.assertEqual(out, lines)

    def test_lines_over_websocket_at_qos_0(self):
        lines = b"".join(b"ws-%04d\n" % i for i in range(2000))
        sub = Subscriber(*self.ws(), "-t", "pl/ws", "-C", 2000, "-W", 60, "-F", "%p").ready()
        pub = run("pub", *self.ws(), "-t", "pl/ws", "-l", input=lines, timeout=60)
        self.assertEqual(pub.returncode, 0, pub.stderr)
        self.assertEqual(sub.finish(timeout=60), (0, lines))

    def test_topic_separator_sends_each_line_to_its_topic(self):
        sub = Subscriber(*self.ws(), "-t", "sep/#", "-C", 3, "-W", 10, "-v", "-q", 1).ready()
        pub = run("pub", *self.ws(), "-l", "--topic-separator", " ", "-q", 1,
                  input=b"sep/a one\nsep/b two words\nsep/a three\n")
        self.assertEqual(pub.returncode, 0, pub.stderr)
        self.assertEqual(sub.finish(), (0, b"sep/a one\nsep/b two words\nsep/a three\n"))

    def test_topic_separator_skips_bad_lines_and_publishes_the_rest(self):
        # A pipeline's bad line is reported and skipped; its neighbours still go out, and the run
        # ends non-zero, saying how many were skipped.
        sub = Subscriber(*self.ws(), "-t", "sep/#", "-C", 3, "-W", 10, "-v", "-q", 1).ready()
        got = run("pub", *self.ws(), "-l", "--topic-separator", " ", "-q", 1,
                  input=b"sep/a ok\nnoseparator\nsep/+ wild\nsep/b fine\nsep/c last")
        self.assertEqual(got.returncode, 2, got.stderr)
        self.assertEqual(got.stderr.splitlines(), [
            "wsmqtt: warning: line 2 skipped: no topic separator ' '",
            "wsmqtt: warning: line 3 skipped: invalid topic 'sep/+': invalid topic name",
            "wsmqtt: error: 2 lines were skipped (see the warnings above); the others were published",
        ])
        self.assertEqual(sub.finish(), (0, b"sep/a ok\nsep/b fine\nsep/c last\n"))

    def test_max_inflight_1_waits_for_each_acknowledgement(self):
        got = run("pub", "-d", *self.ws(), "-t", "pl/m1", "-l", "-q", 1, "-M", 1, input=b"a\nb\nc\nd\n")
        self.assertEqual(got.returncode, 0, got.stderr)
        flow = [l.split()[1] + " " + l.split()[2] for l in got.stderr.splitlines()
                if "PUBLISH" in l or "PUBACK" in l]
        self.assertEqual(flow, ["sent PUBLISH", "received PUBACK"] * 4)

    def test_repeat_with_delay(self):
        # The spacing is read from the receive times the subscriber prints, not from a clock here.
        sub = Subscriber(*self.ws(), "-t", "rep/x", "-C", 3, "-W", 10, "-F", "%U").ready()
        pub = run("pub", *self.ws(), "-t", "rep/x", "-m", "r", "--repeat", 3, "--repeat-delay", "0.2", "-q", 1)
        self.assertEqual(pub.returncode, 0, pub.stderr)
        code, out = sub.finish()
        self.assertEqual(code, 0)
        times = [float(t) for t in out.split()]
        self.assertEqual(len(times), 3)
        self.assertTrue(all(b - a >= 0.19 for a, b in zip(times, times[1:])), times)

    def test_empty_stdin_with_lines_sends_nothing_and_exits_0(self):
        got = run("pub", *self.ws(), "-t", "pl/empty", "-l", input=b"")
        self.assertEqual((got.returncode, got.stderr), (0, ""))


class ConfigurationSources(BrokerTestCase):

    def test_options_file_and_environment(self):
        with tempfile.TemporaryDirectory() as home:
            os.makedirs(os.path.join(home, "wsmqtt"))
            with open(os.path.join(home, "wsmqtt", "sub.conf"), "w") as f:
                f.write(f"# test broker\n-h 127.0.0.1\n-p {self.port('ws')}\n")
            env = {"XDG_CONFIG_HOME": home}
            sub = run("sub", "-t", "cfg/x", "-E", env=env)
            self.assertEqual(sub.returncode, 0, sub.stderr)
            # The environment beats the file: WSMQTT_PORT points at a closed port.
            closed = run("sub", "-t", "cfg/x", "-E", env={**env, "WSMQTT_PORT": "1"})
            self.assertSingleError(closed, 1, "connection refused to 127.0.0.1:1")
            # The command line beats both.
            ok = run("sub", "-t", "cfg/x", "-E", "-p", self.port("ws"), env={**env, "WSMQTT_PORT": "1"})
            self.assertEqual(ok.returncode, 0, ok.stderr)

    def test_credentials_from_environment_never_printed(self):
        env = {"WSMQTT_USERNAME": USER, "WSMQTT_PASSWORD": PASSWORD}
        got = run("pub", "-d", "-h", "127.0.0.1", "-p", self.port("ws_auth"), "-t", "cfg/auth", "-m", "x",
                  "-q", 1, env=env)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertIn(f"user '{USER}', password ****", got.stderr)
        self.assertNotIn(PASSWORD, got.stderr)

    def test_options_file_given_with_o(self):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write(f"--tcp\n-h 127.0.0.1\n-p {self.port('tcp')}\n-t cfg/o\n")
        try:
            got = run("sub", "-o", f.name, "-E")
        finally:
            os.unlink(f.name)
        self.assertEqual(got.returncode, 0, got.stderr)

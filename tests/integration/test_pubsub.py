"""wsmqtt sub receives what wsmqtt pub sends, over every transport and QoS, via a real mosquitto."""

import os
import select
import signal
import subprocess
import tempfile
import time

from harness import (BrokerTestCase, PASSWORD, USER, WSMQTT, ScriptedBroker, Subscriber, run)

TRANSPORTS = ("ws", "wss", "tcp", "tls")


class PublishSubscribe(BrokerTestCase):

    def test_every_transport_and_qos_delivers_the_topic_line(self):
        for transport in TRANSPORTS:
            for qos in (0, 1, 2):
                with self.subTest(transport=transport, qos=qos):
                    args = self.transport_args(transport)
                    topic = f"it/{transport}/q{qos}"
                    sub = Subscriber(*args, "-t", topic, "-q", qos, "-C", 1, "-W", 10).ready()
                    pub = run("pub", *args, "-t", topic, "-q", qos, "-m", f"hello over {transport}")
                    self.assertEqual(pub.returncode, 0, pub.stderr)
                    self.assertEqual(pub.stderr, "")
                    code, out = sub.finish()
                    self.assertEqual(code, 0, sub.stderr_lines)
                    self.assertEqual(out, f"Topic: {topic} | hello over {transport}\n".encode())

    def test_delivered_qos_is_the_lower_of_publish_and_subscription(self):
        # Both directions of each QoS flow: publisher to broker at one QoS, broker to
        # subscriber at another.
        for sub_qos, pub_qos in ((2, 1), (1, 2), (2, 2), (0, 2), (2, 0)):
            with self.subTest(sub_qos=sub_qos, pub_qos=pub_qos):
                args = self.transport_args("ws")
                sub = Subscriber(*args, "-t", "it/mixed", "-q", sub_qos, "-C", 1, "-W", 10,
                                 "-F", "%q %p").ready()
                pub = run("pub", *args, "-t", "it/mixed", "-q", pub_qos, "-m", "m")
                self.assertEqual(pub.returncode, 0, pub.stderr)
                code, out = sub.finish()
                self.assertEqual(code, 0)
                self.assertEqual(out, f"{min(sub_qos, pub_qos)} m\n".encode())

    def test_qos2_flow_is_complete_on_both_sides(self):
        args = self.transport_args("ws")
        sub = Subscriber(*args, "-t", "it/q2flow", "-q", 2, "-C", 1, "-W", 10).ready()
        pub = run("pub", "-d", *args, "-t", "it/q2flow", "-q", 2, "-m", "x")
        self.assertEqual(pub.returncode, 0)
        sent = [l.split()[2] for l in pub.stderr.splitlines() if l.startswith("wsmqtt: sent")]
        received = [l.split()[2] for l in pub.stderr.splitlines() if l.startswith("wsmqtt: received")]
        self.assertEqual(sent, ["CONNECT", "PUBLISH", "PUBREL", "DISCONNECT"])
        self.assertEqual(received, ["CONNACK", "PUBREC", "PUBCOMP"])
        code, _ = sub.finish()
        self.assertEqual(code, 0)
        sub_sent = [l.split()[2] for l in sub.stderr_lines if l.startswith("wsmqtt: sent")]
        # Delivered on PUBLISH and acknowledged with PUBREC (method A of §4.3.3); -C 1 then ends
        # the run at once, so that nothing it did not print is acknowledged. A persistent
        # session's PUBREL goes to the next run, which answers PUBCOMP.
        self.assertEqual(sub_sent, ["CONNECT", "SUBSCRIBE", "PUBREC", "DISCONNECT"])

    def test_debug_names_the_filters_of_unsubscribe(self):
        args = self.transport_args("ws")
        got = run("sub", "-d", *args, "-c", "-i", "it-unsub-trace", "-U", "it/u1", "-U", "it/u2/+", "-E")
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertIn("wsmqtt: sent UNSUBSCRIBE (id 1, 'it/u1' 'it/u2/+')\n", got.stderr)

    def test_several_messages_arrive_in_order_and_count_stops(self):
        args = self.transport_args("ws")
        sub = Subscriber(*args, "-t", "it/order", "-q", 1, "-C", 3, "-W", 10).ready()
        for i in range(5):
            self.assertEqual(run("pub", *args, "-t", "it/order", "-q", 1, "-m", f"m{i}").returncode, 0)
        code, out = sub.finish()
        self.assertEqual(code, 0)
        self.assertEqual(out, b"Topic: it/order | m0\nTopic: it/order | m1\nTopic: it/order | m2\n")

    def test_wildcard_subscription_and_multiple_topics(self):
        args = self.transport_args("tcp")
        sub = Subscriber(*args, "-t", "it/wild/+/x", "-t", "it/other/#", "-C", 2, "-W", 10, "-v").ready()
        run("pub", *args, "-t", "it/wild/a/x", "-m", "1")
        run("pub", *args, "-t", "it/other/deep/er", "-m", "2")
        code, out = sub.finish()
        self.assertEqual(code, 0)
        self.assertEqual(sorted(out.splitlines()), [b"it/other/deep/er 2", b"it/wild/a/x 1"])

    def test_retained_message_is_delivered_to_a_later_subscriber_and_cleared(self):
        args = self.transport_args("ws")
        self.assertEqual(run("pub", *args, "-t", "it/retained", "-m", "kept", "-r", "-q", 1).returncode, 0)
        got = run("sub", *args, "-t", "it/retained", "-C", 1, "-W", 10, "-F", "%r %p")
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stdout, b"1 kept\n")
        # A retained empty message clears it: a new subscriber then times out.
        self.assertEqual(run("pub", *args, "-t", "it/retained", "-n", "-r", "-q", 1).returncode, 0)
        empty = run("sub", *args, "-t", "it/retained", "-C", 1, "-W", 1)
        self.assertEqual(empty.returncode, 27)
        self.assertEqual(empty.stdout, b"")

    def test_binary_payload_from_a_file_arrives_byte_for_byte(self):
        payload = bytes(range(256)) * 300 + b"\x00end"
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(payload)
        try:
            args = self.transport_args("ws")
            sub = Subscriber(*args, "-t", "it/bin", "-C", 1, "-W", 10, "-F", "%p", "-N").ready()
            pub = run("pub", *args, "-t", "it/bin", "-f", f.name, "-q", 1)
            self.assertEqual(pub.returncode, 0, pub.stderr)
            code, out = sub.finish()
            self.assertEqual(code, 0)
            self.assertEqual(out, payload)
        finally:
            os.unlink(f.name)

    def test_stdin_message_and_hex_output(self):
        args = self.transport_args("ws")
        sub = Subscriber(*args, "-t", "it/stdin", "-C", 1, "-W", 10, "-F", "%l %x").ready()
        pub = run("pub", *args, "-t", "it/stdin", "-s", input=b"\x01\x02\xff")
        self.assertEqual(pub.returncode, 0, pub.stderr)
        self.assertEqual(sub.finish(), (0, b"3 0102ff\n"))

    def test_url_with_credentials_and_path_reaches_the_password_listener(self):
        url = f"ws://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{self.port('ws_auth')}/mqtt"
        sub = Subscriber("-L", url, "-t", "it/auth", "-C", 1, "-W", 10).ready()
        pub = run("pub", "-h", "127.0.0.1", "-p", self.port("ws_auth"), "-u", USER, "-P", PASSWORD,
                  "-t", "it/auth", "-m", "secret stuff", "-q", 1)
        self.assertEqual(pub.returncode, 0, pub.stderr)
        self.assertEqual(sub.finish(), (0, b"Topic: it/auth | secret stuff\n"))

    def test_password_on_plain_tcp_listener(self):
        got = run("pub", "--tcp", "-h", "127.0.0.1", "-p", self.port("tcp_auth"), "-u", USER,
                  "-P", PASSWORD, "-t", "it/tcpauth", "-m", "x")
        self.assertEqual(got.returncode, 0, got.stderr)

    def test_each_message_is_flushed_to_a_pipe_as_it_arrives(self):
        # No -C: the subscriber keeps running, so only flushing can get the line out.
        args = self.transport_args("ws")
        sub = Subscriber(*args, "-t", "it/flush").ready()
        try:
            run("pub", *args, "-t", "it/flush", "-m", "first")
            self.assertEqual(sub.read_line(timeout=5), b"Topic: it/flush | first\n",
                             "no line within 5 s: stdout is not flushed per message")
        finally:
            sub.signal(signal.SIGTERM)
        code, rest = sub.finish()
        self.assertEqual(code, 0)  # SIGTERM: DISCONNECT and exit 0
        self.assertEqual(rest, b"")
        self.assertIn("wsmqtt: sent DISCONNECT", sub.stderr_lines)
        self.assertEqual(sub.errors(), [])

    def test_ctrl_c_sends_disconnect_and_exits_0(self):
        sub = Subscriber(*self.transport_args("wss"), "-t", "it/sigint").ready()
        sub.signal(signal.SIGINT)
        code, _ = sub.finish()
        self.assertEqual(code, 0)
        self.assertIn("wsmqtt: sent DISCONNECT", sub.stderr_lines)

    def test_closed_stdout_ends_quietly(self):
        # Like `wsmqtt sub … | head -1`: the reader leaves after one line.
        args = self.transport_args("ws")
        sub = subprocess.Popen([WSMQTT, "sub", *map(str, args), "-t", "it/head", "-q", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            line = b""
            while not line and time.monotonic() < deadline:
                run("pub", *args, "-t", "it/head", "-m", "one", "-q", 1)
                if select.select([sub.stdout], [], [], 0.5)[0]:
                    line = sub.stdout.readline()
            self.assertEqual(line, b"Topic: it/head | one\n")
            sub.stdout.close()
            for _ in range(20):
                if sub.poll() is not None:
                    break
                run("pub", *args, "-t", "it/head", "-m", "more", "-q", 1)
            _, err = sub.communicate(timeout=10)
        finally:
            if sub.poll() is None:
                sub.kill()
                sub.wait()
        self.assertEqual(sub.returncode, 0)
        self.assertEqual(err, b"")

    def test_timeout_without_messages_exits_27(self):
        got = run("sub", *self.transport_args("ws"), "-t", "it/silence", "-W", 1)
        self.assertSingleError(got, 27, "timed out after 1 s")
        self.assertEqual(got.stdout, b"")

    def test_refused_subscription_is_reported_with_its_filter(self):
        # mosquitto 2.0 grants even ACL-denied filters, so a scripted broker plays the part of
        # one that refuses (EMQX, HiveMQ and mosquitto 2.1 send 0x80). Every filter refused: exit 6.
        broker = ScriptedBroker({1: b"\x20\x02\x00\x00",             # CONNECT -> CONNACK accepted
                                 8: b"\x90\x04{id}\x80\x80"})        # SUBSCRIBE -> SUBACK 0x80, 0x80
        try:
            got = run("sub", "--tcp", "-h", "127.0.0.1", "-p", broker.port, "-t", "denied/x",
                      "-t", "forbidden/x", "-W", 10)
        finally:
            broker.close()
        self.assertSingleError(got, 6, "every subscription refused by the broker: 'denied/x', 'forbidden/x'")
        self.assertEqual(broker.received[:2], [1, 8])

    def test_a_refused_subscription_beside_a_granted_one_is_a_warning(self):
        broker = ScriptedBroker({1: b"\x20\x02\x00\x00",
                                 8: b"\x90\x04{id}\x00\x80",         # SUBACK 0, 0x80
                                 14: ScriptedBroker.HANG_UP})        # DISCONNECT (after -E)
        try:
            got = run("sub", "--tcp", "-h", "127.0.0.1", "-p", broker.port, "-t", "allowed/x",
                      "-t", "forbidden/x", "-E")
        finally:
            broker.close()
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stderr, "wsmqtt: warning: subscription to 'forbidden/x' refused by the broker; the others stand\n")

    def test_mqtt_3_1_is_spoken_when_asked(self):
        args = self.transport_args("ws")
        sub = Subscriber(*args, "-V", "mqttv31", "-t", "it/v31", "-C", 1, "-W", 10).ready()
        pub = run("pub", *args, "-V", "mqttv31", "-t", "it/v31", "-m", "old")
        self.assertEqual(pub.returncode, 0, pub.stderr)
        self.assertEqual(sub.finish(), (0, b"Topic: it/v31 | old\n"))

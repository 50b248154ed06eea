"""Faults with a real mosquitto: restarts in the middle of streams, a frozen broker, a stalled
reader. Nothing may be lost (QoS 1: at least once), nothing may hang, memory stays flat."""

import os
import signal
import subprocess
import threading
import time
import unittest

from harness import ENV, WSMQTT, Broker, Subscriber, run


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class BrokerRestart(unittest.TestCase):

    def setUp(self):
        self.broker = Broker(persistent=True).start()
        self.addCleanup(self.broker.stop)

    def args(self, transport="tcp"):
        if transport == "tcp":
            return ["--tcp", "-h", "127.0.0.1", "-p", self.broker.ports["tcp"]]
        return ["-h", "127.0.0.1", "-p", self.broker.ports["ws"]]

    def test_subscriber_reconnects_and_resubscribes(self):
        sub = Subscriber(*self.args("ws"), "-t", "rc/x", "-q", 1, "-C", 1, "-W", 30).ready()
        self.broker.restart()  # clean session: the broker forgets it, wsmqtt subscribes again
        deadline = time.monotonic() + 15
        while sum(l.startswith("wsmqtt: received SUBACK") for l in sub.stderr_lines) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        run("pub", *self.args("ws"), "-t", "rc/x", "-m", "after the restart", "-q", 1)
        self.assertEqual(sub.finish(timeout=30), (0, b"Topic: rc/x | after the restart\n"))
        notes = [l for l in sub.stderr_lines if "reconnect" in l or "connection lost" in l]
        self.assertRegex(notes[0], r"^wsmqtt: connection closed by the broker; reconnecting in \d+\.\d s$")
        self.assertEqual(notes[-1], "wsmqtt: reconnected")

    def test_no_reconnect_exits_with_the_error(self):
        sub = Subscriber(*self.args("ws"), "-t", "rc/y", "--no-reconnect").ready()
        self.broker.restart()
        code, _ = sub.finish(timeout=15)
        self.assertEqual(code, 1)
        self.assertEqual(sub.errors(), ["wsmqtt: error: connection closed by the broker"])

    def test_100000_lines_survive_a_restart_at_qos_1(self):
        received = self.stream_through_a_restart(100_000, qos=1)
        self.assertEqual(len(set(received)), 100_000)  # every line at least once

    def test_20000_lines_survive_a_restart_at_qos_2(self):
        # At least once. Exactly once cannot hold across this restart: mosquitto 2.0.11 restores
        # its persisted QoS 2 flows a step back and now and then sends a PUBLISH again (same id,
        # DUP=1) after it had sent PUBREL for it, breaking [MQTT-4.3.3-1]; its own log shows it.
        # Exactly once across lost connections is tested below with the broker kept running.
        received = self.stream_through_a_restart(20_000, qos=2)
        self.assertEqual(len(set(received)), 20_000)

    def stream_through_a_restart(self, count, qos):
        """pub -l -c and sub -c at `qos`, the broker restarted mid-stream; returns the lines received."""
        lines = [b"line-%06d" % i for i in range(count)]
        sub = Subscriber(*self.args(), "-t", "fault/lines", "-q", qos, "-c", "-i", f"fault-sub-{qos}", "-F", "%p").ready()
        pub = subprocess.Popen([WSMQTT, "pub", *map(str, self.args()), "-t", "fault/lines", "-l", "-q", str(qos), "-c",
                                "-i", f"fault-pub-{qos}"], stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        writer = threading.Thread(target=lambda: (pub.stdin.write(b"\n".join(lines) + b"\n"), pub.stdin.close()))
        writer.start()
        # Restart in the middle of the stream.
        deadline = time.monotonic() + 60
        while sub._stdout.count(b"\n") < count // 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.broker.restart()
        writer.join(timeout=120)
        self.assertEqual(pub.wait(timeout=120), 0, pub.stderr.read().decode())
        pub.stderr.close()
        deadline = time.monotonic() + 60
        while len(set(bytes(sub._stdout).split(b"\n"))) - 1 < count and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # duplicates, if any, would come now
        sub.signal(signal.SIGTERM)
        code, out = sub.finish(timeout=30)
        received = [l for l in out.split(b"\n") if l]
        missing = set(lines) - set(received)
        self.assertEqual(len(missing), 0, f"{len(missing)} lines lost, e.g. {sorted(missing)[:3]}")
        self.assertTrue(any("reconnected" in l for l in sub.stderr_lines))
        return received


class LostConnections(unittest.TestCase):
    """The broker keeps running while the connections are cut (a relay between us and it is
    killed and started again), so its session state is intact: exactly once must hold."""

    def test_20000_lines_arrive_exactly_once_at_qos_2_across_cut_connections(self):
        from harness import ws_relay
        broker = Broker().start()
        self.addCleanup(broker.stop)
        relay, port = ws_relay(broker.ports["tcp"])
        self.addCleanup(lambda: (relay.poll() is None and relay.terminate(), relay.wait(), relay.stdout.close()))
        args = ["-h", "127.0.0.1", "-p", str(port)]
        count = 20_000
        lines = [b"line-%06d" % i for i in range(count)]
        sub = Subscriber(*args, "-t", "cut/x", "-q", 2, "-c", "-i", "cut-sub", "-F", "%p").ready()
        pub = subprocess.Popen([WSMQTT, "pub", *args, "-t", "cut/x", "-l", "-q", "2", "-c", "-i", "cut-pub"],
                               stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        writer = threading.Thread(target=lambda: (pub.stdin.write(b"\n".join(lines) + b"\n"), pub.stdin.close()))
        writer.start()
        for cut in (count // 5, count // 2):
            deadline = time.monotonic() + 60
            while sub._stdout.count(b"\n") < cut and time.monotonic() < deadline:
                time.sleep(0.02)
            relay.kill()  # both connections die mid-flow
            relay.wait()
            relay.stdout.close()
            relay, _ = ws_relay(broker.ports["tcp"], listen_port=port)
        writer.join(timeout=120)
        self.assertEqual(pub.wait(timeout=120), 0, pub.stderr.read().decode())
        pub.stderr.close()
        deadline = time.monotonic() + 60
        while sub._stdout.count(b"\n") < count and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # a duplicate, if any, would come now
        sub.signal(signal.SIGTERM)
        code, out = sub.finish(timeout=30)
        received = [l for l in out.split(b"\n") if l]
        self.assertEqual(sorted(received), lines, "each line exactly once")
        self.assertGreaterEqual(sum("reconnected" in l for l in sub.stderr_lines), 2)


class FrozenBroker(unittest.TestCase):

    def test_keepalive_detects_a_broker_that_stopped_answering(self):
        broker = Broker().start()
        self.addCleanup(broker.stop)
        sub = Subscriber("--tcp", "-h", "127.0.0.1", "-p", broker.ports["tcp"], "-t", "frozen", "-k", 2,
                         "--no-reconnect").ready()
        broker.process.send_signal(signal.SIGSTOP)
        self.addCleanup(broker.process.send_signal, signal.SIGCONT)
        code, _ = sub.finish(timeout=20)
        # PINGREQ after 2 s idle, then no PINGRESP: the client ends by itself.
        self.assertEqual(code, 1)
        self.assertIn("wsmqtt: sent PINGREQ", sub.stderr_lines)
        self.assertEqual(sub.errors(), [f"wsmqtt: error: no PINGRESP from 127.0.0.1:{broker.ports['tcp']} within the keepalive (2 s)"])


class StalledReader(unittest.TestCase):

    def test_memory_stays_flat_while_stdout_is_stalled(self):
        if os.environ.get("WSMQTT_SANITIZED") == "1":
            self.skipTest("under AddressSanitizer, RSS measures the sanitizer's shadow memory")
        broker = Broker().start()
        self.addCleanup(broker.stop)
        args = ["--tcp", "-h", "127.0.0.1", "-p", broker.ports["tcp"]]
        count = 200_000
        sub = subprocess.Popen([WSMQTT, "sub", *map(str, args), "-t", "stall", "-C", str(count), "-F", "%p",
                                "-i", "stall-sub"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        try:
            deadline = time.monotonic() + 10
            while "stall-sub 0 stall" not in broker.log() and time.monotonic() < deadline:
                time.sleep(0.05)  # mosquitto logs each subscription
            pub = run("pub", *args, "-t", "stall", "-l", input=b"".join(b"%031d\n" % i for i in range(count)), timeout=60)
            self.assertEqual(pub.returncode, 0, pub.stderr)
            # Nobody reads our stdout for 4 s: wsmqtt must wait, not buffer the broker's stream.
            peak = 0
            for _ in range(20):
                time.sleep(0.2)
                peak = max(peak, rss_kib(sub.pid))
            chunks = []
            reader = threading.Thread(target=lambda: chunks.append(sub.stdout.read()))
            reader.start()
            reader.join(timeout=60)
            self.assertEqual(sub.wait(timeout=10), 0)
            out = b"".join(chunks)
        finally:
            if sub.poll() is None:
                sub.kill()
                sub.wait()
            sub.stdout.close()
            sub.stderr.close()
        self.assertEqual(out.count(b"\n"), count)
        self.assertLess(peak, 20 * 1024, f"peak RSS {peak} KiB while stalled")


if __name__ == "__main__":
    unittest.main()


class Interrupted(unittest.TestCase):
    """pub -l delivers what it has read before it exits, or says what was not delivered."""

    def start(self, *args):
        from harness import ScriptedBroker
        self.broker = ScriptedBroker({1: b"\x20\x02\x00\x00"})  # CONNACK, then never a PUBACK
        self.addCleanup(self.broker.close)
        pub = subprocess.Popen([WSMQTT, "pub", "--tcp", "-h", "127.0.0.1", "-p", str(self.broker.port), "-t", "int/x",
                                "-l", "-q", "1", *args], stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        self.addCleanup(lambda: (pub.poll() is None and (pub.kill(), pub.wait()), pub.stderr.close(), pub.stdin.close()))
        pub.stdin.write(b"one\ntwo\nthree\n")
        pub.stdin.flush()
        deadline = time.monotonic() + 10
        while self.broker.received.count(3) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.broker.received.count(3), 3)
        return pub

    def test_first_signal_waits_for_acknowledgements_second_reports_the_loss(self):
        pub = self.start()
        pub.send_signal(signal.SIGINT)
        time.sleep(0.5)
        self.assertIsNone(pub.poll(), "exited without waiting for the acknowledgements")
        pub.send_signal(signal.SIGINT)
        self.assertEqual(pub.wait(timeout=10), 128 + signal.SIGINT)  # as a shell reports it
        self.assertEqual(pub.stderr.read().decode(),
                         "wsmqtt: error: interrupted: 3 messages not acknowledged by the broker\n")

    def test_one_signal_waits_a_moment_only_then_reports_the_loss(self):
        pub = self.start("-k", "60")
        pub.send_signal(signal.SIGTERM)
        self.assertEqual(pub.wait(timeout=10), 128 + signal.SIGTERM)  # not bounded by keepalive
        self.assertEqual(pub.stderr.read().decode(),
                         "wsmqtt: error: interrupted: 3 messages not acknowledged by the broker\n")

    def test_timeout_reports_what_was_not_acknowledged(self):
        pub = self.start("-W", "2")
        self.assertEqual(pub.wait(timeout=10), 27)
        self.assertEqual(pub.stderr.read().decode(),
                         "wsmqtt: error: timed out after 2 s (3 messages not acknowledged by the broker)\n")

    def test_signal_after_everything_was_acknowledged_exits_0(self):
        broker = Broker().start()
        self.addCleanup(broker.stop)
        args = ["--tcp", "-h", "127.0.0.1", "-p", str(broker.ports["tcp"])]
        sub = Subscriber(*args, "-t", "int/ok", "-q", 1, "-C", 3, "-W", 10, "-F", "%p").ready()
        pub = subprocess.Popen([WSMQTT, "pub", *args, "-t", "int/ok", "-l", "-q", "1"], stdin=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=ENV)
        pub.stdin.write(b"a\nb\nc\n")
        pub.stdin.flush()
        self.assertEqual(sub.finish(), (0, b"a\nb\nc\n"))
        pub.send_signal(signal.SIGINT)  # stdin is still open: Ctrl-C is how it ends
        self.assertEqual(pub.wait(timeout=10), 0)
        self.assertEqual(pub.stderr.read(), b"")
        pub.stdin.close()
        pub.stderr.close()

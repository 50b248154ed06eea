"""The built binary at the edges a shell reaches: a full disk, a closed or full stderr, a
persistent session with -C, a broker that announces more than memory allows, WebSocket
frames that are too long. Each was a defect once; each test names the behaviour it keeps."""

import os
import resource
import subprocess
import unittest

from harness import (ENV, WSMQTT, BrokerTestCase, ScriptedBroker, ScriptedWebSocketServer, Subscriber, run)

CONNACK = b"\x20\x02\x00\x00"
SUBACK = b"\x90\x03{id}\x00"


class Output(BrokerTestCase):

    def test_stdout_on_a_full_disk_is_an_error_not_a_quiet_success(self):
        args = self.transport_args("ws")
        with open("/dev/full", "wb") as full:
            sub = subprocess.Popen([WSMQTT, "sub", *map(str, args), "-t", "edge/full", "-W", "10", "-d"],
                                   stdout=full, stderr=subprocess.PIPE, env=ENV)
            # -d: wait for its SUBACK before publishing
            for raw in sub.stderr:
                if raw.startswith(b"wsmqtt: received SUBACK"):
                    break
            self.assertEqual(run("pub", *args, "-t", "edge/full", "-m", "lost?").returncode, 0)
            self.assertEqual(sub.wait(timeout=10), 8)
            rest = sub.stderr.read().decode()
            sub.stderr.close()
        self.assertIn("wsmqtt: error: cannot write to stdout: No space left on device\n", rest)

    def test_diagnostics_into_a_closed_pipe_do_not_stop_the_publish(self):
        # `wsmqtt pub -d … 2>&1 | head -1`: the pipe closes after one line; the publish goes on.
        args = self.transport_args("ws")
        sub = Subscriber(*args, "-t", "edge/stderr", "-C", 1, "-W", 10, "-F", "%p").ready()
        r, w = os.pipe()
        os.close(r)  # the reader has gone before the first diagnostic
        pub = subprocess.run([WSMQTT, "pub", "-d", *map(str, args), "-t", "edge/stderr", "-m", "delivered"],
                             stderr=w, stdout=subprocess.DEVNULL, timeout=15, env=ENV)
        os.close(w)
        self.assertEqual(pub.returncode, 0)
        self.assertEqual(sub.finish(), (0, b"delivered\n"))

    def test_stderr_closed_or_full(self):
        args = self.transport_args("tcp")
        for target in ("closed", "/dev/full"):
            with self.subTest(stderr=target):
                sub = Subscriber(*args, "-t", "edge/err2", "-C", 1, "-W", 10, "-F", "%p").ready()
                if target == "closed":
                    got = subprocess.run(["sh", "-c", f'exec "$0" pub -d "$@" 2>&-', WSMQTT, *map(str, args), "-t",
                                          "edge/err2", "-m", "ok"], timeout=15, env=ENV)
                else:
                    with open(target, "wb") as full:
                        got = subprocess.run([WSMQTT, "pub", "-d", *map(str, args), "-t", "edge/err2", "-m", "ok"],
                                             stderr=full, timeout=15, env=ENV)
                self.assertEqual(got.returncode, 0)
                self.assertEqual(sub.finish(), (0, b"ok\n"))


class PayloadSources(unittest.TestCase):

    def test_a_file_that_cannot_be_read_is_a_usage_error_naming_it_and_nothing_is_sent(self):
        # Read before connecting: the broker address here is never contacted.
        for path, why in (("/tmp", "Is a directory"), ("/nonexistent/m.bin", "No such file or directory")):
            with self.subTest(path=path):
                got = run("pub", "-L", "mqtt://127.0.0.1:1", "-t", "t", "-f", path)
                self.assertEqual(got.returncode, 2)
                self.assertEqual(got.stderr, f"wsmqtt: error: cannot read --file '{path}': {why}\n")


class PersistentSession(BrokerTestCase):

    def test_count_acknowledges_only_what_it_printed(self):
        # Four QoS 1 messages wait in a persistent session; -C 2 takes two, the next run the rest.
        args = self.transport_args("tcp")
        created = run("sub", *args, "-c", "-i", "edge-persist", "-q", 1, "-t", "edge/persist", "-E")
        self.assertEqual(created.returncode, 0, created.stderr)
        for i in range(4):
            self.assertEqual(run("pub", *args, "-q", 1, "-t", "edge/persist", "-m", f"m{i}").returncode, 0)
        first = run("sub", *args, "-c", "-i", "edge-persist", "-q", 1, "-t", "edge/persist", "-C", 2, "-W", 10, "-F", "%p")
        self.assertEqual((first.returncode, first.stdout), (0, b"m0\nm1\n"))
        second = run("sub", *args, "-c", "-i", "edge-persist", "-q", 1, "-t", "edge/persist", "-C", 2, "-W", 10, "-F", "%p")
        self.assertEqual((second.returncode, second.stdout), (0, b"m2\nm3\n"), second.stderr)


class HostileSizes(unittest.TestCase):

    @unittest.skipIf(os.environ.get("WSMQTT_SANITIZED") == "1", "AddressSanitizer reserves more address space than the limit")
    def test_a_256_mib_announcement_under_a_memory_limit_is_not_reserved(self):
        # The broker announces a 256 MiB PUBLISH, sends a little, and hangs up: the client must
        # report the hang-up at once, not die silently in a reservation and sit in CLOSE-WAIT.
        broker = ScriptedBroker({1: CONNACK, 8: SUBACK + b"\x30\xff\xff\xff\x7f\x00\x01t" + b"x" * 1000
                                                 + ScriptedBroker.THEN_CLOSE})
        limit = 150_000 * 1024
        try:
            # -k 0: no keepalive to notice anything; only the broker's FIN can end the run.
            got = subprocess.run([WSMQTT, "sub", "--tcp", "-h", "127.0.0.1", "-p", str(broker.port), "-t", "t",
                                  "-k", "0", "--no-reconnect"],
                                 capture_output=True, timeout=20, env=ENV,
                                 preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
        finally:
            broker.close()
        lines = [l for l in got.stderr.decode().splitlines() if l]
        self.assertEqual(got.returncode, 1, lines)
        self.assertEqual(lines, ["wsmqtt: error: connection closed by the broker"])

    def test_a_websocket_frame_longer_than_the_limit_is_refused_at_once_with_close_1009(self):
        # A frame header announcing 2^62 bytes: refused from the header, not at keepalive.
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: mqtt"],
                                         then=b"\x82\x04" + CONNACK + b"\x82\x7f\x40" + b"\x00" * 7)
        try:
            got = run("sub", "-h", "127.0.0.1", "-p", server.port, "-t", "a", "-k", 60, "--no-reconnect")
        finally:
            server.close()
        lines = [l for l in got.stderr.splitlines() if l]
        self.assertEqual(got.returncode, 5, lines)
        self.assertEqual(lines, ["wsmqtt: error: protocol error: a WebSocket message over 268435461 bytes (--max-packet-size)"])
        self.assertEqual(server.client_closes, [1009])  # our close frame says why, before the TCP close


if __name__ == "__main__":
    unittest.main()

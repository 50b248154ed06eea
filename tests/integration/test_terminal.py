"""Terminal niceties: colour in -d and --rate, progress for large publishes, only on a terminal
(a pseudo-terminal here) and never with NO_COLOR, --no-progress or a pipe."""

import os
import pty
import select
import tempfile
import time

from harness import ENV, WSMQTT, BrokerTestCase, Subscriber, run
import subprocess

ESC = b"\x1b["


def run_on_terminal(*args, env=None, stdin=subprocess.DEVNULL, timeout=20):
    """Runs wsmqtt with stderr on a pseudo-terminal; (exit code, what the terminal got)."""
    master, slave = pty.openpty()
    process = subprocess.Popen([WSMQTT, *map(str, args)], stdin=stdin, stdout=subprocess.DEVNULL, stderr=slave,
                               env={**ENV, **(env or {})})
    os.close(slave)
    screen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other side closed: the process has ended
                break
            if not chunk:
                break
            screen += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(timeout=5), screen


class Terminal(BrokerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.big = tempfile.NamedTemporaryFile(suffix=".bin")
        cls.big.write(os.urandom(3 * 1024 * 1024))
        cls.big.flush()

    @classmethod
    def tearDownClass(cls):
        cls.big.close()
        super().tearDownClass()

    def test_debug_output_is_coloured_on_a_terminal_only(self):
        args = ("pub", *self.transport_args("ws"), "-t", "it/colour", "-m", "x", "-d")
        code, screen = run_on_terminal(*args)
        self.assertEqual(code, 0, screen)
        self.assertIn(b"\x1b[36msent\x1b[0m \x1b[1mCONNECT\x1b[0m", screen)
        self.assertIn(b"\x1b[32mreceived\x1b[0m \x1b[1mCONNACK\x1b[0m", screen)
        # NO_COLOR (any non-empty value) turns it off; so does a pipe.
        code, screen = run_on_terminal(*args, env={"NO_COLOR": "1"})
        self.assertEqual(code, 0, screen)
        self.assertIn(b"sent CONNECT", screen)
        self.assertNotIn(ESC, screen)
        piped = run(*args)
        self.assertIn("sent CONNECT", piped.stderr)
        self.assertNotIn("\x1b", piped.stderr)

    def test_rate_meter_is_coloured_on_a_terminal_only(self):
        args = ("sub", *self.transport_args("ws"), "-t", "it/rate", "--rate", "-W", "2")
        code, screen = run_on_terminal(*args)
        self.assertEqual(code, 27, screen)  # -W 2 ends it
        self.assertRegex(screen, rb"wsmqtt: rate: \x1b\[1m0\x1b\[0m msg/s, \x1b\[1m0\x1b\[0m B/s")
        code, screen = run_on_terminal(*args, env={"NO_COLOR": "yes"})
        self.assertIn(b"wsmqtt: rate: 0 msg/s, 0 B/s", screen)
        self.assertNotIn(ESC, screen)

    def test_a_large_file_shows_progress_on_a_terminal_and_arrives_whole(self):
        for transport in ("ws", "tcp"):
            with self.subTest(transport=transport):
                # Received over TCP: mosquitto 2.0.11's ws listener sends large messages very slowly.
                sub = Subscriber(*self.transport_args("tcp"), "-t", "it/progress", "-C", 1, "-W", 20, "-F", "%l").ready()
                code, screen = run_on_terminal("pub", *self.transport_args(transport), "-t", "it/progress", "-f", self.big.name)
                self.assertEqual(code, 0, screen)
                self.assertIn(b"\r\x1b[Kwsmqtt: 100% 3.0 MiB of 3.0 MiB, 1 message\r\n", screen)
                self.assertRegex(screen, rb"\r\x1b\[Kwsmqtt:  *[0-9]{1,2}% ")  # it moved on the way
                code, out = sub.finish()
                self.assertEqual((code, out), (0, b"3145728\n"), sub.stderr_lines)

    def test_no_progress_for_small_messages_pipes_or_no_progress(self):
        ws = self.transport_args("ws")
        code, screen = run_on_terminal("pub", *ws, "-t", "it/progress", "-m", "small")
        self.assertEqual((code, screen), (0, b""))
        code, screen = run_on_terminal("pub", *ws, "-t", "it/progress", "-f", self.big.name, "--no-progress")
        self.assertEqual((code, screen), (0, b""))
        piped = run("pub", *ws, "-t", "it/progress", "-f", self.big.name)
        self.assertEqual((piped.returncode, piped.stderr), (0, ""))
        # --progress asks for it anywhere: to a pipe, one plain line at a time.
        forced = run("pub", *ws, "-t", "it/progress", "-m", "small", "--progress")
        self.assertEqual(forced.returncode, 0, forced.stderr)
        self.assertEqual(forced.stderr.splitlines()[-1], "wsmqtt: progress: 100% 5 B of 5 B, 1 message")
        self.assertNotIn("\x1b", forced.stderr)

    def test_lines_from_a_file_show_progress_lines_from_a_pipe_do_not(self):
        with tempfile.TemporaryFile() as lines:
            lines.write(b"".join(b"line %d\n" % i for i in range(5000)))
            lines.seek(0)
            size = os.fstat(lines.fileno()).st_size
            sub = Subscriber(*self.transport_args("ws"), "-t", "it/lines", "-C", 5000, "-W", 20, "-q", 1).ready()
            code, screen = run_on_terminal("pub", *self.transport_args("ws"), "-t", "it/lines", "-l", "-q", 1, stdin=lines)
            self.assertEqual(code, 0, screen)
            self.assertIn(f"100% {size / 1024:.1f} KiB of {size / 1024:.1f} KiB, 5000 messages\r\n".encode(), screen)
            code, out = sub.finish()
            self.assertEqual(code, 0, sub.stderr_lines)
            self.assertEqual(out.count(b"\n"), 5000)
        read_end, write_end = os.pipe()
        os.write(write_end, b"one\ntwo\n")
        os.close(write_end)
        code, screen = run_on_terminal("pub", *self.transport_args("ws"), "-t", "it/lines", "-l", stdin=read_end)
        os.close(read_end)
        self.assertEqual((code, screen), (0, b""))  # a pipe has no size: no progress unless --progress

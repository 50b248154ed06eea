"""The browser side: examples/browser (Eclipse Paho JavaScript client) in headless Chromium,
against the test mosquitto's WebSocket listener, talking with wsmqtt both ways."""

import os
import queue
import shutil
import subprocess
import threading
import unittest
import urllib.parse
from pathlib import Path

from harness import BrokerTestCase, Subscriber, run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MISSING = [what for what, there in (("node", shutil.which("node")), ("chromium", os.path.exists(CHROMIUM)),
                                    ("examples/browser/node_modules (npm ci)", (EXAMPLE / "node_modules" / "playwright-core").is_dir()))
           if not there]
# scripts/test installs all of it and sets this: there, a missing piece is a failure, not a skip.
REQUIRED = os.environ.get("WSMQTT_REQUIRE_BROWSER") == "1"


def stop(process):
    """Ends a helper process and closes its pipes."""
    if process.poll() is None:
        process.kill()
    process.wait()
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe:
            pipe.close()


class Lines:
    """The stdout lines of a process, waited for one at a time."""

    def __init__(self, process):
        self.process, self.lines = process, queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None


@unittest.skipIf(MISSING and not REQUIRED, f"not installed: {', '.join(MISSING)}")
class Browser(BrokerTestCase):

    def setUp(self):
        self.assertFalse(MISSING, f"not installed: {', '.join(MISSING)}")
        self.server = subprocess.Popen(["node", EXAMPLE / "serve.mjs", "0"], stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop, self.server)
        first = self.server.stdout.readline().split()
        self.assertEqual(first[0], "listening", first)
        self.page_port = int(first[1])

    def open_page(self, **query):
        url = f"http://127.0.0.1:{self.page_port}/?" + urllib.parse.urlencode(query)
        driver = subprocess.Popen(["node", EXAMPLE / "e2e.mjs", url], cwd=EXAMPLE, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(stop, driver)
        lines = Lines(driver)
        self.driver = driver

        def ask(command, answer, timeout=30):
            if command:
                driver.stdin.write(command + "\n")
                driver.stdin.flush()
            got = lines.next(timeout)
            if got != answer:
                driver.kill()
                self.fail(f"page driver: expected {answer}, got {got}\n{driver.stderr.read()}")
            return got
        return ask

    def test_the_page_shows_what_wsmqtt_pub_sends_and_wsmqtt_sub_prints_what_it_publishes(self):
        ws = self.port("ws")
        ask = self.open_page(broker=f"ws://127.0.0.1:{ws}/mqtt", filter="it/browser/in/#", connect="1")
        ask(None, "READY", timeout=90)  # Chromium starts, the page connects and subscribes

        # Shell to browser, in the line format of wsmqtt sub.
        pub = run("pub", *self.transport_args("ws"), "-t", "it/browser/in/greeting", "-q", 1, "-m", "hello, browser ✓")
        self.assertEqual(pub.returncode, 0, pub.stderr)
        ask("EXPECT Topic: it/browser/in/greeting | hello, browser ✓", "SEEN")

        # Browser to shell.
        sub = Subscriber(*self.transport_args("ws"), "-t", "it/browser/out", "-q", 1, "-C", 1, "-W", 20).ready()
        ask("PUBLISH it/browser/out grüße from the page", "PUBLISHED")
        code, out = sub.finish()
        self.assertEqual(code, 0, sub.stderr_lines)
        self.assertEqual(out.decode(), "Topic: it/browser/out | grüße from the page\n")
        ask("QUIT", None)  # the driver closes Chromium and ends
        self.assertEqual(driver_exit := self.driver.wait(30), 0, driver_exit)


if __name__ == "__main__":
    unittest.main()

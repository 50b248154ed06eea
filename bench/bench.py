#!/usr/bin/env python3
"""wsmqtt against its peers, side by side, on this machine. Run it through bench/run.

Everything talks to 127.0.0.1 only: a mosquitto started here (tcp and ws listeners, unlimited
queues), and bench/ws_relay, a WebSocket front for mosquitto's TCP listener that does not stall
like Debian's ws listener does (../README.md, "Performance"). Each figure is the median of
several runs; the programs alternate inside each run (A B C A B C ...) so that machine noise
hits them alike. CPU is user+system time and peak RSS is ru_maxrss, both from wait4() of the
measured process: no broker or relay distorts them.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WSMQTT = Path(os.environ.get("WSMQTT_BIN", ROOT / "build" / "wsmqtt"))
RELAY = Path(os.environ.get("WS_RELAY_BIN", ROOT / "build" / "tests" / "ws_relay"))
RUSAGE = Path(os.environ.get("RUSAGE_BIN", ROOT / "build" / "tests" / "rusage"))
MQTTJS = ROOT / "bench" / "node_modules" / "mqtt" / "build" / "bin" / "mqtt.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sample:
    wall: float      # seconds
    cpu: float       # user + system seconds
    rss: int         # peak resident set, KiB
    status: int      # exit status (or -signal)


class Measured:
    """A command run through bench/rusage, which reports its CPU time and peak RSS when it ends
    (measured from Python, every program would show Python's peak RSS: see rusage.cpp)."""

    def __init__(self, argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=None):
        self.argv = [str(a) for a in argv]
        fd, self.report = tempfile.mkstemp(prefix="wsmqtt-bench-rusage-")
        os.close(fd)
        self.start = time.perf_counter()
        self.proc = subprocess.Popen([str(RUSAGE), self.report, *self.argv], stdin=stdin, stdout=stdout,
                                     stderr=stderr if stderr is not None else subprocess.PIPE)
        self.sample: Sample | None = None

    def wait(self, timeout: float) -> Sample:
        # A blocking wait, with a watchdog: Popen.wait(timeout) polls with growing sleeps, which
        # added up to 4 ms to a 3 ms run.
        watchdog = threading.Timer(timeout, self.proc.kill)
        watchdog.start()
        self.proc.wait()
        wall = time.perf_counter() - self.start
        watchdog.cancel()
        if not watchdog.is_alive() and self.proc.returncode == -signal.SIGKILL:
            raise RuntimeError(f"timed out after {timeout} s: {' '.join(self.argv)}\n{self.errors()}")
        fields = Path(self.report).read_text().split()
        os.unlink(self.report)
        status, user, system, rss = (int(x) for x in fields)
        self.sample = Sample(wall, (user + system) / 1e6, rss, status)
        return self.sample

    def stop(self, timeout: float = 10) -> Sample:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def errors(self) -> str:
        return self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""

    def check(self, ok=(0,)):
        if self.sample.status not in ok:
            raise RuntimeError(f"exit {self.sample.status}: {' '.join(self.argv)}\n{self.errors()}")


class LineCounter(threading.Thread):
    """Reads a pipe and counts lines (or hands each line to on_line)."""

    def __init__(self, pipe, on_line=None):
        super().__init__(daemon=True)
        self.pipe, self.on_line, self.count = pipe, on_line, 0
        self.changed = threading.Condition()
        self.start()

    def run(self):
        if self.on_line:
            for line in self.pipe:
                self.on_line(line)
                with self.changed:
                    self.count += 1
                    self.changed.notify_all()
        else:
            while chunk := self.pipe.read1(1 << 16):
                with self.changed:
                    self.count += chunk.count(b"\n")
                    self.changed.notify_all()

    def wait_for(self, n: int, timeout: float, idle: float | None = None) -> int:
        """Waits until n lines came, the deadline passed, or nothing came for `idle` seconds."""
        deadline = time.monotonic() + timeout
        with self.changed:
            last, last_change = self.count, time.monotonic()
            while self.count < n and time.monotonic() < deadline:
                self.changed.wait(0.05)
                if self.count != last:
                    last, last_change = self.count, time.monotonic()
                elif idle is not None and time.monotonic() - last_change > idle:
                    break
            return self.count


class Broker:
    """mosquitto on loopback with a TCP and a WebSocket listener, plus the Beast relay."""

    def __init__(self, workdir: Path):
        self.tcp, self.ws = free_port(), free_port()
        self.log = workdir / "mosquitto.log"
        conf = workdir / "mosquitto.conf"
        conf.write_text(f"""
allow_anonymous true
persistence false
max_queued_messages 0
max_inflight_messages 0
log_dest file {self.log}
log_type subscribe
log_type error
user root
listener {self.tcp} 127.0.0.1
listener {self.ws} 127.0.0.1
protocol websockets
socket_domain ipv4
""")
        self.proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for port in (self.tcp, self.ws):
            self._wait_port(port)
        # One WebSocket frame per MQTT packet, as brokers' WebSocket listeners send them.
        self.relay_proc = subprocess.Popen([str(RELAY), "0", str(self.tcp), "--frame-per-packet"], stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL, text=True)
        first = self.relay_proc.stdout.readline().split()
        self.relay = int(first[1])
        # The relay prints one line per closed connection: keep its pipe drained.
        threading.Thread(target=lambda: [None for _ in self.relay_proc.stdout], daemon=True).start()

    @staticmethod
    def _wait_port(port):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on {port}")

    def wait_subscribed(self, client_id: str, timeout: float = 20):
        """mosquitto logs '<client id> <qos> <topic>' once it has processed a SUBSCRIBE."""
        deadline = time.monotonic() + timeout
        needle = f" {client_id} "
        while time.monotonic() < deadline:
            if needle in self.log.read_text(errors="replace"):
                return
            time.sleep(0.005)
        raise RuntimeError(f"{client_id} did not subscribe within {timeout} s")

    def close(self):
        for p in (self.relay_proc, self.proc):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


# ---- the programs -------------------------------------------------------------------------

class Peers:
    """Command lines of each program for each kind of run."""

    def __init__(self, broker: Broker):
        self.b = broker

    def ws_relay(self):
        return f"ws://127.0.0.1:{self.b.relay}/mqtt"

    # One-shot publish: connect, publish one message, disconnect.
    def one_shot(self, topic):
        b = self.b
        rows = {
            "wsmqtt ws (relay)": [WSMQTT, "pub", "-L", self.ws_relay(), "-t", topic, "-m", "hi"],
            "wsmqtt ws (mosquitto's ws listener)": [WSMQTT, "pub", "-L", f"ws://127.0.0.1:{b.ws}/mqtt", "-t", topic, "-m", "hi"],
            "wsmqtt mqtt://": [WSMQTT, "pub", "-L", f"mqtt://127.0.0.1:{b.tcp}", "-t", topic, "-m", "hi"],
            "mosquitto_pub tcp": ["mosquitto_pub", "-h", "127.0.0.1", "-p", b.tcp, "-t", topic, "-m", "hi"],
            "paho_c_pub ws (relay)": ["paho_c_pub", "-c", self.ws_relay(), "-t", topic, "-m", "hi", "--quiet"],
        }
        if MQTTJS.exists():
            rows["MQTT.js ws (relay)"] = ["node", MQTTJS, "pub", "-h", "127.0.0.1", "-p", b.relay, "-C", "ws",
                                         "-t", topic, "-m", "hi"]
        return rows

    def subscriber(self, topic, count, client_id, qos=0, payload_only=False):
        """(argv, counts_itself): the programs that cannot stop after `count` messages are
        stopped by us once their output has `count` lines."""
        b = self.b
        fmt = ["-F", "%p"] if payload_only else []
        return {
            "wsmqtt ws (relay)": ([WSMQTT, "sub", "-L", self.ws_relay(), "-t", topic, "-q", qos, "-C", count,
                                   "-i", client_id, *fmt], True),
            "wsmqtt ws (mosquitto's ws listener)": ([WSMQTT, "sub", "-L", f"ws://127.0.0.1:{b.ws}/mqtt", "-t", topic, "-q", qos,
                                                     "-C", count, "-i", client_id, *fmt], True),
            "wsmqtt mqtt://": ([WSMQTT, "sub", "-L", f"mqtt://127.0.0.1:{b.tcp}", "-t", topic, "-q", qos, "-C", count,
                                "-i", client_id, *fmt], True),
            "mosquitto_sub tcp": (["mosquitto_sub", "-h", "127.0.0.1", "-p", b.tcp, "-t", topic, "-q", qos,
                                   "-C", count, "-i", client_id], True),
            "MQTT.js ws (relay)": (["node", MQTTJS, "sub", "-h", "127.0.0.1", "-p", b.relay, "-l", "ws",
                                    "-t", topic, "-q", qos, "-i", client_id], False),
        }

    def line_publisher(self, topic, qos):
        b = self.b
        rows = {
            "wsmqtt ws (relay)": [WSMQTT, "pub", "-L", self.ws_relay(), "-t", topic, "-q", qos, "-l"],
            "wsmqtt mqtt://": [WSMQTT, "pub", "-L", f"mqtt://127.0.0.1:{b.tcp}", "-t", topic, "-q", qos, "-l"],
            "mosquitto_pub tcp": ["mosquitto_pub", "-h", "127.0.0.1", "-p", b.tcp, "-t", topic, "-q", qos, "-l"],
        }
        # paho_c_pub reads lines from stdin too, but does not exit at the end of its input.
        if MQTTJS.exists():
            rows["MQTT.js ws (relay)"] = ["node", MQTTJS, "pub", "-h", "127.0.0.1", "-p", b.relay, "-C", "ws",
                                         "-t", topic, "-q", qos, "-s", "-M"]
        return rows


# ---- the scenarios ------------------------------------------------------------------------

@dataclass
class Row:
    program: str
    samples: list = field(default_factory=list)   # list[dict]: figure name -> value

    def median(self, key):
        values = [s[key] for s in self.samples if s.get(key) is not None]
        return statistics.median(values) if values else None


class Scenario:
    def __init__(self, title, figures, reference, note=""):
        self.title, self.figures, self.reference, self.note = title, figures, reference, note
        self.rows: dict[str, Row] = {}

    def add(self, program, **values):
        self.rows.setdefault(program, Row(program)).samples.append(values)

    def table(self) -> str:
        ref = self.rows.get(self.reference)
        head = ["program", "runs"] + [f[1] for f in self.figures]
        lines = [f"### {self.title}", ""]
        if self.note:
            lines += [self.note, ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in self.rows.values():
            cells = [row.program, str(len(row.samples))]
            for key, _, unit, better in self.figures:
                v = row.median(key)
                if v is None:
                    cells.append("—")
                    continue
                text = fmt_value(v, unit)
                r = ref.median(key) if ref else None
                if ref is not None and row is not ref and r:
                    text += f" ({v / r:.2f}×)"
                cells.append(text)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        return "\n".join(lines)


def fmt_value(v, unit):
    if unit == "ms":
        return f"{v * 1000:.1f} ms" if v < 10 else f"{v * 1000:.0f} ms"
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "MiB":
        return f"{v / 1024:.1f} MiB"
    if unit == "msg/s":
        return f"{v:,.0f}"
    if unit == "µs":
        if v < 1e-5:
            return f"{v * 1e6:.2f} µs"
        return f"{v * 1e6:.0f} µs" if v < 0.01 else f"{v * 1000:.1f} ms"
    if unit == "count":
        return f"{v:,.0f}"
    return f"{v}"


def one_shot(broker, peers, runs, repeat):
    sc = Scenario("1. One-shot publish (connect, publish 1 message, disconnect)",
                  [("wall", "wall", "ms", "low"), ("cpu", "CPU", "ms", "low"), ("rss", "peak RSS", "MiB", "low")],
                  "mosquitto_pub tcp",
                  f"Median of {runs} × {repeat} runs. The ws rows go through the relay, except the one through "
                  "mosquitto's own ws listener, which answers the upgrade after 100–200 ms whatever the client does.")
    for _ in range(runs):
        for _ in range(repeat):
            for name, argv in peers.one_shot("bench/oneshot").items():
                m = Measured(argv)
                s = m.wait(30)
                m.check()
                sc.add(name, wall=s.wall, cpu=s.cpu, rss=s.rss)
    return sc


def write_lines(path: Path, n: int, size: int):
    body = "x" * (size - 9)
    with path.open("w") as f:
        for i in range(n):
            f.write(f"{i:08d}:{body}\n")   # size bytes of payload per line


def subscriber(broker, peers, runs, n, workdir, paused=False):
    lines = workdir / f"lines-{n}.txt"
    if not lines.exists():
        write_lines(lines, n, 32)
    if paused:
        sc = Scenario(f"2b. Subscriber, the messages waiting: {n:,} × 32-byte QoS 0 messages to /dev/null",
                      [("cpu", "CPU", "s", "low"), ("per_msg", "CPU per message", "µs", "low"), ("rss", "peak RSS", "MiB", "low")],
                      "mosquitto_sub tcp",
                      "As above, but the subscriber is stopped (SIGSTOP) while the publisher runs and continued "
                      "once it is done, so that the messages wait in the broker and the sockets: this is the cost "
                      "of the data path alone. In table 2 a subscriber that keeps up with its broker goes to "
                      "sleep and is woken up over and over, and the kernel's work for each wake-up (not the "
                      "messages) is most of its CPU time. mosquitto's own ws listener still sends the waiting "
                      "messages one socket write each, so that row still pays for a wake-up per message.")
    else:
        sc = Scenario(f"2. Subscriber: {n:,} × 32-byte QoS 0 messages to /dev/null",
                      [("rate", "msg/s", "msg/s", "high"), ("wall", "wall", "s", "low"), ("cpu", "CPU", "s", "low"),
                       ("per_msg", "CPU per message", "µs", "low"), ("rss", "peak RSS", "MiB", "low")],
                      "mosquitto_sub tcp",
                      "The publisher is the same for all (`mosquitto_pub -l` over TCP), started once the subscriber "
                      "is subscribed; wall runs from its start to the subscriber's last message. wsmqtt prints its "
                      "default `Topic: <topic> | <payload>` lines, mosquitto_sub the payload. MQTT.js cannot stop "
                      "after a count: its output goes to a pipe that the benchmark counts. Through mosquitto's own "
                      "ws listener every message comes in a socket write of its own, and the listener is slower "
                      "than its TCP one: the rate there is the broker's.")
    for run in range(runs):
        for name, (argv, counts_itself) in peers.subscriber("bench/sub", n, "x").items():
            if name.startswith("MQTT.js") and (paused or not MQTTJS.exists()):
                continue
            client_id = f"bsub-{run}-{name.split()[0]}-{time.monotonic_ns() % 100000}"
            argv[argv.index("-i") + 1] = client_id
            m = Measured(argv, stdout=subprocess.DEVNULL if counts_itself else subprocess.PIPE)
            counter = None if counts_itself else LineCounter(m.proc.stdout)
            broker.wait_subscribed(client_id)
            if paused: # the program itself, a child of the rusage launcher
                program = int(Path(f"/proc/{m.proc.pid}/task/{m.proc.pid}/children").read_text().split()[0])
                os.kill(program, signal.SIGSTOP)
            start = time.perf_counter()
            with lines.open("rb") as f:
                pub = Measured(["mosquitto_pub", "-h", "127.0.0.1", "-p", broker.tcp, "-t", "bench/sub", "-l"], stdin=f)
                pub.wait(300)
                pub.check()
            if paused:
                time.sleep(0.5) # the broker sends on what it still holds
                os.kill(program, signal.SIGCONT)
            if counts_itself:
                s = m.wait(300)
                m.check()
                got = n
            else:
                got = counter.wait_for(n, 300, idle=10)
                s = m.stop()
            wall = time.perf_counter() - start
            if got != n:
                raise RuntimeError(f"{name} received {got} of {n}")
            if paused:
                sc.add(name, cpu=s.cpu, per_msg=s.cpu / n, rss=s.rss)
            else:
                sc.add(name, rate=n / wall, wall=wall, cpu=s.cpu, per_msg=s.cpu / n, rss=s.rss)
    return sc


def write_json_lines(plain: Path, path: Path):
    """The lines of `plain` as `wsmqtt sub --json` prints them (what `pub --json` reads)."""
    with plain.open() as src, path.open("w") as f:
        for i, line in enumerate(src):
            f.write(json.dumps({"tst": "2026-11-30T00:00:00.000000Z", "topic": "bench/pub", "qos": 0, "retain": False,
                                "payloadlen": len(line) - 1, "payload": line.rstrip("\n")}, separators=(",", ":")) + "\n")


def publisher(broker, peers, runs, n, qos, workdir, mqttjs=True, json_input=False):
    lines = workdir / f"lines-{n}.txt"
    if not lines.exists():
        write_lines(lines, n, 32)
    inputs = {}
    if json_input:
        # pub --json next to pub -l: the same messages, as JSON Lines; the reference is pub -l.
        jsonl = workdir / f"lines-{n}.jsonl"
        write_json_lines(lines, jsonl)
        rows = peers.line_publisher("bench/pub", qos)
        rows = {"wsmqtt pub -l ws (relay)": rows["wsmqtt ws (relay)"],
                "wsmqtt pub --json ws (relay)": [a for a in rows["wsmqtt ws (relay)"] if a not in ("-t", "bench/pub", "-l")] + ["--json"]}
        inputs["wsmqtt pub --json ws (relay)"] = jsonl
        sc = Scenario(f"3b. Publisher: `pub --json` next to `pub -l`, {n:,} lines at QoS {qos}",
                      [("rate", "msg/s", "msg/s", "high"), ("wall", "wall", "s", "low"), ("cpu", "CPU", "s", "low"),
                       ("rss", "peak RSS", "MiB", "low"), ("delivered", "delivered (min)", "count", "high")],
                      "wsmqtt pub -l ws (relay)",
                      "The same messages: plain lines for `pub -l`, JSON Lines as `sub --json` prints them for "
                      "`pub --json` (target: at least half of `pub -l`'s messages per second).")
    else:
        rows = peers.line_publisher("bench/pub", qos)
        sc = Scenario(f"3. Publisher: `pub -l`, {n:,} lines at QoS {qos}",
                      [("rate", "msg/s", "msg/s", "high"), ("wall", "wall", "s", "low"), ("cpu", "CPU", "s", "low"),
                       ("rss", "peak RSS", "MiB", "low"), ("delivered", "delivered (min)", "count", "high")],
                      "mosquitto_pub tcp",
                      "Each publisher reads the lines from a file on stdin. A counting subscriber "
                      f"(mosquitto_sub over TCP at QoS {qos}) checks what arrived; the delivered column is the "
                      "worst run.")
    for run in range(runs):
        for name, argv in rows.items():
            if name.startswith("MQTT.js") and not mqttjs:
                continue
            client_id = f"bcount-{run}-{time.monotonic_ns() % 1000000}"
            counter_proc = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.tcp), "-t", "bench/pub",
                                             "-q", str(qos), "-i", client_id], stdout=subprocess.PIPE)
            counter = LineCounter(counter_proc.stdout)
            broker.wait_subscribed(client_id)
            with inputs.get(name, lines).open("rb") as f:
                m = Measured(argv, stdin=f)
                s = m.wait(600)
                m.check()
            got = counter.wait_for(n, 120, idle=5)
            counter_proc.terminate()
            counter_proc.wait()
            sc.add(name, rate=n / s.wall, wall=s.wall, cpu=s.cpu, rss=s.rss, delivered=got)
    for row in sc.rows.values():
        row.median_delivered = min(x["delivered"] for x in row.samples)
        for x in row.samples:
            x["delivered"] = row.median_delivered
    return sc


def large(broker, peers, runs, size, workdir):
    payload = workdir / "large.bin"
    payload.write_bytes(os.urandom(size))
    mib = size / (1 << 20)
    sc = Scenario(f"4. One {mib:g} MiB message, pub → sub",
                  [("wall", "wall", "s", "low"), ("pub_cpu", "pub CPU", "s", "low"), ("sub_cpu", "sub CPU", "s", "low"),
                   ("pub_rss", "pub peak RSS", "MiB", "low"), ("sub_rss", "sub peak RSS", "MiB", "low")],
                  "mosquitto_pub/sub tcp",
                  "Wall runs from the publisher's start to the subscriber's exit after the message (random "
                  "bytes, written to /dev/null). Not through mosquitto's own ws listener, which sends a 300 kB "
                  "message in seconds.")
    b = broker
    relay = f"ws://127.0.0.1:{b.relay}/mqtt"
    tcp = f"mqtt://127.0.0.1:{b.tcp}"
    programs = {
        "wsmqtt ws (relay)": (lambda cid: [WSMQTT, "sub", "-L", relay, "-t", "bench/large", "-C", 1, "-F", "%p", "-i", cid],
                              [WSMQTT, "pub", "-L", relay, "-t", "bench/large", "-f", payload]),
        "wsmqtt mqtt://": (lambda cid: [WSMQTT, "sub", "-L", tcp, "-t", "bench/large", "-C", 1, "-F", "%p", "-i", cid],
                           [WSMQTT, "pub", "-L", tcp, "-t", "bench/large", "-f", payload]),
        "mosquitto_pub/sub tcp": (lambda cid: ["mosquitto_sub", "-h", "127.0.0.1", "-p", b.tcp, "-t", "bench/large",
                                               "-C", 1, "-i", cid],
                                  ["mosquitto_pub", "-h", "127.0.0.1", "-p", b.tcp, "-t", "bench/large", "-f", payload]),
    }
    for run in range(runs):
        for name, (sub_argv, pub_argv) in programs.items():
            cid = f"blarge-{run}-{time.monotonic_ns() % 1000000}"
            sub = Measured(sub_argv(cid))
            broker.wait_subscribed(cid)
            pub = Measured(pub_argv)
            ps = pub.wait(120)
            pub.check()
            ss = sub.wait(120)
            sub.check()
            sc.add(name, wall=time.perf_counter() - pub.start, pub_cpu=ps.cpu, sub_cpu=ss.cpu,
                   pub_rss=ps.rss, sub_rss=ss.rss)
    return sc


def latency(broker, peers, runs, n, rate):
    sc = Scenario(f"5. End-to-end latency, {n:,} messages at {rate:,}/s",
                  [("p50", "p50", "µs", "low"), ("p99", "p99", "µs", "low"), ("max", "max", "µs", "low")],
                  "mosquitto_sub tcp",
                  "The payload is the send time; the publisher (`mosquitto_pub -l` over TCP, fed one line at a "
                  "time) is the same for all, so the differences are the subscribers'. Each subscriber prints "
                  "the payload alone and the benchmark reads its output as it comes.")
    for run in range(runs):
        for name, (argv, _) in peers.subscriber("bench/lat", n * 10, "x", payload_only=True).items():
            if name.startswith("MQTT.js") and not MQTTJS.exists():
                continue
            cid = f"blat-{run}-{time.monotonic_ns() % 1000000}"
            argv[argv.index("-i") + 1] = cid
            delays = []
            warm = threading.Event()

            def on_line(line):
                if line.strip() == b"warm-up":
                    warm.set()
                else:
                    delays.append(time.monotonic_ns() - int(line))

            sub = Measured(argv, stdout=subprocess.PIPE)
            counter = LineCounter(sub.proc.stdout, on_line=on_line)
            broker.wait_subscribed(cid)
            pub = subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.tcp), "-t", "bench/lat", "-l"],
                                   stdin=subprocess.PIPE)
            # The clock starts once a message has gone through: connecting is not latency.
            deadline = time.monotonic() + 20
            while not warm.wait(0.01) and time.monotonic() < deadline:
                pub.stdin.write(b"warm-up\n")
                pub.stdin.flush()
            start = time.monotonic()
            for i in range(n):
                wake = start + i / rate
                while (now := time.monotonic()) < wake:
                    time.sleep(min(wake - now, 0.0005))
                pub.stdin.write(f"{time.monotonic_ns()}\n".encode())
                pub.stdin.flush()
            pub.stdin.close()
            pub.wait(30)
            deadline = time.monotonic() + 30
            while len(delays) < n and time.monotonic() < deadline:
                time.sleep(0.01)
            sub.stop()  # its count (-C) is out of reach: warm-up lines come first
            got = len(delays)
            if got != n:
                raise RuntimeError(f"{name} received {got} of {n}")
            delays.sort()
            sc.add(name, p50=delays[n // 2] / 1e9, p99=delays[int(n * 0.99)] / 1e9, max=delays[-1] / 1e9)
    return sc


def startup(runs):
    """`--version` and `--help` through hyperfine (no shell), beside mosquitto_pub's help."""
    if not shutil.which("hyperfine"):
        return None
    sc = Scenario("6. Start-up", [("mean", "mean", "µs", "low"), ("min", "min", "µs", "low")],
                  "mosquitto_pub --help",
                  "hyperfine -N (no shell), 20 warm-up runs. mosquitto_pub --help exits 1, hence -i.")
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        commands = {"wsmqtt --version": f"{WSMQTT} --version", "wsmqtt --help": f"{WSMQTT} --help",
                    "wsmqtt pub --help": f"{WSMQTT} pub --help", "mosquitto_pub --help": "mosquitto_pub --help"}
        subprocess.run(["hyperfine", "-N", "-i", "--warmup", "20", "--runs", str(max(runs * 40, 100)),
                        "--style", "none", "--export-json", out.name, *commands.values()],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results = json.load(open(out.name))["results"]
    for name, result in zip(commands, results):
        sc.add(name, mean=result["mean"], min=result["min"])
    return sc


# ---- targets ------------------------------------------------------------------------------

def targets(scenarios) -> list[str]:
    """The issue's targets, checked against this run's medians."""
    out = []

    def ratio(sc, a, b, key):
        if sc is None or a not in sc.rows or b not in sc.rows:
            return None
        x, y = sc.rows[a].median(key), sc.rows[b].median(key)
        return x / y if x is not None and y else None

    def check(label, value, limit, higher_is_better=False):
        if value is None:
            out.append(f"| {label} | not measured | |")
            return
        ok = value >= limit if higher_is_better else value <= limit
        sign = "≥" if higher_is_better else "≤"
        out.append(f"| {label} | {value:.2f} | {sign} {limit} {'✅' if ok else '❌'} |")

    one, sub, pub0, pub1, big = (scenarios.get(k) for k in ("one", "sub", "pub0", "pub1", "large"))
    pubjson = scenarios.get("pubjson")
    # Issue 21's targets, with Beast's WebSocket stream on every ws:// run (every run loads
    # OpenSSL, as mosquitto_pub does through libmosquitto).
    check("one-shot wall, wsmqtt ws (relay) / mosquitto_pub", ratio(one, "wsmqtt ws (relay)", "mosquitto_pub tcp", "wall"), 1.4)
    check("one-shot CPU, wsmqtt ws (relay) / mosquitto_pub", ratio(one, "wsmqtt ws (relay)", "mosquitto_pub tcp", "cpu"), 1.4)
    check("one-shot peak RSS, wsmqtt ws (relay) / mosquitto_pub", ratio(one, "wsmqtt ws (relay)", "mosquitto_pub tcp", "rss"), 1.55)
    check("sub CPU per message, wsmqtt ws (relay) / mosquitto_sub", ratio(sub, "wsmqtt ws (relay)", "mosquitto_sub tcp", "per_msg"), 0.55)
    check("sub CPU per message, wsmqtt ws (mosquitto's ws listener) / mosquitto_sub",
          ratio(sub, "wsmqtt ws (mosquitto's ws listener)", "mosquitto_sub tcp", "per_msg"), 0.75)
    check("sub msg/s, wsmqtt ws (relay) / mosquitto_sub", ratio(sub, "wsmqtt ws (relay)", "mosquitto_sub tcp", "rate"), 0.95, True)
    check("pub -l QoS 0 CPU, wsmqtt ws (relay) / mosquitto_pub", ratio(pub0, "wsmqtt ws (relay)", "mosquitto_pub tcp", "cpu"), 0.5)
    if pub0:
        row = pub0.rows.get("wsmqtt ws (relay)")
        if row:
            least = min(s["delivered"] for s in row.samples)
            out.append(f"| pub -l QoS 0 delivered, wsmqtt ws (relay) (worst run) | {least:,} | all {'✅' if least == pub0.n else '❌'} |")
    check("pub -l QoS 1 msg/s, wsmqtt mqtt:// / mosquitto_pub", ratio(pub1, "wsmqtt mqtt://", "mosquitto_pub tcp", "rate"), 1.0, True)
    check("pub --json msg/s / pub -l msg/s, wsmqtt ws (relay)",
          ratio(pubjson, "wsmqtt pub --json ws (relay)", "wsmqtt pub -l ws (relay)", "rate"), 0.5, True)
    if pub1:
        for name in ("wsmqtt mqtt://", "wsmqtt ws (relay)"):
            row = pub1.rows.get(name)
            if row:
                lost = row.samples[0]["delivered"]
                out.append(f"| pub -l QoS 1 delivered, {name} (worst run) | {lost:,} | all {'✅' if all(s['delivered'] == lost for s in row.samples) and lost == pub1.n else '❌'} |")
    check("large message wall, wsmqtt ws (relay) / wsmqtt mqtt://", ratio(big, "wsmqtt ws (relay)", "wsmqtt mqtt://", "wall"), 2.0)
    check("large message wall, wsmqtt ws (relay) / mosquitto tcp", ratio(big, "wsmqtt ws (relay)", "mosquitto_pub/sub tcp", "wall"), 1.2)
    if big:
        row = big.rows.get("wsmqtt ws (relay)")
        if row:
            worst = max(row.median("pub_rss"), row.median("sub_rss")) * 1024 / big.size
            check("large message peak RSS / payload, wsmqtt ws (relay)", worst, 2.0)
    start = scenarios.get("startup")
    if start:
        # mosquitto_pub loads OpenSSL too (through libmosquitto): the fair yardstick since TLS is
        # in the binary; Debian's libssl binds all its symbols at load, about 1 ms on its own.
        for name in ("wsmqtt --version", "wsmqtt --help"):
            check(f"{name} mean / mosquitto_pub --help", ratio(start, name, "mosquitto_pub --help", "mean"), 2.0)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer runs and messages: under 2 minutes")
    ap.add_argument("--runs", type=int, help="runs per figure (default 5, --quick 1)")
    ap.add_argument("--only", help="comma-separated: one,sub,pub0,pub1,pubjson,large,latency,startup")
    ap.add_argument("--no-mqttjs-pub", action="store_true", help="skip MQTT.js in the pub -l runs (slow)")
    ap.add_argument("--out", help="markdown file (default bench/results/<date>.md; none with --quick or --only)")
    args = ap.parse_args()
    runs = args.runs or (1 if args.quick else 5)
    q = args.quick
    sizes = dict(sub=50_000 if q else 200_000, pub0=30_000 if q else 100_000, pub1=20_000 if q else 60_000,
                 large=(4 if q else 16) << 20, lat=500 if q else 2000, rate=1000, oneshot_repeat=3 if q else 4)
    only = set(args.only.split(",")) if args.only else None

    def wanted(k):
        return only is None or k in only or k.split("_")[0] in only

    for tool in ("mosquitto", "mosquitto_pub", "mosquitto_sub", "paho_c_pub"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing (bench/run installs it)")
    for binary in (WSMQTT, RELAY, RUSAGE):
        if not binary.exists():
            sys.exit(f"bench: {binary} is missing (bench/run builds it)")

    started = time.monotonic()
    scenarios = {}
    with tempfile.TemporaryDirectory(prefix="wsmqtt-bench-") as tmp:
        workdir = Path(tmp)
        broker = Broker(workdir)
        peers = Peers(broker)
        try:
            steps = [
                ("one", lambda: one_shot(broker, peers, runs, sizes["oneshot_repeat"])),
                ("sub", lambda: subscriber(broker, peers, runs, sizes["sub"], workdir)),
                ("sub_waiting", lambda: subscriber(broker, peers, runs, sizes["sub"], workdir, paused=True)),
                ("pub0", lambda: publisher(broker, peers, runs, sizes["pub0"], 0, workdir, not args.no_mqttjs_pub)),
                ("pub1", lambda: publisher(broker, peers, runs, sizes["pub1"], 1, workdir, not args.no_mqttjs_pub)),
                ("pubjson", lambda: publisher(broker, peers, runs, sizes["pub0"], 0, workdir, json_input=True)),
                ("large", lambda: large(broker, peers, runs, sizes["large"], workdir)),
                ("latency", lambda: latency(broker, peers, runs, sizes["lat"], sizes["rate"])),
                ("startup", lambda: startup(runs)),
            ]
            for key, step in steps:
                if not wanted(key):
                    continue
                t = time.monotonic()
                print(f"bench: {key} ...", file=sys.stderr, flush=True)
                sc = step()
                if sc is None:
                    continue
                if key in ("pub0", "pub1"):
                    sc.n = sizes[key]
                if key == "large":
                    sc.size = sizes["large"]
                scenarios[key] = sc
                print(sc.table(), file=sys.stderr)
                print(f"bench: {key} took {time.monotonic() - t:.0f} s", file=sys.stderr, flush=True)
        finally:
            broker.close()

    version = subprocess.run([WSMQTT, "--version"], capture_output=True, text=True).stdout.strip()
    mosq = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout.splitlines()[0]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    report = [f"# wsmqtt benchmark, {datetime.date.today()}", "",
              f"{version}; {mosq}; {os.cpu_count()} × {cpu}; {platform.platform()}.",
              f"`bench/run{' --quick' if q else ''}` — medians of {runs} run(s); ratios in brackets are against "
              "mosquitto's clients over TCP. Took "
              f"{time.monotonic() - started:.0f} s.", ""]
    for sc in scenarios.values():
        report.append(sc.table())
    report += ["### Targets", "", "| target | this run | limit |", "|---|---|---|", *targets(scenarios), ""]
    text = "\n".join(report)
    print(text)
    # Only a full run is a result to keep; --quick and --only print.
    out = args.out or (None if q or only else ROOT / "bench" / "results" / f"{datetime.date.today()}.md")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text)
        print(f"bench: wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

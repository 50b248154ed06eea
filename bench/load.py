#!/usr/bin/env python3
"""wsmqtt bench's own targets (issue 22), measured against a throwaway mosquitto on 127.0.0.1:

  memory    RSS per idle connection: the slope between 1,000 and 10,000 connections, ws and tcp
            (and, with no target, between 200 and 1,000 over mqtts and wss)
  portwall  3,000 connections from one process to one port with --bind over three addresses,
            in a private network namespace (unshare -n) whose ip_local_port_range has 1,000 ports
  cpu       CPU time per published QoS 0 message, 100 clients at the broker's limit, tcp and ws
  stall     the broker SIGSTOPped for 1 s in a 1,000 msg/s QoS 1 run: p99 must show it (>= 0.8 s)

Prints a markdown table and writes it to --out. Usage: bench/load [--only memory,cpu,...] [--out FILE]
"""

import argparse
import datetime
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WSMQTT = os.environ.get("WSMQTT_BIN") or os.path.join(HERE, "..", "build", "wsmqtt")
FD_LIMIT = resource.getrlimit(resource.RLIMIT_NOFILE)[1]

# What the issue measured for emqtt-bench 0.6.2 on this machine, for the comparison.
EMQTT_BENCH = {"ws_kib": 37, "tcp_kib": 12, "cpu_us": 9}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


class Mosquitto:
    def __init__(self, tcp_port=None, ws_port=None, tls=False):
        self.dir = tempfile.mkdtemp(prefix="wsmqtt-load-")
        self.tcp = tcp_port or free_port()
        self.ws = ws_port or free_port()
        ports = [self.tcp, self.ws]
        conf = os.path.join(self.dir, "m.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.tcp} 127.0.0.1\nallow_anonymous true\n"
                    f"listener {self.ws} 127.0.0.1\nprotocol websockets\nsocket_domain ipv4\nallow_anonymous true\n"
                    "max_queued_messages 0\npersistence false\nlog_dest none\n")
            if tls:
                # A self-signed certificate for localhost, readable by the user mosquitto runs as.
                self.cert, key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
                subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", self.cert,
                                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-days", "2"],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                os.chmod(key, 0o644)
                os.chmod(self.dir, 0o755)
                self.tls, self.wss = free_port(), free_port()
                ports += [self.tls, self.wss]
                files = f"cafile {self.cert}\ncertfile {self.cert}\nkeyfile {key}\n"
                f.write(f"listener {self.tls} 127.0.0.1\n{files}"
                        f"listener {self.wss} 127.0.0.1\nprotocol websockets\nsocket_domain ipv4\n{files}")
        self.process = subprocess.Popen(["mosquitto", "-c", conf], preexec_fn=raise_fd_limit,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        for port in ports:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("mosquitto did not start")
                    time.sleep(0.05)

    def args(self, transport):
        return {"tcp": lambda: ["--tcp", "-h", "127.0.0.1", "-p", str(self.tcp)],
                "ws": lambda: ["-h", "127.0.0.1", "-p", str(self.ws)],
                "tls": lambda: ["--tcp", "--tls", "-h", "localhost", "-p", str(self.tls), "--cafile", self.cert],
                "wss": lambda: ["-h", "localhost", "-p", str(self.wss), "--cafile", self.cert]}[transport]()

    def stop(self):
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        self.process.wait(timeout=10)


class Bench:
    """wsmqtt bench in the background, its stderr lines collected."""

    def __init__(self, *args):
        self.process = subprocess.Popen([WSMQTT, "bench", *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        preexec_fn=raise_fd_limit)
        self.lines = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.process.stderr:
            with self.changed:
                self.lines.append(raw.decode(errors="replace").rstrip())
                self.changed.notify_all()

    def wait_for(self, text, timeout):
        with self.changed:
            if not self.changed.wait_for(lambda: any(text in l for l in self.lines), timeout):
                raise RuntimeError(f"no {text!r} within {timeout} s:\n" + "\n".join(self.lines[-5:]))

    def finish(self, timeout=120):
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        return self.process.returncode, usage


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def idle_rss(broker, transport, clients):
    b = Bench("conn", *broker.args(transport), "-c", clients, "-R", 2000)
    b.wait_for(f"conn {clients}", timeout=clients / 100 + 30)
    time.sleep(1)  # settle: the last CONNACKs handled
    rss = rss_kib(b.process.pid)
    b.process.send_signal(signal.SIGINT)
    b.finish()
    return rss


def memory(rows):
    broker = Mosquitto(tls=True)
    try:
        for transport in ("tcp", "ws"):
            low, high = idle_rss(broker, transport, 1000), idle_rss(broker, transport, 10000)
            slope = (high - low) / 9000
            rows.append((f"idle {transport} connection (RSS slope 1k → 10k)", f"{slope:.1f} KiB", "≤ 3 KiB",
                         f"{EMQTT_BENCH[transport + '_kib']} KiB", f"{low / 1024:.1f} MiB at 1k, {high / 1024:.1f} MiB at 10k; "
                         f"1M connections ≈ {slope * 1e6 / 1024 / 1024:.1f} GiB"))
        # TLS: no target; the TLS handshakes make 10,000 slow here, so 200 → 1,000.
        for transport, name in (("tls", "mqtts"), ("wss", "wss")):
            low, high = idle_rss(broker, transport, 200), idle_rss(broker, transport, 1000)
            slope = (high - low) / 800
            rows.append((f"idle {name} connection (RSS slope 200 → 1k)", f"{slope:.0f} KiB", "—", "—",
                         f"{low / 1024:.1f} MiB at 200, {high / 1024:.1f} MiB at 1k"))
    finally:
        broker.stop()


def cpu(rows):
    broker = Mosquitto()
    try:
        for transport in ("tcp", "ws"):
            out = os.path.join(broker.dir, f"cpu-{transport}.json")
            b = Bench("pub", *broker.args(transport), "-c", 100, "-t", "cpu/%i", "-L", 1_000_000, "--rate", 2_000_000, "--quiet",
                      "--summary-json", out)
            code, usage = b.finish()
            with open(out) as f:
                s = json.load(f)
            us = (usage.ru_utime + usage.ru_stime) / s["published"] * 1e6
            rows.append((f"CPU a QoS 0 message, 100 clients, {transport}", f"{us:.2f} µs", "≤ 1.5 µs", f"{EMQTT_BENCH['cpu_us']} µs",
                         f"{s['published'] / s['seconds']:,.0f} msg/s, exit {code}, peak RSS {usage.ru_maxrss / 1024:.0f} MiB"))
    finally:
        broker.stop()


def stall(rows):
    broker = Mosquitto()
    try:
        out = os.path.join(broker.dir, "stall.json")
        b = Bench("pub", *broker.args("tcp"), "-c", 10, "-t", "stall/%i", "-q", 1, "--rate", 1000, "-L", 6000, "--summary-json", out)
        b.wait_for("s  conn 10  pub", timeout=10)
        time.sleep(1)
        broker.process.send_signal(signal.SIGSTOP)
        time.sleep(1)
        broker.process.send_signal(signal.SIGCONT)
        code, _ = b.finish()
        with open(out) as f:
            s = json.load(f)
        p = s["publish"]
        rows.append(("p99 with the broker stopped 1 s (1,000 msg/s QoS 1)", f"{p['p99'] / 1e6:.3f} s", "≥ 0.8 s", "a few ms (from the send)",
                     f"p50 {p['p50'] / 1e3:.1f} ms, p99.9 {p['p99.9'] / 1e6:.3f} s, max {p['max'] / 1e6:.3f} s; "
                     f"{s['acked']} of {s['published']} acked, {s['overrun']} sent late; exit {code}"))
    finally:
        broker.stop()


def portwall_inside():
    """In the private namespace: 1,000 local ports, then 3,000 connections with and without --bind."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
        f.write("40000 40999")
    broker = Mosquitto(tcp_port=1883, ws_port=8080)  # outside the range: every one of its 1,000 ports is for clients
    result = {}
    try:
        for name, extra in (("bind", ["--bind", "127.0.0.1,127.0.0.2,127.0.0.3"]), ("plain", [])):
            out = os.path.join(broker.dir, f"{name}.json")
            b = Bench("conn", *broker.args("tcp"), "-c", 3000, "-R", 3000, "--duration", 6, "--quiet", "--summary-json", out, *extra)
            code, _ = b.finish()
            with open(out) as f:
                s = json.load(f)
            result[name] = {"connected": s["connected"], "failed": s["connect_failed"], "exit": code, "peak": s["peak_connections"]}
    finally:
        broker.stop()
    print(json.dumps(result))


def portwall(rows):
    if os.geteuid() != 0:
        rows.append(("3,000 connections past a 1,000-port wall", "not run", "3,000", "—", "needs root for unshare -n"))
        return
    r = subprocess.run(["unshare", "-n", sys.executable, __file__, "--portwall-inside"], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    result = json.loads(r.stdout.strip().splitlines()[-1])
    rows.append(("connections to one port, 1,000 local ports, --bind over 3 addresses", f"{result['bind']['peak']:,}", "3,000", "—",
                 f"without --bind: {result['plain']['peak']:,} connected, {result['plain']['failed']:,} failed (exit "
                 f"{result['plain']['exit']}); with it: exit {result['bind']['exit']}"))


def main():
    if "--portwall-inside" in sys.argv:
        portwall_inside()
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="memory,portwall,cpu,stall")
    parser.add_argument("--out", default=os.path.join(HERE, "results", f"{datetime.date.today()}-bench.md"))
    args = parser.parse_args()
    rows = []
    for name in args.only.split(","):
        print(f"==> {name}", file=sys.stderr)
        globals()[name](rows)
    table = ["| figure | wsmqtt bench | target | emqtt-bench 0.6.2 (issue 22) | notes |", "|---|---|---|---|---|"]
    table += [f"| {' | '.join(r)} |" for r in rows]
    text = (f"# wsmqtt bench on {datetime.date.today()} ({os.cpu_count()} cores, mosquitto on 127.0.0.1)\n\n"
            f"`bench/load --only {args.only}`\n\n" + "\n".join(table) + "\n")
    print(text)
    with open(args.out, "a") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()

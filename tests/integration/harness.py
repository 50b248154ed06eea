"""Test harness: a throwaway mosquitto on free loopback ports, and helpers to run wsmqtt.

The broker gets plain TCP, TLS, WebSocket and secure WebSocket listeners, listeners that need a
password, and a TLS listener whose certificate names another host. Certificates come from a
test CA made with openssl when the broker starts. Everything listens on 127.0.0.1 only.
"""

import base64
import getpass
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

WSMQTT = os.environ.get("WSMQTT_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "wsmqtt")

# wsmqtt runs without the developer's options file or WSMQTT_* variables.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("WSMQTT_")}
ENV["XDG_CONFIG_HOME"] = "/nonexistent/wsmqtt-tests"

USER, PASSWORD = "alice", "s3cret pass"
READER, READER_PASSWORD = "reader", "readonly"


def free_port():
    return free_ports(1)[0]


def free_ports(count):
    """Ports nothing listens on now, distinct from each other (held open until all are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_for_port(port, deadline):
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"mosquitto did not listen on port {port}")


def terminate(process):
    """SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certificates(folder):
    """A test CA, a server certificate for localhost/127.0.0.1, and one for another name."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=wsmqtt test CA", cwd=folder)

    def server_cert(name, san):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}", cwd=folder)
        with open(os.path.join(folder, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n")
        args = ["x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-extfile", f"{name}.ext"]
        openssl(*args, "-days", "2", cwd=folder)

    server_cert("server", "DNS:localhost,IP:127.0.0.1")
    server_cert("wrongname", "DNS:wrong.example")
    # Expired yesterday: -days -1 puts the end before the start.
    openssl("req", *ec, "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=localhost", cwd=folder)
    openssl("x509", "-req", "-in", "expired.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "expired.pem", "-days", "-1", "-extfile", "server.ext", cwd=folder)
    # A client certificate from the test CA, its key also encrypted, and one from a foreign CA.
    server_cert("client", "DNS:client.example")
    openssl("pkey", "-in", "client.key", "-out", "client-encrypted.key", "-aes256", "-passout", "pass:keypass", cwd=folder)
    openssl("req", "-x509", *ec, "-keyout", "foreign-ca.key", "-out", "foreign-ca.pem", "-days", "2",
            "-subj", "/CN=foreign CA", cwd=folder)
    openssl("req", *ec, "-keyout", "foreign.key", "-out", "foreign.csr", "-subj", "/CN=foreign", cwd=folder)
    openssl("x509", "-req", "-in", "foreign.csr", "-CA", "foreign-ca.pem", "-CAkey", "foreign-ca.key",
            "-CAcreateserial", "-out", "foreign.pem", "-days", "2", cwd=folder)
    # A hashed CA folder for --capath.
    os.makedirs(os.path.join(folder, "capath"))
    shutil.copy(os.path.join(folder, "ca.pem"), os.path.join(folder, "capath", "ca.pem"))
    openssl("rehash", "capath", cwd=folder)


class Broker:
    """mosquitto with every listener the tests need, in its own temporary folder."""

    LISTENERS = ("tcp", "ws", "wss", "tls", "ws_auth", "tcp_auth", "wss_wrongname", "wss_expired",
                 "wss_clientcert", "tls_clientcert")

    def __init__(self, persistent=False):
        self.dir = tempfile.mkdtemp(prefix="wsmqtt-test-")
        self.ports = {}
        self.process = None
        self.persistent = persistent  # sessions and queued messages survive restart()

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self):
        """Starts mosquitto. Another test run may take a chosen port first: then mosquitto
        exits at once, and it is started again on other ports."""
        make_certificates(self.dir)
        for attempt in range(5):
            self.ports = dict(zip(self.LISTENERS, free_ports(len(self.LISTENERS))))
            if self._launch_and_wait():
                return self
        self.stop()
        raise RuntimeError("mosquitto did not start:\n" + self.log())

    def restart(self):
        """Stops mosquitto (SIGTERM: it saves its state when persistent) and starts it again on
        the same ports."""
        terminate(self.process)
        self.process.stderr.close()
        for attempt in range(50):  # the ports may linger for a moment
            if self._launch_and_wait():
                return
            time.sleep(0.1)
        raise RuntimeError("mosquitto did not restart:\n" + self.log())

    def _launch_and_wait(self):
        self._launch()
        # mosquitto logs "running" once every listener is bound; it exits if one is not.
        deadline = time.monotonic() + 10
        while self.process.poll() is None and " running" not in self.log():
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if self.process.poll() is None and " running" in self.log():
            for port in self.ports.values():
                wait_for_port(port, deadline)
            return True
        self.process.wait()
        self.process.stderr.close()
        return False

    def _launch(self):
        if os.path.exists(self.path("mosquitto.log")):
            os.unlink(self.path("mosquitto.log"))
        subprocess.run(["mosquitto_passwd", "-b", "-c", self.path("passwd"), USER, PASSWORD],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["mosquitto_passwd", "-b", self.path("passwd"), READER, READER_PASSWORD],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(self.path("acl"), "w") as f:
            f.write(f"user {USER}\ntopic readwrite #\n\nuser {READER}\ntopic read allowed/#\n")
        p = self.ports
        tls = (f"cafile {self.path('ca.pem')}\ncertfile {self.path('server.pem')}\n"
               f"keyfile {self.path('server.key')}\n")
        # A WebSocket listener binds every interface unless socket_domain is set (mosquitto 2.0.11).
        ws = "protocol websockets\nsocket_domain ipv4\n"
        auth = (f"allow_anonymous false\npassword_file {self.path('passwd')}\n"
                f"acl_file {self.path('acl')}\n")
        config = f"""
per_listener_settings true
user {getpass.getuser()}
{f"persistence true{chr(10)}persistence_location {self.dir}/" if self.persistent else "persistence false"}
max_queued_messages 0
log_dest file {self.path('mosquitto.log')}
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe

listener {p['tcp']} 127.0.0.1
allow_anonymous true

listener {p['ws']} 127.0.0.1
{ws}allow_anonymous true

listener {p['wss']} 127.0.0.1
{ws}{tls}allow_anonymous true

listener {p['tls']} 127.0.0.1
{tls}allow_anonymous true

listener {p['ws_auth']} 127.0.0.1
{ws}{auth}
listener {p['tcp_auth']} 127.0.0.1
{auth}
listener {p['wss_wrongname']} 127.0.0.1
{ws}certfile {self.path('wrongname.pem')}
keyfile {self.path('wrongname.key')}
allow_anonymous true

listener {p['wss_expired']} 127.0.0.1
{ws}certfile {self.path('expired.pem')}
keyfile {self.path('expired.key')}
allow_anonymous true

listener {p['wss_clientcert']} 127.0.0.1
{ws}{tls}require_certificate true
allow_anonymous true

listener {p['tls_clientcert']} 127.0.0.1
{tls}require_certificate true
allow_anonymous true
"""
        with open(self.path("mosquitto.conf"), "w") as f:
            f.write(config)
        self.process = subprocess.Popen(["mosquitto", "-c", self.path("mosquitto.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self):
        if self.process:
            terminate(self.process)
        if self.process and self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(self.path("mosquitto.log")) as f:
                return f.read()
        except OSError:
            return ""


def run(*args, input=None, timeout=15, env=None):
    """Runs wsmqtt to completion; stdout as bytes, stderr as text."""
    result = subprocess.run([WSMQTT, *map(str, args)], input=input, capture_output=True,
                            timeout=timeout, env={**ENV, **(env or {})})
    result.stderr = result.stderr.decode("utf-8", "replace")
    return result


class Subscriber:
    """A `wsmqtt sub -d …` in the background; ready() returns once its SUBACK arrived.

    Threads drain stdout and stderr so that the process never blocks on a full pipe.
    """

    def __init__(self, *args):
        self.process = subprocess.Popen([WSMQTT, "sub", "-d", *map(str, args)], env=ENV,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stderr_lines = []
        self._stdout = bytearray()
        self._stdout_changed = threading.Condition()
        self._subscribed = threading.Event()
        self._threads = [threading.Thread(target=self._read_stderr, daemon=True),
                         threading.Thread(target=self._read_stdout, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_stderr(self):
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.stderr_lines.append(line)
            if line.startswith("wsmqtt: received SUBACK"):
                self._subscribed.set()

    def _read_stdout(self):
        fd = self.process.stdout.fileno()
        while chunk := os.read(fd, 65536):
            with self._stdout_changed:
                self._stdout += chunk
                self._stdout_changed.notify_all()

    def ready(self, timeout=10):
        if not self._subscribed.wait(timeout):
            self.kill()
            raise AssertionError("subscriber never got its SUBACK:\n" + "\n".join(self.stderr_lines))
        return self

    def read_line(self, timeout=5):
        """The first line of output, waiting for it while the process runs; None if none came."""
        with self._stdout_changed:
            self._stdout_changed.wait_for(lambda: b"\n" in self._stdout, timeout)
            if b"\n" not in self._stdout:
                return None
            end = self._stdout.index(b"\n") + 1
            line = bytes(self._stdout[:end])
            del self._stdout[:end]
            return line

    def finish(self, timeout=15):
        """Waits for exit; returns (exit code, everything written to stdout not yet read)."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        self._close_pipes()
        return self.process.returncode, bytes(self._stdout)

    def _close_pipes(self):
        for t in self._threads:
            t.join(timeout=5)
        self.process.stdout.close()
        self.process.stderr.close()

    def signal(self, signum=signal.SIGTERM):
        self.process.send_signal(signum)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_pipes()

    def errors(self):
        return [l for l in self.stderr_lines if l.startswith("wsmqtt: error:")]


class Background:
    """A command in the background (wsmqtt bench, srun, mpirun) whose stderr lines are collected
    as they come, so that a test waits for a line, not for the clock."""

    def __init__(self, argv, env=None, preexec_fn=None):
        self.process = subprocess.Popen([str(a) for a in argv], env=env or ENV, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, preexec_fn=preexec_fn)
        self.lines = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.process.stderr:
            with self._changed:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, text, count=1, timeout=60):
        """Returns once `count` lines contain `text`; the timeout only bounds a failure."""
        def seen():
            return sum(text in l for l in self.lines)
        with self._changed:
            self._changed.wait_for(lambda: seen() >= count or self.process.poll() is not None, timeout)
            if seen() < count:
                self.process.kill()
                raise AssertionError(f"not {count} lines with {text!r}:\n" + "\n".join(self.lines))
        return self

    def finish(self, timeout=120):
        """Waits for the exit; returns the exit code."""
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._reader.join(timeout=5)
            self.process.stderr.close()


class OneConnectionServer:
    """A loopback server that accepts one connection and hands it to handle(conn)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.server.settimeout(15)
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(15)
            try:
                self.handle(conn)
            except OSError:
                pass

    def handle(self, conn):
        raise NotImplementedError

    def close(self):
        self.server.close()
        self.thread.join(timeout=5)


class ScriptedBroker(OneConnectionServer):
    """A one-connection MQTT broker over plain TCP that answers from a script.

    Only for what a real mosquitto 2.0 will not do (it grants every subscription, so it
    never sends SUBACK 0x80). `answers` maps a packet type received to the bytes to send
    back; "{id}" in an answer is replaced by the packet identifier received.
    """

    HANG_UP = b"hang up"  # an answer that closes the connection instead
    THEN_CLOSE = b"\0then close"  # at the end of an answer: send the rest, then close

    def __init__(self, answers):
        self.answers = answers
        self.received = []  # packet types, in order
        self.packets = []   # whole packets as bytes, in order
        super().__init__()

    def handle(self, conn):
        buffer = b""
        while data := conn.recv(65536):
            buffer += data
            while (packet := self._take_packet(buffer)) is not None:
                buffer = buffer[len(packet):]
                kind = packet[0] >> 4
                self.received.append(kind)
                self.packets.append(packet)
                answer = self.answers.get(kind)
                if answer is not None:
                    if answer is self.HANG_UP:
                        return
                    if kind in (8, 10):  # SUBSCRIBE/UNSUBSCRIBE: echo the packet id
                        header = len(packet) - self._remaining_length(packet)
                        answer = answer.replace(b"{id}", packet[header:header + 2])
                    if answer.endswith(self.THEN_CLOSE):
                        conn.sendall(answer[:-len(self.THEN_CLOSE)])
                        return
                    conn.sendall(answer)

    @staticmethod
    def _remaining_length(data):
        length, multiplier = 0, 1
        for i in range(1, min(len(data), 5)):
            length += (data[i] & 0x7F) * multiplier
            multiplier *= 128
            if data[i] & 0x80 == 0:
                return length
        return None

    @classmethod
    def _take_packet(cls, buffer):
        """The first whole packet in buffer, or None."""
        length = cls._remaining_length(buffer)
        if length is None:
            return None
        header = 2
        while buffer[header - 1] & 0x80:
            header += 1
        return buffer[:header + length] if len(buffer) >= header + length else None


class BrokerTestCase(unittest.TestCase):
    """Starts one broker for all tests of a class."""

    @classmethod
    def setUpClass(cls):
        if not os.access(WSMQTT, os.X_OK):
            raise RuntimeError(f"wsmqtt binary not found at {WSMQTT}: build first or set WSMQTT_BIN")
        cls.broker = Broker().start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def port(self, name):
        return self.broker.ports[name]

    def transport_args(self, transport):
        """Options that reach the broker's listener for a transport by name."""
        ca = self.broker.path("ca.pem")
        return {
            "ws": ["-h", "127.0.0.1", "-p", self.port("ws")],
            "wss": ["-h", "localhost", "-p", self.port("wss"), "--cafile", ca],
            "tcp": ["-h", "127.0.0.1", "-p", self.port("tcp"), "--tcp"],
            "tls": ["-h", "127.0.0.1", "-p", self.port("tls"), "--tcp", "--cafile", ca],
        }[transport]

    def assertSingleError(self, result, expected_code, text):
        """Exactly one `wsmqtt: error:` line that contains `text`, and the exit code."""
        lines = [l for l in result.stderr.splitlines() if l]
        self.assertEqual(len(lines), 1, f"expected one stderr line, got: {result.stderr!r}")
        self.assertTrue(lines[0].startswith("wsmqtt: error: "), lines[0])
        self.assertIn(text, lines[0])
        self.assertEqual(result.returncode, expected_code, result.stderr)


# The other servers live in servers.py; tests import them from here, as before.
from servers import Daemon, RabbitMQ, ScriptedWebSocketServer, microsocks, nginx_gateway, tinyproxy, ws_relay  # noqa: E402,F401

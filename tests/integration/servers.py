"""Servers the integration tests run beside mosquitto: proxies (tinyproxy, microsocks), a reverse
proxy (nginx), the WebSocket relay, RabbitMQ, and a scripted WebSocket server for what no broker does. Each starts on free loopback ports and stops by PID."""

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

from harness import WSMQTT, OneConnectionServer, free_port, free_ports, terminate, wait_for_port


class ScriptedWebSocketServer(OneConnectionServer):
    """Answers one WebSocket upgrade with a scripted HTTP response and records the request.

    For handshake outcomes a real mosquitto does not produce (it accepts every path and always
    selects `mqtt`): an HTTP error, a redirect, a missing or different subprotocol.
    """

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3

    def __init__(self, status="101 Switching Protocols", headers=(), upgrade=True, then=b""):
        self.status, self.headers, self.upgrade, self.then = status, list(headers), upgrade, then
        self.request_line, self.request_headers = None, {}
        self.client_opcodes = []  # of the frames the client sent, in order
        self.client_closes = []   # status codes of the client's close frames
        super().__init__()

    def handle(self, conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        head = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
        self.request_line = head[0]
        for line in head[1:]:
            name, _, value = line.partition(":")
            self.request_headers[name.strip().lower()] = value.strip()
        lines = [f"HTTP/1.1 {self.status}"]
        if self.upgrade:
            key = self.request_headers.get("sec-websocket-key", "")
            accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
            lines += ["Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Accept: {accept}"]
        else:
            lines += ["Content-Length: 0"]
        lines += self.headers
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + self.then)
        # Like a real server: hang up when the client sends a close frame, or closes.
        frames = data.split(b"\r\n\r\n", 1)[1]
        while True:
            while len(frames) >= 2:
                length, offset = frames[1] & 0x7F, 2
                if length == 126:
                    length, offset = int.from_bytes(frames[2:4], "big"), 4
                elif length == 127:
                    length, offset = int.from_bytes(frames[2:10], "big"), 10
                offset += 4 if frames[1] & 0x80 else 0  # the client's mask
                if len(frames) < offset + length:
                    break
                self.client_opcodes.append(frames[0] & 0x0F)
                if frames[0] & 0x0F == 8:
                    key = frames[offset - 4:offset] if frames[1] & 0x80 else b"\0\0\0\0"
                    body = bytes(b ^ key[i % 4] for i, b in enumerate(frames[offset:offset + length]))
                    self.client_closes.append(int.from_bytes(body[:2], "big") if len(body) >= 2 else None)
                    return
                frames = frames[offset + length:]
            chunk = conn.recv(4096)
            if not chunk:
                return
            frames += chunk


class Daemon:
    """A helper server (proxy, reverse proxy) on a free loopback port, stopped with the test."""

    def __init__(self, argv_for_port, ready_port=None):
        self.dir = tempfile.mkdtemp(prefix="wsmqtt-daemon-")
        self.port = free_port()
        self.process = subprocess.Popen(argv_for_port(self.port, self.dir), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port, time.monotonic() + 10)
        except RuntimeError:
            self.stop()
            raise

    def stop(self):
        terminate(self.process)
        shutil.rmtree(self.dir, ignore_errors=True)


def tinyproxy(user=None, password=None):
    """An HTTP CONNECT proxy (Debian's tinyproxy), with basic authentication if a user is given."""
    def argv(port, folder):
        conf = os.path.join(folder, "tinyproxy.conf")
        with open(conf, "w") as f:
            f.write(f"Port {port}\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nMaxClients 20\n")
            if user:
                f.write(f"BasicAuth {user} {password}\n")
        return ["tinyproxy", "-d", "-c", conf]
    return Daemon(argv)


def microsocks(user=None, password=None):
    """A SOCKS5 proxy (Debian's microsocks), with a user name and password if given."""
    def argv(port, folder):
        return ["microsocks", "-i", "127.0.0.1", "-p", str(port)] + (["-u", user, "-P", password] if user else [])
    return Daemon(argv)


def nginx_gateway(ws_port, path, header, token):
    """nginx in front of mosquitto's WebSocket listener: it upgrades only on `path` and only when
    the request carries `header: token`, like a token-checking gateway."""
    def argv(port, folder):
        conf = os.path.join(folder, "nginx.conf")
        variable = "$http_" + header.lower().replace("-", "_")
        with open(conf, "w") as f:
            f.write(f"""
user {getpass.getuser()};
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = {path} {{
            if ({variable} != "{token}") {{ return 403; }}
            proxy_pass http://127.0.0.1:{ws_port};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_read_timeout 60s;
        }}
        location / {{ return 404; }}
    }}
}}
""")
        return ["nginx", "-p", folder, "-c", conf, "-g", "daemon off;"]
    return Daemon(argv)


def ws_relay(target_port, deflate=False, listen_port=0):
    """The Beast WebSocket<->TCP relay built with the tests; returns (process, port)."""
    binary = os.environ.get("WS_RELAY_BIN") or os.path.join(os.path.dirname(WSMQTT), "tests", "ws_relay")
    process = subprocess.Popen([binary, str(listen_port), str(target_port)] + (["--deflate"] if deflate else []),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    port = int(process.stdout.readline().split()[1])
    return process, port


RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"


class RabbitMQ:
    """A throwaway RabbitMQ (Debian's rabbitmq-server) with its MQTT and Web MQTT plugins, on free
    loopback ports: a second real broker, whose web_mqtt serves WebSocket on /ws and which
    delivers QoS 2 as QoS 1. Its own epmd, node name, data and log folders; all stopped after."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="wsmqtt-rabbitmq-")
        amqp, dist, epmd, mqtt, ws = free_ports(5)
        self.ports = {"mqtt": mqtt, "ws": ws}
        with open(os.path.join(self.folder, "rabbitmq.conf"), "w") as f:
            f.write(f"listeners.tcp.default = 127.0.0.1:{amqp}\n"
                    f"mqtt.listeners.tcp.default = 127.0.0.1:{mqtt}\n"
                    f"web_mqtt.tcp.port = {ws}\nweb_mqtt.tcp.ip = 127.0.0.1\n"
                    "mqtt.allow_anonymous = true\nloopback_users = none\n"
                    "distribution.listener.interface = 127.0.0.1\n")
        with open(os.path.join(self.folder, "enabled_plugins"), "w") as f:
            f.write("[rabbitmq_web_mqtt].\n")
        self.env = {**os.environ, "HOME": self.folder,
                    "RABBITMQ_NODENAME": f"wsmqtt-test-{os.getpid()}@localhost",
                    "RABBITMQ_CONFIG_FILE": os.path.join(self.folder, "rabbitmq"),
                    "RABBITMQ_CONFIG_FILES": os.path.join(self.folder, "none.d"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(self.folder, "enabled_plugins"),
                    "RABBITMQ_MNESIA_BASE": os.path.join(self.folder, "mnesia"),
                    "RABBITMQ_LOG_BASE": os.path.join(self.folder, "log"),
                    "RABBITMQ_PID_FILE": os.path.join(self.folder, "pid"),
                    "RABBITMQ_DIST_PORT": str(dist),
                    "ERL_EPMD_ADDRESS": "127.0.0.1", "ERL_EPMD_PORT": str(epmd)}
        self.epmd = self.process = None

    @staticmethod
    def available():
        return os.access(RABBITMQ_SERVER, os.X_OK)

    def start(self, timeout=90):
        # Our own epmd, so that none outlives the test (erl would start one as a daemon).
        self.epmd = subprocess.Popen(["epmd", "-port", self.env["ERL_EPMD_PORT"], "-address", "127.0.0.1"],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self.log = open(os.path.join(self.folder, "server.log"), "w")
        self.process = subprocess.Popen([RABBITMQ_SERVER], env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        waiting = [self.ports["mqtt"], self.ports["ws"]]
        while waiting and time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", waiting[0]), timeout=0.2):
                    waiting.pop(0)
            except OSError:
                time.sleep(0.1)
        if waiting:
            log = self.server_log()
            self.stop()
            raise RuntimeError(f"RabbitMQ did not start:\n{log}")
        return self

    def server_log(self):
        try:
            with open(os.path.join(self.folder, "server.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        for p in (self.process, self.epmd):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        if self.process is not None:
            self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

"""Reaching brokers safely: TLS verification and client certificates, a WebSocket gateway,
compression, HTTP and SOCKS5 proxies, and secrets. Every server here is real and on loopback."""

import os
import pty
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import (ENV, PASSWORD, USER, WSMQTT, BrokerTestCase, Subscriber, microsocks, nginx_gateway, run,
                     tinyproxy, ws_relay)


class Tls(BrokerTestCase):

    def publish(self, port_name, *args, host="localhost"):
        return run("pub", "-h", host, "-p", self.port(port_name), "-t", "tls/x", "-m", "x", *args)

    def ca(self):
        return ["--cafile", self.broker.path("ca.pem")]

    def test_trusted_with_capath(self):
        got = self.publish("wss", "--capath", self.broker.path("capath"))
        self.assertEqual(got.returncode, 0, got.stderr)

    def test_expired_certificate(self):
        self.assertSingleError(self.publish("wss_expired", *self.ca()), 3, "TLS: the broker's certificate has expired")

    def test_name_mismatch_lists_the_names_of_the_certificate(self):
        self.assertSingleError(self.publish("wss_wrongname", *self.ca()), 3,
                               "not valid for 'localhost' (it is for: wrong.example)")

    def test_client_certificate_required(self):
        self.assertSingleError(self.publish("wss_clientcert", *self.ca()), 3,
                               "TLS: the broker requires a client certificate (give --cert and --key)")

    def test_client_certificate_required_over_mqtts_is_named_every_time(self):
        # The broker's alert races its reset of the connection: the reader's words (the alert)
        # must win over a write that failed on the reset, in every run, not two out of three.
        for attempt in range(12):
            with self.subTest(attempt=attempt):
                got = run("pub", "-L", f"mqtts://localhost:{self.port('tls_clientcert')}", *self.ca(), "-t", "tls/x", "-m", "x")
                self.assertSingleError(got, 3, "TLS: the broker requires a client certificate (give --cert and --key)")

    def test_client_certificate_required_over_tls_1_2(self):
        got = self.publish("wss_clientcert", *self.ca(), "--tls-version", "tlsv1.2")
        self.assertSingleError(got, 3, "does the broker require a client certificate?")

    def test_client_certificate_accepted(self):
        got = self.publish("wss_clientcert", *self.ca(), "--cert", self.broker.path("client.pem"),
                           "--key", self.broker.path("client.key"), "-q", 1)
        self.assertEqual(got.returncode, 0, got.stderr)

    def test_encrypted_client_key(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("keypass\n")
        try:
            args = [*self.ca(), "--cert", self.broker.path("client.pem"), "--key", self.broker.path("client-encrypted.key")]
            got = self.publish("wss_clientcert", *args, "--key-password-file", f.name)
            self.assertEqual(got.returncode, 0, got.stderr)
            without = self.publish("wss_clientcert", *args)
            self.assertSingleError(without, 3, "an encrypted key needs --key-password-file")
        finally:
            os.unlink(f.name)

    def test_a_key_that_is_not_the_certificates_says_so(self):
        # Not "an encrypted key needs --key-password-file": the key is fine, it is another one's.
        got = self.publish("wss_clientcert", *self.ca(), "--cert", self.broker.path("client.pem"),
                           "--key", self.broker.path("foreign.key"))
        self.assertSingleError(got, 3, f"cannot load --key '{self.broker.path('foreign.key')}'")
        self.assertIn("(it is not the key of --cert)", got.stderr)

    def test_client_certificate_from_an_unknown_ca_is_rejected(self):
        got = self.publish("wss_clientcert", *self.ca(), "--cert", self.broker.path("foreign.pem"),
                           "--key", self.broker.path("foreign.key"))
        self.assertSingleError(got, 3, "TLS: the broker rejected our client certificate")

    def test_tls_versions_ciphers_and_alpn(self):
        self.assertEqual(self.publish("wss", *self.ca(), "--tls-version", "tlsv1.3").returncode, 0)
        self.assertEqual(self.publish("wss", *self.ca(), "--tls-version", "tlsv1.2",
                                      "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256").returncode, 0)
        self.assertEqual(self.publish("wss", *self.ca(), "--alpn", "mqtt").returncode, 0)
        self.assertSingleError(self.publish("wss", *self.ca(), "--ciphers", "NO-SUCH-CIPHER"), 3,
                               "--ciphers 'NO-SUCH-CIPHER' names no cipher")

    def test_key_log_for_wireshark(self):
        with tempfile.TemporaryDirectory() as folder:
            log = os.path.join(folder, "keys.log")
            got = self.publish("wss", *self.ca(), "--tls-keylog", log)
            self.assertEqual(got.returncode, 0, got.stderr)
            with open(log) as f:
                lines = f.read().splitlines()
        self.assertTrue(any(l.startswith("CLIENT_TRAFFIC_SECRET_0 ") for l in lines), lines)

    def test_ends_when_the_broker_closes(self):
        # mosquitto closes at DISCONNECT, before it answers the WebSocket close. The run ends
        # when its supervisor does, whatever timers a library left armed (Beast's close timer
        # used to keep wsmqtt running 2 s more over --compress).
        for args in (["-p", self.port("wss"), *self.ca()], ["-h", "127.0.0.1", "-p", self.port("ws"), "--compress"]):
            with self.subTest(args=args):
                got = run("pub", "-h", "localhost", *args, "-t", "tls/x", "-m", "x", "-d")
                self.assertEqual(got.returncode, 0, got.stderr)
                self.assertEqual(got.stderr.splitlines()[-1], "wsmqtt: sent DISCONNECT")

    def test_insecure_says_so_once(self):
        got = self.publish("wss_wrongname", "--insecure", "-q", 1)
        self.assertEqual(got.returncode, 0)
        self.assertEqual(got.stderr, "wsmqtt: warning: --insecure: the broker's certificate is not verified\n")

    def test_tls_options_refused_for_plain_transports(self):
        got = run("pub", "-L", f"ws://127.0.0.1:{self.port('ws')}", "--cert", "c.pem", "--key", "k.pem", "-t", "a", "-m", "x")
        self.assertSingleError(got, 2, "TLS options need a TLS transport")


class WebSocketGateway(BrokerTestCase):
    """nginx in front of mosquitto: upgrades only on /broker/mqtt with X-Token: letmein."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gateway = nginx_gateway(cls.broker.ports["ws"], "/broker/mqtt", "X-Token", "letmein")

    @classmethod
    def tearDownClass(cls):
        cls.gateway.stop()
        super().tearDownClass()

    def args(self, *extra):
        return ["-h", "127.0.0.1", "-p", self.gateway.port, *extra]

    def test_header_and_path_get_through(self):
        sub = Subscriber(*self.args("-H", "X-Token: letmein", "--ws-path", "/broker/mqtt"), "-t", "gw/x", "-C", 1, "-W", 10).ready()
        pub = run("pub", *self.args("-H", "X-Token: letmein", "--ws-path", "/broker/mqtt"), "-t", "gw/x", "-m", "through nginx", "-q", 1)
        self.assertEqual(pub.returncode, 0, pub.stderr)
        self.assertEqual(sub.finish(), (0, b"Topic: gw/x | through nginx\n"))

    def test_url_path_works_too(self):
        got = run("pub", "-L", f"ws://127.0.0.1:{self.gateway.port}/broker/mqtt", "-H", "X-Token: letmein", "-t", "gw/x", "-m", "x")
        self.assertEqual(got.returncode, 0, got.stderr)

    def test_without_the_header_the_upgrade_is_refused(self):
        got = run("pub", *self.args("--ws-path", "/broker/mqtt"), "-t", "gw/x", "-m", "x")
        self.assertSingleError(got, 4, "WebSocket upgrade refused: HTTP 403 Forbidden")

    def test_wrong_path_is_refused(self):
        got = run("pub", *self.args("-H", "X-Token: letmein"), "-t", "gw/x", "-m", "x")  # default /mqtt
        self.assertSingleError(got, 4, "WebSocket upgrade refused: HTTP 404 Not Found")

    def test_debug_shows_the_refusal_headers_and_body(self):
        got = run("pub", "-d", *self.args("--ws-path", "/broker/mqtt"), "-t", "gw/x", "-m", "x")
        self.assertEqual(got.returncode, 4)
        self.assertIn("wsmqtt: WebSocket upgrade answered: HTTP 403 Forbidden", got.stderr)
        self.assertRegex(got.stderr, r"wsmqtt:   Server: nginx")
        self.assertRegex(got.stderr, r"wsmqtt:   body: .*403 Forbidden")

    def test_headers_that_would_break_the_handshake_are_refused(self):
        got = run("pub", *self.args("-H", "Sec-WebSocket-Key: x"), "-t", "gw/x", "-m", "x")
        self.assertSingleError(got, 2, "--header cannot set Sec-WebSocket-Key")
        got = run("pub", *self.args("-H", "no colon"), "-t", "gw/x", "-m", "x")
        self.assertSingleError(got, 2, "--header 'no colon' is not 'Name: value'")


class Compression(BrokerTestCase):

    def test_large_text_travels_compressed_and_arrives_intact(self):
        relay, port = ws_relay(self.port("tcp"), deflate=True)
        try:
            payload = b"the quick brown fox jumps over the lazy dog " * 5000  # 220 000 bytes of text
            with tempfile.NamedTemporaryFile(delete=False) as f:
                f.write(payload)
            args = ["-h", "127.0.0.1", "-p", port, "--compress"]
            sub = Subscriber(*args, "-t", "z/x", "-C", 1, "-W", 20, "-F", "%p", "-N", "-q", 1).ready()
            pub = run("pub", *args, "-t", "z/x", "-f", f.name, "-q", 1)
            os.unlink(f.name)
            self.assertEqual(pub.returncode, 0, pub.stderr)
            self.assertEqual(sub.finish(), (0, payload))
        finally:
            relay.terminate()
            out = relay.communicate(timeout=5)[0].decode()
        stats = [tuple(map(int, m)) for m in re.findall(r"wire_in=(\d+) payload_in=(\d+) deflate=(\d)", out)]
        # The publisher's connection: the payload passed the relay, its wire bytes a fraction of it.
        big = [s for s in stats if s[1] > len(payload)]
        self.assertEqual(len(big), 1, out)
        wire, relayed, deflate = big[0]
        self.assertEqual(deflate, 1)
        self.assertLess(wire, relayed / 10, out)

    def test_without_compress_nothing_is_negotiated(self):
        relay, port = ws_relay(self.port("tcp"), deflate=True)
        try:
            got = run("pub", "-h", "127.0.0.1", "-p", port, "-t", "z/y", "-m", "x" * 5000, "-q", 1)
            self.assertEqual(got.returncode, 0, got.stderr)
        finally:
            relay.terminate()
            out = relay.communicate(timeout=5)[0].decode()
        self.assertIn("deflate=0", out)


class Proxies(BrokerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.http = tinyproxy()
        cls.http_auth = tinyproxy("bob", "secret")
        cls.socks = microsocks()
        cls.socks_auth = microsocks("sam", "pw")

    @classmethod
    def tearDownClass(cls):
        for d in (cls.http, cls.http_auth, cls.socks, cls.socks_auth):
            d.stop()
        super().tearDownClass()

    def round_trip(self, transport, proxy_args, env=None, topic="px/x"):
        """sub and pub both through the proxy; returns pub's result after checking delivery."""
        args = self.transport_args(transport)
        sub = Subscriber(*args, *proxy_args, "-t", topic, "-C", 1, "-W", 10)
        if env:
            sub.kill()  # the environment case runs both through run() below
        else:
            sub.ready()
        pub = run("pub", *args, *proxy_args, "-t", topic, "-m", f"via {transport}", "-q", 1, env=env)
        if not env:
            self.assertEqual(sub.finish(), (0, f"Topic: {topic} | via {transport}\n".encode()))
        return pub

    def test_http_connect_for_ws_and_wss(self):
        for transport in ("ws", "wss"):
            with self.subTest(transport=transport):
                got = self.round_trip(transport, ["--proxy", f"http://127.0.0.1:{self.http.port}"])
                self.assertEqual(got.returncode, 0, got.stderr)

    def test_http_proxy_with_basic_authentication(self):
        good = run("pub", *self.transport_args("wss"), "--proxy", f"http://bob:secret@127.0.0.1:{self.http_auth.port}",
                   "-t", "px/a", "-m", "x", "-q", 1)
        self.assertEqual(good.returncode, 0, good.stderr)
        missing = run("pub", *self.transport_args("ws"), "--proxy", f"http://127.0.0.1:{self.http_auth.port}", "-t", "px/a", "-m", "x")
        self.assertSingleError(missing, 7, "requires authentication (HTTP 407)")
        wrong = run("pub", *self.transport_args("ws"), "--proxy", f"http://bob:nope@127.0.0.1:{self.http_auth.port}", "-t", "px/a", "-m", "x")
        self.assertSingleError(wrong, 7, "it refused the user name or password")
        self.assertNotIn("nope", wrong.stderr)

    def test_socks5_for_ws_wss_and_tcp(self):
        for transport, scheme in (("ws", "socks5h"), ("wss", "socks5h"), ("tcp", "socks5")):
            with self.subTest(transport=transport, scheme=scheme):
                got = self.round_trip(transport, ["--proxy", f"{scheme}://127.0.0.1:{self.socks.port}"])
                self.assertEqual(got.returncode, 0, got.stderr)

    def test_socks5_with_user_and_password(self):
        good = run("pub", *self.transport_args("ws"), "--proxy", f"socks5h://sam:pw@127.0.0.1:{self.socks_auth.port}",
                   "-t", "px/s", "-m", "x")
        self.assertEqual(good.returncode, 0, good.stderr)
        wrong = run("pub", *self.transport_args("ws"), "--proxy", f"socks5h://sam:bad@127.0.0.1:{self.socks_auth.port}",
                    "-t", "px/s", "-m", "x")
        self.assertSingleError(wrong, 7, "it refused the user name or password")

    def test_proxy_that_cannot_reach_the_broker(self):
        closed = self.transport_args("ws")[:2] + ["-p", "1"]
        via_http = run("pub", *closed, "--proxy", f"http://127.0.0.1:{self.http.port}", "-t", "a", "-m", "x")
        self.assertSingleError(via_http, 7, "could not reach the broker 127.0.0.1:1")
        via_socks = run("pub", *closed, "--proxy", f"socks5://127.0.0.1:{self.socks.port}", "-t", "a", "-m", "x")
        self.assertSingleError(via_socks, 7, "could not reach the broker 127.0.0.1:1: connection refused")

    def test_proxy_refused(self):
        got = run("pub", *self.transport_args("ws"), "--proxy", "http://127.0.0.1:1", "-t", "a", "-m", "x")
        self.assertSingleError(got, 7, "connection refused by proxy 127.0.0.1:1")

    def test_environment_variables_as_curl_reads_them(self):
        http = f"http://127.0.0.1:{self.http.port}"
        closed = "http://127.0.0.1:1"
        ws, wss, tcp = (self.transport_args(t) for t in ("ws", "wss", "tcp"))
        cases = [
            ("ws uses http_proxy", ws, {"http_proxy": http, "https_proxy": closed}, 0),
            ("wss uses https_proxy", wss, {"https_proxy": http, "http_proxy": closed}, 0),
            ("wss uses HTTPS_PROXY", wss, {"HTTPS_PROXY": http}, 0),
            ("mqtt uses all_proxy", tcp, {"all_proxy": f"socks5://127.0.0.1:{self.socks.port}", "http_proxy": closed}, 0),
            ("a dead proxy fails", ws, {"http_proxy": closed}, 7),
            ("no_proxy by address", ws, {"http_proxy": closed, "no_proxy": "example.com, 127.0.0.1"}, 0),
            ("no_proxy *", ws, {"http_proxy": closed, "NO_PROXY": "*"}, 0),
            ("no_proxy by domain", wss, {"https_proxy": closed, "no_proxy": ".localhost"}, 0),
        ]
        for name, args, env, code in cases:
            with self.subTest(name):
                got = run("pub", *args, "-t", "px/env", "-m", "x", env=env)
                self.assertEqual(got.returncode, code, got.stderr)
        ignored = run("pub", *ws, "--no-proxy", "-t", "px/env", "-m", "x", env={"http_proxy": closed})
        self.assertEqual(ignored.returncode, 0, ignored.stderr)


class Secrets(BrokerTestCase):

    def auth_args(self):
        return ["-h", "127.0.0.1", "-p", self.port("ws_auth"), "-u", USER]

    def test_password_file_keeps_the_password_out_of_ps(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write(PASSWORD + "\n")
        try:
            sub = Subscriber(*self.auth_args(), "--password-file", f.name, "-t", "sec/x", "-C", 1, "-W", 10).ready()
            with open(f"/proc/{sub.process.pid}/cmdline", "rb") as cmdline:
                self.assertNotIn(PASSWORD.encode(), cmdline.read())
            run("pub", *self.auth_args(), "--password-file", f.name, "-t", "sec/x", "-m", "ok", "-q", 1)
            self.assertEqual(sub.finish(), (0, b"Topic: sec/x | ok\n"))
            self.assertFalse(any(PASSWORD in l for l in sub.stderr_lines))  # -d never shows it
        finally:
            os.unlink(f.name)

    def test_password_prompt_on_a_terminal(self):
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(WSMQTT, [WSMQTT, "pub", *map(str, self.auth_args()), "-P", "-", "-t", "sec/p", "-m", "x"], ENV)
        output = b""
        while b"Password: " not in output:
            output += os.read(fd, 1024)
        os.write(fd, PASSWORD.encode() + b"\n")
        rest = b""
        try:
            while chunk := os.read(fd, 1024):
                rest += chunk
        except OSError:
            pass  # the terminal closes when the program exits
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, rest)
        self.assertNotIn(PASSWORD.encode(), rest)  # typed without echo

    def test_password_prompt_without_a_terminal(self):
        got = subprocess.run(["setsid", "-w", WSMQTT, "pub", *map(str, self.auth_args()), "-P", "-", "-t", "a", "-m", "x"],
                             capture_output=True, env=ENV, timeout=15)
        got.stderr = got.stderr.decode()
        self.assertSingleError(got, 2, "-P - needs a terminal to ask on")

    def test_url_credentials_are_masked_in_messages(self):
        got = run("pub", "-L", "ws://alice:topsecret@127.0.0.1:99999/mqtt", "-t", "a", "-m", "x")
        self.assertSingleError(got, 2, "invalid --url 'ws://alice:****@127.0.0.1:99999/mqtt'")
        self.assertNotIn("topsecret", got.stderr)
        proxy = run("pub", "--proxy", "ftp://bob:hunter2@proxy:1", "-t", "a", "-m", "x")
        self.assertSingleError(proxy, 2, "invalid --proxy 'ftp://bob:****@proxy:1'")
        self.assertNotIn("hunter2", proxy.stderr)

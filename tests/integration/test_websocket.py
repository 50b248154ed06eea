"""The WebSocket handshake: what wsmqtt asks for, and each way a server can say no."""

import unittest

from harness import OneConnectionServer, ScriptedWebSocketServer, run


class SilentServer(OneConnectionServer):
    """Accepts a connection and never says a word."""

    def handle(self, conn):
        while conn.recv(4096):
            pass


class Handshake(unittest.TestCase):

    def connect(self, server, *args):
        try:
            return run("pub", "-h", "127.0.0.1", "-p", server.port, "-t", "a", "-m", "x",
                       "--connect-timeout", 2, *args)
        finally:
            server.close()

    def assertSingleError(self, result, code, text):
        lines = [l for l in result.stderr.splitlines() if l]
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("wsmqtt: error: "), lines[0])
        self.assertIn(text, lines[0])
        self.assertEqual(result.returncode, code)

    def test_request_offers_mqtt_with_host_port_and_path(self):
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: mqtt"])
        self.connect(server, "--ws-path", "/custom/path")
        self.assertEqual(server.request_line, "GET /custom/path HTTP/1.1")
        h = server.request_headers
        self.assertEqual(h["host"], f"127.0.0.1:{server.port}")  # not the default port: kept
        self.assertEqual(h["sec-websocket-protocol"], "mqtt")    # [MQTT-6.0.0-3]
        self.assertEqual(h["upgrade"].lower(), "websocket")
        self.assertTrue(h["user-agent"].startswith("wsmqtt/"))

    def test_default_path_is_mqtt_and_url_path_wins(self):
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: mqtt"])
        self.connect(server)
        self.assertEqual(server.request_line, "GET /mqtt HTTP/1.1")
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: mqtt"])
        try:
            run("pub", "-L", f"ws://127.0.0.1:{server.port}/ws", "-t", "a", "-m", "x", "--connect-timeout", 5)
        finally:
            server.close()
        self.assertEqual(server.request_line, "GET /ws HTTP/1.1")

    def test_upgrade_options_reach_the_server(self):
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: binary"])
        self.connect(server, "--origin", "https://app.example", "--user-agent", "probe/1.0", "--subprotocol", "binary",
                     "-H", "Authorization: Bearer abc.def", "-H", "X-Tenant: blue")
        h = server.request_headers
        self.assertEqual(h["origin"], "https://app.example")
        self.assertEqual(h["user-agent"], "probe/1.0")
        self.assertEqual(h["sec-websocket-protocol"], "binary")
        self.assertEqual(h["authorization"], "Bearer abc.def")
        self.assertEqual(h["x-tenant"], "blue")

    def test_compress_offers_permessage_deflate(self):
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: mqtt"])
        self.connect(server, "--compress")
        self.assertIn("permessage-deflate", server.request_headers.get("sec-websocket-extensions", ""))
        plain = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: mqtt"])
        self.connect(plain)
        self.assertNotIn("sec-websocket-extensions", plain.request_headers)

    def test_websocket_handshake_timeout(self):
        got = self.connect(SilentServer(), "--connect-timeout", 1)
        # A timeout is a network failure (exit 1, README), whichever step ran out of time.
        self.assertSingleError(got, 1, "WebSocket handshake with 127.0.0.1:")
        self.assertIn("timed out after 1 s", got.stderr)

    def test_tls_handshake_timeout(self):
        got = self.connect(SilentServer(), "--tls", "--connect-timeout", 1)
        self.assertSingleError(got, 1, "TLS handshake with 127.0.0.1:")
        self.assertIn("timed out after 1 s", got.stderr)

    def test_mqtt_3_1_offers_its_own_subprotocol(self):
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: mqttv3.1"])
        self.connect(server, "-V", "mqttv31")
        self.assertEqual(server.request_headers["sec-websocket-protocol"], "mqttv3.1")

    def test_upgrade_refused_reports_the_http_status(self):
        server = ScriptedWebSocketServer("404 Not Found", upgrade=False)
        self.assertSingleError(self.connect(server), 4, "WebSocket upgrade refused: HTTP 404 Not Found")

    def test_unauthorised_upgrade(self):
        server = ScriptedWebSocketServer("401 Unauthorized", ["WWW-Authenticate: Bearer"], upgrade=False)
        self.assertSingleError(self.connect(server), 4, "WebSocket upgrade refused: HTTP 401 Unauthorized")

    def test_redirect_is_reported_not_followed(self):
        server = ScriptedWebSocketServer("301 Moved Permanently", ["Location: wss://elsewhere.example/mqtt"],
                                         upgrade=False)
        self.assertSingleError(self.connect(server), 4,
                               "WebSocket upgrade refused: HTTP 301 Moved Permanently (redirected to wss://elsewhere.example/mqtt)")

    def test_server_that_selects_no_subprotocol_is_refused(self):
        server = ScriptedWebSocketServer()  # 101, but no Sec-WebSocket-Protocol [MQTT-6.0.0-4]
        self.assertSingleError(self.connect(server), 4, "broker did not accept subprotocol mqtt")

    def test_server_that_selects_another_subprotocol_is_refused(self):
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: chat"])
        self.assertSingleError(self.connect(server), 4, "broker selected subprotocol 'chat' instead of mqtt")


if __name__ == "__main__":
    unittest.main()

"""Every failure is one `wsmqtt: error:` line with its documented exit code."""

import os
import shutil
import subprocess
import unittest

from harness import BrokerTestCase, USER, WSMQTT, free_port, run


class Failures(BrokerTestCase):

    def test_connection_refused_names_host_and_port(self):
        port = free_port()  # nothing listens there
        got = run("pub", "-h", "127.0.0.1", "-p", port, "-t", "a", "-m", "x")
        self.assertSingleError(got, 1, f"connection refused to 127.0.0.1:{port}")

    def test_connection_refused_over_tcp_and_url(self):
        port = free_port()
        got = run("sub", "-L", f"mqtt://127.0.0.1:{port}", "-t", "a")
        self.assertSingleError(got, 1, f"connection refused to 127.0.0.1:{port}")

    @unittest.skipUnless(shutil.which("unshare"), "needs unshare(1) for an isolated resolver")
    def test_unknown_host(self):
        # In a fresh network namespace no DNS query can leave the machine: the lookup fails
        # the way it does for a name that does not exist.
        probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
        if probe.returncode != 0:
            self.skipTest("unshare -n is not permitted here")
        got = subprocess.run(["unshare", "-n", WSMQTT, "pub", "-h", "no-such-broker.invalid",
                              "-t", "a", "-m", "x"], capture_output=True, timeout=30)
        got.stderr = got.stderr.decode()
        self.assertSingleError(got, 1, "host not found: no-such-broker.invalid")

    def test_wrong_password_is_refused_by_the_broker(self):
        got = run("pub", "-h", "127.0.0.1", "-p", self.port("ws_auth"), "-u", USER, "-P", "wrong",
                  "-t", "a", "-m", "x")
        # mosquitto 2.0 answers a wrong password with CONNACK 5, "not authorised".
        self.assertSingleError(got, 15, "connection refused by broker: not authorised (check the user name and password)")
        self.assertNotIn("wrong", got.stderr)  # the password is never printed

    def test_anonymous_on_a_password_listener_is_not_authorised(self):
        got = run("sub", "--tcp", "-h", "127.0.0.1", "-p", self.port("tcp_auth"), "-t", "a")
        self.assertSingleError(got, 15, "connection refused by broker: not authorised")

    def test_untrusted_certificate(self):
        # Without --cafile the test CA is unknown to the system store.
        got = run("pub", "--tls", "-h", "localhost", "-p", self.port("wss"), "-t", "a", "-m", "x")
        self.assertSingleError(got, 3, "TLS: certificate not trusted")

    def test_untrusted_certificate_over_mqtts(self):
        got = run("pub", "-L", f"mqtts://localhost:{self.port('tls')}", "-t", "a", "-m", "x")
        self.assertSingleError(got, 3, "TLS: certificate not trusted")

    def test_host_name_mismatch(self):
        got = run("pub", "-h", "localhost", "-p", self.port("wss_wrongname"),
                  "--cafile", self.broker.path("ca.pem"), "-t", "a", "-m", "x")
        self.assertSingleError(got, 3, "TLS: host name mismatch: the broker's certificate is not valid for 'localhost'")

    def test_ip_address_is_checked_against_the_certificate(self):
        got = run("pub", "-h", "127.0.0.1", "-p", self.port("wss_wrongname"),
                  "--cafile", self.broker.path("ca.pem"), "-t", "a", "-m", "x")
        self.assertSingleError(got, 3, "host name mismatch")

    def test_insecure_skips_verification(self):
        got = run("pub", "--insecure", "-h", "127.0.0.1", "-p", self.port("wss_wrongname"),
                  "-t", "a", "-m", "x")
        self.assertEqual(got.returncode, 0, got.stderr)

    def test_unreadable_ca_file(self):
        got = run("pub", "-h", "localhost", "-p", self.port("wss"), "--cafile", "/nonexistent/ca.pem",
                  "-t", "a", "-m", "x")
        self.assertSingleError(got, 3, "cannot load CA file '/nonexistent/ca.pem'")

    def test_tls_to_a_plain_port(self):
        got = run("pub", "--tls", "-h", "127.0.0.1", "-p", self.port("ws"), "-t", "a", "-m", "x")
        self.assertSingleError(got, 3, f"TLS handshake with 127.0.0.1:{self.port('ws')} failed")

    def test_websocket_to_a_plain_mqtt_port(self):
        got = run("pub", "-h", "127.0.0.1", "-p", self.port("tcp"), "-t", "a", "-m", "x", "--connect-timeout", 5)
        self.assertSingleError(got, 4, f"WebSocket handshake with 127.0.0.1:{self.port('tcp')} failed")
        self.assertIn("For MQTT over TCP add --tcp", got.stderr)

    def test_mqtt_over_tcp_to_a_websocket_port_says_drop_tcp(self):
        # mosquitto's WebSocket listener answers our CONNECT in HTTP.
        got = run("pub", "--tcp", "-h", "127.0.0.1", "-p", self.port("ws"), "-t", "a", "-m", "x")
        self.assertSingleError(got, 4, f"127.0.0.1:{self.port('ws')} answered in HTTP: it is a WebSocket port, "
                                       "not MQTT over TCP (drop --tcp)")

    def test_qos_3_is_a_usage_error(self):
        got = run("pub", "-h", "127.0.0.1", "-p", self.port("ws"), "-t", "a", "-m", "x", "-q", 3)
        self.assertSingleError(got, 2, "--qos must be 0, 1 or 2, not 3")

    def test_wildcard_in_publish_topic_is_a_usage_error(self):
        got = run("pub", "-h", "127.0.0.1", "-p", self.port("ws"), "-t", "a/#", "-m", "x")
        self.assertSingleError(got, 2, "invalid topic 'a/#': wildcards (+ #) are not allowed")

    def test_misplaced_wildcard_in_filter_is_a_usage_error(self):
        got = run("sub", "-h", "127.0.0.1", "-p", self.port("ws"), "-t", "a/#/b")
        self.assertSingleError(got, 2, "invalid topic filter 'a/#/b'")

    def test_unknown_option_is_a_usage_error(self):
        got = run("sub", "-t", "a", "--no-such-option")
        self.assertSingleError(got, 2, "--no-such-option")

    def test_quiet_silences_errors_but_keeps_the_code(self):
        got = run("pub", "--quiet", "-h", "127.0.0.1", "-p", free_port(), "-t", "a", "-m", "x")
        self.assertEqual(got.returncode, 1)
        self.assertEqual(got.stderr, "")


class HelpAndVersion(unittest.TestCase):

    def test_help_mentions_host_flag_and_exit_codes(self):
        got = run("sub", "--help")
        self.assertEqual(got.returncode, 0)
        self.assertIn(b"-h,--host", got.stdout)
        self.assertIn(b"Examples:", got.stdout)

    def test_version(self):
        got = run("--version")
        self.assertEqual(got.returncode, 0)
        self.assertRegex(got.stdout.decode(), r"^wsmqtt \d+\.\d+\.\d+")



class BrokerGoesAway(unittest.TestCase):
    """A broker of its own, stopped under a running subscriber."""

    def test_subscriber_reports_a_lost_connection(self):
        from harness import Broker, Subscriber
        broker = Broker().start()
        try:
            sub = Subscriber("-h", "127.0.0.1", "-p", broker.ports["ws"], "-t", "#", "--no-reconnect").ready()
        finally:
            broker.stop()
        code, _ = sub.finish(timeout=15)
        self.assertEqual(code, 1)
        self.assertEqual(sub.errors(), ["wsmqtt: error: connection closed by the broker"])


if __name__ == "__main__":
    unittest.main()

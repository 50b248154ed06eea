"""A second real broker: RabbitMQ 3.10 (Debian's rabbitmq-server) with its MQTT plugins. Web MQTT
serves WebSocket on /ws; it delivers QoS 2 as QoS 1 and acknowledges a QoS 2 PUBLISH with PUBACK,
which wsmqtt must name instead of calling it a broken broker."""

import os
import unittest

from harness import RabbitMQ, Subscriber, run

REQUIRED = os.environ.get("WSMQTT_REQUIRE_RABBITMQ") == "1"  # scripts/test installs it


@unittest.skipUnless(RabbitMQ.available() or REQUIRED, "rabbitmq-server is not installed")
class WebMqtt(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.rabbit = RabbitMQ().start()

    @classmethod
    def tearDownClass(cls):
        cls.rabbit.stop()

    def ws(self):
        return ["-h", "127.0.0.1", "-p", self.rabbit.ports["ws"], "--ws-path", "/ws"]

    def tcp(self):
        return ["-L", f"mqtt://127.0.0.1:{self.rabbit.ports['mqtt']}"]

    def test_publish_and_subscribe_over_web_mqtt_and_tcp(self):
        sub = Subscriber(*self.ws(), "-t", "rabbit/#", "-q", 1, "-C", 2, "-W", 20, "-F", "%t %p %q").ready(timeout=20)
        self.assertEqual(run("pub", *self.ws(), "-t", "rabbit/ws", "-q", 1, "-m", "over ws").returncode, 0)
        self.assertEqual(run("pub", *self.tcp(), "-t", "rabbit/tcp", "-m", "over tcp").returncode, 0)
        self.assertEqual(sub.finish(timeout=20), (0, b"rabbit/ws over ws 1\nrabbit/tcp over tcp 0\n"))

    def test_qos_2_answered_with_puback_is_named_with_what_to_do(self):
        got = run("pub", *self.ws(), "-t", "rabbit/q2", "-q", 2, "-m", "x")
        lines = [l for l in got.stderr.splitlines() if l]
        self.assertEqual(got.returncode, 5, lines)
        self.assertEqual(lines, ["wsmqtt: error: protocol error: the broker answered a QoS 2 PUBLISH with PUBACK: "
                                 "it supports QoS 1 at most; publish with -q 1"])

    def test_a_subscription_at_qos_2_is_granted_at_qos_1_and_delivers(self):
        sub = Subscriber(*self.ws(), "-t", "rabbit/sub2", "-q", 2, "-C", 1, "-W", 20, "-F", "%p %q").ready(timeout=20)
        self.assertEqual(run("pub", *self.tcp(), "-t", "rabbit/sub2", "-q", 1, "-m", "down").returncode, 0)
        self.assertEqual(sub.finish(timeout=20), (0, b"down 1\n"))


if __name__ == "__main__":
    unittest.main()

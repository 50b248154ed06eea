"""Brokers that break the protocol: each case ends with one named protocol error and its exit
code, never a crash, a hang or unbounded memory. A scripted broker plays each case, since a real
one does not misbehave on demand; it also records what wsmqtt sends, checked against the spec."""

import unittest

from harness import ScriptedBroker, ScriptedWebSocketServer, run

CONNACK = b"\x20\x02\x00\x00"
SUBACK = b"\x90\x03{id}\x00"  # granted QoS 0, for the SUBSCRIBE's packet id


def against(answers, *args, timeout=15):
    """Runs `wsmqtt sub` against a scripted broker; returns (result, the broker)."""
    broker = ScriptedBroker(answers)
    try:
        result = run("sub", "--tcp", "-h", "127.0.0.1", "-p", broker.port, "-t", "a/#", "--connect-timeout", 2,
                     "-W", 10, *args, timeout=timeout)
    finally:
        broker.close()
    return result, broker


class HostileBroker(unittest.TestCase):

    def assertProtocolError(self, answers, text, *args, code=5):
        result, _ = against(answers, *args)
        lines = [l for l in result.stderr.splitlines() if l]
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertEqual(lines[0], f"wsmqtt: error: {text}")
        self.assertEqual(result.returncode, code)

    def test_remaining_length_longer_than_4_bytes(self):
        self.assertProtocolError({1: b"\x20\xff\xff\xff\xff\x01"}, "protocol error: malformed Remaining Length")

    def test_connack_of_the_wrong_length(self):
        self.assertProtocolError({1: b"\x20\x03\x00\x00\x00"}, "protocol error: malformed packet")

    def test_wrong_fixed_header_flags(self):  # [MQTT-2.2.2-2]
        self.assertProtocolError({1: b"\x21\x02\x00\x00"}, "protocol error: invalid fixed-header flags")

    def test_reserved_connack_return_code(self):
        self.assertProtocolError({1: b"\x20\x02\x00\x06"}, "protocol error: invalid return code")

    def test_connack_not_first(self):  # [MQTT-3.2.0-1]
        self.assertProtocolError({1: b"\x30\x03\x00\x01t"}, "protocol error: first packet from the broker is not CONNACK")

    def test_second_connack(self):
        self.assertProtocolError({1: CONNACK + CONNACK}, "protocol error: unexpected second CONNACK")

    def test_session_present_on_a_clean_session(self):  # [MQTT-3.2.2-1]
        self.assertProtocolError({1: b"\x20\x02\x01\x00"}, "protocol error: session present on a clean session")

    def test_reserved_packet_types(self):
        for kind in (b"\x00\x00", b"\xf0\x00"):
            with self.subTest(kind=kind):
                self.assertProtocolError({1: CONNACK + kind}, "protocol error: invalid packet type")

    def test_packets_only_clients_send(self):
        for packet in (b"\xc0\x00", b"\xe0\x00", b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00"):
            with self.subTest(packet=packet):
                self.assertProtocolError({1: CONNACK + packet}, "protocol error: broker sent a packet only clients may send")

    def test_publish_topic_not_utf8(self):  # [MQTT-1.5.3-1]
        self.assertProtocolError({1: CONNACK, 8: SUBACK + b"\x30\x05\x00\x03a\xc0\x80"}, "protocol error: invalid UTF-8 string")

    def test_publish_topic_with_wildcard(self):  # [MQTT-3.3.2-2]
        self.assertProtocolError({1: CONNACK, 8: SUBACK + b"\x30\x05\x00\x03a/#"}, "protocol error: invalid topic name")

    def test_publish_qos_3(self):  # [MQTT-3.3.1-4]
        self.assertProtocolError({1: CONNACK, 8: SUBACK + b"\x36\x05\x00\x01t\x00\x01"}, "protocol error: invalid QoS")

    def test_packet_identifier_0(self):  # [MQTT-2.3.1-1]
        self.assertProtocolError({1: CONNACK, 8: SUBACK + b"\x32\x05\x00\x01t\x00\x00"}, "protocol error: packet identifier 0")

    def test_acknowledgement_for_an_id_never_sent_is_ignored(self):
        # mosquitto_sub and MQTT.js ignore such a slip; -d shows it.
        result, _ = against({1: CONNACK, 8: SUBACK + b"\x40\x02\x12\x34" + b"\x30\x07\x00\x03a/bok"}, "-C", 1, "-d")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, b"Topic: a/b | ok\n")
        self.assertIn("wsmqtt: ignored PUBACK for packet identifier 4660, which is not in use", result.stderr)

    def test_suback_for_another_id(self):  # [MQTT-2.3.1-7]
        self.assertProtocolError({1: CONNACK, 8: b"\x90\x03\x77\x77\x00"},
                                 "protocol error: acknowledgement for a packet identifier not in use")

    def test_suback_with_reserved_code(self):  # [MQTT-3.9.3-2]
        self.assertProtocolError({1: CONNACK, 8: b"\x90\x03{id}\x03"}, "protocol error: invalid return code")

    def test_oversized_packet_is_refused_from_its_header(self):
        # Announces 268 435 455 bytes and sends 5: refused at once, nothing buffered for it.
        self.assertProtocolError({1: CONNACK, 8: SUBACK + b"\x30\xff\xff\xff\x7f\x00\x01t"},
                                 "protocol error: the broker sent a packet larger than 65536 bytes (--max-packet-size)",
                                 "--max-packet-size", "64K")

    def test_no_connack_in_time(self):
        result, broker = against({})
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, f"wsmqtt: error: no CONNACK from 127.0.0.1:{broker.port} within 2 s (--connect-timeout): "
                                        "is it an MQTT broker?\n")

    def test_broker_hangs_up_after_connect(self):
        self.assertProtocolError({1: ScriptedBroker.HANG_UP}, "connection closed by the broker", code=1)

    def test_what_wsmqtt_sends_follows_the_spec(self):
        # A QoS 1 and a QoS 2 message from the broker, then our answers are checked byte by byte.
        answers = {1: CONNACK,
                   8: b"\x90\x03{id}\x02" + b"\x32\x06\x00\x01t\x00\x07A" + b"\x34\x06\x00\x01t\x00\x08B"}
        broker = ScriptedBroker(answers)
        try:
            result = run("sub", "--tcp", "-h", "127.0.0.1", "-p", broker.port, "-t", "t", "-q", 2, "-C", 2,
                         "-W", 10, "-i", "spec-check", "-k", 30, "-F", "%p")
        finally:
            broker.close()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, b"A\nB\n")
        packets = broker.packets
        connect = packets[0]
        self.assertEqual(connect[0], 0x10)                     # CONNECT, flags 0000 [MQTT-2.2.2-1]
        body = connect[2:]
        self.assertEqual(body[:7], b"\x00\x04MQTT\x04")       # protocol name and level 4
        self.assertEqual(body[7] & 0x01, 0)                    # reserved flag 0 [MQTT-3.1.2-3]
        self.assertEqual(body[7] & 0x02, 0x02)                 # clean session
        self.assertEqual(body[8:10], b"\x00\x1e")             # keepalive 30
        self.assertEqual(body[10:], b"\x00\x0aspec-check")    # client id, nothing else
        self.assertEqual(packets[1][0], 0x82)                  # SUBSCRIBE flags 0010 [MQTT-3.8.1-1]
        self.assertEqual(packets[1][-4:], b"\x00\x01t\x02")   # filter 't', requested QoS 2
        self.assertIn(b"\x40\x02\x00\x07", packets)           # PUBACK for id 7 [MQTT-4.3.2-2]
        self.assertIn(b"\x50\x02\x00\x08", packets)           # PUBREC for id 8 [MQTT-4.3.3-2]
        self.assertEqual(packets[-1], b"\xe0\x00")            # DISCONNECT last [MQTT-3.14.4-2]


class HostileWebSocket(unittest.TestCase):

    def connect(self, frames):
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: mqtt"], then=frames)
        try:
            # Beast answers a bad frame with a close handshake (2 s at most) before it reports.
            return run("sub", "-h", "127.0.0.1", "-p", server.port, "-t", "a", "-W", 10, "--connect-timeout", 5)
        finally:
            server.close()

    def assertProtocolError(self, result, text):
        lines = [l for l in result.stderr.splitlines() if l]
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn(text, lines[0])
        self.assertEqual(result.returncode, 5)

    def test_text_frame(self):  # [MQTT-6.0.0-1]
        self.assertProtocolError(self.connect(b"\x81\x04" + CONNACK), "protocol error: the broker sent a text WebSocket frame")

    def test_masked_server_frame(self):  # RFC 6455 §5.1
        mask = b"\x01\x02\x03\x04"
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(CONNACK))
        self.assertProtocolError(self.connect(b"\x82\x84" + mask + masked), "protocol error: WebSocket:")

    def test_reserved_opcode(self):
        self.assertProtocolError(self.connect(b"\x83\x04" + CONNACK), "protocol error: WebSocket:")

    def test_ping_is_answered_with_pong_and_the_session_goes_on(self):  # RFC 6455 §5.5.2
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: mqtt"],
                                         then=b"\x89\x02hi" + b"\x82\x04" + CONNACK)
        try:
            result = run("pub", "-h", "127.0.0.1", "-p", server.port, "-t", "a", "-m", "x", "--connect-timeout", 2)
        finally:
            server.close()
        self.assertEqual((result.returncode, result.stderr), (0, ""))
        self.assertEqual(server.client_opcodes[:2], [0x2, 0xA])  # CONNECT, then the PONG
        self.assertIn(0x8, server.client_opcodes)  # and a close frame at the end

    def test_close_frame_from_the_broker_ends_the_connection(self):
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: mqtt"],
                                         then=b"\x82\x04" + CONNACK + b"\x88\x02\x03\xe8")
        try:
            result = run("sub", "-h", "127.0.0.1", "-p", server.port, "-t", "a", "-W", 10, "--no-reconnect")
        finally:
            server.close()
        lines = [l for l in result.stderr.splitlines() if l]
        self.assertEqual(result.returncode, 1, result.stderr)
        # The broker's close code and reason are shown, and its close is answered with ours
        # before the TCP close (RFC 6455 §5.5.1).
        self.assertEqual(lines, ["wsmqtt: error: connection closed by the broker (WebSocket close 1000 normal)"])
        self.assertEqual(server.client_opcodes[-1], 0x8)

    def test_packets_split_across_frames_are_reassembled(self):  # [MQTT-6.0.0-2]
        frames = b"".join(b"\x82\x01" + bytes([c]) for c in CONNACK)  # one byte per frame
        server = ScriptedWebSocketServer(headers=["Sec-WebSocket-Protocol: mqtt"], then=frames)
        try:
            result = run("pub", "-h", "127.0.0.1", "-p", server.port, "-t", "a", "-m", "x", "--connect-timeout", 2)
        finally:
            server.close()
        self.assertEqual((result.returncode, result.stderr), (0, ""))


if __name__ == "__main__":
    unittest.main()

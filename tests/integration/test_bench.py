"""wsmqtt bench against a real mosquitto: exact totals across shards at QoS 1, bench merge, the
per-second records, Ctrl-C with a summary, --bind, and one error line for each bad start."""

import json
import os
import resource
import signal
import subprocess
import tempfile
import unittest

from harness import ENV, WSMQTT, Background, Broker, BrokerTestCase, free_port, run


def Bench(*args, preexec_fn=None):
    """A `wsmqtt bench …` in the background."""
    return Background([WSMQTT, "bench", *args], preexec_fn=preexec_fn)


class BenchAgainstMosquitto(BrokerTestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wsmqtt-bench-")

    def file(self, name):
        return os.path.join(self.dir, name)

    def summary(self, name):
        with open(self.file(name)) as f:
            return json.load(f)

    def args(self, transport):
        return self.transport_args(transport)

    def check_pub_sub_across_shards(self, transport):
        # Two subscriber shards, 4 clients in all, each to get every one of 600 messages.
        subs = [Bench("sub", *self.args(transport), "-c", 4, "-t", "bench/#", "-q", 1, "-L", 2400, "--shard", f"{i}/2",
                      "--json", self.file("sub-%s.jsonl"), "--summary-json", self.file("sub-%s.json"), "--prefix", f"s{transport}-")
                for i in range(2)]
        for s in subs:
            s.wait_for("2 of 2 subscribed", timeout=20)
        # Three publisher shards, 6 clients, 600 messages at 3000 a second.
        pubs = [Bench("pub", *self.args(transport), "-c", 6, "-t", "bench/%i", "-q", 1, "-L", 600, "--rate", 3000, "-s", 64,
                      "--shard", f"{i}/3", "--json", self.file("pub-%s.jsonl"), "--prefix", f"p{transport}-")
                for i in range(3)]
        for p in pubs:
            self.assertEqual(p.finish(), 0, "\n".join(p.lines))
        for s in subs:
            self.assertEqual(s.finish(), 0, "\n".join(s.lines))
        for i in range(2):
            part = self.summary(f"sub-{i}.json")
            self.assertEqual(part["received"], 1200)
            self.assertEqual(part["e2e"]["count"], 1200)
        merged = run("bench", "merge", *(self.file(f"{k}-{i}.jsonl") for k, n in (("sub", 2), ("pub", 3)) for i in range(n)),
                     "--summary-json", self.file("all.json"), "--json", self.file("all.jsonl"))
        self.assertEqual(merged.returncode, 0, merged.stderr)
        total = self.summary("all.json")
        self.assertEqual(total["published"], 600)
        self.assertEqual(total["acked"], 600)
        self.assertEqual(total["received"], 2400)
        self.assertEqual(total["lost"], 0)
        self.assertEqual(total["duplicated"], 0)
        self.assertEqual(total["connected"], 10)
        self.assertEqual(total["connect_failed"], 0)
        self.assertEqual(total["publish"]["count"], 600)
        self.assertEqual(total["e2e"]["count"], 2400)
        self.assertEqual(total["shards"], 3)
        for figure in ("connect", "publish", "e2e", "suback"):
            f = total[figure]
            self.assertTrue(0 < f["p50"] <= f["p90"] <= f["p99"] <= f["p99.9"] <= f["p99.99"] <= f["max"], (figure, f))
        # The merged lines: one a second, in order, adding up to the totals.
        with open(self.file("all.jsonl")) as f:
            seconds = [json.loads(line) for line in f]
        self.assertEqual([s["time"] for s in seconds], sorted({s["time"] for s in seconds}))
        self.assertEqual(sum(s["received"] for s in seconds), 2400)
        self.assertEqual(sum(s["published"] for s in seconds), 600)

    def test_pub_and_sub_shards_add_up_exactly_over_websocket(self):
        self.check_pub_sub_across_shards("ws")

    def test_pub_and_sub_shards_add_up_exactly_over_tcp(self):
        self.check_pub_sub_across_shards("tcp")

    def test_conn_holds_its_connections_and_reports_each_second(self):
        conn = Bench("conn", *self.args("ws"), "-c", 50, "-R", 500, "--json", self.file("conn.jsonl"),
                     "--summary-json", self.file("conn.json"))
        conn.wait_for("conn 50")  # the line of a second with all 50 up
        conn.process.send_signal(signal.SIGINT)
        self.assertEqual(conn.finish(), 0, "\n".join(conn.lines))
        s = self.summary("conn.json")
        self.assertEqual((s["connected"], s["connect_failed"], s["disconnected"], s["peak_connections"]), (50, 0, 0, 50))
        self.assertEqual(s["connect"]["count"], 50)
        self.assertEqual(s["websocket"]["count"], 50)
        self.assertTrue(any(l.startswith("connect ") and "50" in l for l in conn.lines), conn.lines)  # the table
        with open(self.file("conn.jsonl")) as f:
            seconds = [json.loads(line) for line in f]
        for second in seconds:
            self.assertLessEqual({"time", "shard", "shards", "connections", "connected", "connect_failed"}, set(second), second)
        self.assertEqual(sum(s["connected"] for s in seconds), 50)
        self.assertEqual(sum(sum(n for _, n in s["connect"]["buckets"]) for s in seconds if "connect" in s), 50)

    def test_wss_times_each_step_of_the_connection(self):
        r = run("bench", "conn", *self.args("wss"), "-c", 3, "-V", 5, "--duration", 0.5, "--summary-json", self.file("wss.json"),
                "--quiet", timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = self.summary("wss.json")
        for figure in ("connect", "tcp", "tls", "websocket", "connack"):
            self.assertEqual(s[figure]["count"], 3, (figure, s))
        self.assertLessEqual(s["tls"]["p50"], s["connect"]["p50"])

    def test_ctrl_c_ends_a_publisher_with_the_summary_of_what_was_measured(self):
        pub = Bench("pub", *self.args("tcp"), "-c", 5, "-t", "cc/%i", "-q", 1, "--rate", 500, "--summary-json", self.file("cc.json"))
        pub.wait_for("pub ")  # a second was measured
        pub.process.send_signal(signal.SIGINT)
        self.assertEqual(pub.finish(timeout=10), 0, "\n".join(pub.lines))
        s = self.summary("cc.json")
        self.assertGreater(s["published"], 0)
        self.assertEqual(s["acked"], s["published"])  # nothing left unacknowledged: DISCONNECT after the last PUBACK
        self.assertTrue(any(l.startswith("publish ") for l in pub.lines), pub.lines)

    def test_messages_the_broker_never_acknowledged_are_a_loss(self):
        broker = Broker().start()
        self.addCleanup(broker.stop)
        pub = Bench("pub", "--tcp", "-h", "127.0.0.1", "-p", broker.ports["tcp"], "-c", 2, "-t", "stall/%i", "-q", 1, "--rate", 200,
                    "--summary-json", self.file("stall.json"))
        pub.wait_for("pub ")  # a second was measured
        broker.process.send_signal(signal.SIGSTOP)
        self.addCleanup(broker.process.send_signal, signal.SIGCONT)
        seconds = sum(l.startswith("wsmqtt bench: ") for l in pub.lines)
        pub.wait_for("wsmqtt bench: ", count=seconds + 1)  # messages went out to the stopped broker
        pub.process.send_signal(signal.SIGINT)
        self.assertEqual(pub.finish(timeout=30), 18, "\n".join(pub.lines))  # after the 2 s grace
        s = self.summary("stall.json")
        self.assertGreater(s["published"], s["acked"])
        errors = [l for l in pub.lines if l.startswith("wsmqtt: error:")]
        self.assertEqual(errors, [f"wsmqtt: error: {s['published'] - s['acked']} of the {s['published']} messages published at QoS 1 "
                                  "were never acknowledged by the broker"], pub.lines)

    def test_hgrm_files_for_hdrhistogram_plotters(self):
        r = run("bench", "pub", *self.args("tcp"), "-c", 2, "-t", "h/%i", "-L", 200, "--rate", 2000, "--hgrm", self.file("run-"),
                "--quiet", timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        with open(self.file("run-publish.hgrm")) as f:
            text = f.read()
        self.assertTrue(text.startswith("       Value     Percentile TotalCount 1/(1-Percentile)"), text[:100])
        self.assertIn("Total count    =          200]", text)

    def test_bind_spreads_the_source_addresses(self):
        r = run("bench", "conn", *self.args("tcp"), "-c", 6, "--bind", "127.0.0.2,127.0.0.3", "--duration", 0.5,
                "--summary-json", self.file("b.json"), "--quiet", "--prefix", "bind-", timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.summary("b.json")["connected"], 6)
        log = self.broker.log()
        for address in ("127.0.0.2", "127.0.0.3"):
            self.assertEqual(sum(f"from {address}:" in l and "bind-" in l for l in log.splitlines()), 3, log[-2000:])

    def test_processes_fork_shards_and_report_them_as_one_run(self):
        sub = Bench("sub", *self.args("ws"), "-c", 4, "-t", "proc/#", "-q", 1, "-L", 2000, "--processes", 2,
                    "--summary-json", self.file("ps.json"), "--json", self.file("ps.jsonl"))
        sub.wait_for("all 2 processes subscribed")
        pub = Bench("pub", *self.args("tcp"), "-c", 4, "-t", "proc/%i", "-q", 1, "-L", 500, "--rate", 2000, "--processes", 2,
                    "--summary-json", self.file("pp.json"))
        self.assertEqual(pub.finish(), 0, "\n".join(pub.lines))
        self.assertEqual(sub.finish(), 0, "\n".join(sub.lines))
        p, s = self.summary("pp.json"), self.summary("ps.json")
        self.assertEqual((p["published"], p["acked"], p["connected"]), (500, 500, 4))
        self.assertEqual((s["received"], s["lost"], s["connected"], s["e2e"]["count"]), (2000, 0, 4, 2000))
        # One table, one set of lines a second: the parent speaks for its children.
        self.assertEqual(sum(l.startswith("e2e ") for l in sub.lines), 1, sub.lines)
        with open(self.file("ps.jsonl")) as f:
            seconds = [json.loads(line) for line in f]
        self.assertEqual(sum(r["received"] for r in seconds), 2000)
        self.assertEqual(len({r["time"] for r in seconds}), len(seconds))

    def test_processes_failing_alike_give_one_error_line(self):
        r = run("bench", "conn", "--tcp", "-h", "127.0.0.1", "-p", free_port(), "-c", 4, "--processes", 2, timeout=30)
        errors = [l for l in r.stderr.splitlines() if l.startswith("wsmqtt: error:")]
        self.assertEqual(errors, [errors[0]], r.stderr)
        self.assertRegex(errors[0], r"^wsmqtt: error: 4 of 4 connections failed: connection refused to 127\.0\.0\.1:\d+$")
        self.assertEqual(r.returncode, 1)

    def test_a_broker_that_vanishes_is_one_error_line_and_exit_1(self):
        broker = Broker().start()
        self.addCleanup(broker.stop)
        conn = Bench("conn", "--tcp", "-h", "127.0.0.1", "-p", broker.ports["tcp"], "-c", 5)
        conn.wait_for("conn 5")
        broker.stop()
        self.assertEqual(conn.finish(timeout=30), 1)
        errors = [l for l in conn.lines if l.startswith("wsmqtt: error:")]
        self.assertEqual(errors, ["wsmqtt: error: 5 of 5 connections were lost: connection closed by the broker"], conn.lines)

    def test_json_on_a_full_disk_is_said_once_at_the_end(self):
        r = run("bench", "pub", *self.args("tcp"), "-c", 2, "-t", "full/%i", "-L", 50, "--rate", 500, "--json", "/dev/full", timeout=30)
        errors = [l for l in r.stderr.splitlines() if l.startswith("wsmqtt: error:")]
        self.assertEqual(errors, ["wsmqtt: error: cannot write --json '/dev/full': No space left on device (the summary above is complete)"])
        self.assertEqual(r.returncode, 8)
        self.assertIn("publish ", r.stderr)  # the summary is there

    def test_a_run_whose_json_reader_leaves_ends_as_on_ctrl_c(self):
        for extra in ([], ["--processes", "2"]):
            with self.subTest(extra=extra):
                conn = subprocess.Popen([str(a) for a in (WSMQTT, "bench", "conn", *self.args("tcp"), "-c", 4, *extra, "--json", "-")], env=ENV,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                self.assertTrue(conn.stdout.readline().startswith(b'{"time":'))
                conn.stdout.close()  # | head -1
                self.assertEqual(conn.wait(timeout=30), 0)
                stderr = conn.stderr.read().decode()
                conn.stderr.close()
                self.assertNotIn("wsmqtt: error:", stderr)
                self.assertIn("connected 4, failed 0", stderr)  # the summary

    def test_merge_into_a_reader_that_leaves(self):
        with open(self.file("many.jsonl"), "w") as f:
            for t in range(20000):
                f.write(json.dumps({"time": 1000 + t, "received": 1}) + "\n")
        merge = subprocess.Popen([WSMQTT, "bench", "merge", self.file("many.jsonl"), "--json", "-", "--quiet"], env=ENV,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertTrue(merge.stdout.readline().startswith(b'{"time":1000,'))
        merge.stdout.close()  # | head -1
        self.assertEqual(merge.wait(timeout=30), 0)
        self.assertEqual(merge.stderr.read(), b"")

    # --- One error line and a documented exit code for each bad start -----------------------

    def test_shard_out_of_range(self):
        self.assertSingleError(run("bench", "conn", "--shard", "3/3"), 2, "shard index 3 is not below the shard count 3")

    def test_unwritable_json_file(self):
        r = run("bench", "conn", *self.args("tcp"), "--json", "/nonexistent/dir/out.jsonl")
        self.assertSingleError(r, 8, "cannot write --json '/nonexistent/dir/out.jsonl'")

    def test_too_few_file_descriptors(self):
        def few():
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        b = Bench("conn", *self.args("tcp"), "-c", 100, preexec_fn=few)
        self.assertEqual(b.finish(), 2)
        self.assertEqual(b.lines, ["wsmqtt: error: 100 clients need 132 file descriptors, but this process may open 64 (ulimit -Hn): "
                                   "run them as shards (--shard I/N), each in its own process"])

    def test_a_tls_option_no_client_can_use_is_said_once(self):
        # One TLS context for the run: the CA file is read once, before any client connects.
        r = run("bench", "conn", *self.args("wss")[:-1], "/nonexistent/ca.pem", "-c", 50, timeout=30)
        self.assertSingleError(r, 3, "cannot load CA file '/nonexistent/ca.pem'")
        self.assertTrue(r.stderr.startswith("wsmqtt: error: cannot load CA file"), r.stderr)  # not once a client

    def test_unreachable_broker(self):
        r = run("bench", "conn", "--tcp", "-h", "127.0.0.1", "-p", free_port(), "-c", 3, "--quiet", timeout=30)
        self.assertEqual(r.returncode, 1)
        r = run("bench", "conn", "--tcp", "-h", "127.0.0.1", "-p", free_port(), "-c", 3, "--summary-json", self.file("u.json"),
                timeout=30)
        errors = [l for l in r.stderr.splitlines() if l.startswith("wsmqtt: error:")]
        self.assertEqual(len(errors), 1, r.stderr)
        self.assertRegex(errors[0], r"^wsmqtt: error: 3 of 3 connections failed: connection refused to 127\.0\.0\.1:\d+")
        self.assertEqual(self.summary("u.json")["connect_failed"], 3)

    def test_an_invalid_filter_is_a_usage_error(self):
        r = run("bench", "sub", *self.args("ws"), "-t", "$SYS/#/x", timeout=30)
        self.assertSingleError(r, 2, "invalid topic filter")


if __name__ == "__main__":
    unittest.main()

"""wsmqtt bench run as shards by real engines, against a real mosquitto: a one-node Slurm on
127.0.0.1 (scripts/slurm-local: munged, slurmctld, slurmd) with `srun -n N --overcommit`, and
Open MPI's `mpirun --oversubscribe`. Each shard finds its part with --shard auto; bench merge
adds them up, and the totals must be exact, with nothing lost at QoS 1.

scripts/test installs slurm-wlm, munge and openmpi-bin and sets WSMQTT_REQUIRE_ENGINES=1, so
that a missing engine fails these tests there instead of skipping them."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ENV, WSMQTT, Background, BrokerTestCase

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
REQUIRED = os.environ.get("WSMQTT_REQUIRE_ENGINES") == "1"


def missing(*tools):
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return [t for t in tools if not shutil.which(t, path=path)]


class EngineShards(BrokerTestCase):
    """The same run under each engine: 2 subscriber shards (4 clients), 4 publisher shards
    (8 clients) publishing 1000 QoS 1 messages; every subscriber gets every message."""

    launcher = None  # a function: (tasks) -> argv prefix

    def run_shards(self, env):
        folder = tempfile.mkdtemp(prefix="wsmqtt-engines-")
        self.addCleanup(shutil.rmtree, folder, True)
        broker = ["-h", "127.0.0.1", "-p", self.port("ws")]
        subs = Background([*self.launcher(2), WSMQTT, "bench", "sub", *broker, "-c", 4, "-t", "eng/#", "-q", 1, "-L", 4000,
                       "--shard", "auto", "--json", os.path.join(folder, "sub-%s.jsonl")], env)
        subs.wait_for("2 of 2 subscribed", count=2)
        pubs = Background([*self.launcher(4), WSMQTT, "bench", "pub", *broker, "-c", 8, "-t", "eng/%i", "-q", 1, "-L", 1000,
                       "--rate", 2000, "--shard", "auto", "--json", os.path.join(folder, "pub-%s.jsonl")], env)
        self.assertEqual(pubs.finish(), 0, "\n".join(pubs.lines))
        self.assertEqual(subs.finish(), 0, "\n".join(subs.lines))
        files = sorted(os.listdir(folder))
        self.assertEqual(files, ["pub-0.jsonl", "pub-1.jsonl", "pub-2.jsonl", "pub-3.jsonl", "sub-0.jsonl", "sub-1.jsonl"])
        merged = subprocess.run([WSMQTT, "bench", "merge", *(os.path.join(folder, f) for f in files),
                                 "--summary-json", os.path.join(folder, "all.json")], env=ENV, capture_output=True, text=True, timeout=60)
        self.assertEqual(merged.returncode, 0, merged.stderr)
        with open(os.path.join(folder, "all.json")) as f:
            total = json.load(f)
        self.assertEqual({k: total[k] for k in ("published", "acked", "received", "lost", "duplicated", "connected", "connect_failed")},
                         {"published": 1000, "acked": 1000, "received": 4000, "lost": 0, "duplicated": 0, "connected": 12,
                          "connect_failed": 0})
        self.assertEqual(total["e2e"]["count"], 4000)
        self.assertEqual(total["shards"], 4)


@unittest.skipIf(not REQUIRED and (missing("srun", "slurmctld", "slurmd", "munged", "mungekey") or os.geteuid() != 0),
                 "a one-node Slurm needs slurm-wlm, munge and root (scripts/test installs them)")
class SlurmShards(EngineShards):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.slurm_dir = tempfile.mkdtemp(prefix="wsmqtt-slurm-")
        started = subprocess.run([os.path.join(ROOT, "scripts", "slurm-local"), "start", cls.slurm_dir], capture_output=True, text=True,
                                 timeout=120)
        if started.returncode != 0:
            subprocess.run([os.path.join(ROOT, "scripts", "slurm-local"), "stop", cls.slurm_dir], timeout=60)
            cls.broker.stop()
            raise RuntimeError("scripts/slurm-local start failed:\n" + started.stderr)
        cls.env = {**ENV, "SLURM_CONF": os.path.join(cls.slurm_dir, "slurm.conf")}

    @classmethod
    def tearDownClass(cls):
        subprocess.run([os.path.join(ROOT, "scripts", "slurm-local"), "stop", cls.slurm_dir], timeout=60)
        shutil.rmtree(cls.slurm_dir, ignore_errors=True)
        super().tearDownClass()

    @staticmethod
    def launcher(tasks):
        return ["srun", "-n", str(tasks), "--overcommit"]

    def test_srun_shards_add_up_exactly(self):
        self.run_shards(self.env)

    def test_the_batch_script_itself_is_not_a_shard(self):
        # Inside sbatch but outside a step, SLURM_PROCID is set too: --shard auto must not take it.
        env = {**ENV, "SLURM_PROCID": "0", "SLURM_NTASKS": "4", "SLURM_JOB_ID": "7"}
        r = subprocess.run([WSMQTT, "bench", "conn", "--shard", "auto"], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no engine's variables found", r.stderr)


@unittest.skipIf(not REQUIRED and missing("mpirun"), "Open MPI's mpirun is not installed (scripts/test installs openmpi-bin)")
class MpiShards(EngineShards):

    @staticmethod
    def launcher(tasks):
        # Root may run it here (CI runs as root); --oversubscribe: more ranks than cores.
        return ["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", str(tasks)]

    def test_mpirun_shards_add_up_exactly(self):
        self.run_shards({**ENV, "OMPI_MCA_rmaps_base_oversubscribe": "1"})


if __name__ == "__main__":
    unittest.main()

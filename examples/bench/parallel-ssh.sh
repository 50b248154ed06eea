#!/usr/bin/env bash
# GNU parallel runs one shard a host over ssh: {%} is the job slot (1..N), so shard {%}-1 of N.
# Usage: examples/bench/parallel-ssh.sh load1,load2,load3 wss://broker.example.com/mqtt
set -euo pipefail
hosts=${1:?comma-separated hosts} broker=${2:?broker URL}
n=$(tr ',' '\n' <<<"$hosts" | wc -l)
seq 0 $((n - 1)) | parallel --sshlogin "$(sed 's/,/,1\//g; s/^/1\//' <<<"$hosts")" --return 'pub-{}.jsonl' --cleanup \
  wsmqtt bench conn --url "$broker" -c 30000 -R 500 --duration 600 --shard "{}/$n" --json 'pub-{}.jsonl'
wsmqtt bench merge pub-*.jsonl --summary-json summary.json

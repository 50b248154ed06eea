#!/usr/bin/env bash
# Open MPI starts the shards on the hosts of a hostfile; --shard auto reads OMPI_COMM_WORLD_RANK
# and OMPI_COMM_WORLD_SIZE. wsmqtt uses no MPI library: mpirun is only the launcher.
# hosts.txt:  load1 slots=2
#             load2 slots=2
# Usage: examples/bench/mpirun.sh hosts.txt wss://broker.example.com/mqtt
set -euo pipefail
hosts=${1:?hostfile} broker=${2:?broker URL}
start=$(($(date +%s) + 20))
mpirun --hostfile "$hosts" -x PATH wsmqtt bench pub --url "$broker" -c 40000 -R 1000 -t 'bench/%i' -q 1 \
  --rate 20000 --duration 120 --start-at "$start" --shard auto --json 'pub-%s.jsonl'
# The files are on each host: gather them, then merge.
for h in $(awk '{print $1}' "$hosts" | sort -u); do scp -q "$h:pub-*.jsonl" . ; done
wsmqtt bench merge pub-*.jsonl --summary-json summary.json

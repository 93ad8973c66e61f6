#!/bin/sh
# The agent's engine fed by a synthetic producer (bench/agent_ingest.c):
# ingest and evaluation in events/s on one core with 100 and 4 containers,
# and the alert latency at the agent's default --poll-max-us and at 100 us.
# Prints the ratios against the targets (>= 5 M events/s, p99 <= 1 ms).
#   bench/agent-ingest.sh [BUILD]   (default build/)
set -eu
cd "$(dirname "$0")/.."
B=${1:-build}
ninja -C "$B" src/agent/agent-ingest >/dev/null
echo "machine: $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$B/src/agent/agent-ingest" 100 0 ingest
"$B/src/agent/agent-ingest" 4 0
"$B/src/agent/agent-ingest" 4 100 | grep latency

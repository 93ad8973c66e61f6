#!/bin/sh
# Engine benchmarks (issue 5, Performance): ingest and evaluation in events/s
# on one core (raw ring drain as the reference, engine with mode off, engine
# in monitor mode with template check and detector), and the alert latency
# from the ring write to the alert line, with the engine sleeping armed (the
# default: the producer wakes it) and polling (ENGINE_POLL=1: a producer
# that cannot, as an older probe). Builds its own release tree without
# sanitizers. Usage: bench/engine-ingest.sh [EVENTS] [ALERTS]
set -eu
cd "$(dirname "$0")/.."
N=${1:-5000000}
A=${2:-2000}
B=${BUILD:-build-engine-bench}
[ -d "$B" ] || meson setup "$B" -Dbuildtype=release -Db_sanitize=none >/dev/null
ninja -C "$B" src/agent/engine-ingest >/dev/null
echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
# one core for the engine (taskset when there is one to pin to)
PIN=""
command -v taskset >/dev/null && PIN="taskset -c 0"
$PIN "$B/src/agent/engine-ingest" throughput "$N"
"$B/src/agent/engine-ingest" latency "$A"
ENGINE_POLL=1 "$B/src/agent/engine-ingest" latency "$A"

#!/bin/sh
# Probe micro-benchmarks (issue 4, Performance): open+close and unix connect
# in a tight loop, without the preload, with the probe loaded but every group
# off, and with every group on (a consumer drains the ring on the other
# core); then the ring consumer's throughput. Builds its own release tree
# without sanitizers. Usage: bench/probe-micro.sh [ITERATIONS]
set -eu
cd "$(dirname "$0")/.."
N=${1:-1000000}
B=${BUILD:-build-probe-bench}
[ -d "$B" ] || meson setup "$B" -Dbuildtype=release -Db_sanitize=none >/dev/null
ninja -C "$B" src/probe/libward-probe.so src/probe/probe-bench src/probe/probe-ring-bench src/probe/libprobe-fake.so >/dev/null
FAKE=$PWD/$B/src/probe/libprobe-fake.so
SO=$PWD/$B/src/probe/libward-probe.so
BENCH=$PWD/$B/src/probe/probe-bench
RB=$PWD/$B/src/probe/probe-ring-bench
DIR=$(mktemp -d /tmp/ward-bench-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
mkdir "$DIR/off" "$DIR/on"
"$RB" setup "$DIR/off" 0
"$RB" setup "$DIR/on" 0x7f

for what in open connect; do
  base=$("$BENCH" $what "$N")
  off=$(LD_PRELOAD=$SO WARD_PROBE_DIR=$DIR/off "$BENCH" $what "$N")
  "$RB" drain "$DIR/on" 30 2>"$DIR/drain.log" &
  drain=$!
  sleep 0.2
  on=$(LD_PRELOAD=$SO WARD_PROBE_DIR=$DIR/on "$BENCH" $what "$N")
  kill $drain 2>/dev/null || true
  wait $drain 2>/dev/null || true
  awk -v w=$what -v b="$base" -v f="$off" -v o="$on" 'BEGIN {
    printf "%-8s no preload %7.1f ns | probes off %7.1f ns (%+5.1f) | all groups on %7.1f ns (%+5.1f)\n",
           w, b, f, f - b, o, o - b }'
done

# The same loops with the kernel taken out: libprobe-fake.so answers open and
# connect at once, behind the probe, so the difference is the probe's cost.
echo "isolated (fake open/connect without a system call, ${N} calls):"
for what in openonly connect; do
  base=$(LD_PRELOAD=$FAKE "$BENCH" $what "$N")
  off=$(LD_PRELOAD="$SO $FAKE" WARD_PROBE_DIR=$DIR/off "$BENCH" $what "$N")
  "$RB" drain "$DIR/on" 30 2>"$DIR/drain.log" &
  drain=$!
  sleep 0.2
  on=$(LD_PRELOAD="$SO $FAKE" WARD_PROBE_DIR=$DIR/on "$BENCH" $what "$N")
  kill $drain 2>/dev/null || true
  wait $drain 2>/dev/null || true
  awk -v w=$what -v b="$base" -v f="$off" -v o="$on" 'BEGIN {
    printf "%-8s no probe %6.1f ns | probes off %6.1f ns (%+5.1f) | all groups on %6.1f ns (%+5.1f)\n",
           w, b, f, f - b, o, o - b }'
done
"$RB" consume

#!/bin/sh
# Probe micro-benchmarks (issue 4, Performance): open+close and unix connect
# in a tight loop, without the preload, with the probe loaded but every group
# off, and with every group on while a consumer on the other core hands the
# slots back (until a batch comes back short, then a 200 us sleep, like the
# engine; at real-time priority where allowed, so that a busy machine's other
# threads do not hold it off until the ring overflows). DRAIN=decode makes
# it decode the records too, DRAIN=spin decode and re-poll at once (the
# consumer of the figures before 2026-12-02). Then the ring consumer's
# throughput. Builds its own release tree
# without sanitizers. Usage: bench/probe-micro.sh [ITERATIONS]
# PROBE_BASE=path/to/another/libward-probe.so adds it with every group on to
# the isolated rows (same run, same ring and consumer): a before/after.
# The isolated rows also run "all on" with perf timing one call in
# PERF_EVERY (default 8; `ward probe on --perf-every N`) beside every call.
# They write about 40 M records/s, which outruns the default 4 MiB ring
# through the consumer's 200 us naps: they use a ring of RING bytes
# (default 16m, `run.ward.probe-ring`), so that every record is written and
# the rows compare, and say how many were dropped all the same. A last row
# has the consumer poll without napping: it sits right behind the producer
# and takes each slot's line from it while it is written (the worst case).
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
# tmpfs, like the runtime's state root, and the default 4 MiB ring. The
# isolated loops write faster than one consumer decodes on a shared machine,
# so part of their records are dropped (a failed claim, no slot write): the
# rows say how many, to tell which figures compare.
DIR=$(mktemp -d /dev/shm/ward-bench-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
mkdir "$DIR/off" "$DIR/on" "$DIR/iso"
"$RB" setup "$DIR/off" 0
"$RB" setup "$DIR/on" 0x7f
RING=${RING:-16m}
ring_bytes=$(echo "$RING" | awk '/[kK]$/ {print $0 * 1024; next} /[mM]$/ {print $0 * 1048576; next} {print $0 + 0}')
"$RB" setup "$DIR/iso" 0x7f "$ring_bytes"
CHRT=""
chrt -f 10 true 2>/dev/null && CHRT="chrt -f 10"
case ${DRAIN:-release} in decode) DRAIN="" ;; *) DRAIN=${DRAIN:-release} ;; esac
drops() { od -A n -t u8 -j 192 -N 8 "$DIR/iso/ring" | tr -d ' '; }   # ring header: drops

for what in open connect; do
  base=$("$BENCH" $what "$N")
  off=$(LD_PRELOAD=$SO WARD_PROBE_DIR=$DIR/off "$BENCH" $what "$N")
  $CHRT "$RB" drain "$DIR/on" 30 $DRAIN 2>"$DIR/drain.log" &
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
echo "isolated (fake open/connect without a system call, ${N} calls, $RING ring):"
for what in openonly connect; do
  base=$(LD_PRELOAD=$FAKE "$BENCH" $what "$N")
  off=$(LD_PRELOAD="$SO $FAKE" WARD_PROBE_DIR=$DIR/off "$BENCH" $what "$N")
  $CHRT "$RB" drain "$DIR/iso" 60 $DRAIN 2>"$DIR/drain.log" &
  drain=$!
  sleep 0.2
  d0=$(drops)
  on=$(LD_PRELOAD="$SO $FAKE" WARD_PROBE_DIR=$DIR/iso "$BENCH" $what "$N")
  d1=$(drops)
  pb=""
  [ -z "${PROBE_BASE:-}" ] || pb=$(LD_PRELOAD="$PROBE_BASE $FAKE" WARD_PROBE_DIR=$DIR/iso "$BENCH" $what "$N")
  d2=$(drops)
  "$RB" perf "$DIR/iso" "${PERF_EVERY:-8}"
  on8=$(LD_PRELOAD="$SO $FAKE" WARD_PROBE_DIR=$DIR/iso "$BENCH" $what "$N")
  d3=$(drops)
  "$RB" perf "$DIR/iso" 1
  kill $drain 2>/dev/null || true
  wait $drain 2>/dev/null || true
  # (not at real-time priority: a spinning real-time thread is throttled,
  # 50 ms in every second, and the ring overflows meanwhile)
  "$RB" drain "$DIR/iso" 60 release-spin 2>"$DIR/drain.log" &
  drain=$!
  sleep 0.2
  spin=$(LD_PRELOAD="$SO $FAKE" WARD_PROBE_DIR=$DIR/iso "$BENCH" $what "$N")
  d4=$(drops)
  kill $drain 2>/dev/null || true
  wait $drain 2>/dev/null || true
  awk -v w=$what -v b="$base" -v f="$off" -v o="$on" -v pb="$pb" -v o8="$on8" -v sp="$spin" -v k="${PERF_EVERY:-8}" \
      -v n=$((5 * N)) -v dn=$((d1 - d0)) -v db=$((d2 - d1)) -v d8=$((d3 - d2)) -v ds=$((d4 - d3)) 'BEGIN {
    printf "%-8s no probe %6.1f ns | probes off %6.1f ns (%+5.1f) | all groups on %6.1f ns (%+5.1f, %.0f %% dropped)",
           w, b, f, f - b, o, o - b, 100 * dn / n
    printf " | all on, perf timing 1 in %d %6.1f ns (%+5.1f, %.0f %% dropped)", k, o8, o8 - b, 100 * d8 / n
    printf " | all on, consumer never naps %6.1f ns (%+5.1f, %.0f %% dropped)", sp, sp - b, 100 * ds / n
    if (pb != "") printf " | PROBE_BASE all on %6.1f ns (%+5.1f, %.0f %% dropped)", pb, pb - b, 100 * db / n
    printf "\n" }'
done
"$RB" consume

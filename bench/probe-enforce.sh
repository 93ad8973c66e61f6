#!/bin/sh
# Cost of enforcement in the probe (issues 5/6): open and inet connect with
# the kernel taken out (bench/probe_fake.c answers them behind the probe),
#   no probe | probe loaded, mode none (the disabled path) |
#   protect, call allowed (128 deny-path hashes, 32 deny addresses and a port
#   allow-list to check) | protect, call denied (refused and recorded)
# every group off, so the difference is the check itself. Builds its own
# release tree without sanitizers. Usage: bench/probe-enforce.sh [ITERATIONS]
set -eu
cd "$(dirname "$0")/.."
N=${1:-1000000}
B=${BUILD:-build-probe-bench}
[ -d "$B" ] || meson setup "$B" -Dbuildtype=release -Db_sanitize=none >/dev/null
ninja -C "$B" src/probe/libward-probe.so src/probe/probe-bench src/probe/probe-ring-bench src/probe/libprobe-fake.so \
  src/cli/ward >/dev/null
FAKE=$PWD/$B/src/probe/libprobe-fake.so
SO=$PWD/$B/src/probe/libward-probe.so
BENCH=$PWD/$B/src/probe/probe-bench
RB=$PWD/$B/src/probe/probe-ring-bench
WARD=$PWD/$B/src/cli/ward
DIR=$(mktemp -d /tmp/ward-bench-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
for d in off allow deny; do mkdir "$DIR/$d"; "$RB" setup "$DIR/$d" 0; done
# 128 hashes to search, none of them /dev/null; 32 addresses, none 10.1.2.3
set --
i=0; while [ $i -lt 127 ]; do set -- "$@" --path "/srv/data/file-$i"; i=$((i + 1)); done
j=0; while [ $j -lt 31 ]; do set -- "$@" --addr "192.0.2.$j/32:$((1000 + j))"; j=$((j + 1)); done
"$WARD" probe deny --control "$DIR/allow/control" "$@" --path /srv/x --addr 198.51.100.0/24 --allow-port 443 >/dev/null
"$WARD" probe mode --control "$DIR/allow/control" protect >/dev/null
"$WARD" probe deny --control "$DIR/deny/control" "$@" --path /dev/null --addr 10.0.0.0/8 >/dev/null
"$WARD" probe mode --control "$DIR/deny/control" protect >/dev/null

for what in openonly connect4; do
  base=$(LD_PRELOAD=$FAKE "$BENCH" $what "$N")
  off=$(LD_PRELOAD="$SO $FAKE" WARD_PROBE_DIR=$DIR/off "$BENCH" $what "$N")
  allow=$(LD_PRELOAD="$SO $FAKE" WARD_PROBE_DIR=$DIR/allow "$BENCH" $what "$N")
  "$RB" drain "$DIR/deny" 60 2>/dev/null &
  drain=$!
  sleep 0.2
  deny=$(LD_PRELOAD="$SO $FAKE" WARD_PROBE_DIR=$DIR/deny "$BENCH" $what "$N")
  kill $drain 2>/dev/null || true
  wait $drain 2>/dev/null || true
  awk -v w=$what -v b="$base" -v f="$off" -v a="$allow" -v d="$deny" 'BEGIN {
    printf "%-9s no probe %6.1f ns | mode none %6.1f (%+5.1f) | protect, allowed %6.1f (%+6.1f) | protect, denied %6.1f (%+6.1f)\n",
           w, b, f, f - b, a, a - b, d, d - b }'
done

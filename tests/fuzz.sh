#!/usr/bin/env bash
# A short, bounded libFuzzer run of every harness in fuzz/ (CI runs it from
# tests/run.sh): each starts from a copy of its corpus and mutates for
# FUZZ_SECONDS (default 8), under ASan+UBSan with leak checking. A finding
# fails the run and leaves the input in $BUILD/artifacts/. For longer
# campaigns: FUZZ_SECONDS=600 tests/fuzz.sh [NAME...].
# Prints "fuzz NAME: ok (RUNS runs)" or "fuzz NAME: FAILED" per harness.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${FUZZ_BUILD:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-8}
if ! command -v clang >/dev/null; then
  echo "fuzz: clang is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi
if [ ! -d "$BUILD" ]; then
  # only the harnesses are built: the rest of the tree does not link with
  # the coverage instrumentation libFuzzer needs
  CC=clang meson setup "$BUILD" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link -Dprobe_musl=disabled >/dev/null || exit 1
fi
all=$(ninja -C "$BUILD" -t targets all | grep -oE '^fuzz-[a-z_]+' | sort -u)
names=${*:-$(echo "$all" | sed 's/^fuzz-//')}
targets=$(for n in $names; do echo "fuzz-$n"; done)
ninja -C "$BUILD" $targets >/dev/null || { echo "fuzz: build failed" >&2; exit 1; }
mkdir -p "$BUILD/artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rc=0
for n in $names; do
  mkdir "$work/$n"
  [ -d "fuzz/corpus/$n" ] && cp -r "fuzz/corpus/$n/." "$work/$n/"
  log="$BUILD/fuzz-$n.log"
  if ASAN_OPTIONS=detect_leaks=1 "$BUILD/fuzz-$n" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$n-" "$work/$n" >"$log" 2>&1; then
    echo "fuzz $n: ok ($(sed -n 's/^stat::number_of_executed_units: *//p' "$log") runs)"
  else
    echo "fuzz $n: FAILED (log $log)"
    tail -30 "$log"
    rc=1
  fi
done
exit $rc

#!/usr/bin/env bash
# The whole test suite, as CI runs it: an ASan+UBSan build, the unit tests
# and fuzz-corpus replays (meson), a short bounded libFuzzer run of every
# harness (tests/fuzz.sh, clang), then the integration tests (bats) that run
# real containers. Ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-test}
# Sandbox tests run helper programs from the build tree, and every
# `ward sandbox` gets a private /tmp: a checkout under /tmp is invisible there.
case "$PWD/" in
  /tmp/*) echo "tests/run.sh: $PWD is under /tmp, which ward sandbox replaces with a private one; clone elsewhere" >&2
          exit 1 ;;
esac
if [ ! -d "$BUILD" ]; then
  meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C "$BUILD" || exit 1

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export WARD="$PWD/$BUILD/src/cli/ward"

# A suite that damaged the host would hide it from later runs: check the
# device nodes every test relies on, before and after.
check_host() {
  for d in /dev/null /dev/zero /dev/urandom; do
    [ -c "$d" ] || { echo "host $d is not a character device: $(ls -l "$d")" >&2; return 1; }
  done
}
check_host || exit 1

passed=0 failed=0
meson test -C "$BUILD" --no-rebuild --print-errorlogs --num-processes 2 | tee "$BUILD/unit.log"
unit_ok=$(grep -E '^Ok:' "$BUILD/unit.log" | awk '{print $2}')
unit_fail=$(grep -E '^Fail:' "$BUILD/unit.log" | awk '{print $2}')
passed=$((passed + ${unit_ok:-0}))
failed=$((failed + ${unit_fail:-1}))

# each harness mutates from its corpus for a few seconds (FUZZ_SECONDS)
tests/fuzz.sh | tee "$BUILD/fuzz.log"
fz_ok=$(grep -c ': ok (' "$BUILD/fuzz.log")
fz_fail=$(grep -c ': FAILED' "$BUILD/fuzz.log")
passed=$((passed + fz_ok))
failed=$((failed + fz_fail))
[ "$fz_ok" -gt 0 ] || failed=$((failed + 1))

bats --tap tests/integration | tee "$BUILD/integration.tap"
it_ok=$(grep -cE '^ok ' "$BUILD/integration.tap")
it_fail=$(grep -cE '^not ok ' "$BUILD/integration.tap")
passed=$((passed + it_ok))
failed=$((failed + it_fail))
[ "$it_ok" -gt 0 ] || failed=$((failed + 1))

check_host || failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

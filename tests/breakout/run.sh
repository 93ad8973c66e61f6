#!/usr/bin/env bash
# Runs the breakout battery under every configuration and prints the
# results as a markdown table (the one in docs/breakout.md):
#   tests/breakout/run.sh            # as root, after ninja -C build
# WARD overrides the binary (default build/src/cli/ward).
set -uo pipefail
cd "$(dirname "$0")/../.."
export WARD=${WARD:-$PWD/build/src/cli/ward}
source tests/lib/bundle.sh
source tests/breakout/lib.bash
TEST_TMP=$(mktemp -d /tmp/ward-bo-run.XXXXXX); chmod 755 "$TEST_TMP"
export WARD_ROOT=$TEST_TMP/state
export BO_CACHE=$TEST_TMP/escape
cleanup() {
  bo_fixture_stop
  for id in $(ls "$WARD_ROOT" 2>/dev/null); do "$WARD" --root "$WARD_ROOT" delete --force "$id" >/dev/null 2>&1; done
  rm -rf "$TEST_TMP"
}
trap cleanup EXIT
bo_fixture_start || { echo "fixture set-up failed" >&2; exit 1; }

declare -A out
out[bundle]=$(bo_run_bundle rb1 . --default-seccomp 2>&1)
out[bundle_nosc]=$(bo_run_bundle rb2 2>&1)
out[sandbox]=$(bo_run_sandbox --name rsb 2>&1)
out[priv]=$(bo_run_privileged rpv 2>&1)
out[spec]=$(bo_run_spec rsp 2>&1)
command -v crun >/dev/null && out[crun]=$(bo_run_crun rcr 2>&1) || out[crun]=""
cols=(bundle bundle_nosc sandbox spec crun priv)

cell() { # OUTPUT TECHNIQUE
  printf '%s\n' "$1" | grep '^{' | jq -r --arg t "$2" 'select(.technique == $t) |
    if .exposed then "**EXPOSED**" elif .available == false then "n/a" else "blocked" end'
}
echo "Measured $(date -u +%Y-%m-%d) on $(uname -r), $(crun --version 2>/dev/null | head -1), ward $(git rev-parse --short HEAD 2>/dev/null)"
echo
echo "| technique | ward bundle + default seccomp | ward bundle, no seccomp | ward sandbox | ward spec config | crun default | privileged (control) |"
echo "|---|---|---|---|---|---|---|"
for t in $("$BO_BIN" --list); do
  row="| \`$t\`"
  for c in "${cols[@]}"; do row+=" | $(cell "${out[$c]}" "$t")"; done
  echo "$row |"
done
row="| **exposed**"
for c in "${cols[@]}"; do row+=" | $(bo_exposed "${out[$c]}" | grep -c .)"; done
echo "$row |"
if [ -n "${DETAILS:-}" ]; then
  for c in "${cols[@]}"; do echo; echo "### $c"; bo_show "${out[$c]}"; done
fi

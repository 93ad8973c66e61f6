#!/usr/bin/env bash
# ward as a drop-in runtime, against crun and runc in the same run:
#   1. create + start + delete --force of one bundle (the three runtime
#      invocations a shim makes per container), process /bin/true;
#   2. `podman run --rm IMAGE true` with --runtime ward, crun and runc.
# The bundle is the one of bench/startup.sh: user, mount, pid, ipc, uts and
# net namespaces, ward's Docker-equivalent seccomp profile in OCI form, no
# capabilities. crun 1.8 refuses hybrid cgroup hosts, so everything runs
# inside `unshare -m` with /sys/fs/cgroup/unified unmounted.
#
#   bench/oci-clients.sh [RUNS] [PODMAN_RUNS]   (a release build in build/)
# Every round runs every runtime once, in a random order (bench/lib/rounds.py),
# and the ratios are taken within each round: the drift of a shared VM then
# hits all runtimes alike, where one block per runtime would not.
# WARD_B=/path/to/other/ward adds a second ward binary ("ward-b", e.g. one
# built from another commit) to the same rounds; PODMAN_RUNS=0 skips podman.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
podman_runs=${2:-15}
ward=$PWD/build/src/cli/ward
ward_b=${WARD_B:-}
[ -x "$ward" ] || { meson setup build >/dev/null && ninja -C build >/dev/null; }
[ -z "$ward_b" ] || [ -x "$ward_b" ] || { echo "bench: WARD_B=$ward_b is not executable" >&2; exit 1; }
for tool in crun runc podman jq python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (scripts/setup.sh)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/ward-bench-clients.XXXXXX)
chmod 755 "$work"
source tests/lib/bundle.sh
source tests/lib/podman.bash
cleanup() {
  podman_teardown >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

make_bundle "$work/bundle" '["/bin/true"]' '.mounts |= map(select(.destination != "/sys"))'
"$ward" seccomp convert --default --caps none > "$work/seccomp.json"
jq --slurpfile s "$work/seccomp.json" '.linux.seccomp = $s[0] | .linux.namespaces |= map(select(.type != "cgroup"))' \
  "$work/bundle/config.json" > "$work/c.json" && mv "$work/c.json" "$work/bundle/config.json"

# One lifecycle as a shim drives it: three runtime invocations, each
# spawned directly by the timer; the id is fixed, each run deletes it.
cycle() {  # NAME RUNTIME
  local r="$2 --root $work/state-$1"
  echo "$r create --bundle $work/bundle cyc && $r start cyc && $r delete --force cyc"
}

if [ "$podman_runs" -gt 0 ]; then
  WARD=$ward podman_setup "$work/podman"
  podman_image wardbox >/dev/null
else
  PODMAN_DIR= CONTAINERS_STORAGE_CONF= CONTAINERS_CONF=
fi

echo "== machine: $(nproc) cores, $(uname -r); $(crun --version | head -1); $(runc --version | head -1); podman $(podman --version | awk '{print $3}'); load $(cut -d' ' -f1-3 /proc/loadavg)"
{
  printf 'ward\t%s\n' "$(cycle ward "$ward")"
  [ -z "$ward_b" ] || printf 'ward-b\t%s\n' "$(cycle ward-b "$ward_b")"
  printf 'crun\t%s\n' "$(cycle crun crun)"
  printf 'runc\t%s\n' "$(cycle runc runc)"
} > "$work/cycle.tsv"
pm_cmd() {
  echo "podman --root $PODMAN_DIR/root --runroot $PODMAN_DIR/runroot --tmpdir $PODMAN_DIR/tmp --cgroup-manager cgroupfs --events-backend file --runtime $1 run --rm localhost/wardbox true"
}
if [ "$podman_runs" -gt 0 ]; then
  for rt in "$ward" crun runc; do printf 'podman+%s\t%s\n' "$(basename "$rt")" "$(pm_cmd "$rt")"; done > "$work/podman.tsv"
fi
rounds=$PWD/bench/lib/rounds.py
unshare -m bash -c "
  umount /sys/fs/cgroup/unified 2>/dev/null || true
  python3 $rounds run $work/cycle.tsv $runs 5 $work/cycle.out || exit 1
  [ $podman_runs -gt 0 ] || exit 0
  export CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF CONTAINERS_CONF=$CONTAINERS_CONF PODMAN_DIR=$PODMAN_DIR
  python3 $rounds run $work/podman.tsv $podman_runs 2 $work/podman.out
" > "$work/rounds.log" 2>&1 || { cat "$work/rounds.log" >&2; exit 1; }

echo "== create + start + delete --force ($runs rounds, interleaved)"
python3 "$rounds" ratios "$work/cycle.out" ward crun runc ${ward_b:+ward-b}
[ -z "$ward_b" ] || python3 "$rounds" ratios "$work/cycle.out" ward-b crun | tail -1
[ "$podman_runs" -gt 0 ] || exit 0
echo
echo "== podman run --rm ($podman_runs rounds, interleaved)"
python3 "$rounds" ratios "$work/podman.out" podman+ward podman+crun podman+runc

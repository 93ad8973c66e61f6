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
# WARD_B=/path/to/other/ward adds a second ward binary ("ward-b", e.g. one
# built from another commit) to the lifecycle comparison, interleaved with
# the others in the same hyperfine run; PODMAN_RUNS=0 skips podman.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
podman_runs=${2:-15}
ward=$PWD/build/src/cli/ward
ward_b=${WARD_B:-}
[ -x "$ward" ] || { meson setup build >/dev/null && ninja -C build >/dev/null; }
[ -z "$ward_b" ] || [ -x "$ward_b" ] || { echo "bench: WARD_B=$ward_b is not executable" >&2; exit 1; }
for tool in crun runc podman hyperfine jq; do
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

# One lifecycle as a shim drives it; the id is fixed, each run deletes it.
cat > "$work/cycle.sh" <<EOS
#!/bin/sh
rt=\$1; shift
"\$@" --root "$work/state-\$rt" create --bundle "$work/bundle" cyc >/dev/null &&
  "\$@" --root "$work/state-\$rt" start cyc &&
  "\$@" --root "$work/state-\$rt" delete --force cyc
EOS
chmod +x "$work/cycle.sh"

if [ "$podman_runs" -gt 0 ]; then
  WARD=$ward podman_setup "$work/podman"
  podman_image wardbox >/dev/null
else
  PODMAN_DIR= CONTAINERS_STORAGE_CONF= CONTAINERS_CONF=
fi

echo "== machine: $(nproc) cores, $(uname -r); $(crun --version | head -1); $(runc --version | head -1); podman $(podman --version | awk '{print $3}')"
unshare -m bash -c "
  umount /sys/fs/cgroup/unified 2>/dev/null || true
  hyperfine -N --warmup 5 --runs $runs --export-json $work/cycle.json \
    -n ward '$work/cycle.sh ward $ward' \
    ${ward_b:+-n ward-b '$work/cycle.sh ward-b $ward_b'} \
    -n crun '$work/cycle.sh crun crun' \
    -n runc '$work/cycle.sh runc runc'
  [ $podman_runs -gt 0 ] || exit 0
  $(declare -f pm)
  export CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF CONTAINERS_CONF=$CONTAINERS_CONF PODMAN_DIR=$PODMAN_DIR
  for rt in $ward crun runc; do pm --runtime \$rt run --rm localhost/wardbox true || exit 1; done
  hyperfine --warmup 2 --runs $podman_runs --export-json $work/podman.json \
    -n 'podman+ward' \"podman --root $PODMAN_DIR/root --runroot $PODMAN_DIR/runroot --tmpdir $PODMAN_DIR/tmp --cgroup-manager cgroupfs --events-backend file --runtime $ward run --rm localhost/wardbox true\" \
    -n 'podman+crun' \"podman --root $PODMAN_DIR/root --runroot $PODMAN_DIR/runroot --tmpdir $PODMAN_DIR/tmp --cgroup-manager cgroupfs --events-backend file --runtime crun run --rm localhost/wardbox true\" \
    -n 'podman+runc' \"podman --root $PODMAN_DIR/root --runroot $PODMAN_DIR/runroot --tmpdir $PODMAN_DIR/tmp --cgroup-manager cgroupfs --events-backend file --runtime runc run --rm localhost/wardbox true\"
" > "$work/hyperfine.log" 2>&1 || { cat "$work/hyperfine.log" >&2; exit 1; }

report() {
  jq -r '.results[] | [.command, (.median*1000), (.mean*1000), (.stddev*1000)] | @tsv' "$1" |
    awk -F'\t' -v a="$2" -v b="$3" -v c="$4" '
      BEGIN { printf "%-14s %10s %10s %10s\n", "command", "median ms", "mean ms", "stddev" }
      { printf "%-14s %10.2f %10.2f %10.2f\n", $1, $2, $3, $4; med[$1] = $2 }
      END { printf "ratios (median): crun/ward %.2f   runc/ward %.2f", med[b] / med[a], med[c] / med[a]
            if ("ward-b" in med) printf "   crun/ward-b %.2f   ward-b/ward %.2f", med[b] / med["ward-b"], med["ward-b"] / med[a]
            printf "\n" }'
}
echo "== create + start + delete --force ($runs runs)"
report "$work/cycle.json" ward crun runc
[ "$podman_runs" -gt 0 ] || exit 0
echo
echo "== podman run --rm ($podman_runs runs)"
report "$work/podman.json" podman+ward podman+crun podman+runc

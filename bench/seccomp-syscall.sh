#!/usr/bin/env bash
# Per-syscall cost of the seccomp filter: the same static loop of getppid
# under ward run and crun run with the same profile (ward's default, in OCI
# form), and under each with no filter as the baseline. Prints ns/call and
# the filter's added cost for each runtime, and the ratio.
#   bench/seccomp-syscall.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ninja -C build src/cli/ward src/seccomp/syscall-loop >/dev/null
ward=$PWD/build/src/cli/ward
work=$(mktemp -d /tmp/ward-bench.XXXXXX); chmod 755 "$work"; trap 'rm -rf "$work"' EXIT
source tests/lib/bundle.sh
make_bundle "$work/b" '["/loop"]' '.mounts |= map(select(.destination != "/sys")) | .linux.namespaces |= map(select(.type != "cgroup"))'
cp build/src/seccomp/syscall-loop "$work/b/rootfs/loop"
"$ward" seccomp convert --default --caps none > "$work/seccomp.json"
cp "$work/b/config.json" "$work/plain.json"
jq --slurpfile s "$work/seccomp.json" '.linux.seccomp = $s[0]' "$work/plain.json" > "$work/filtered.json"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {  # runtime config-file -> median ns/call over 5 runs
  cp "$2" "$work/b/config.json"
  for i in 1 2 3 4 5; do
    if [ "$1" = ward ]; then "$ward" --root "$work/ws" run --bundle "$work/b" l$i; else crun --root "$work/cs" run --bundle "$work/b" l$i; fi
  done | grep -oE '[0-9.]+ ns' | awk '{print $1}' | median
}
export -f measure median
export ward work
unshare -m bash -c '
  umount /sys/fs/cgroup/unified 2>/dev/null || true
  wp=$(measure ward '"$work"'/plain.json); wf=$(measure ward '"$work"'/filtered.json)
  cp=$(measure crun '"$work"'/plain.json); cf=$(measure crun '"$work"'/filtered.json)
  echo "getppid ns/call: ward no-filter $wp, ward filtered $wf, crun no-filter $cp, crun filtered $cf"
  awk -v wp=$wp -v wf=$wf -v cp=$cp -v cf=$cf "BEGIN { printf \"filter cost ns/call: ward %.1f  crun %.1f  ratio ward/crun %.2f\n\", wf-wp, cf-cp, (wf-wp)/(cf-cp) }"
'

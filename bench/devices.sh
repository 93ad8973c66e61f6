#!/usr/bin/env bash
# What the device cgroup costs at start-up: `ward run` of a root bundle
# without a user namespace (the case the device cgroup matters for) whose
# process is /bin/true, with the default rule list and with 200 extra
# linux.resources.devices rules, on cgroup v1 (devices.allow writes) and on
# a pure cgroup2 view (the BPF program), next to crun on the same bundle
# (crun writes its own deny-all device rules) as the reference.
#
# Both views are made inside `unshare -m`: v1 with /sys/fs/cgroup/unified
# unmounted (crun 1.8 needs that), v2 with cgroup2 mounted over
# /sys/fs/cgroup.
#
#   bench/devices.sh [RUNS]          (needs a release build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
ward=$PWD/build/src/cli/ward
[ -x "$ward" ] || { meson setup build >/dev/null && ninja -C build >/dev/null; }
command -v hyperfine >/dev/null || { echo "needs hyperfine" >&2; exit 1; }
work=$(mktemp -d /tmp/ward-bench-dev.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
source tests/lib/bundle.sh
root='del(.linux.uidMappings, .linux.gidMappings) | .linux.namespaces |= map(select(.type != "user" and .type != "cgroup"))
  | .mounts |= map(select(.destination != "/sys"))'
make_bundle "$work/b0" '["/bin/true"]' "$root"
make_bundle "$work/b200" '["/bin/true"]' "$root | .linux.resources.devices = [range(200) | {allow: true, type: \"c\", major: 200, minor: ., access: \"rw\"}]"

median() { jq '.results[0].median * 1000' "$1"; }

echo "== machine: $(nproc) cores, $(uname -r), $(crun --version | head -1)"
cat > "$work/v1.sh" <<EOS
umount /sys/fs/cgroup/unified 2>/dev/null || true
hyperfine -N --warmup 5 --runs $runs --export-json $work/v1-0.json "$ward --root $work/s run --bundle $work/b0 d0" >/dev/null 2>&1
hyperfine -N --warmup 5 --runs $runs --export-json $work/v1-200.json "$ward --root $work/s run --bundle $work/b200 d2" >/dev/null 2>&1
hyperfine -N --warmup 5 --runs $runs --export-json $work/crun.json "crun --root $work/c run --bundle $work/b0 c0" >/dev/null 2>&1
EOS
cat > "$work/v2.sh" <<EOS
umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup
hyperfine -N --warmup 5 --runs $runs --export-json $work/v2-0.json "$ward --root $work/s run --bundle $work/b0 d0" >/dev/null 2>&1
hyperfine -N --warmup 5 --runs $runs --export-json $work/v2-200.json "$ward --root $work/s run --bundle $work/b200 d2" >/dev/null 2>&1
EOS
unshare -m bash "$work/v1.sh"
unshare -m bash "$work/v2.sh"
crun=$(median "$work/crun.json")
printf '| run | median ms | ratio to crun (v1) |\n|---|---|---|\n'
for k in v1-0 v1-200 v2-0 v2-200; do
  m=$(median "$work/$k.json")
  printf '| ward, %s, %s | %.1f | %.2f |\n' "${k%%-*}" "$([ "${k#*-}" = 0 ] && echo "default rules" || echo "+200 rules")" "$m" "$(echo "$m / $crun" | bc -l)"
done
printf '| crun (v1, its own device rules) | %.1f | 1.00 |\n' "$crun"

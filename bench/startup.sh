#!/usr/bin/env bash
# Start-up cost of one container whose process is /bin/true, side by side in
# one run: ward run, crun run (same bundle), bwrap (same rootfs), ward
# sandbox, and a bare exec. The bundle has user, mount, pid, ipc, uts and net
# namespaces, ward's Docker-equivalent seccomp profile (in OCI form, so both
# runtimes load the same filter) and no capabilities.
#
# crun 1.8 refuses hybrid cgroup hosts, so everything runs inside
# `unshare -m` with /sys/fs/cgroup/unified unmounted; ward is timed there and
# also on the unchanged hybrid host.
#
#   bench/startup.sh [RUNS]          (needs a release build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
ward=$PWD/build/src/cli/ward
[ -x "$ward" ] || { meson setup build >/dev/null && ninja -C build >/dev/null; }
work=$(mktemp -d /tmp/ward-bench.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
source tests/lib/bundle.sh
make_bundle "$work/bundle" '["/bin/true"]' '.mounts |= map(select(.destination != "/sys"))'
"$ward" seccomp convert --default --caps none > "$work/seccomp.json"
jq --slurpfile s "$work/seccomp.json" '.linux.seccomp = $s[0] | .linux.namespaces |= map(select(.type != "cgroup"))' \
  "$work/bundle/config.json" > "$work/c.json" && mv "$work/c.json" "$work/bundle/config.json"

# the same bundle without the seccomp-notify supervisor (on by default for
# no_new_privs bundles; its engine must be up before the first exec)
cp -a "$work/bundle" "$work/nosv"
jq '.annotations["run.ward.supervisor"] = "off"' "$work/bundle/config.json" > "$work/nosv/config.json"
export WARD_AGENT_SOCKET=none

n=0
cat > "$work/cmds.sh" <<EOS
ward_run() { "$ward" --root "$work/ward-state" run --bundle "$work/bundle" w\$RANDOM\$RANDOM >/dev/null; }
crun_run() { crun --root "$work/crun-state" run --bundle "$work/bundle" c\$RANDOM\$RANDOM >/dev/null; }
EOS
bwrap_cmd="bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts --unshare-net --bind $work/bundle/rootfs / --proc /proc --dev /dev --cap-drop ALL /bin/true"

echo "== machine: $(nproc) cores, $(uname -r), $(crun --version | head -1), $(bwrap --version)"
echo "== ward on the hybrid host"
hyperfine -N --warmup 10 --runs "$runs" --export-json "$work/host.json" \
  "$ward --root $work/ward-state run --bundle $work/bundle wh" 2>/dev/null | grep -E "Time|Range" || true

unshare -m bash -c "
  umount /sys/fs/cgroup/unified 2>/dev/null || true
  hyperfine -N --warmup 10 --runs $runs --export-json $work/side.json \
    -n ward   '$ward --root $work/ward-state run --bundle $work/bundle wb' \
    -n ward-nosv '$ward --root $work/ward-state run --bundle $work/nosv wn' \
    -n crun   'crun --root $work/crun-state run --bundle $work/bundle cb' \
    -n bwrap  '$bwrap_cmd' \
    -n ward-sandbox '$ward --root $work/ward-state sandbox --name sb -- /bin/true' \
    -n bare   '$work/bundle/rootfs/bin/true'
" >/dev/null 2>&1

jq -r '.results[] | [.command, (.median*1000), (.mean*1000), (.stddev*1000)] | @tsv' "$work/side.json" |
  awk -F'\t' 'BEGIN { printf "%-14s %10s %10s %10s\n", "command", "median ms", "mean ms", "stddev" }
              { printf "%-14s %10.2f %10.2f %10.2f\n", $1, $2, $3, $4; med[$1] = $2 }
              END { printf "\nward/crun median ratio: %.2f (supervisor off: %.2f)   ward/bwrap: %.2f   sandbox/bwrap: %.2f\n",
                      med["ward"] / med["crun"], med["ward-nosv"] / med["crun"], med["ward"] / med["bwrap"], med["ward-sandbox"] / med["bwrap"] }'
echo "ward on the hybrid host (median ms): $(jq '.results[0].median*1000' "$work/host.json")"

# Peak RSS (VmHWM) of the runtime process itself, sampled while the
# container (sleep 1) runs; the workload is not counted.
make_bundle "$work/sleeper" '["/bin/sleep","1"]' '.mounts |= map(select(.destination != "/sys"))'
jq --slurpfile s "$work/seccomp.json" '.linux.seccomp = $s[0] | .linux.namespaces |= map(select(.type != "cgroup"))' \
  "$work/sleeper/config.json" > "$work/c.json" && mv "$work/c.json" "$work/sleeper/config.json"
hwm() { "$@" >/dev/null 2>&1 & local p=$!; sleep 0.5; awk '/VmHWM/ {print $2}' /proc/$p/status; wait $p || true; }
unshare -m bash -c "
  umount /sys/fs/cgroup/unified 2>/dev/null || true
  $(declare -f hwm)
  echo \"runtime peak RSS KiB: ward \$(hwm $ward --root $work/ward-state run --bundle $work/sleeper wr)  crun \$(hwm crun --root $work/crun-state run --bundle $work/sleeper cr)  bwrap \$(hwm ${bwrap_cmd%/bin/true}/bin/sleep 1)\"
"

#!/usr/bin/env bash
# What the probes and the supervisor add to start-up (issue 4 target: within
# 1 ms). One glibc bundle whose process is /bin/true (dynamically linked, so
# the probe is preloaded), run by `ward run` with everything on (probes,
# supervisor, in-process engine), with each of them off, and with both off;
# crun on the same bundle for scale. Side by side in one hyperfine run,
# inside `unshare -m` with /sys/fs/cgroup/unified unmounted (crun 1.8 refuses
# the hybrid host). Needs a release build in build/.
#   bench/startup-probes.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
ward=$PWD/build/src/cli/ward
work=$(mktemp -d /tmp/ward-bench.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
source tests/lib/bundle.sh
make_bundle "$work/b" '["/bin/true"]' '.mounts |= map(select(.destination != "/sys"))'
rm -rf "$work/b/rootfs"
sh tests/lib/glibc_rootfs.sh "$work/b/rootfs"
cp /bin/true "$work/b/rootfs/bin/true"
"$ward" seccomp convert --default --caps none > "$work/seccomp.json"
variant() {  # DIR probe supervisor
  cp -a "$work/b" "$1"
  jq --slurpfile s "$work/seccomp.json" --arg p "$2" --arg v "$3" \
    '.linux.seccomp = $s[0] | .linux.namespaces |= map(select(.type != "cgroup"))
     | .annotations["run.ward.probe"] = $p | .annotations["run.ward.supervisor"] = $v' \
    "$1/config.json" > "$1/c.json" && mv "$1/c.json" "$1/config.json"
}
variant "$work/all" on on
variant "$work/noprobe" off on
variant "$work/nosv" on off
variant "$work/none" off off
export WARD_AGENT_SOCKET=none
echo "== machine: $(nproc) cores, $(uname -r), $(crun --version | head -1)"
unshare -m bash -c "
  umount /sys/fs/cgroup/unified 2>/dev/null || true
  hyperfine -N --warmup 10 --runs $runs --export-json $work/r.json \
    -n 'ward: probes+supervisor' '$ward --root $work/st run --bundle $work/all a' \
    -n 'ward: supervisor only'   '$ward --root $work/st run --bundle $work/noprobe b' \
    -n 'ward: probes only'       '$ward --root $work/st run --bundle $work/nosv c' \
    -n 'ward: neither'           '$ward --root $work/st run --bundle $work/none d' \
    -n 'crun'                    'crun --root $work/crun run --bundle $work/none e'
" >/dev/null 2>&1
jq -r '.results[] | [.command, (.median*1000), (.stddev*1000)] | @tsv' "$work/r.json" |
  awk -F'\t' 'BEGIN { printf "%-26s %10s %10s\n", "command", "median ms", "stddev" }
              { printf "%-26s %10.2f %10.2f\n", $1, $2, $3; m[$1] = $2 }
              END { printf "\nprobes+supervisor - neither: %+.2f ms   probes: %+.2f ms   supervisor: %+.2f ms   ward(all)/crun: %.2f\n",
                      m["ward: probes+supervisor"] - m["ward: neither"], m["ward: probes only"] - m["ward: neither"],
                      m["ward: supervisor only"] - m["ward: neither"], m["ward: probes+supervisor"] / m["crun"] }'

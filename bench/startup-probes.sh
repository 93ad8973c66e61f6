#!/usr/bin/env bash
# What the probes and the supervisor add to start-up (issue 4 target: within
# 1 ms). One glibc bundle whose process is /bin/true (dynamically linked, so
# the probe is preloaded), run by `ward run` with everything on (probes,
# supervisor, in-process engine), with each of them off, and with both off;
# crun on the same bundle for scale.
#
# A 1 ms difference drowns in the drift of a shared machine when each
# variant runs as one block (hyperfine): here every round runs every variant
# once, in a fresh random order, so drift hits all of them alike, and the
# differences are taken within each round (paired) before their median is
# reported, with a bootstrap 95% interval. WARD_BASE=/path/to/other/ward adds
# that binary's "everything on" and "neither" variants to the same rounds,
# for before/after figures from one run. CPU time (user+system of ward and
# the container) is reported beside wall time: on a loaded machine it is
# the steadier of the two, though the target is wall time.
#
# Everything runs inside `unshare -m` with /sys/fs/cgroup/unified unmounted
# (crun 1.8 refuses the hybrid host). The state root is on /tmp (this VM's
# ext4); WARD_BENCH_TMP=/dev/shm puts bundles and state on tmpfs instead.
#   bench/startup-probes.sh [RUNS]          (needs a release build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
ward=$PWD/build/src/cli/ward
[ -x "$ward" ] || { meson setup build -Dbuildtype=release >/dev/null && ninja -C build src/cli/ward src/probe/libward-probe.so >/dev/null; }
base=${WARD_BASE:-}
work=$(mktemp -d "${WARD_BENCH_TMP:-/tmp}/ward-bench.XXXXXX")
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

# name <TAB> command, one variant a line
{
  printf 'all\t%s --root %s/st run --bundle %s/all a\n' "$ward" "$work" "$work"
  printf 'supervisor\t%s --root %s/st run --bundle %s/noprobe b\n' "$ward" "$work" "$work"
  printf 'probes\t%s --root %s/st run --bundle %s/nosv c\n' "$ward" "$work" "$work"
  printf 'neither\t%s --root %s/st run --bundle %s/none d\n' "$ward" "$work" "$work"
  printf 'crun\tcrun --root %s/crun run --bundle %s/none e\n' "$work" "$work"
  if [ -n "$base" ]; then
    printf 'base:all\t%s --root %s/st run --bundle %s/all f\n' "$base" "$work" "$work"
    printf 'base:neither\t%s --root %s/st run --bundle %s/none g\n' "$base" "$work" "$work"
  fi
} > "$work/variants.tsv"

cat > "$work/report.py" <<'EOF'
# Medians per variant, and the paired differences within rounds.
import statistics, sys
sys.path.insert(0, sys.argv[2])
from rounds import load, boot_median
wall, cpu = load(sys.argv[1])
names = [n for n in ["all", "supervisor", "probes", "neither", "crun", "base:all", "base:neither"] if n in wall]
print("%-14s %10s %8s %8s %10s" % ("variant", "median ms", "p25", "p75", "cpu ms"))
for n in names:
    v = sorted(wall[n].values())
    q = statistics.quantiles(v, n=4)
    print("%-14s %10.2f %8.2f %8.2f %10.2f" % (n, statistics.median(v), q[0], q[2], statistics.median(cpu[n].values())))
def paired(t, a, b):
    d = [t[a][r] - t[b][r] for r in t[a] if r in t[b]]
    return boot_median(d) + (len(d),)
print("\npaired differences: median of the per-round differences [bootstrap 95%% interval], %d rounds" % len(wall["all"]))
print("  %-32s %24s %24s" % ("", "wall ms", "cpu ms"))
pairs = [("all", "neither", "probes+supervisor"), ("probes", "neither", "probes"),
         ("supervisor", "neither", "supervisor"), ("base:all", "base:neither", "before: probes+supervisor"),
         ("all", "base:all", "after - before, everything on"), ("neither", "base:neither", "after - before, neither")]
for a, b, label in pairs:
    if a in wall and b in wall:
        cols = []
        for t in (wall, cpu):
            m, lo, hi, n = paired(t, a, b)
            cols.append("%+6.2f [%+6.2f, %+6.2f]" % (m, lo, hi))
        print("  %-32s %24s %24s" % (label, cols[0], cols[1]))
print("\nward(all)/crun: %.2f" % (statistics.median(wall["all"].values()) / statistics.median(wall["crun"].values())))
EOF

echo "== machine: $(nproc) cores, $(uname -r), $(crun --version | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $runs rounds of $(wc -l < "$work/variants.tsv") variants, state root $work/st ($(stat -f -c %T "$work"))"
unshare -m bash -c "
  umount /sys/fs/cgroup/unified 2>/dev/null || true
  python3 '$PWD/bench/lib/rounds.py' run '$work/variants.tsv' $runs 5 '$work/times.txt'
"
python3 "$work/report.py" "$work/times.txt" "$PWD/bench/lib"

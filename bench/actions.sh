#!/usr/bin/env bash
# Snapshot and action costs on a typical container: `ward sandbox` running
# a python HTTP server, a shell, two sleeps and a busy loop (5 processes).
#   - ward snapshot: time and archive size (median of RUNS), against a
#     reference collector that tars the same /proc files with GNU tar
#     (no hashes, no fds, no manifest): the ratio says what the extra
#     checks cost;
#   - quarantine --form freeze / resume, --form nonet / resume, kill: time.
#   bench/actions.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
ward=$PWD/build/src/cli/ward
work=$(mktemp -d /tmp/ward-bench-act.XXXXXX); chmod 755 "$work"
root=$work/state
cleanup() { "$ward" --root "$root" delete --force act-bench >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }

"$ward" --root "$root" sandbox --name act-bench -- sh -c \
  '/usr/bin/python3 -m http.server 18099 --bind 127.0.0.1 >/dev/null 2>&1 & sleep 600 & sleep 600 & while :; do sleep 0.01; done' \
  >/dev/null 2>&1 &
for i in $(seq 100); do "$ward" --root "$root" state act-bench >/dev/null 2>&1 && break; sleep 0.05; done
sleep 1
pids=$("$ward" --root "$root" ps act-bench | tail -n +2 | tr '\n' ' ')
echo "container: $(echo $pids | wc -w) processes"

snap_t=(); ref_t=()
for i in $(seq "$runs"); do
  t0=$(now); "$ward" --root "$root" snapshot act-bench -o "$work/s.tar" >/dev/null; t1=$(now)
  snap_t+=("$(echo "($t1 - $t0) * 1000" | bc -l)")
  files=()
  for p in $pids; do for f in status cmdline environ stat cgroup maps limits; do files+=("/proc/$p/$f"); done; done
  t0=$(now); tar -cf "$work/ref.tar" "${files[@]}" 2>/dev/null || true; t1=$(now)
  ref_t+=("$(echo "($t1 - $t0) * 1000" | bc -l)")
done
snap=$(printf '%s\n' "${snap_t[@]}" | median)
ref=$(printf '%s\n' "${ref_t[@]}" | median)
size=$(stat -c %s "$work/s.tar")
entries=$(tar -tf "$work/s.tar" | wc -l)
exes=$(tar -xOf "$work/s.tar" manifest.json | jq '.executables | length')
printf 'ward snapshot: %.1f ms median, %d bytes, %d entries, %d executables hashed\n' "$snap" "$size" "$entries" "$exes"
printf 'tar of the same /proc files: %.1f ms median (ratio %.1f x)\n' "$ref" "$(echo "$snap / $ref" | bc -l)"

act() {  # label, args...
  local label=$1 ts=()
  shift
  for i in $(seq "$runs"); do
    t0=$(now); "$ward" --root "$root" action act-bench "$@" >/dev/null; t1=$(now)
    ts+=("$(echo "($t1 - $t0) * 1000" | bc -l)")
    "$ward" --root "$root" action act-bench resume >/dev/null
  done
  printf '%-28s %.1f ms median (+ resume)\n' "$label" "$(printf '%s\n' "${ts[@]}" | median)"
}
act "quarantine --form freeze" quarantine --form freeze
act "quarantine --form nonet" quarantine --form nonet
act "restrict" restrict
act "honeypot" honeypot
t0=$(now); "$ward" --root "$root" action act-bench kill >/dev/null; t1=$(now)
printf '%-28s %.1f ms\n' "kill" "$(echo "($t1 - $t0) * 1000" | bc -l)"

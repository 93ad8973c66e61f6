#!/bin/bash
# Agent memory with many registered containers: starts `ward agent`, then N
# sandboxes (default 100) running `sleep`, each handed to the agent (ring,
# supervisor listener, pidfd), and reports the agent's RSS and peak RSS
# with every one registered, its CPU use while they idle, and the same
# figures for the agent alone. Target: RSS <= 20 MiB at 100 containers.
#   bench/agent-rss.sh [N] [WARD]      (AGENT_ARGS: extra `ward agent` options)
set -u
N=${1:-100}
WARD=${2:-$(dirname "$0")/../build/src/cli/ward}
WARD=$(realpath "$WARD")
T=$(mktemp -d /tmp/agt-rss.XXXXXX)
chmod 755 "$T"
ROOT=$T/state
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
  for id in $(ls "$ROOT" 2>/dev/null); do "$WARD" --root "$ROOT" delete --force "$id" >/dev/null 2>&1; done
  rm -rf "$T"
}
trap cleanup EXIT

rss() { awk '/^VmRSS/ {print $2}' /proc/$1/status; }
hwm() { awk '/^VmHWM/ {print $2}' /proc/$1/status; }
cpu_ticks() { awk '{print $14 + $15}' /proc/$1/stat; }

"$WARD" --root "$ROOT" agent --alerts "$T/alerts" ${AGENT_ARGS:-} --ready-fd 5 5>"$T/ready" 2>"$T/agent.log" &
AGENT=$!
for i in $(seq 100); do [ -s "$T/ready" ] && break; sleep 0.05; done
sleep 0.2
echo "agent alone: RSS $(rss $AGENT) kB"

start=$(date +%s.%N)
for i in $(seq "$N"); do
  "$WARD" --root "$ROOT" sandbox --name "agt-rss$i" -- sleep 600 >/dev/null 2>&1 &
  pids+=($!)
done
for i in $(seq 600); do
  n=$("$WARD" --root "$ROOT" agent status --json 2>/dev/null | jq '.agent.containers')
  [ "${n:-0}" -ge "$N" ] && break
  sleep 0.2
done
echo "registered: ${n:-0} of $N in $(echo "$(date +%s.%N) - $start" | bc) s"
sleep 2
t0=$(cpu_ticks $AGENT)
sleep 10
t1=$(cpu_ticks $AGENT)
hz=$(getconf CLK_TCK)
r=$(rss $AGENT)
echo "agent with $n containers: RSS $r kB ($(echo "scale=1; $r / 1024" | bc) MiB), peak $(hwm $AGENT) kB, fds $(ls /proc/$AGENT/fd | wc -l)"
echo "agent CPU while they idle: $(echo "scale=1; ($t1 - $t0) * 100 / $hz / 10" | bc) % of a core"
if [ -n "${RSS_DETAIL:-}" ]; then
  echo "largest mappings by RSS (kB):"
  awk '/^[0-9a-f]+-[0-9a-f]+ / {name = $6 ? $6 : "[anon]"} /^Rss:/ {rss[name] += $2} END {for (n in rss) print rss[n], n}' \
    /proc/$AGENT/smaps | sort -rn | head -8
fi
echo "target RSS <= 20 MiB: ratio $(echo "scale=2; $r / 20480" | bc)"

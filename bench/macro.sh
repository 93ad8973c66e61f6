#!/usr/bin/env bash
# Throughput of real servers inside ward: nginx (Debian nginx-light) under
# wrk, and redis-server under redis-benchmark, each run bare on the host,
# in `ward sandbox --net host` with the probes off (--no-probe) and with
# every group on, and under `strace -f -o /dev/null` for scale. Prints
# requests/s and the ratio to bare.
#   bench/macro.sh [SECONDS] [ROUNDS]
# One more variant has every group on with the engine polling the ring at
# most every POLL_US (default 10000) microseconds (`--poll-max-us`): fewer
# wake-ups, alerts up to that late.
# SERVERS="nginx" runs one of the two; VARIANTS="ward-probes-off
# ward-probes-on" runs only those (probes off is always one: the paired
# ratios are taken to it); NO_STRACE=1 leaves out the strace run.
# VARIANTS may also name ward-probes-on-monitor: every group on, in monitor
# mode under a template learned from one untimed run of the same server
# and load before the rounds.
# WARD=path picks the ward binary (default build/src/cli/ward); WARD_BASE=path
# adds that binary with every group on (and in monitor, when that variant
# runs) as more variants, for a same-run before/after of a change.
set -euo pipefail
cd "$(dirname "$0")/.."
# the servers and load generators are not in scripts/setup.sh (the tests do
# not need them): Debian's, installed here when missing
need=()
for t in nginx:nginx-light wrk:wrk redis-server:redis-server redis-benchmark:redis-tools strace:strace; do
  command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench: missing ${need[*]} (apt-get install ${need[*]})" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
secs=${1:-5}
poll_us=${POLL_US:-10000}
rounds=${2:-3}
ward=${WARD:-$PWD/build/src/cli/ward}
base_ward=${WARD_BASE:-}
work=$(mktemp -d /var/tmp/ward-macro.XXXXXX); chmod 755 "$work"
trap 'pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
head -c 1024 /dev/urandom | base64 > "$work/index.html"
cat > "$work/nginx.conf" <<EOC
user root root; daemon off; master_process off; worker_processes 1; pid /tmp/nginx.pid;
error_log /dev/null; events { worker_connections 1024; }
http { access_log off; client_body_temp_path /tmp; proxy_temp_path /tmp; fastcgi_temp_path /tmp;
  uwsgi_temp_path /tmp; scgi_temp_path /tmp;
  server { listen 127.0.0.1:18080; root $work; } }
EOC
port_up() { for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }

run_nginx() {  # label, command prefix...
  local label=$1; shift
  "$@" nginx -c "$work/nginx.conf" -e /dev/null >/dev/null 2>&1 &
  local pid=$!
  port_up 18080
  local rps
  rps=$(wrk -t1 -c16 -d"${secs}s" http://127.0.0.1:18080/index.html | awk '/Requests\/sec/ {print $2}')
  pkill -P $pid 2>/dev/null || true; kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
  echo "$label $rps"
}
run_redis() {
  local label=$1; shift
  "$@" redis-server --port 16379 --bind 127.0.0.1 --save "" --appendonly no --daemonize no --dir /tmp >/dev/null 2>&1 &
  local pid=$!
  port_up 16379
  local rps
  rps=$(redis-benchmark -p 16379 -q -t set,get -n $((secs * 20000)) -c 16 | tr '\r' '\n' |
    awk '/requests per second/ {s += $2; n++} END {printf "%.0f", n ? s / n : 0}')
  pkill -P $pid 2>/dev/null || true; kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
  echo "$label $rps"
}

variant_cmd() {  # name -> the command prefix that runs the server
  case $1 in
    bare) echo env ;;
    ward-probes-off) echo "$ward --root $work/st sandbox --net host --no-probe --" ;;
    ward-probes-on) echo "$ward --root $work/st sandbox --net host --probe all --" ;;
    ward-probes-noperf) echo "$ward --root $work/st sandbox --net host --probe exec,file,net,mem,identity,dl --" ;;
    ward-probes-on-slowpoll) echo "$ward --root $work/st sandbox --net host --probe all --poll-max-us $poll_us --" ;;
    ward-probes-on-monitor) echo "$ward --root $work/st sandbox --net host --probe all --mode monitor --template $work/$server.yaml --" ;;
    learn) echo "$ward --root $work/st sandbox --net host --probe all --mode learn --template $work/$server.yaml --" ;;
    base-probes-on) echo "$base_ward --root $work/st sandbox --net host --probe all --" ;;
    base-probes-on-monitor) echo "$base_ward --root $work/st sandbox --net host --probe all --mode monitor --template $work/$server.yaml --" ;;
  esac
}
variants=${VARIANTS:-bare ward-probes-off ward-probes-on ward-probes-noperf ward-probes-on-slowpoll}
[ -z "$base_ward" ] || variants="$variants base-probes-on"
case " $variants " in *" ward-probes-on-monitor "*) monitor=1 ;; *) monitor= ;; esac
[ -z "$base_ward" ] || [ -z "$monitor" ] || variants="$variants base-probes-on-monitor"
case " $variants " in *" ward-probes-off "*) ;; *) variants="ward-probes-off $variants" ;; esac

# Every round runs every variant once, in a fresh random order, so that the
# VM's drifting noise (and whatever one run leaves to the next) hits each
# alike. The table gives each variant's median; the paired figures are the
# median of the per-round ratios to probes off, with a bootstrap 95 %
# interval: that, not the medians' ratio, is what says whether a loss is
# within a target.
for server in ${SERVERS:-nginx redis}; do
  if [ -n "$monitor" ]; then
    # shellcheck disable=SC2046
    run_$server learn $(variant_cmd learn) >/dev/null
    [ -s "$work/$server.yaml" ] || { echo "bench: learning $server wrote no template" >&2; exit 1; }
  fi
  results=$(
    for round in $(seq "$rounds"); do
      for v in $(printf '%s\n' $variants | shuf); do
        # shellcheck disable=SC2046
        run_$server "$v" $(variant_cmd "$v") | sed "s/^/$round /"
      done
    done
    [ -n "${NO_STRACE:-}" ] || run_$server strace strace -f -o /dev/null | sed 's/^/0 /'
  )
  echo "== $server (requests/s, median of $rounds rounds; ratio to bare)"
  median() { echo "$results" | awk -v l="$1" '$2 == l {print $3}' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
  ref=bare
  case " $variants " in *" bare "*) ;; *) ref=ward-probes-off ;; esac
  base=$(median $ref)
  for l in $variants $([ -n "${NO_STRACE:-}" ] || echo strace); do
    awk -v l="$l" -v m="$(median "$l")" -v b="$base" 'BEGIN {printf "%-24s %12.0f %6.3f\n", l, m, m / b}'
  done
  echo "$results" | python3 -c '
import collections, random, statistics, sys
by = collections.defaultdict(dict)
for line in sys.stdin:
    r, label, rps = line.split()
    if rps:
        by[label][int(r)] = float(rps)
off = by["ward-probes-off"]
print("paired, median of per-round ratios to probes off [bootstrap 95 %% interval], %d rounds:" % len(off))
rng = random.Random(1)
for label, runs in by.items():
    if label in ("ward-probes-off", "strace"):
        continue
    d = [runs[r] / off[r] - 1 for r in runs if r in off and off[r] > 0]
    if not d:
        continue
    boots = sorted(statistics.median(rng.choices(d, k=len(d))) for _ in range(1000))
    print("  %-24s %+6.1f %% [%+.1f, %+.1f]" % (label, statistics.median(d) * 100, boots[25] * 100, boots[974] * 100))
'
done

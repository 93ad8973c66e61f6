#!/usr/bin/env bats
# The node agent (issue 5, section 1 and "Bad input and faults"): one
# `ward agent` serves many containers, each with its own policy; peer
# credentials are checked and containers never see the socket; restarting
# the agent loses no ring backlog; metrics; hostile clients.

load ../lib/common

setup() {
  common_setup
  AGENT_PID=
  RUN_DIR=
  RL_TMP=
}

# Any agent still serving RUN_DIR (a path unique to this run) is ours.
kill_run_dir_agents() {
  local f pid
  [ -n "$RUN_DIR" ] || return 0
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    tr '\0' ' ' < "$f" 2>/dev/null | grep -qF -- "--root $RUN_DIR agent" && kill -9 "$pid" 2>/dev/null
  done
  return 0
}

teardown() {
  stop_agent
  kill_run_dir_agents
  [ -n "$RUN_DIR" ] && rm -rf "$RUN_DIR"
  common_teardown
}

# start_agent [ARGS...]: a background agent on $WARD_ROOT; waits until it
# listens. SOCK and METRICS (address or "-") from its ready line.
start_agent() {
  : > "$TEST_TMP/ready"
  "$WARD" --root "$WARD_ROOT" agent --alerts "$TEST_TMP/alerts" --ready-fd 5 "$@" \
    5>"$TEST_TMP/ready" 3>&- 2>>"$TEST_TMP/agent.log" &
  AGENT_PID=$!
  for i in $(seq 100); do [ -s "$TEST_TMP/ready" ] && break; sleep 0.05; done
  [ -s "$TEST_TMP/ready" ] || { cat "$TEST_TMP/agent.log"; return 1; }
  SOCK=$(awk '{print $2}' "$TEST_TMP/ready")
  METRICS=$(awk '{print $3}' "$TEST_TMP/ready")
}

stop_agent() {
  if [ -n "$AGENT_PID" ]; then
    kill "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
    # it drains and finalises before it exits; never leave one behind
    local gone=
    for i in $(seq 100); do kill -0 "$AGENT_PID" 2>/dev/null || { gone=1; break; }; sleep 0.05; done
    [ -n "$gone" ] || kill -9 "$AGENT_PID" 2>/dev/null || true
    AGENT_PID=
  fi
}

status_json() { "$WARD" --root "$WARD_ROOT" agent status --json "$@"; }

# waits until the agent lists ID (with source $2 when given)
wait_registered() {
  for i in $(seq 100); do
    status_json 2>/dev/null | jq -e --arg id "$1" --arg src "${2:-}" \
      '.containers | map(select(.id == $id and ($src == "" or .source == $src))) | length == 1' >/dev/null && return 0
    sleep 0.05
  done
  cat "$TEST_TMP/agent.log"
  return 1
}

events_of() { status_json | jq -r --arg id "$1" '.containers[] | select(.id == $id) | .events'; }

# A workload that opens /agt-marker-N every 100 ms without forking or
# executing (so the supervisor, which watches execve/clone, never waits).
MARKERS='import sys, time
for i in range(int(sys.argv[1])):
    try: open("/agt-marker-%d" % i)
    except OSError: pass
    time.sleep(0.1)'

@test "agent: two containers with different policies served at once" {
  start_agent --metrics 127.0.0.1:0
  # a template learnt through the agent from a workload that only reads
  run "$WARD" --root "$WARD_ROOT" sandbox --name agt-p0 --mode learn --template "$TEST_TMP/shop.json" -- \
    sh -c 'cat /etc/hostname >/dev/null'
  [ "$status" -eq 0 ]
  for i in $(seq 50); do [ -s "$TEST_TMP/shop.json" ] && break; sleep 0.1; done
  jq -e '.exec | map(select(.path == "/usr/bin/cat")) | length == 1' "$TEST_TMP/shop.json"
  # shop: monitor against it (from a policy file); agt-p2: learn its own
  printf 'app: shop\nmode: monitor\ntemplate: %s\n' "$TEST_TMP/shop.json" > "$TEST_TMP/shop.yaml"
  work='/usr/bin/python3 -c "$1" 20; id >/dev/null'
  "$WARD" --root "$WARD_ROOT" sandbox --name agt-p1 --policy "$TEST_TMP/shop.yaml" -- sh -c "$work" sh "$MARKERS" 3>&- &
  a=$!
  "$WARD" --root "$WARD_ROOT" sandbox --name agt-p2 --mode learn --template "$TEST_TMP/p2.json" -- sh -c "$work" sh "$MARKERS" 3>&- &
  b=$!
  wait_registered agt-p1
  wait_registered agt-p2
  sleep 0.5
  run status_json
  echo "$output"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.agent.containers == 2'
  echo "$output" | jq -e '.containers[] | select(.id == "agt-p1") | .app == "shop" and .mode == "monitor" and .source == "client" and .ring and .listener'
  echo "$output" | jq -e '.containers[] | select(.id == "agt-p2") | .app == "agt-p2" and .mode == "learn"'
  # both rings are consumed by the one agent
  echo "$output" | jq -e '[.containers[] | .events > 0] | all'
  run "$WARD" --root "$WARD_ROOT" agent status
  [[ "$output" == *"agt-p1"*"shop"*"monitor"* ]]
  # the metrics count alerts by rule and severity, and per container with
  # its app and mode (python3 is not in shop's template: an alert already)
  run curl -sS -m 5 "http://$METRICS/metrics"
  echo "$output" | grep -E 'alerts_by_rule|container_alerts'
  [[ "$output" == *'ward_agent_alerts_by_rule_total{rule="template.exec",severity="high"}'* ]]
  n=$(echo "$output" | awk '/^ward_agent_container_alerts_total\{container="agt-p1",app="shop",mode="monitor"\}/ {print $2}')
  [ "${n:-0}" -ge 1 ]
  n=$(echo "$output" | awk '/^ward_agent_container_alerts_total\{container="agt-p2",app="agt-p2",mode="learn"\}/ {print $2}')
  [ "$n" = 0 ]
  # the workload's file events went through the agent into the flight recorder
  run "$WARD" --root "$WARD_ROOT" events --json agt-p1
  echo "$output" | jq -s -e 'map(select(.path == "/agt-marker-1")) | length >= 1'
  wait $a
  wait $b
  # each by its own policy: shop alerted on what its template lacks, the
  # learner recorded it instead
  cat "$TEST_TMP/alerts"
  jq -s -e 'map(select(.container == "agt-p1" and .app == "shop" and .rule == "template.exec" and .event.path == "/usr/bin/id")) | length >= 1' "$TEST_TMP/alerts"
  jq -s -e 'map(select(.container == "agt-p2")) | length == 0' "$TEST_TMP/alerts"
  for i in $(seq 50); do [ -s "$TEST_TMP/p2.json" ] && break; sleep 0.1; done
  jq -e '.exec | map(select(.path == "/usr/bin/id")) | length == 1' "$TEST_TMP/p2.json"
  # both deregistered on exit (pidfd)
  for i in $(seq 50); do [ "$(status_json | jq '.agent.containers')" = 0 ] && break; sleep 0.1; done
  status_json | jq -e '.agent.containers == 0'
  grep -q 'agt-p1 exited; deregistered' "$TEST_TMP/agent.log"
}

@test "agent: without an agent, sandbox serves itself in-process (same engine)" {
  run "$WARD" --root "$WARD_ROOT" sandbox --name agt-n1 -- sh -c 'cat /etc/hostname >/dev/null'
  [ "$status" -eq 0 ]
  run "$WARD" --root "$WARD_ROOT" agent status
  [ "$status" -ne 0 ]
  [[ "$output" == *"no agent is listening"* ]]
}

@test "agent: peers of another uid are refused (socket mode, then SO_PEERCRED)" {
  rootless_setup
  start_agent
  uid=$(id -u wardtest)
  [ "$(stat -c %a "$SOCK")" = 600 ]
  [ "$(stat -c %a "$(dirname "$SOCK")")" = 700 ]
  run rootless "$RL_WARD" agent status --socket "$SOCK"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"ermission denied"* ]]
  # positive control for the second line of defence: open the file modes
  # up and the agent itself still refuses the peer on its credentials
  chmod 755 "$TEST_TMP" "$WARD_ROOT" "$(dirname "$SOCK")"
  chmod 666 "$SOCK"
  run rootless "$RL_WARD" agent status --socket "$SOCK"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"peer uid may not use this agent"* ]]
  grep -q "refused pid [0-9]* uid $uid: only uid 0 and root may use this agent" "$TEST_TMP/agent.log"
  # root still gets in
  status_json | jq -e '.ok'
}

@test "agent: the socket is invisible inside sandboxes" {
  RUN_DIR=/run/ward-agt-$$
  start_agent --socket "$RUN_DIR/agent.sock"
  [ -S "$RUN_DIR/agent.sock" ]
  # /tmp is private in the sandbox: the probe travels on the command line
  probe='import socket, sys
for path in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(path)
        print("CONNECTED", path)
    except OSError as e:
        print("refused", path, e.strerror)'
  # the positive control: the same probe on the host connects
  run /usr/bin/python3 -c "$probe" "$RUN_DIR/agent.sock"
  [[ "$output" == "CONNECTED"* ]]
  run "$WARD" --root "$WARD_ROOT" sandbox -- sh -c 'ls -A "$1" 2>&1; ls -A /run/ward 2>&1; ls -A "$2" 2>&1; /usr/bin/python3 -c "$3" "$1/agent.sock" "$2/.agent/agent.sock"' \
    sh "$RUN_DIR" "$WARD_ROOT" "$probe"
  echo "$output"
  [[ "$output" != *CONNECTED* ]]
  [[ "$output" == *"refused $RUN_DIR/agent.sock"* ]]
  [[ "$output" == *"refused $WARD_ROOT/.agent/agent.sock"* ]]
  [[ "$output" == *"$RUN_DIR"*"No such file"* ]]
}

@test "agent: restart; the keeper re-registers with the listener and the backlog arrives" {
  start_agent
  "$WARD" --root "$WARD_ROOT" sandbox --name agt-r1 -- /usr/bin/python3 -c "$MARKERS" 40 3>&- &
  bg=$!
  wait_registered agt-r1 client
  sleep 0.5
  stop_agent
  # the workload goes on while no agent runs; its events wait in the ring
  sleep 1
  ring="$(run_dir agt-r1)/probe/ring"
  head_tail=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(256); print(struct.unpack_from("<Q",d,64)[0] - struct.unpack_from("<Q",d,128)[0])' "$ring")
  echo "backlog while the agent is down: $head_tail"
  [ "$head_tail" -gt 3 ]
  start_agent
  wait_registered agt-r1 reattach
  status_json | jq -e '.containers[0].listener'
  sleep 0.3
  # every marker the workload wrote, also while the agent was down
  run "$WARD" --root "$WARD_ROOT" events --json agt-r1
  last=$(echo "$output" | jq -r 'select(.path | startswith("/agt-marker-")) | .path' | sed 's/.*-//' | sort -n | tail -1)
  echo "last marker: $last"
  for i in $(seq 0 "$last"); do
    echo "$output" | jq -e -s --arg p "/agt-marker-$i" 'map(select(.path == $p)) | length >= 1' >/dev/null || { echo "missing marker $i"; false; }
  done
  [ "$last" -ge 12 ]
  grep -q 'agt-r1: its keeper is alive' "$TEST_TMP/agent.log"
  wait $bg
}

@test "agent: restart without a keeper re-attaches from the state directory" {
  start_agent
  "$WARD" --root "$WARD_ROOT" sandbox --name agt-s1 --no-supervisor -- /usr/bin/python3 -c "$MARKERS" 60 3>&- &
  keeper=$!
  wait_registered agt-s1 client
  # the registering process dies; the container keeps running
  kill -9 $keeper
  wait $keeper || true
  stop_agent
  sleep 0.8
  start_agent
  wait_registered agt-s1 state
  status_json | jq -e '.containers[0].ring and (.containers[0].listener | not)'
  grep -q 'agt-s1 re-attached from its state directory' "$TEST_TMP/agent.log"
  sleep 0.5
  n=$(events_of agt-s1)
  echo "events after re-attach: $n"
  [ "$n" -ge 5 ]
  "$WARD" --root "$WARD_ROOT" kill agt-s1 KILL || true
}

@test "agent: metrics over loopback HTTP; bad requests get 400; non-loopback refused" {
  run "$WARD" --root "$WARD_ROOT" agent --metrics 0.0.0.0:9 --socket "$TEST_TMP/x.sock"
  [ "$status" -ne 0 ]
  [[ "$output" == *"not a loopback address"* ]]
  start_agent --metrics 127.0.0.1:0
  [[ "$METRICS" == 127.0.0.1:* ]]
  "$WARD" --root "$WARD_ROOT" sandbox --name agt-m1 -- /usr/bin/python3 -c "$MARKERS" 20 3>&- &
  bg=$!
  wait_registered agt-m1
  sleep 0.5
  # a stalled client must not hold the scrape up
  exec 7<>/dev/tcp/127.0.0.1/${METRICS#*:}
  run curl -sS -m 5 "http://$METRICS/metrics"
  echo "$output" | head -40
  [ "$status" -eq 0 ]
  [[ "$output" == *"ward_agent_up 1"* ]]
  [[ "$output" == *"ward_agent_containers 1"* ]]
  [[ "$output" == *'ward_agent_registrations_total{result="accepted"} 1'* ]]
  n=$(echo "$output" | awk '/^ward_agent_container_events_total\{container="agt-m1",app="agt-m1",mode="off"\}/ {print $2}')
  echo "events: $n"
  [ "$n" -gt 0 ]
  [[ "$output" == *"ward_agent_loop_seconds_count"* ]]
  [[ "$output" == *"ward_agent_ring_drops_total"* ]]
  exec 7>&-
  # a producer's wake-ups are never taken for a workload's empty ones: 20
  # execs, each seen by the probe (which wakes the engine) and by the
  # supervisor (whose handling drains the ring first), leave no ring
  # penalised (ward_engine_ring_quiet_total; its positive control is the
  # fake producer of build/test-engine)
  "$WARD" --root "$WARD_ROOT" sandbox --name agt-m2 -- sh -c 'for i in $(seq 20); do /bin/true; done' 3>&-
  run curl -sS -m 5 "http://$METRICS/metrics"
  echo "$output" | grep -E '^ward_engine_ring_(quiet|wakeups)_total'
  [[ "$output" == *$'\nward_engine_ring_quiet_total 0\n'* ]]
  run curl -s -o /dev/null -w '%{http_code}' -X POST "http://$METRICS/metrics"
  [ "$output" = 405 ]
  run curl -s -o /dev/null -w '%{http_code}' "http://$METRICS/nope"
  [ "$output" = 404 ]
  exec 8<>/dev/tcp/127.0.0.1/${METRICS#*:}
  printf '\x01\x02garbage\r\n\r\n' >&8
  read -r -t 5 line <&8
  exec 8>&-
  [[ "$line" == "HTTP/1.0 400"* ]]
  wait $bg
  # unix socket variant
  stop_agent
  start_agent --metrics "unix:$TEST_TMP/metrics.sock"
  [ "$(stat -c %a "$TEST_TMP/metrics.sock")" = 600 ]
  run curl -sS --unix-socket "$TEST_TMP/metrics.sock" http://x/metrics
  [[ "$output" == *"ward_agent_up 1"* ]]
}

@test "agent: garbage, oversized and fd-stuffed messages disconnect the client; unknown ids are clear errors" {
  start_agent
  cat > "$TEST_TMP/hostile.py" <<'EOF'
import os, socket, struct, sys
path, what = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(path)
if what == "garbage":
    s.send(b"hello, agent; this is not your protocol")
elif what == "oversized":
    s.send(b"WAGT" + struct.pack("<HHII", 1, 3, 100000, 0) + b"x" * 100000)
elif what == "fds":
    body = b'{"id":"agt-x","state_dir":"/tmp/agt-x","fds":["pidfd"]}'
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(6)]
    s.sendmsg([b"WAGT" + struct.pack("<HHII", 1, 1, len(body), 6) + body],
              [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("6i", *fds))])
elif what == "fakepidfd":
    body = b'{"id":"agt-x","state_dir":"/tmp/agt-x","fds":["pidfd"]}'
    fd = os.open("/dev/null", os.O_RDONLY)
    s.sendmsg([b"WAGT" + struct.pack("<HHII", 1, 1, len(body), 1) + body],
              [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))])
r = s.recv(70000)
print("reply:", r[16:].decode(errors="replace"))
s.settimeout(2)
try:
    print("closed" if s.recv(100) == b"" else "open")
except socket.timeout:
    print("open")
EOF
  run python3 "$TEST_TMP/hostile.py" "$SOCK" garbage
  echo "$output"
  [[ "$output" == *"bad magic"* ]]
  [[ "$output" == *closed* ]]
  run python3 "$TEST_TMP/hostile.py" "$SOCK" oversized
  echo "$output"
  [[ "$output" == *"larger than"* ]]
  [[ "$output" == *closed* ]]
  run python3 "$TEST_TMP/hostile.py" "$SOCK" fds
  echo "$output"
  [[ "$output" == *"too many descriptors"* ]]
  [[ "$output" == *closed* ]]
  # well-formed but lying: /dev/null is no pidfd; the connection stays
  run python3 "$TEST_TMP/hostile.py" "$SOCK" fakepidfd
  echo "$output"
  [[ "$output" == *"not a pidfd"* ]]
  [[ "$output" == *open* ]]
  # the agent's own descriptors did not grow with what was sent
  [ "$(ls /proc/$AGENT_PID/fd | wc -l)" -lt 20 ]
  run "$WARD" --root "$WARD_ROOT" agent deregister agt-nope
  [ "$status" -ne 0 ]
  [[ "$output" == *'no container "agt-nope" is registered with this agent'* ]]
  run "$WARD" --root "$WARD_ROOT" agent status agt-nope
  [ "$status" -ne 0 ]
  [[ "$output" == *'no container "agt-nope"'* ]]
  # and it still serves
  status_json | jq -e '.agent.bad_messages == 3'
}

@test "agent: a flooding container: bounded agent memory, workload never blocked, drops counted" {
  start_agent
  FLOOD='import sys, time
time.sleep(0.5)
for r in range(int(sys.argv[1])):
    for i in range(20000):
        try: open("/agt-flood")
        except OSError: pass
    print("round", r, flush=True)
    time.sleep(0.3)'
  "$WARD" --root "$WARD_ROOT" sandbox --name agt-f1 -- /usr/bin/python3 -c "$FLOOD" 12 > "$TEST_TMP/flood.out" 3>&- &
  bg=$!
  wait_registered agt-f1
  sleep 1
  rss1=$(awk '/VmRSS/ {print $2}' /proc/$AGENT_PID/status)
  # no agent for a while: the ring fills and the producers drop, not wait
  stop_agent
  sleep 1.5
  start_agent --metrics 127.0.0.1:0
  wait_registered agt-f1
  sleep 1
  rss2=$(awk '/VmRSS/ {print $2}' /proc/$AGENT_PID/status)
  echo "agent RSS: $rss1 kB, after restart and flood $rss2 kB"
  [ "$rss2" -lt 65536 ]
  n=$(status_json | jq '.containers[0].drops')
  echo "drops: $n"
  [ "$n" -gt 0 ]
  # and exported
  m=$(curl -sS -m 5 "http://$METRICS/metrics" | awk '/^ward_agent_ring_drops_total / {print $2}')
  echo "exported drops: $m"
  [ "$m" -gt 0 ]
  wait $bg
  grep -q "round 11" "$TEST_TMP/flood.out"
}

@test "agent: ward create hands over to a keeper process that outlives it and re-registers" {
  start_agent
  make_bundle "$TEST_TMP/b" '["sh","-c","while true; do sleep 0.2; done"]'
  (cd "$TEST_TMP/b" && "$WARD" --root "$WARD_ROOT" create agt-c1 3>&-)
  wait_registered agt-c1 client
  keeper=$(awk '{print $1}' "$WARD_ROOT/agt-c1/agent.keeper")
  [ "$(cat /proc/$keeper/comm)" = ward-keeper ]
  "$WARD" --root "$WARD_ROOT" start agt-c1
  stop_agent
  start_agent
  wait_registered agt-c1 reattach
  status_json | jq -e '.containers[0].listener'
  "$WARD" --root "$WARD_ROOT" kill agt-c1 KILL
  for i in $(seq 50); do [ "$(status_json | jq '.agent.containers')" = 0 ] && break; sleep 0.1; done
  status_json | jq -e '.agent.containers == 0'
  # the keeper ends with its container
  for i in $(seq 50); do [ -e /proc/$keeper ] || break; sleep 0.1; done
  [ ! -e /proc/$keeper ]
}

@test "agent: rootless agent with a state root outside /run and /tmp; the sandbox cannot reach it" {
  rootless_setup
  RUN_DIR=/var/tmp/ward-agt-rl$$
  mkdir -p "$RUN_DIR"
  chown wardtest: "$RUN_DIR"
  RL_ROOT=$RUN_DIR
  # not through the rootless function: $! must be the agent itself
  setpriv --reuid wardtest --regid wardtest --clear-groups env -u XDG_RUNTIME_DIR HOME="$RL_TMP" \
    "$RL_WARD" --root "$RL_ROOT" agent --ready-fd 5 5>"$TEST_TMP/ready" 3>&- 2>>"$TEST_TMP/agent.log" &
  AGENT_PID=$!
  for i in $(seq 100); do [ -s "$TEST_TMP/ready" ] && break; sleep 0.05; done
  sock=$RUN_DIR/.agent/agent.sock
  [ -S "$sock" ]
  probe="import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect(sys.argv[1]); print('CONNECTED')
except OSError as e:
    print('refused', e.strerror)"
  # control: the same user on the host reaches it (a unix socket is
  # connectable even through a read-only bind, so hiding is what counts)
  run setpriv --reuid wardtest --regid wardtest --clear-groups /usr/bin/python3 -c "$probe" "$sock"
  [ "$output" = CONNECTED ]
  rootless "$RL_WARD" sandbox --name agt-rl1 -- sh -c '/usr/bin/python3 -c "$1" "$2"; ls "$3" 2>&1; sleep 1' sh "$probe" "$sock" "$RUN_DIR" \
    > "$TEST_TMP/out" 2>&1 3>&- &
  bg=$!
  for i in $(seq 60); do
    rootless "$RL_WARD" agent status --json 2>/dev/null | jq -e '.containers | map(select(.id == "agt-rl1")) | length == 1' >/dev/null && break
    sleep 0.1
  done
  rootless "$RL_WARD" agent status --json | jq -e '.containers[] | select(.id == "agt-rl1") | .ring and .listener'
  wait $bg
  cat "$TEST_TMP/out"
  grep -q "refused" "$TEST_TMP/out"
  ! grep -q CONNECTED "$TEST_TMP/out"
}

@test "agent: ward run hands its container over and still returns its exit status" {
  start_agent
  make_bundle "$TEST_TMP/b" '["sh","-c","echo hello; sleep 0.3; exit 3"]'
  run sh -c "cd '$TEST_TMP/b' && '$WARD' --root '$WARD_ROOT' run agt-run1 3>&-"
  [ "$status" -eq 3 ]
  [[ "$output" == *hello* ]]
  grep -q 'agt-run1 (app agt-run1, pid [0-9]*, mode off) registered by client' "$TEST_TMP/agent.log"
  for i in $(seq 30); do grep -q 'agt-run1 exited; deregistered' "$TEST_TMP/agent.log" && break; sleep 0.1; done
  grep -q 'agt-run1 exited; deregistered' "$TEST_TMP/agent.log"
  # WARD_AGENT_SOCKET=none keeps a container in-process although an agent runs
  run sh -c "cd '$TEST_TMP/b' && WARD_AGENT_SOCKET=none '$WARD' --root '$WARD_ROOT' run agt-run2 3>&-"
  [ "$status" -eq 3 ]
  ! grep -q 'agt-run2' "$TEST_TMP/agent.log"
}

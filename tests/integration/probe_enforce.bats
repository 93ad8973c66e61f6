#!/usr/bin/env bats
# Enforcement by the probes in real containers (issues 5 and 6): protect
# tables, quarantine, restrict (with its in-process seccomp layer) and
# honeypot, switched on a running container with `ward probe mode/deny/sink`.
# Every refusal has a positive control before the switch, and the ring must
# show the refused call with `denied`.
#
# The container waits for a go-file in a host directory it can read (the
# sandbox's root is the host's, read-only; bundles get it bind-mounted), so
# the switch always lands between the control and the checked call.

load ../lib/common

setup() {
  common_setup
  SYNC=$(mktemp -d /var/tmp/ward-pe.XXXXXX)
  chmod 755 "$SYNC"
  TARGET=$(dirname "$WARD")/../probe/enforce-target
}
teardown() {
  common_teardown
  rm -rf "$SYNC"
}

wait_state() { for i in $(seq 200); do [ -e "$WARD_ROOT/$1/state.json" ] && return 0; sleep 0.05; done; return 1; }
# wait_for FILE TEXT: until FILE holds TEXT (10 s)
wait_for() { for i in $(seq 200); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "timeout waiting for '$2' in $1:" >&2; cat "$1" >&2; return 1; }
W() { "$WARD" --root "$WARD_ROOT" "$@"; }

@test "pe: protect denies an exact path: cat fails with EACCES, the ring shows it denied" {
  W sandbox --name pe-1 -- sh -c "
    g() { while [ ! -e $SYNC/\$1 ]; do sleep 0.05; done; }
    cat /etc/hostname >/dev/null && echo control-ok
    g go
    cat /etc/hostname; echo cat-rc=\$?
    cat /etc/os-release >/dev/null && echo other-ok
    cat /etc/../etc//hostname 2>&1; echo all-done; sleep 2" > "$TEST_TMP/out" 2>&1 &
  bg=$!
  wait_state pe-1
  wait_for "$TEST_TMP/out" control-ok
  run W probe deny pe-1 --path /etc/hostname
  [ "$status" -eq 0 ]
  [[ "$output" == *"deny_paths: 1"* ]]
  run W probe mode pe-1 protect
  [ "$output" = protect ]
  touch "$SYNC/go"
  wait_for "$TEST_TMP/out" all-done
  run W events --json pe-1
  echo "$output" > "$TEST_TMP/events"
  wait $bg
  cat "$TEST_TMP/out"
  grep -q "cat: /etc/hostname: Permission denied" "$TEST_TMP/out"
  grep -q "cat-rc=1" "$TEST_TMP/out"
  grep -q other-ok "$TEST_TMP/out"
  grep -q "cat: /etc/../etc//hostname: Permission denied" "$TEST_TMP/out"
  # the control open succeeded and was not denied; the later ones were, without a system call
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/etc/hostname" and .ret >= 0 and (.denied | not))) | length == 1'
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/etc/hostname" and .denied == true and .errno == "EACCES")) | length == 1'
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/etc/os-release" and (.denied | not))) | length == 1'
}

@test "pe: quarantine refuses non-loopback connects (curl, bash /dev/tcp), loopback still works" {
  W sandbox --name pe-2 -- bash -c "
    g() { while [ ! -e $SYNC/\$1 ]; do sleep 0.05; done; }
    mkdir -p /tmp/www && echo local-page > /tmp/www/index.html
    busybox httpd -f -p 127.0.0.1:8081 -h /tmp/www & sleep 0.3
    curl -s -m 3 http://10.1.2.3/ ; echo curl-out-rc=\$?
    curl -s -m 3 http://127.0.0.1:8081/index.html
    echo > /dev/tcp/10.1.2.3/80; echo control-done
    g go
    curl -sS -m 3 http://10.1.2.3/ ; echo curl-q-rc=\$?
    curl -s -m 3 http://127.0.0.1:8081/index.html | sed s/^/q-/
    echo > /dev/tcp/10.1.2.3/80
    echo > /dev/tcp/127.0.0.1/8081 && echo bash-lo-ok
    echo all-done; sleep 2; kill %1" > "$TEST_TMP/out" 2>&1 &
  bg=$!
  wait_state pe-2
  wait_for "$TEST_TMP/out" control-done
  run W probe mode pe-2 quarantine
  [ "$output" = quarantine ]
  touch "$SYNC/go"
  wait_for "$TEST_TMP/out" all-done
  run W events --json pe-2
  echo "$output" > "$TEST_TMP/events"
  wait $bg
  cat "$TEST_TMP/out"
  # before: no route out of the loopback-only namespace (the kernel said so)
  grep -q "connect: Network is unreachable" "$TEST_TMP/out"
  grep -q "^local-page" "$TEST_TMP/out"
  # after: refused by the probe, loopback unaffected
  grep -q "connect: Permission denied" "$TEST_TMP/out"
  grep -q "^q-local-page" "$TEST_TMP/out"
  grep -q bash-lo-ok "$TEST_TMP/out"
  echo "$output" | jq -s -e 'map(select(.type == "connect" and .addr == "10.1.2.3" and .errno == "ENETUNREACH" and (.denied | not))) | length >= 2'
  # curl and bash each tried 10.1.2.3 once more, both refused before any system call
  echo "$output" | jq -s -e 'map(select(.type == "connect" and .addr == "10.1.2.3" and .denied == true and .errno == "EACCES")) | length >= 2'
  echo "$output" | jq -s -e 'map(select(.type == "connect" and .addr == "127.0.0.1" and .denied == true)) | length == 0'
}

@test "pe: quarantine in a glibc bundle: writes to /var refused, /tmp still writable" {
  make_bundle "$TEST_TMP/b" '["sh","-c","echo a > /var/a && echo var-ok; while [ ! -e /sync/go ]; do sleep 0.05; done; (echo b > /var/b) 2>&1; echo c > /tmp/c && echo tmp-ok; cat /tmp/c; ls /var; echo all-done; sleep 2"]' \
    '.mounts += [{destination: "/sync", type: "bind", source: "'"$SYNC"'", options: ["rbind","ro"]}]'
  rm -rf "$TEST_TMP/b/rootfs"; sh tests/lib/glibc_rootfs.sh "$TEST_TMP/b/rootfs"
  mkdir -p "$TEST_TMP/b/rootfs/var" "$TEST_TMP/b/rootfs/sync"
  W run --bundle "$TEST_TMP/b" pe-3 > "$TEST_TMP/out" 2>&1 &
  bg=$!
  wait_state pe-3
  wait_for "$TEST_TMP/out" var-ok
  W probe mode pe-3 quarantine
  touch "$SYNC/go"
  wait_for "$TEST_TMP/out" all-done
  # the text form this time (a ring has one consumer: one read per test)
  run W events pe-3
  echo "$output" > "$TEST_TMP/events"
  wait $bg
  cat "$TEST_TMP/out"
  grep -q "cannot create /var/b: Permission denied" "$TEST_TMP/out"
  grep -q tmp-ok "$TEST_TMP/out"
  [ -e "$TEST_TMP/b/rootfs/var/a" ]
  [ ! -e "$TEST_TMP/b/rootfs/var/b" ]
  grep -q "open open64 /var/b = -13 EACCES \[denied\]" "$TEST_TMP/events"
  grep -q "open open64 /tmp/c = [0-9][0-9]*$" "$TEST_TMP/events"
}

@test "pe: honeypot serves decoys and sends outbound connects to a sink in the container" {
  W sandbox --name pe-4 -- bash -c "
    g() { while [ ! -e $SYNC/\$1 ]; do sleep 0.05; done; }
    mkdir -p /tmp/www && echo sink-reached > /tmp/www/index.html
    busybox httpd -f -p 127.0.0.1:8082 -h /tmp/www & sleep 0.3
    cat /etc/shadow 2>&1 | head -1 | sed s/^/control-/
    echo control-done
    g go
    cat /etc/shadow | head -1 | sed s/^/hp-/
    curl -s -m 3 http://10.1.2.3/ | sed s/^/hp-curl-/
    curl -s -m 3 http://169.254.169.254/ | sed s/^/hp-meta-/
    echo all-done; sleep 2; kill %1" > "$TEST_TMP/out" 2>&1 &
  bg=$!
  wait_state pe-4
  wait_for "$TEST_TMP/out" control-done
  run W probe sink pe-4 127.0.0.1:8082
  [ "$status" -eq 0 ]
  [[ "$output" == *"honeypot_sink: 127.0.0.1:8082"* ]]
  W probe mode pe-4 honeypot
  touch "$SYNC/go"
  wait_for "$TEST_TMP/out" all-done
  show=$(W probe show pe-4)
  decoy=$(head -1 "$(run_dir pe-4)/probe/decoys/shadow")
  run W events --json pe-4
  echo "$output" > "$TEST_TMP/events"
  wait $bg
  cat "$TEST_TMP/out"
  # control: the real file is unreadable here
  grep -q "control-cat: /etc/shadow: Permission denied" "$TEST_TMP/out"
  # this container's own decoy (fresh random tokens per container)
  [[ "$decoy" == 'root:$6$'* ]]
  grep -qxF "hp-$decoy" "$TEST_TMP/out"
  grep -q "^hp-curl-sink-reached" "$TEST_TMP/out"
  grep -q "^hp-meta-sink-reached" "$TEST_TMP/out"
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/etc/shadow" and .redirected == true and (.redirect | endswith("/decoys/shadow")))) | length == 1'
  echo "$output" | jq -s -e 'map(select(.type == "connect" and .addr == "10.1.2.3" and .port == 80 and .redirect == "127.0.0.1:8082" and (.ret == 0 or .errno == "EINPROGRESS"))) | length == 1'
  echo "$output" | jq -s -e 'map(select(.type == "connect" and .addr == "169.254.169.254" and .redirected == true)) | length == 1'
  # full detail: stacks on, and groups that were off before (mem, identity, ...) on
  echo "$output" | jq -s -e 'map(select(.type == "connect" and .redirected == true and (.stack | length) > 0)) | length >= 1'
  [[ "$show" == *"mode: honeypot"* ]]
  [[ "$show" == *"groups: exec file net mem identity dl perf"* ]]
}

@test "pe: restrict adds a seccomp layer on all threads; raw execve is refused by the kernel" {
  [ -x "$TARGET" ]
  # bash, so that it can wait without exec (read -t on a fifo made before)
  W sandbox --name pe-5 -- bash -c "
    mkfifo /tmp/f
    /bin/true && echo control-exec-ok
    $TARGET restrict $SYNC/go
    /bin/true && echo exec-ok || echo exec-refused
    echo all-done; read -t 2 x <> /tmp/f" > "$TEST_TMP/out" 2>&1 &
  bg=$!
  wait_state pe-5
  wait_for "$TEST_TMP/out" control-exec-ok
  sleep 0.3
  W probe mode pe-5 restrict
  touch "$SYNC/go"
  wait_for "$TEST_TMP/out" all-done
  run W events --json pe-5
  echo "$output" > "$TEST_TMP/events"
  wait $bg || true
  cat "$TEST_TMP/out"
  line=$(grep filters-before "$TEST_TMP/out")
  before=$(echo "$line" | sed 's/.*filters-before=\([0-9]*\).*/\1/')
  after=$(echo "$line" | sed 's/.*filters-after=\([0-9]*\).*/\1/')
  [ "$after" -eq $((before + 1)) ]
  [[ "$line" == *"thread-filters=$after "* ]]
  # EACCES (13) from the filter, not ENOENT (2) from a real execve of a missing file
  [[ "$line" == *"raw-execve-errno=13 thread-execve-errno=13"* ]]
  grep -q exec-refused "$TEST_TMP/out"
  echo "$output" | jq -s -e 'map(select(.type == "exec" and .denied == true)) | length >= 1'
  echo "$output" | jq -s -e 'map(select(.type == "prctl" and .flags == 22 and .ret == 0)) | length >= 1'
}

@test "pe: bad input to ward probe mode/deny/sink gets one clear error" {
  run W probe mode nosuch protect
  [ "$status" -ne 0 ]
  [[ "$output" == *nosuch* ]]
  W sandbox --name pe-6 -- sleep 3 &
  bg=$!
  wait_state pe-6
  run W probe mode pe-6 bogus
  [ "$status" -ne 0 ]
  [[ "$output" == *'"bogus"'* ]]
  run W probe deny pe-6 --path relative/p
  [ "$status" -ne 0 ]
  [[ "$output" == *"deny_paths[0]"*relative/p* ]]
  run W probe deny pe-6 --port 70000
  [ "$status" -ne 0 ]
  [[ "$output" == *"--port"*70000* ]]
  run W probe deny pe-6 --addr 10.0.0.0/40
  [ "$status" -ne 0 ]
  [[ "$output" == *"prefix /40"* ]]
  run W probe sink pe-6 10.0.0.1
  [ "$status" -ne 0 ]
  [[ "$output" == *"honeypot_sink"*port* ]]
  run W probe mode pe-6
  [ "$output" = none ]
  wait $bg
}

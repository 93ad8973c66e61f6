#!/usr/bin/env bats
# ward as a drop-in OCI runtime: `ward exec`, the runc details the shims rely
# on, bad input in the runc JSON log format, concurrent lifecycles, and the
# real clients (podman with conmon, containerd with its runc v2 shim), each
# configured under a temporary directory.

load ../lib/common
source "$BATS_TEST_DIRNAME/../lib/podman.bash"
source "$BATS_TEST_DIRNAME/../lib/containerd.bash"

setup_file() {
  CLIENTS_TMP=$(mktemp -d /tmp/ward-clients.XXXXXX)
  export CLIENTS_TMP
  podman_setup "$CLIENTS_TMP/podman"
  podman_image wardbox
  containerd_setup "$CLIENTS_TMP/containerd"
  containerd_image wardbox
  export PODMAN_DIR CTRD_DIR CTRD_PID
}

teardown_file() {
  podman_setup "$CLIENTS_TMP/podman" >/dev/null
  podman_teardown
  containerd_teardown
  # the runc shim keeps runtime state under its own root
  rm -rf /run/containerd/runc/ward
  rm -rf "$CLIENTS_TMP"
}

setup() {
  common_setup
  podman_setup "$CLIENTS_TMP/podman"
  LOG="$TEST_TMP/log.json"
}

teardown() { common_teardown; }

w() { "$WARD" --root "$WARD_ROOT" --log "$LOG" --log-format json "$@"; }

# The last line of the JSON log is an error record naming $1.
assert_json_error() {
  local line
  line=$(tail -n 1 "$LOG")
  echo "log: $line"
  jq -e --arg want "$1" '.level == "error" and (.msg | contains($want)) and (.time | length > 0)' <<<"$line" >/dev/null
}

running_container() {
  make_bundle "$TEST_TMP/b-$1" '["sleep","1000"]' "${2:-.}"
  w create --bundle "$TEST_TMP/b-$1" "$1"
  w start "$1"
}

# --- ward exec ---------------------------------------------------------------

@test "exec: joins the container's namespaces and cgroup, returns the exit status" {
  running_container ex1
  run w exec ex1 sh -c 'echo pid=$$; hostname; cat /proc/1/cmdline | tr "\0" " "; exit 7'
  echo "$output"
  [ "$status" -eq 7 ]
  [[ "$output" == *"ward-test"* ]]
  [[ "$output" == *"sleep 1000"* ]]
  # a small pid: inside the container's pid namespace
  [ "$(grep -o 'pid=[0-9]*' <<<"$output" | cut -d= -f2)" -lt 10 ]
  run w exec ex1 sh -c 'kill -TERM $$'
  [ "$status" -eq $((128 + 15)) ]
}

@test "exec: the process gets the container's hardening" {
  running_container ex2 '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir","mkdirat"], action: "SCMP_ACT_ERRNO"}]} | .process.noNewPrivileges = true'
  run w exec ex2 sh -c 'grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status; mkdir /tmp/x && echo made'
  echo "$output"
  [[ "$output" == *"Seccomp:	2"* ]]
  [[ "$output" == *"NoNewPrivs:	1"* ]]
  [[ "$output" == *"CapEff:	0000000000000000"* ]]
  [[ "$output" != *made* ]]
  # --cap adds to what the config grants
  run w exec --cap CAP_CHOWN ex2 grep CapEff /proc/self/status
  [[ "$output" == *"CapEff:	0000000000000001"* ]]
}

@test "exec: --env, --cwd, --user and the --process form" {
  running_container ex3 '.linux.uidMappings = [{containerID: 0, hostID: 0, size: 65536}] | .linux.gidMappings = [{containerID: 0, hostID: 0, size: 65536}]'
  run w exec -e FOO=bar --cwd /tmp -u 1000:1001 ex3 sh -c 'echo $FOO $(pwd) $(id -u):$(id -g)'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "bar /tmp 1000:1001" ]
  jq -n '{args: ["sh","-c","echo $A; exit 3"], env: ["A=from-process-json","PATH=/bin"], cwd: "/", user: {uid: 0, gid: 0}}' > "$TEST_TMP/p.json"
  run w exec --process "$TEST_TMP/p.json" ex3
  [ "$status" -eq 3 ]
  [ "$output" = "from-process-json" ]
}

@test "exec: --detach writes the process's pid file and leaves it in the container's cgroup" {
  running_container ex4
  w exec -d --pid-file "$TEST_TMP/exec.pid" ex4 sleep 500
  pid=$(cat "$TEST_TMP/exec.pid")
  [ -d "/proc/$pid" ]
  grep -q "^sleep" "/proc/$pid/comm"
  run w ps --format json ex4
  echo "$output"
  jq -e --argjson p "$pid" 'index($p) != null' <<<"$output"
  # joined the pid namespace of the init
  [ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$(w state ex4 | jq .pid)/ns/pid")" ]
  # non-dumpable until execve, dumpable (its own) after: the exec happened
  grep -q "^sleep" "/proc/$pid/cmdline"
}

@test "exec: a malformed process.json is an error naming file and line, the container keeps running" {
  running_container ex5
  printf '{\n  "args": ["sh",\n' > "$TEST_TMP/bad.json"
  run w exec --process "$TEST_TMP/bad.json" ex5
  [ "$status" -ne 0 ]
  assert_json_error "bad.json:3"
  jq -n '{args: "sh"}' > "$TEST_TMP/bad2.json"
  run w exec --process "$TEST_TMP/bad2.json" ex5
  [ "$status" -ne 0 ]
  assert_json_error "bad2.json: process.args: expected an array"
  [ "$(w state ex5 | jq -r .status)" = running ]
  run w exec ex5 /no/such/binary
  [ "$status" -ne 0 ]
  assert_json_error "/no/such/binary"
  run w exec --tty ex5 true
  [ "$status" -ne 0 ]
  assert_json_error "console-socket"
  [ "$(w state ex5 | jq -r .status)" = running ]
}

# --- bad input ---------------------------------------------------------------

@test "bad input: unknown id, same id twice, start running, kill stopped; other containers untouched" {
  running_container keep
  before=$(w state keep)
  for cmd in state start delete kill pause; do
    run w "$cmd" no-such-id
    [ "$status" -ne 0 ]
    assert_json_error '"no-such-id" does not exist'
  done
  run w exec no-such-id true
  [ "$status" -ne 0 ]
  assert_json_error "no-such-id"

  make_bundle "$TEST_TMP/b2" '["sleep","1000"]'
  w create --bundle "$TEST_TMP/b2" twice
  run w create --bundle "$TEST_TMP/b2" twice
  [ "$status" -ne 0 ]
  assert_json_error '"twice" already exists'
  [ "$(w state twice | jq -r .status)" = created ]
  w start twice
  run w start twice
  [ "$status" -ne 0 ]
  assert_json_error "is running, not created"
  w kill twice KILL
  for i in $(seq 50); do [ "$(w state twice | jq -r .status)" = stopped ] && break; sleep 0.1; done
  [ "$(w state twice | jq -r .status)" = stopped ]
  run w kill twice TERM
  [ "$status" -ne 0 ]
  assert_json_error "is not running"
  run w exec twice true
  [ "$status" -ne 0 ]
  assert_json_error "exec needs a running container"
  w delete twice
  assert_clean twice
  [ "$(w state keep)" = "$before" ]
}

# --- runc details ------------------------------------------------------------

@test "runc details: --version, state, features, ps --format json, create --pid-file, delete --force of a running one" {
  run "$WARD" --version
  [[ "${lines[0]}" =~ ^ward\ version\ [0-9] ]]
  [[ "${lines[1]}" =~ ^spec:\ 1\.[0-9]+\.[0-9]+ ]]
  make_bundle "$TEST_TMP/b" '["sleep","1000"]'
  w create --bundle "$TEST_TMP/b" --pid-file "$TEST_TMP/init.pid" rtdetails
  st=$(w state rtdetails)
  echo "$st"
  jq -e --argjson p "$(cat "$TEST_TMP/init.pid")" '.ociVersion and .id == "rtdetails" and .status == "created" and .pid == $p and .bundle' <<<"$st"
  w start rtdetails
  [ "$(w state rtdetails | jq -r .status)" = running ]
  w features | jq -e '.ociVersionMin and .ociVersionMax and (.hooks | length > 0) and (.linux.namespaces | index("pid"))'
  w ps --format json rtdetails | jq -e --argjson p "$(cat "$TEST_TMP/init.pid")" 'index($p) != null'
  w list --format json | jq -e 'map(.id) | index("rtdetails") != null'
  w delete --force rtdetails
  assert_clean rtdetails
}

@test "kill: signals by name and number, and --all" {
  make_bundle "$TEST_TMP/b" '["sh","-c","trap \"echo got-usr1 > /tmp/sig\" USR1; while true; do sleep 0.1; done"]' \
    '.mounts |= map(select(.destination != "/tmp"))'
  w create --bundle "$TEST_TMP/b" k1
  w start k1
  sleep 0.3
  w kill k1 SIGUSR1
  for i in $(seq 30); do [ -f "$TEST_TMP/b/rootfs/tmp/sig" ] && break; sleep 0.1; done
  [ "$(cat "$TEST_TMP/b/rootfs/tmp/sig")" = got-usr1 ]
  rm "$TEST_TMP/b/rootfs/tmp/sig"
  w kill k1 10
  for i in $(seq 30); do [ -f "$TEST_TMP/b/rootfs/tmp/sig" ] && break; sleep 0.1; done
  [ -f "$TEST_TMP/b/rootfs/tmp/sig" ]
  run w kill k1 NOSUCHSIG
  [ "$status" -ne 0 ]
  w exec -d --pid-file "$TEST_TMP/e.pid" k1 sleep 1000
  epid=$(cat "$TEST_TMP/e.pid")
  w kill --all k1 KILL
  for i in $(seq 50); do [ -d "/proc/$epid" ] || break; sleep 0.1; done
  [ ! -d "/proc/$epid" ]
  [ "$(w state k1 | jq -r .status)" = stopped ]
}

# --- lifecycle ---------------------------------------------------------------

@test "lifecycle: 10 concurrent create/start/delete of different ids do not interfere" {
  make_bundle "$TEST_TMP/b" '["sleep","1000"]'
  one() {
    "$WARD" --root "$WARD_ROOT" create --bundle "$TEST_TMP/b" "cc$1" &&
      "$WARD" --root "$WARD_ROOT" start "cc$1" &&
      [ "$("$WARD" --root "$WARD_ROOT" state "cc$1" | jq -r .status)" = running ] &&
      "$WARD" --root "$WARD_ROOT" delete --force "cc$1" || echo "cc$1 failed" >> "$TEST_TMP/failures"
  }
  for i in $(seq 10); do one "$i" & done
  wait
  [ ! -s "$TEST_TMP/failures" ] || { cat "$TEST_TMP/failures"; false; }
  for i in $(seq 10); do assert_clean "cc$i"; done
  [ "$(w list --format json | jq length)" -eq 0 ]
}

@test "lifecycle: a container whose process died is stopped; delete removes mounts, cgroup and state" {
  running_container dead
  pid=$(w state dead | jq .pid)
  kill -9 "$pid"
  for i in $(seq 50); do [ "$(w state dead | jq -r .status)" = stopped ] && break; sleep 0.1; done
  [ "$(w state dead | jq -r .status)" = stopped ]
  [ "$(w list --format json | jq -r '.[] | select(.id == "dead") | .status')" = stopped ]
  w delete dead
  assert_clean dead
}

# --- podman (conmon) ---------------------------------------------------------

@test "podman: run --rm with ward, hardened (seccomp, capabilities)" {
  run pm_ward run --rm localhost/wardbox sh -c 'echo hello; grep -E "^(Seccomp|CapBnd):" /proc/self/status'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = hello ]
  [[ "$output" == *"Seccomp:	2"* ]]
  [[ "$output" == *"CapBnd:	00000000a80425fb"* ]]
  run pm_ward run --rm localhost/wardbox sh -c 'exit 5'
  [ "$status" -eq 5 ]
}

@test "podman: run -d, exec (plain and -t), logs, ps, stop" {
  pm_ward run -d --name pd1 localhost/wardbox sh -c 'echo started; trap "exit 0" TERM; while true; do sleep 0.1; done'
  run pm_ward exec pd1 sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"in-exec"* ]]
  [[ "$output" == *"while true"* ]]
  run pm_ward exec pd1 sh -c 'exit 4'
  [ "$status" -eq 4 ]
  run pm_ward exec -t pd1 tty
  echo "$output"
  [[ "$output" == *"/dev/pts/"* ]]
  run pm_ward exec -u 1000:1000 -e X=y pd1 sh -c 'echo $(id -u) $X'
  [[ "$output" == *"1000 y"* ]]
  run pm_ward logs pd1
  [[ "$output" == *started* ]]
  run pm_ward ps --format '{{.Names}} {{.Status}}'
  echo "$output"
  [[ "$output" == *"pd1 Up"* ]]
  pm_ward stop -t 10 pd1
  run pm_ward ps -a --format '{{.Names}} {{.Status}}'
  [[ "$output" == *"pd1 Exited (0)"* ]]
  pm_ward rm pd1
}

@test "podman: Landlock annotations pass through to the container and to exec" {
  local ann=(--annotation run.ward.landlock.exec=/bin --annotation run.ward.landlock.ro=/etc:/proc:/dev
             --annotation run.ward.landlock.rw=/tmp:/dev/null)
  run pm_ward run --rm "${ann[@]}" localhost/wardbox sh -c 'cat /etc/passwd >/dev/null && echo read-ok; touch /tmp/a && echo tmp-ok; touch /root/a || echo denied'
  echo "$output"
  [[ "$output" == *read-ok*tmp-ok*denied* ]]
  pm_ward run -d --name pll "${ann[@]}" localhost/wardbox sleep 1000
  run pm_ward exec pll sh -c 'touch /root/b || echo exec-denied'
  [[ "$output" == *exec-denied* ]]
  pm_ward rm -f -t 0 pll
}

# --- containerd (runc v2 shim) -----------------------------------------------

@test "containerd: ctr run --runc-binary ward, with the default seccomp profile" {
  run ct run --rm --seccomp --runc-binary "$WARD" localhost/wardbox:latest cr1 sh -c 'echo hello; grep -E "^Seccomp:" /proc/self/status'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *hello* ]]
  [[ "$output" == *"Seccomp:	2"* ]]
}

@test "containerd: run -d, task exec, ps, pause/resume, kill, delete" {
  ct run -d --runc-binary "$WARD" --annotation run.ward.landlock.exec=/bin --annotation run.ward.landlock.ro=/ \
    localhost/wardbox:latest cr2 sleep 1000
  run ct task exec --exec-id e1 cr2 sh -c 'echo in-exec; touch /tmp/x || echo ro-by-landlock; exit 6'
  echo "$output"
  [ "$status" -eq 6 ]
  [[ "$output" == *in-exec*ro-by-landlock* ]]
  run ct task ps cr2
  [ "$status" -eq 0 ]
  ct task pause cr2
  [[ "$(ct task ls)" == *"cr2"*PAUSED* ]]
  ct task resume cr2
  [[ "$(ct task ls)" == *"cr2"*RUNNING* ]]
  ct task kill -s SIGKILL cr2
  for i in $(seq 50); do [[ "$(ct task ls)" == *STOPPED* ]] && break; sleep 0.1; done
  ct task delete cr2
  ct container delete cr2
  [ ! -e /run/containerd/runc/ward/cr2 ]
}

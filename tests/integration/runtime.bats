#!/usr/bin/env bats
# The runtime core (issue 2): real containers from a busybox bundle and the
# host-command sandbox, as root and as an unprivileged user.

load ../lib/common

setup() {
  common_setup
}

teardown() {
  common_teardown
}

@test "sandbox runs a host command and returns its exit status" {
  run "$WARD" --root "$WARD_ROOT" sandbox -- /bin/sh -c 'echo out; exit 7'
  [ "$status" -eq 7 ]
  [[ "$output" == *out* ]]
}

@test "sandbox reports a signal death as 128+N" {
  "$WARD" --root "$WARD_ROOT" sandbox --name sig1 -- sleep 30 &
  bg=$!
  for i in $(seq 100); do [ -e "$WARD_ROOT/sig1/state.json" ] && break; sleep 0.05; done
  sleep 0.2
  "$WARD" --root "$WARD_ROOT" kill sig1 KILL
  wait $bg && st=0 || st=$?
  [ "$st" -eq 137 ]
}

@test "sandbox: no capabilities, no_new_privs, seccomp filter, pid 1, private hostname" {
  run "$WARD" --root "$WARD_ROOT" sandbox --name sbx1 -- /bin/sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; echo pid=$$; hostname'
  [ "$status" -eq 0 ]
  [[ "$output" == *"CapEff:	0000000000000000"* ]]
  [[ "$output" == *"CapBnd:	0000000000000000"* ]]
  [[ "$output" == *"NoNewPrivs:	1"* ]]
  [[ "$output" == *"Seccomp:	2"* ]]
  [[ "$output" == *"pid=1"* ]]
  [[ "$output" == *"sbx1"* ]]
}

@test "sandbox: host root is read-only, /tmp is private and writable" {
  marker=/tmp/ward-host-marker-$$
  run "$WARD" --root "$WARD_ROOT" sandbox -- /bin/sh -c "touch /etc/ward-test 2>&1; echo private > $marker && cat $marker"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Read-only file system"* ]]
  [[ "$output" == *private* ]]
  [ ! -e "$marker" ]
  [ ! -e /etc/ward-test ]
}

@test "sandbox: only loopback, unless --net host" {
  run "$WARD" --root "$WARD_ROOT" sandbox -- /bin/sh -c 'ls /sys/class/net'
  [ "$status" -eq 0 ]
  [ "$output" = "lo" ]
  run "$WARD" --root "$WARD_ROOT" sandbox --net host -- /bin/sh -c 'ls /sys/class/net | wc -l'
  [ "$output" -gt 1 ]
}

@test "sandbox: the default seccomp profile refuses keyctl and unshare" {
  run "$WARD" --root "$WARD_ROOT" sandbox -- /bin/sh -c 'unshare -U true 2>&1; echo rc=$?'
  [[ "$output" == *"rc=1"* ]]
  [[ "$output" == *"Operation not permitted"* ]]
}

@test "sandbox leaves nothing behind" {
  run "$WARD" --root "$WARD_ROOT" sandbox --name sbx-clean -- true
  [ "$status" -eq 0 ]
  assert_clean sbx-clean
}

@test "run: the workload starts with no signal blocked, though ward blocks the ones it forwards" {
  make_bundle "$TEST_TMP/sb" '["sh","-c","grep SigBlk /proc/self/status"]'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/sb" sigblk
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"SigBlk:	0000000000000000"* ]]
  run "$WARD" --root "$WARD_ROOT" sandbox -- grep SigBlk /proc/self/status
  [[ "$output" == *"SigBlk:	0000000000000000"* ]]
}

@test "run: a SIGTERM while ward removes the exited container does not cut the removal short" {
  # the poststop hook keeps ward in the removal for a second after the
  # container exited: a SIGTERM then has nothing left to reach
  make_bundle "$TEST_TMP/ps" '["sh","-c","exit 3"]'
  jq '.hooks = {poststop: [{path: "/bin/sleep", args: ["sleep", "1"]}]}' "$TEST_TMP/ps/config.json" > "$TEST_TMP/ps/c"
  mv "$TEST_TMP/ps/c" "$TEST_TMP/ps/config.json"
  "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/ps" poststop-term &
  local pid=$! i
  # in the hook: the container is gone and its cgroup removed
  for i in $(seq 100); do pgrep -f -P $pid "sleep 1" >/dev/null && break; sleep 0.05; done
  pgrep -f -P $pid "sleep 1" >/dev/null
  kill -TERM $pid
  local st=0
  wait $pid || st=$?
  [ "$st" -eq 3 ]
  assert_clean poststop-term
}

@test "run: a busybox bundle, stdio passed through, exit status returned" {
  make_bundle "$TEST_TMP/b1" '["sh","-c","read x; echo got $x; exit 3"]'
  run bash -c "echo hello | '$WARD' --root '$WARD_ROOT' run --bundle '$TEST_TMP/b1' c1"
  [ "$status" -eq 3 ]
  [ "$output" = "got hello" ]
  assert_clean c1
}

@test "run: namespaces, hostname, masked and read-only paths" {
  [ -e /proc/timer_list ]
  make_bundle "$TEST_TMP/b2" '["sh","-c","hostname; echo pid=$$; echo masked=$(cat /proc/timer_list | wc -c); (echo x > /proc/sys/kernel/domainname) 2>/dev/null || echo sys-ro; echo net=$(ls /sys/class/net)"]' \
    '.linux.maskedPaths += ["/proc/timer_list"]'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/b2" c2
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "ward-test" ]]
  [[ "$output" == *"pid=1"* ]]
  [[ "$output" == *"masked=0"* ]]
  [[ "$output" == *"sys-ro"* ]]
  [[ "$output" == *"net=lo"* ]]
  # positive control: the host's timer_list is not empty
  [ "$(head -c 100 /proc/timer_list | wc -c)" -gt 0 ]
}

@test "run: no runtime fd reaches the container (CVE-2024-21626)" {
  make_bundle "$TEST_TMP/b3" '["sh","-c","ls /proc/self/fd"]'
  run bash -c "exec 7</etc/hostname; '$WARD' --root '$WARD_ROOT' run --bundle '$TEST_TMP/b3' c3"
  [ "$status" -eq 0 ]
  # 0 1 2 and the fd ls opened for the directory itself
  [ "$(echo "$output" | tr '\n' ' ')" = "0 1 2 3 " ]
}

@test "run: --preserve-fds passes exactly the fds asked for" {
  make_bundle "$TEST_TMP/b3p" '["sh","-c","cat <&3"]'
  run bash -c "echo passed > '$TEST_TMP/p'; exec 3<'$TEST_TMP/p'; '$WARD' --root '$WARD_ROOT' run --preserve-fds 1 --bundle '$TEST_TMP/b3p' c3p"
  [ "$status" -eq 0 ]
  [ "$output" = "passed" ]
}

@test "run: a relative cwd is refused before anything starts (CVE-2024-21626)" {
  make_bundle "$TEST_TMP/b4" '["true"]' '.process.cwd = "../../.."'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/b4" c4
  [ "$status" -ne 0 ]
  [[ "$output" == *"process.cwd"* ]]
  assert_clean c4
}

@test "run: the runtime runs from a sealed memfd, not a writable file (CVE-2019-5736)" {
  make_bundle "$TEST_TMP/b5" '["sleep","3"]'
  "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/b5" c5 &
  bg=$!
  for i in $(seq 50); do [ -e "$WARD_ROOT/c5/state.json" ] && break; sleep 0.05; done
  exe=$(readlink /proc/$bg/exe)
  [[ "$exe" == *"memfd:ward"* ]]
  ! sh -c "echo x >> /proc/$bg/exe" 2>/dev/null || false
  kill $bg; wait $bg || true
}

@test "run: a symlink in the image cannot aim a mount at the host" {
  hostdir=$(mktemp -d /tmp/ward-hostdir.XXXXXX)
  echo keep > "$hostdir/marker"
  make_bundle "$TEST_TMP/b6" "[\"sh\",\"-c\",\"grep -q ' $hostdir/sub ' /proc/self/mountinfo && echo mounted-inside\"]" \
    '.mounts += [{"destination":"/evil/sub","type":"tmpfs","source":"tmpfs"}]'
  ln -s "$hostdir" "$TEST_TMP/b6/rootfs/evil"
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/b6" c6
  [ "$status" -eq 0 ]
  [[ "$output" == *mounted-inside* ]]
  [ ! -e "$hostdir/sub" ]
  [ "$(cat "$hostdir/marker")" = keep ]
  ! grep -q " $hostdir/sub " /proc/self/mountinfo || false
  rm -rf "$hostdir"
}

@test "run: bad input names the field, exits non-zero, leaves nothing" {
  make_bundle "$TEST_TMP/b7" '["true"]' '.linux.namespaces += [{"type":"bogus"}]'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/b7" c7
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.namespaces[7].type: unknown namespace \"bogus\""* ]]
  assert_clean c7

  make_bundle "$TEST_TMP/b8" '["true"]' '.mounts += [{"destination":"/x","type":"bind","source":"/nonexistent/ward"}]'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/b8" c8
  [ "$status" -ne 0 ]
  [[ "$output" == *"mounts[6].source"* ]]
  assert_clean c8

  make_bundle "$TEST_TMP/b9" '["true"]'
  echo '{"ociVersion": "1.0.2", "root": ' > "$TEST_TMP/b9/config.json"
  run "$WARD" --root "$WARD_ROOT" --log "$TEST_TMP/log.json" --log-format json run --bundle "$TEST_TMP/b9" c9
  [ "$status" -ne 0 ]
  [[ "$output" == *"config.json:2:"* ]]
  jq -e 'select(.level == "error") | .msg | test("invalid JSON")' "$TEST_TMP/log.json"
  assert_clean c9

  make_bundle "$TEST_TMP/b10" '["true"]' '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["not_a_syscall"],"action":"SCMP_ACT_ERRNO"}]}'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/b10" c10
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.seccomp.syscalls[0]"* ]]
  assert_clean c10

  make_bundle "$TEST_TMP/b11" '["nonexistent-binary"]'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/b11" c11
  [ "$status" -ne 0 ]
  [[ "$output" == *"not found in \$PATH"* ]]
  assert_clean c11
}

@test "create, start, state, kill, delete" {
  make_bundle "$TEST_TMP/l1" '["sleep","30"]'
  # A created container keeps create's stdio (as with runc): not bats' pipe.
  "$WARD" --root "$WARD_ROOT" create --bundle "$TEST_TMP/l1" l1 </dev/null >"$TEST_TMP/create.out" 2>&1
  run "$WARD" --root "$WARD_ROOT" state l1
  [ "$(echo "$output" | jq -r .status)" = created ]
  run "$WARD" --root "$WARD_ROOT" start l1
  [ "$status" -eq 0 ]
  [ "$("$WARD" --root "$WARD_ROOT" state l1 | jq -r .status)" = running ]
  run "$WARD" --root "$WARD_ROOT" start l1
  [ "$status" -ne 0 ]
  [[ "$output" == *"not created"* ]]
  run "$WARD" --root "$WARD_ROOT" create --bundle "$TEST_TMP/l1" l1
  [ "$status" -ne 0 ]
  [[ "$output" == *"already exists"* ]]
  run "$WARD" --root "$WARD_ROOT" delete l1
  [ "$status" -ne 0 ]
  run "$WARD" --root "$WARD_ROOT" kill l1 KILL
  [ "$status" -eq 0 ]
  for i in $(seq 50); do [ "$("$WARD" --root "$WARD_ROOT" state l1 | jq -r .status)" = stopped ] && break; sleep 0.05; done
  [ "$("$WARD" --root "$WARD_ROOT" state l1 | jq -r .status)" = stopped ]
  run "$WARD" --root "$WARD_ROOT" kill l1 TERM
  [ "$status" -ne 0 ]
  run "$WARD" --root "$WARD_ROOT" delete l1
  echo "$output"
  [ "$status" -eq 0 ]
  assert_clean l1
  run "$WARD" --root "$WARD_ROOT" state l1
  [ "$status" -ne 0 ]
  [[ "$output" == *"does not exist"* ]]
}

@test "cgroups: pids and memory limits are enforced on this host" {
  # positive controls first: without limits the same workloads succeed
  run "$WARD" --root "$WARD_ROOT" sandbox -- /bin/sh -c 'for i in $(seq 20); do sleep 1 & done; echo spawned-all; wait'
  [[ "$output" == *spawned-all* ]]
  run "$WARD" --root "$WARD_ROOT" sandbox -- /bin/sh -c 'head -c 100m /dev/zero | tail > /dev/null && echo survived'
  [[ "$output" == *survived* ]]

  run "$WARD" --root "$WARD_ROOT" sandbox --pids 8 --name cg1 -- /bin/sh -c 'for i in $(seq 20); do sleep 1 & done; echo spawned-all; wait'
  [ "$status" -ne 0 ]
  [[ "$output" != *spawned-all* ]]
  [[ "$output" == *fork* ]]
  run "$WARD" --root "$WARD_ROOT" sandbox --memory 32m --name cg2 -- /bin/sh -c 'head -c 100m /dev/zero | tail > /dev/null && echo survived'
  [[ "$output" != *survived* ]]
  assert_clean cg1
  assert_clean cg2
}

@test "cgroups: the init and exec join every hierarchy themselves, without a cgroup.procs write" {
  command -v strace >/dev/null || skip "no strace"
  make_bundle "$TEST_TMP/j1" '["sleep","30"]'
  # LeakSanitizer cannot run under ptrace
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -qq -e trace=openat,clone3 -o "$TEST_TMP/create.st" \
    "$WARD" --root "$WARD_ROOT" create --bundle "$TEST_TMP/j1" j1 </dev/null >/dev/null 2>&1
  pid=$("$WARD" --root "$WARD_ROOT" state j1 | jq -r .pid)
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -qq -e trace=openat,clone3 -o "$TEST_TMP/exec.st" \
    "$WARD" --root "$WARD_ROOT" exec j1 cat /proc/self/cgroup > "$TEST_TMP/exec.cg"
  # the fast path was taken: the tasks files, no cgroup.procs opened for writing
  grep -q 'tasks", O_WRONLY' "$TEST_TMP/create.st"
  ! grep -q 'cgroup.procs", O_WRONLY' "$TEST_TMP/create.st"
  grep -q 'tasks", O_WRONLY' "$TEST_TMP/exec.st"
  ! grep -q 'cgroup.procs", O_WRONLY' "$TEST_TMP/exec.st"
  # and it worked: the init is in /ward/j1 in every hierarchy of the host
  # (v1 controllers and the cgroup2 mount alike), and the exec'd process is
  # at the root of the container's cgroup namespace in each (one left
  # outside would read "/.." there)
  hier=$(grep -c . /proc/self/cgroup)
  [ "$(grep -c ':/ward/j1$' "/proc/$pid/cgroup")" -eq "$hier" ]
  [ "$(grep -c ':/$' "$TEST_TMP/exec.cg")" -eq "$hier" ]
  if [ -d /sys/fs/cgroup/unified ] || [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    grep -q CLONE_INTO_CGROUP "$TEST_TMP/create.st"
  fi
  "$WARD" --root "$WARD_ROOT" delete --force j1
  assert_clean j1
}

@test "memory directories: a container that binds the host's /dev/shm cannot reach the others' probe files" {
  make_bundle "$TEST_TMP/m1" '["sleep","30"]'
  "$WARD" --root "$WARD_ROOT" create --bundle "$TEST_TMP/m1" m1 </dev/null >/dev/null 2>&1
  dir=$(run_dir m1)
  [[ "$dir" == /dev/shm/ward-run-0/* || "$dir" == /run/ward-run-0/* ]] || skip "state root on tmpfs: no memory directory"
  # nothing in the state directory leads there (an inode on the disk per
  # container): readers find it by the state directory's DEV-INO
  [ ! -e "$WARD_ROOT/m1/run" ] && [ ! -L "$WARD_ROOT/m1/run" ]
  # positive control: from the host, m1's directory is there and writable
  base=$(dirname "$dir")
  [ -d "$dir" ]
  touch "$dir/host-can-write" && rm "$dir/host-can-write"
  make_bundle "$TEST_TMP/m2" '["/bin/sh","-c","ls -A /hostbase/'"$(basename "$base")"'; echo x > /hostbase/'"$(basename "$base")"'/f && echo WROTE; echo done"]' \
    '.mounts += [{destination: "/hostbase", type: "bind", source: "'"$(dirname "$base")"'", options: ["rbind", "rw"]}]'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/m2" m2
  echo "$output"
  [[ "$output" == *done* ]]
  [[ "$output" != *"$(basename "$dir")"* ]]
  [[ "$output" != *WROTE* ]]
  # a bind of the memory directories themselves is refused, naming the field
  make_bundle "$TEST_TMP/m3" '["/bin/true"]' \
    '.mounts += [{destination: "/mine", type: "bind", source: "'"$base"'", options: ["rbind", "ro"]}]'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/m3" m3
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"mounts["*"].source"*"memory directories"* ]]
  "$WARD" --root "$WARD_ROOT" delete --force m1
  [ ! -e "$dir" ]
  assert_clean m1
  assert_clean m2
  assert_clean m3
}

@test "rootless: sandbox and bundle as an unprivileged user" {
  rootless_setup
  run rootless "$RL_WARD" sandbox -- /bin/sh -c 'id -u; grep CapEff /proc/self/status'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "0" ]]
  [[ "$output" == *"0000000000000000"* ]]
  rl_bundle "$RL_TMP/rb" '["sh","-c","echo rootless $(hostname); exit 4"]'
  run rootless "$RL_WARD" run --bundle "$RL_TMP/rb" rl1
  [ "$status" -eq 4 ]
  [[ "$output" == *"rootless ward-test"* ]]
  [ ! -e "$RL_ROOT/rl1" ]
}

@test "run as root without a user namespace: user, groups, umask, rlimits, sysctl, device nodes" {
  make_bundle "$TEST_TMP/r1" '["sh","-c","id -u; id -g; id -G; umask; ulimit -n; cat /proc/sys/net/ipv4/ip_forward; ls -l /dev/null /dev/zero | cut -c1; echo x > /dev/null && echo null-ok; grep CapEff /proc/self/status"]' \
    'del(.linux.uidMappings, .linux.gidMappings) | .linux.namespaces |= map(select(.type != "user"))
     | .process.user = {uid: 1000, gid: 1000, umask: 63, additionalGids: [5, 7]}
     | .process.rlimits = [{type: "RLIMIT_NOFILE", soft: 123, hard: 456}]
     | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/r1" r1
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 1000 ]
  [ "${lines[2]}" = "1000 5 7" ]
  [ "${lines[3]}" = "0077" ]
  [ "${lines[4]}" = 123 ]
  [ "${lines[5]}" = 1 ]
  [ "${lines[6]}" = c ]
  [ "${lines[7]}" = c ]
  [[ "$output" == *null-ok* ]]
  [[ "$output" == *"CapEff:	0000000000000000"* ]]
  # the host's net.ipv4.ip_forward is the host's own
  [ -c /dev/null ]
}

@test "capabilities: the configured sets reach the workload" {
  make_bundle "$TEST_TMP/cap" '["sh","-c","grep -E ^Cap /proc/self/status"]' \
    '.process.capabilities = {bounding: ["CAP_NET_BIND_SERVICE","CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"], inheritable: [], ambient: []}'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/cap" cap1
  [ "$status" -eq 0 ]
  # root in the container: permitted/effective follow the bounding set at exec
  [[ "$output" == *"CapBnd:	0000000000000420"* ]]
}

@test "hooks run with the state on stdin, in order" {
  log="$TEST_TMP/hooks.log"
  hook="$TEST_TMP/hook.sh"
  printf '#!/bin/sh\necho "$1 $(cat | jq -r .id)" >> %s\n' "$log" > "$hook"
  chmod +x "$hook"
  make_bundle "$TEST_TMP/h1" '["true"]'
  jq --arg h "$hook" '.hooks = {prestart: [{path: $h, args: ["hook", "prestart"]}],
      createRuntime: [{path: $h, args: ["hook", "createRuntime"]}],
      poststart: [{path: $h, args: ["hook", "poststart"]}],
      poststop: [{path: $h, args: ["hook", "poststop"]}]}' "$TEST_TMP/h1/config.json" > "$TEST_TMP/h1/c" && mv "$TEST_TMP/h1/c" "$TEST_TMP/h1/config.json"
  "$WARD" --root "$WARD_ROOT" create --bundle "$TEST_TMP/h1" h1 </dev/null >/dev/null 2>&1
  "$WARD" --root "$WARD_ROOT" start h1
  sleep 0.3
  "$WARD" --root "$WARD_ROOT" delete h1
  run cat "$log"
  [ "$output" = "$(printf 'prestart h1\ncreateRuntime h1\npoststart h1\npoststop h1')" ]
  # a failing hook fails the create and leaves nothing
  jq '.hooks = {prestart: [{path: "/bin/false"}]}' "$TEST_TMP/h1/config.json" > "$TEST_TMP/h1/c" && mv "$TEST_TMP/h1/c" "$TEST_TMP/h1/config.json"
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/h1" h2
  [ "$status" -ne 0 ]
  [[ "$output" == *"hooks.prestart[0]"* ]]
  assert_clean h2
}

@test "rootless: full id ranges through newuidmap, and unmappable ids refused" {
  rootless_setup
  uid=$(id -u wardtest); gid=$(id -g wardtest)
  grep -q '^wardtest:' /etc/subuid || echo "wardtest:300000:65536" >> /etc/subuid
  grep -q '^wardtest:' /etc/subgid || echo "wardtest:300000:65536" >> /etc/subgid
  rl_bundle "$RL_TMP/rr" '["sh","-c","cat /proc/self/uid_map; id -u"]'
  sub=$(awk -F: '$1=="wardtest" {print $2}' /etc/subuid)
  subg=$(awk -F: '$1=="wardtest" {print $2}' /etc/subgid)
  jq --argjson u "$uid" --argjson g "$gid" --argjson s "$sub" --argjson sg "$subg" \
    '.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}, {containerID: 1, hostID: $s, size: 1000}]
     | .linux.gidMappings = [{containerID: 0, hostID: $g, size: 1}, {containerID: 1, hostID: $sg, size: 1000}]
     | .process.user = {uid: 5, gid: 5}' "$RL_TMP/rr/config.json" > "$RL_TMP/c" && cp "$RL_TMP/c" "$RL_TMP/rr/config.json"
  run rootless "$RL_WARD" run --bundle "$RL_TMP/rr" rr1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"1     $sub       1000"* || "$output" == *"1 $sub 1000"* || "$output" == *"$sub"* ]]
  [ "${lines[-1]}" = 5 ]
  jq '.linux.uidMappings[1].hostID = 12345' "$RL_TMP/rr/config.json" > "$RL_TMP/c" && cp "$RL_TMP/c" "$RL_TMP/rr/config.json"
  run rootless "$RL_WARD" run --bundle "$RL_TMP/rr" rr2
  [ "$status" -ne 0 ]
  [[ "$output" == *"linux.uidMappings[1]"* ]]
  [ ! -e "$RL_ROOT/rr2" ]
}

@test "cgroups: limits on a pure cgroup v1 view of the host" {
  run unshare -m sh -c "umount /sys/fs/cgroup/unified 2>/dev/null; '$WARD' --root '$WARD_ROOT' sandbox --pids 8 --name v1only -- /bin/sh -c 'for i in \$(seq 20); do sleep 1 & done; echo spawned-all; wait'"
  [ "$status" -ne 0 ]
  [[ "$output" != *spawned-all* ]]
  assert_clean v1only
}

@test "namespaces: join an existing one by path, and a time namespace with offsets" {
  unshare --net sleep 20 &
  holder=$!
  sleep 0.3
  ip_holder=$(readlink /proc/$holder/ns/net)
  make_bundle "$TEST_TMP/ns1" '["sh","-c","readlink /proc/self/ns/net; cut -d. -f1 /proc/uptime"]'
  jq --arg p "/proc/$holder/ns/net" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)
      | .linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {boottime: {secs: 864000}}' \
    "$TEST_TMP/ns1/config.json" > "$TEST_TMP/c" && mv "$TEST_TMP/c" "$TEST_TMP/ns1/config.json"
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/ns1" ns1
  kill $holder
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "$ip_holder" ]
  host_up=$(cut -d. -f1 /proc/uptime)
  [ "${lines[1]}" -ge $((host_up + 864000 - 5)) ]
  make_bundle "$TEST_TMP/ns2" '["true"]' '.linux.namespaces |= map(if .type == "ipc" then .path = "/proc/self/ns/nope" else . end)'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/ns2" ns2
  [ "$status" -ne 0 ]
  [[ "$output" == *"ipc namespace /proc/self/ns/nope"* ]]
  assert_clean ns2
}

@test "mounts: cgroup mount, config devices, domainname, oomScoreAdj, --no-pivot" {
  [ -c /dev/kvm ] || skip "no /dev/kvm on this host"
  make_bundle "$TEST_TMP/m1" '["sh","-c","ls /sys/fs/cgroup | head -3; ls -l /dev/kvm | cut -c1; cat /proc/sys/kernel/domainname; cat /proc/self/oom_score_adj; cat /proc/self/mountinfo | wc -l"]' \
    '.mounts += [{destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro","nosuid","nodev","noexec"]}]
     | .linux.devices = [{path: "/dev/kvm", type: "c", major: 10, minor: 232, fileMode: 432}]
     | .domainname = "example.org" | .process.oomScoreAdj = 500'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/m1" m1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *memory* || "$output" == *cpu* ]]
  [[ "$output" == *$'\nc\n'* ]]
  [[ "$output" == *example.org* ]]
  [[ "$output" == *500* ]]
  run "$WARD" --root "$WARD_ROOT" run --no-pivot --bundle "$TEST_TMP/m1" m2
  [ "$status" -eq 0 ]
  [[ "$output" == *example.org* ]]
  assert_clean m1
  assert_clean m2
}

@test "seccomp from the config, and the default profile on request" {
  make_bundle "$TEST_TMP/s1" '["sh","-c","mkdir /tmp/d; echo rc=$?"]' \
    '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir","mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13}]}'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/s1" s1
  [[ "$output" == *"Permission denied"* ]]
  [[ "$output" == *"rc=1"* ]]
  make_bundle "$TEST_TMP/s2" '["sh","-c","grep Seccomp /proc/self/status"]'
  run "$WARD" --root "$WARD_ROOT" run --no-supervisor --bundle "$TEST_TMP/s2" s2
  [[ "$output" == *"Seccomp:	0"* ]]
  # attached runs get the notify-only supervisor filter (docs/supervisor.md), nothing else
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/s2" s2b
  [[ "$output" == *"Seccomp_filters:	1"* ]]
  run "$WARD" --root "$WARD_ROOT" run --default-seccomp --bundle "$TEST_TMP/s2" s3
  [[ "$output" == *"Seccomp:	2"* ]]
}

@test "spec: a bundle from ward spec asks for ward's default seccomp profile" {
  ensure_rootfs
  dir="$TEST_TMP/fx-spec"
  mkdir -p "$dir"
  cp -a "$ROOTFS_CACHE" "$dir/rootfs"
  (cd "$dir" && "$WARD" spec)
  [ "$(jq -r '.annotations["run.ward.seccomp"]' "$dir/config.json")" = default ]
  [ "$(jq '.linux.seccomp' "$dir/config.json")" = null ]
  # the supervisor's own notify filter is off here, so that the count is
  # the runtime's profile alone
  jq '.process.args = ["sh","-c","grep Seccomp: /proc/self/status"] | .process.terminal = false
      | .annotations["run.ward.supervisor"] = "off"' "$dir/config.json" > "$dir/c.tmp"
  mv "$dir/c.tmp" "$dir/config.json"
  run "$WARD" --root "$WARD_ROOT" run --bundle "$dir" fx-spec1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Seccomp:	2"* ]]
  assert_clean fx-spec1
  # the control: the same bundle with the annotation saying "config" (and
  # no linux.seccomp) runs unfiltered, as OCI says (and without the
  # notify-only supervisor filter that attached runs get by default)
  jq '.annotations["run.ward.seccomp"] = "config"' "$dir/config.json" > "$dir/c.tmp" && mv "$dir/c.tmp" "$dir/config.json"
  run "$WARD" --root "$WARD_ROOT" run --no-supervisor --bundle "$dir" fx-spec2
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Seccomp:	0"* ]]
  assert_clean fx-spec2
}

@test "cgroups: cpu quota and shares are written where the host keeps them" {
  make_bundle "$TEST_TMP/cpu" '["sleep","5"]' '.linux.resources = {cpu: {quota: 25000, period: 100000, shares: 256}}'
  "$WARD" --root "$WARD_ROOT" run --detach --bundle "$TEST_TMP/cpu" cpu1 </dev/null >/dev/null 2>&1
  if [ -d /sys/fs/cgroup/cpu ]; then
    [ "$(cat /sys/fs/cgroup/cpu/ward/cpu1/cpu.cfs_quota_us)" = 25000 ]
    [ "$(cat /sys/fs/cgroup/cpu/ward/cpu1/cpu.shares)" = 256 ]
  else
    [ "$(cat /sys/fs/cgroup/ward/cpu1/cpu.max)" = "25000 100000" ]
  fi
  pid=$("$WARD" --root "$WARD_ROOT" state cpu1 | jq .pid)
  run "$WARD" --root "$WARD_ROOT" ps --format json cpu1
  [ "$output" = "[$pid]" ]
  "$WARD" --root "$WARD_ROOT" delete --force cpu1
  assert_clean cpu1
}

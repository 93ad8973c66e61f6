#!/usr/bin/env bats
# Defence in depth (issue 3): each layer shown denying and allowing, through
# the sandbox flags and bundle annotations, as root and rootless.

load ../lib/common

# The sandbox's /tmp is its own tmpfs: host paths for it live in /var/tmp.
setup() { common_setup; HOST_DIR=$(mktemp -d /var/tmp/ward-it.XXXXXX); chmod 755 "$HOST_DIR"; }
teardown() { rm -rf "$HOST_DIR"; common_teardown; }

sandbox() { "$WARD" --root "$WARD_ROOT" sandbox "$@"; }

@test "landlock: --ro allows reading the path and nothing outside the system dirs" {
  mkdir -p "$HOST_DIR/data" "$HOST_DIR/secret"
  echo visible > "$HOST_DIR/data/f"; echo hidden > "$HOST_DIR/secret/f"
  run sandbox --ro "$HOST_DIR/data" -- sh -c "cat $HOST_DIR/data/f; cat $HOST_DIR/secret/f; echo x > $HOST_DIR/data/g"
  echo "$output"
  [[ "$output" == *visible* ]]
  [[ "$output" != *hidden* ]]
  [[ "$output" == *"$HOST_DIR/secret/f: Permission denied"* ]]
  # positive control: without Landlock the same read works
  run sandbox --no-landlock -- cat "$HOST_DIR/secret/f"
  [ "$output" = hidden ]
}

@test "landlock: --exec allows running programs only beneath the path" {
  mkdir -p "$HOST_DIR/bin" "$HOST_DIR/other"
  cp /bin/true "$HOST_DIR/bin/ok"; cp /bin/true "$HOST_DIR/other/no"
  run sandbox --exec "$HOST_DIR/bin" -- sh -c "$HOST_DIR/bin/ok && echo ran-ok; $HOST_DIR/other/no || echo denied-no"
  [[ "$output" == *ran-ok* ]]
  [[ "$output" == *denied-no* ]]
  run sandbox --no-landlock -- "$HOST_DIR/other/no"
  [ "$status" -eq 0 ]
}

@test "landlock: --connect and --bind-port limit TCP ports" {
  run sandbox --connect 9 -- sh -c 'nc -z -w1 127.0.0.1 8 2>&1; echo rc=$?'
  [[ "$output" == *"Permission denied"* ]]
  run sandbox --bind-port 8080 -- sh -c 'python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 8080)); print(\"bound-8080\"); t=socket.socket(); t.bind((\"127.0.0.1\", 8081))" 2>&1'
  [[ "$output" == *bound-8080* ]]
  [[ "$output" == *"Permission denied"* ]]
}

@test "landlock: bad paths and ports are refused before anything starts" {
  run sandbox --name llbad --ro /nonexistent/ward -- true
  [ "$status" -ne 0 ]
  [[ "$output" == *"--ro"*"/nonexistent/ward"* ]]
  assert_clean llbad
  run sandbox --name llbad2 --connect 70000 -- true
  [ "$status" -ne 0 ]
  [[ "$output" == *"--connect"* ]]
  assert_clean llbad2
}

@test "landlock: bundle annotations, and rules inside the rootfs" {
  make_bundle "$TEST_TMP/ll" '["sh","-c","cat /etc/passwd >/dev/null && echo etc-ok; ls /root && echo root-listed"]' \
    '.annotations = {"run.ward.landlock.exec": "/bin", "run.ward.landlock.ro": "/etc", "run.ward.landlock.rw": "/dev:/tmp"}'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/ll" ll1
  echo "$output"
  [[ "$output" == *etc-ok* ]]
  [[ "$output" != *root-listed* ]]
  make_bundle "$TEST_TMP/ll2" '["true"]' '.annotations = {"run.ward.landlock.ro": "/not-in-rootfs"}'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/ll2" ll2
  [ "$status" -ne 0 ]
  [[ "$output" == *"not-in-rootfs"* ]]
  assert_clean ll2
}

@test "capabilities: none by default, --cap-add keeps exactly what is asked" {
  run sandbox -- sh -c 'grep CapEff /proc/self/status'
  [[ "$output" == *"0000000000000000"* ]]
  run sandbox --cap-add CAP_NET_RAW,CAP_CHOWN -- sh -c 'grep -E "Cap(Eff|Bnd|Amb)" /proc/self/status'
  [[ "$output" == *"CapEff:	0000000000002001"* ]]
  [[ "$output" == *"CapBnd:	0000000000002001"* ]]
  run sandbox --cap-add CAP_NOPE -- true
  [ "$status" -ne 0 ]
  [[ "$output" == *CAP_NOPE* ]]
}

@test "capabilities: Docker's default set on request, ambient for a non-root user" {
  make_bundle "$TEST_TMP/c1" '["sh","-c","grep CapBnd /proc/self/status"]' 'del(.process.capabilities) | .annotations = {"run.ward.capabilities": "default"}'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/c1" c1
  [[ "$output" == *"CapBnd:	00000000a80425fb"* ]]
  make_bundle "$TEST_TMP/c2" '["sh","-c","id -u; grep -E \"Cap(Eff|Amb)\" /proc/self/status"]' \
    'del(.linux.uidMappings, .linux.gidMappings) | .linux.namespaces |= map(select(.type != "user"))
     | .process.user = {uid: 1000, gid: 1000}
     | .process.capabilities = {bounding: ["CAP_NET_BIND_SERVICE"], effective: ["CAP_NET_BIND_SERVICE"], permitted: ["CAP_NET_BIND_SERVICE"], inheritable: ["CAP_NET_BIND_SERVICE"], ambient: ["CAP_NET_BIND_SERVICE"]}'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/c2" c2
  echo "$output"
  [ "${lines[0]}" = 1000 ]
  [[ "$output" == *"CapEff:	0000000000000400"* ]]
  [[ "$output" == *"CapAmb:	0000000000000400"* ]]
}

@test "rootless: all capabilities in the container grant nothing the user lacked" {
  rootless_setup
  rl_bundle "$RL_TMP/cap" '["sh","-c","grep CapEff /proc/self/status; cat /secret || echo no-secret"]'
  jq '.process.capabilities = {bounding: ["CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_SYS_ADMIN"], effective: ["CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_SYS_ADMIN"], permitted: ["CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_SYS_ADMIN"]}
      | .mounts += [{destination: "/secret", type: "bind", source: "/etc/shadow", options: ["bind","ro"]}]' \
    "$RL_TMP/cap/config.json" > "$RL_TMP/c" && cp "$RL_TMP/c" "$RL_TMP/cap/config.json"
  run rootless "$RL_WARD" run --bundle "$RL_TMP/cap" capr
  echo "$output"
  [[ "$output" != *"CapEff:	0000000000000000"* ]]
  [[ "$output" == *no-secret* ]]
  [[ "$output" != *"root:"* ]]
}

@test "containment: a fork bomb stops at --pids and leaves nothing" {
  run timeout 60 "$WARD" --root "$WARD_ROOT" sandbox --name fb --pids 16 -- sh -c 'b() { b | b & }; b; sleep 1; echo parent-alive'
  [ "$status" -ne 124 ]
  [[ "$output" == *fork* ]]
  assert_clean fb
}

@test "containment: rootless limits fall back to rlimits, and say so" {
  rootless_setup
  run rootless "$RL_WARD" sandbox --pids 20 --cpus 0.5 -- sh -c 'for i in $(seq 40); do sleep 1 & done; echo spawned-all'
  echo "$output"
  [[ "$output" == *"RLIMIT_NPROC"* ]]
  [[ "$output" == *"cpu limit is NOT enforced"* ]]
  [[ "$output" != *spawned-all* ]]
}

@test "no_new_privs: a setuid binary does not raise privileges in the sandbox" {
  cp /bin/cat "$TEST_TMP/suidcat"
  chmod 4755 "$TEST_TMP/suidcat"
  # positive control: outside, as an unprivileged user, the setuid copy reads /etc/shadow
  run setpriv --reuid 65534 --regid 65534 --clear-groups "$TEST_TMP/suidcat" /etc/shadow
  [ "$status" -eq 0 ]
  run sandbox -- "$TEST_TMP/suidcat" /etc/shadow
  [ "$status" -ne 0 ]
}

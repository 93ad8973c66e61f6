#!/usr/bin/env bats
# Device nodes as root without a user namespace: ward never replaces nodes in
# a /dev bound from the host (src/mount/devices.c). The device cgroup tests
# live in breakout.bats (mknod + open under ward spec's config) and below.

load ../lib/common

setup() { common_setup; }
teardown() { common_teardown; }

# root without a user namespace, the config's /dev mounts replaced by FILTER's
ROOT_NO_USERNS='del(.linux.uidMappings, .linux.gidMappings) | .linux.namespaces |= map(select(.type != "user"))'
NO_DEV_MOUNTS='.mounts |= map(select(.destination | startswith("/dev") | not))'

# listing DIR: every entry with its type, mode, device number and inode
listing() { (cd "$1" && find . -mindepth 1 -printf '%p %y %m %i\n' -exec stat -c '%t:%T' {} \; | sort); }

@test "devices: a scratch directory bound at /dev is left as it was" {
  d="$TEST_TMP/fakedev"
  mkdir -p "$d"
  echo fx-marker > "$d/null"            # a regular file where /dev/null would go
  mknod -m 600 "$d/tty" c 5 0           # a node of the right number, odd mode
  mknod -m 640 "$d/zero" c 1 7          # a node of the wrong number
  before=$(listing "$d")
  make_bundle "$TEST_TMP/fx-dev1" '["sh","-c","cat /dev/null; ls /dev | tr \"\\n\" \" \""]' \
    "$ROOT_NO_USERNS | $NO_DEV_MOUNTS | .mounts += [{destination: \"/dev\", type: \"bind\", source: \"$d\", options: [\"rbind\"]}]"
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/fx-dev1" fx-dev1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *fx-marker* ]]
  after=$(listing "$d")
  echo "before: $before"; echo "after: $after"
  [ "$before" = "$after" ]
  [ "$(cat "$d/null")" = fx-marker ]
  assert_clean fx-dev1
}

@test "devices: the host's /dev bound read-only at /dev: the container runs, the host's nodes stay" {
  ino=$(stat -c %i /dev/null)
  make_bundle "$TEST_TMP/fx-dev2" '["sh","-c","echo x > /dev/null && echo null-ok"]' \
    "$ROOT_NO_USERNS | $NO_DEV_MOUNTS | .mounts += [{destination: \"/dev\", type: \"bind\", source: \"/dev\", options: [\"rbind\",\"ro\"]}]"
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/fx-dev2" fx-dev2
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *null-ok* ]]
  [ -c /dev/null ]
  [ "$(stat -c '%t:%T %a %i' /dev/null)" = "1:3 666 $ino" ]
  assert_clean fx-dev2
}

@test "devices: the runtime's own /dev tmpfs still gets the default nodes and links (the control)" {
  make_bundle "$TEST_TMP/fx-dev3" '["sh","-c","for n in null zero full random urandom tty; do stat -c \"%n %F %t:%T %a\" /dev/$n; done; readlink /dev/fd; readlink /dev/ptmx"]' \
    "$ROOT_NO_USERNS"
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/fx-dev3" fx-dev3
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "/dev/null character special file 1:3 666" ]
  [ "${lines[1]}" = "/dev/zero character special file 1:5 666" ]
  [ "${lines[5]}" = "/dev/tty character special file 5:0 666" ]
  [ "${lines[6]}" = /proc/self/fd ]
  [ "${lines[7]}" = pts/ptmx ]
  assert_clean fx-dev3
}

# The device cgroup (src/cgroup/cgroup_devices.c): deny all, then
# linux.resources.devices, the default devices and linux.devices.
MKNOD_CAPS='.process.capabilities = {bounding: ["CAP_MKNOD"], effective: ["CAP_MKNOD"], permitted: ["CAP_MKNOD"]}'
DEV_RULES='.linux.resources.devices = [{allow: true, type: "c", major: 10, minor: 200, access: "rw"}]
  | .linux.devices = [{path: "/dev/fx-loop1", type: "b", major: 7, minor: 1, fileMode: 384}]'
# mknod and open attempts, one line each: the workload of the tests below
DEV_PROBE='["sh","-c","mknod /dev/l0 b 7 0 2>/dev/null; echo loop0-mknod=$?; mknod /dev/t c 10 200 2>/dev/null; echo tun-mknod=$?; head -c0 /dev/fx-loop1 && echo loop1-open=0; head -c1 /dev/zero | wc -c; echo x > /dev/null && echo null-ok"]'

@test "devices: cgroup v1: the rules in devices.list, and what they let a root container with CAP_MKNOD do" {
  [ -f /sys/fs/cgroup/devices/devices.list ] || skip "no v1 devices controller on this host"
  make_bundle "$TEST_TMP/fx-cg1" '["sleep","30"]' "$ROOT_NO_USERNS | $DEV_RULES"
  "$WARD" --root "$WARD_ROOT" run --detach --bundle "$TEST_TMP/fx-cg1" fx-cg1 </dev/null >/dev/null 2>&1
  # device rules are set at create only (as runc): update says so and keeps them
  run bash -c "echo '{\"devices\": [{\"allow\": true, \"access\": \"rwm\"}]}' | '$WARD' --root '$WARD_ROOT' update --resources - fx-cg1"
  [ "$status" -eq 0 ]
  [[ "$output" == *"devices: not changed by update"* ]]
  run sort /sys/fs/cgroup/devices/ward/fx-cg1/devices.list
  "$WARD" --root "$WARD_ROOT" delete --force fx-cg1
  echo "$output"
  expected=$(printf '%s\n' "c 10:200 rw" "c 1:3 rwm" "c 1:5 rwm" "c 1:7 rwm" "c 1:8 rwm" "c 1:9 rwm" "c 5:0 rwm" "c 5:1 rwm" \
    "c 5:2 rwm" "c 136:* rwm" "b 7:1 rwm" | sort)
  [ "$output" = "$expected" ]
  assert_clean fx-cg1
  make_bundle "$TEST_TMP/fx-cg2" "$DEV_PROBE" "$ROOT_NO_USERNS | $MKNOD_CAPS | $DEV_RULES"
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/fx-cg2" fx-cg2
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = loop0-mknod=1 ]   # not in any rule
  [ "${lines[1]}" = tun-mknod=1 ]     # allowed rw, not m
  [ "${lines[2]}" = loop1-open=0 ]    # linux.devices
  [ "${lines[3]}" = 1 ]
  [ "${lines[4]}" = null-ok ]
  assert_clean fx-cg2
  # the control: a rule allowing every device lets the same mknod through
  make_bundle "$TEST_TMP/fx-cg3" "$DEV_PROBE" "$ROOT_NO_USERNS | $MKNOD_CAPS | $DEV_RULES | .linux.resources.devices += [{allow: true, access: \"rwm\"}]"
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/fx-cg3" fx-cg3
  echo "$output"
  [ "${lines[0]}" = loop0-mknod=0 ]
  [ "${lines[1]}" = tun-mknod=0 ]
  assert_clean fx-cg3
}

@test "devices: cgroup v2 (a pure cgroup2 view in a private mount namespace): the BPF program enforces the same rules" {
  [ -d /sys/fs/cgroup/unified ] || [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || skip "no cgroup2 on this host"
  v2() { # ID FILTER
    make_bundle "$TEST_TMP/$1" "$DEV_PROBE" "$ROOT_NO_USERNS | $MKNOD_CAPS | $DEV_RULES | $2"
    unshare -m sh -c 'if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup; fi
      [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || exit 99
      exec "$1" --root "$2" run --bundle "$3" "$4"' sh "$WARD" "$WARD_ROOT" "$TEST_TMP/$1" "$1"
  }
  run v2 fx-v2a .
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = loop0-mknod=1 ]
  [ "${lines[1]}" = tun-mknod=1 ]
  [ "${lines[2]}" = loop1-open=0 ]
  [ "${lines[3]}" = 1 ]
  [ "${lines[4]}" = null-ok ]
  assert_clean fx-v2a
  run v2 fx-v2b '.linux.resources.devices += [{allow: true, access: "rwm"}]'
  echo "$output"
  [ "${lines[0]}" = loop0-mknod=0 ]
  [ "${lines[1]}" = tun-mknod=0 ]
  assert_clean fx-v2b
}

@test "devices: bad linux.resources.devices names the entry and field, leaves nothing" {
  make_bundle "$TEST_TMP/fx-bad" '["true"]' "$ROOT_NO_USERNS"' | .linux.resources.devices = [{allow: false}, {allow: true, type: "c", major: 1}, {allow: true, access: "rwx"}]'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/fx-bad" fx-bad
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *'linux.resources.devices[2].access: "rwx" is not a combination of r, w and m'* ]]
  assert_clean fx-bad
  make_bundle "$TEST_TMP/fx-bad2" '["true"]' '.linux.resources.devices = [{type: "c"}]'
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/fx-bad2" fx-bad2
  [ "$status" -ne 0 ]
  [[ "$output" == *'linux.resources.devices[0].allow: required'* ]]
  assert_clean fx-bad2
}

@test "devices: rootless, without a writable cgroup, runs without device rules and without error" {
  rootless_setup
  rl_bundle "$RL_TMP/fx-rl" '["sh","-c","echo x > /dev/null && echo null-ok"]'
  jq '.linux.resources.devices = [{allow: false, access: "rwm"}]' "$RL_TMP/fx-rl/config.json" > "$RL_TMP/c" && mv "$RL_TMP/c" "$RL_TMP/fx-rl/config.json"
  chown wardtest: "$RL_TMP/fx-rl/config.json"
  run rootless "$RL_WARD" run --bundle "$RL_TMP/fx-rl" fx-rl
  echo "$output"
  rm -rf "$RL_TMP"
  [ "$status" -eq 0 ]
  [[ "$output" == *null-ok* ]]
  [[ "$output" != *warn* ]]
}

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

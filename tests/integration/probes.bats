#!/usr/bin/env bats
# Probes baked into containers (issue 4): libward-probe.so reaches every
# dynamically linked process through a read-only ld.so.preload (bundles) or
# LD_PRELOAD (the sandbox), writes to the container's ring, and
# `ward events ID` / `ward probe on|off ID` work by container id.

load ../lib/common

setup() { common_setup; }
teardown() { [ -z "${vt:-}" ] || rm -rf "$vt"; common_teardown; }

wait_state() { for i in $(seq 100); do [ -e "$WARD_ROOT/$1/state.json" ] && return 0; sleep 0.05; done; return 1; }

@test "sandbox: exec and file events of the workload, by container id" {
  "$WARD" --root "$WARD_ROOT" sandbox --name pr1 -- sh -c 'sleep 0.5; cat /etc/hostname >/dev/null; sleep 1' &
  bg=$!
  wait_state pr1
  sleep 1
  run "$WARD" --root "$WARD_ROOT" events --json pr1
  wait $bg
  echo "$output" | head -20
  # the supervisor reports the same exec (source "supervisor"); the probe's once
  echo "$output" | jq -s -e 'map(select(.source == "probe" and .type == "exec" and (.path | endswith("/cat")))) | length == 1'
  echo "$output" | jq -s -e 'map(select(.source == "supervisor" and .type == "exec" and (.path | endswith("/cat")))) | length == 1'
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/etc/hostname")) | length == 1'
}

@test "rootless sandbox: the probes record, with the init binding the ring itself" {
  rootless_setup
  rootless "$RL_WARD" sandbox --name prl -- sh -c 'sleep 0.5; cat /etc/hostname >/dev/null; sleep 1' &
  bg=$!
  for i in $(seq 100); do [ -e "$RL_ROOT/prl/state.json" ] && break; sleep 0.05; done
  sleep 1
  run rootless "$RL_WARD" events --json prl
  wait $bg
  echo "$output" | head -20
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/etc/hostname")) | length == 1'
}

@test "bundle (glibc image): read-only /etc/ld.so.preload, events, groups switched at run time" {
  make_bundle "$TEST_TMP/g" '["sh","-c","cat /etc/ld.so.preload; (echo x > /etc/ld.so.preload) 2>/dev/null || echo preload-ro; sleep 0.3; cat /etc/hostname; sleep 2; cat /etc/hostname; sleep 0.5"]'
  rm -rf "$TEST_TMP/g/rootfs"; sh tests/lib/glibc_rootfs.sh "$TEST_TMP/g/rootfs"
  echo ward-test > "$TEST_TMP/g/rootfs/etc/hostname"
  "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/g" g1 > "$TEST_TMP/g.out" 2>&1 &
  bg=$!
  wait_state g1
  sleep 1
  "$WARD" --root "$WARD_ROOT" probe off --group file g1
  sleep 1.5
  run "$WARD" --root "$WARD_ROOT" events --json g1
  wait $bg
  cat "$TEST_TMP/g.out"
  grep -q "/run/ward-probe/libward-probe.so" "$TEST_TMP/g.out"
  grep -q preload-ro "$TEST_TMP/g.out"
  # the first cat's open was recorded, the second (file group off) not
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/etc/hostname")) | length == 1'
  echo "$output" | jq -s -e 'map(select(.type == "exec")) | length >= 2'
}

@test "opt-out, unknown groups, unknown ids" {
  run "$WARD" --root "$WARD_ROOT" sandbox --no-probe -- sh -c 'ls /run/ward-probe 2>&1; echo "[$LD_PRELOAD]"'
  [[ "$output" == *"No such file"* ]]
  [[ "$output" == *"[]"* ]]
  run "$WARD" --root "$WARD_ROOT" sandbox --name bad --probe exec,bogus -- true
  [ "$status" -ne 0 ]
  [[ "$output" == *"--probe"*bogus* ]]
  assert_clean bad
  run "$WARD" --root "$WARD_ROOT" events nosuch
  [ "$status" -ne 0 ]
  [[ "$output" == *"nosuch"*"does not exist"* ]]
  run "$WARD" --root "$WARD_ROOT" probe on nosuch
  [ "$status" -ne 0 ]
}

@test "the ring is sized per container (sandbox flag, bundle annotation); bad sizes are refused" {
  run "$WARD" --root "$WARD_ROOT" sandbox --probe-ring 16m -- stat -c %s /run/ward-probe/ring
  [ "$status" -eq 0 ]
  [ "$output" = $((16 * 1024 * 1024 + 4096)) ]   # records + the header page
  # positive control: without it, the default 4 MiB
  run "$WARD" --root "$WARD_ROOT" sandbox -- stat -c %s /run/ward-probe/ring
  [ "$output" = $((4 * 1024 * 1024 + 4096)) ]
  make_bundle "$TEST_TMP/r" '["ls","-ln","/run/ward-probe/ring"]'
  rm -rf "$TEST_TMP/r/rootfs"; sh tests/lib/glibc_rootfs.sh "$TEST_TMP/r/rootfs"
  jq '.annotations["run.ward.probe-ring"] = "1m"' "$TEST_TMP/r/config.json" > "$TEST_TMP/c" && mv "$TEST_TMP/c" "$TEST_TMP/r/config.json"
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/r" r1
  [ "$status" -eq 0 ]
  [[ "$output" == *" $((1024 * 1024 + 4096)) "* ]]
  jq '.annotations["run.ward.probe-ring"] = "2g"' "$TEST_TMP/r/config.json" > "$TEST_TMP/c" && mv "$TEST_TMP/c" "$TEST_TMP/r/config.json"
  run "$WARD" --root "$WARD_ROOT" run --bundle "$TEST_TMP/r" r2
  [ "$status" -ne 0 ]
  [[ "$output" == *"annotations.run.ward.probe-ring"*2g* ]]
  assert_clean r2
  run "$WARD" --root "$WARD_ROOT" sandbox --name r3 --probe-ring 12q -- true
  [ "$status" -ne 0 ]
  [[ "$output" == *"--probe-ring"*12q* ]]
  assert_clean r3
}

@test "call stacks for chosen event types, named on the host" {
  target=$(dirname "$WARD")/../probe/probe-target
  mkfifo "$TEST_TMP/cue"
  "$WARD" --root "$WARD_ROOT" sandbox --name st -- "$target" stack-cue < "$TEST_TMP/cue" &
  bg=$!
  exec 7>"$TEST_TMP/cue"   # (bats keeps fd 3 for itself)
  wait_state st
  run "$WARD" --root "$WARD_ROOT" probe stack st syscall
  [ "$status" -eq 2 ]
  [[ "$output" == *'"syscall": not a list of probe event types'* ]]
  # (perf's sampling is switched the same way; test_preload checks its effect)
  run "$WARD" --root "$WARD_ROOT" probe on --group perf --perf-every 6 st
  [ "$status" -eq 2 ]
  [[ "$output" == *"--perf-every"*"power of two"* ]]
  run "$WARD" --root "$WARD_ROOT" probe on --group perf --perf-every 8 st
  [[ "$output" == *"perf (timing 1 call in 8)"* ]]
  run "$WARD" --root "$WARD_ROOT" probe off --group perf --perf-every 1 st
  [ "$status" -eq 0 ]
  run "$WARD" --root "$WARD_ROOT" probe stack st connect
  [ "$status" -eq 0 ]
  [[ "$output" == *"stacks: connect, depth 4"* ]]
  echo one >&7
  sleep 0.5
  run "$WARD" --root "$WARD_ROOT" probe stack st open --depth 3
  [[ "$output" == *"stacks: open, depth 3"* ]]
  echo two >&7
  sleep 0.5
  run "$WARD" --root "$WARD_ROOT" events --json st
  text=$("$WARD" --root "$WARD_ROOT" events st)
  exec 7>&-
  wait $bg
  echo "$output" | grep /dev/null
  # the first open (only connect chosen) has no stack, the second one three
  # frames: the caller of open() and its caller, by name
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/dev/null")) | length == 2 and (.[0].stack == null)'
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/dev/null"))[1]
    | (.stack | length) == 3 and (.stack_sym[0] | startswith("probe-target!nested_open+0x"))
      and (.stack_sym[1] | startswith("probe-target!main+0x"))'
  [[ "$text" == *"at probe-target!nested_open+0x"* ]]
}

@test "stack names from a file name that is not UTF-8 stay in the JSON, escaped" {
  # the frame names carry the mapped file's name, which the workload picks
  # (not under /tmp: the sandbox has a private one)
  vt=$(mktemp -d /var/tmp/ward-it.XXXXXX)
  chmod 755 "$vt"
  odd="$vt/t"$'\xff'"x"
  cp "$(dirname "$WARD")/../probe/probe-target" "$odd"
  mkfifo "$TEST_TMP/cue2"
  # a command line that is not UTF-8 cannot go into a config: refused, not
  # shortened (the old behaviour dropped the argument and shifted the rest)
  run "$WARD" --root "$WARD_ROOT" sandbox --name su0 -- "$odd" stack-cue
  [ "$status" -ne 0 ]
  [[ "$output" == *"argument 0 of the command is not UTF-8"* ]]
  assert_clean su0
  # so the shell names the file
  "$WARD" --root "$WARD_ROOT" sandbox --name su -- sh -c 'exec "$(printf "%s/t\377x" "$1")" stack-cue' sh "$vt" \
    < "$TEST_TMP/cue2" &
  bg=$!
  exec 7>"$TEST_TMP/cue2"
  wait_state su
  "$WARD" --root "$WARD_ROOT" probe stack su open --depth 2 >/dev/null
  echo one >&7
  echo two >&7
  sleep 0.5
  run "$WARD" --root "$WARD_ROOT" events --json su
  exec 7>&-
  wait $bg
  [ "$status" -eq 0 ]
  echo "$output" | grep /dev/null
  # positive control: the frame is named at all; the byte comes out as \xff
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/dev/null" and .stack_sym != null))
    | length >= 1 and (.[0].stack_sym[0] | startswith("t\\xffx!nested_open+0x"))'
}

@test "a workload that scribbles over its ring keeps running, and the reader counts bad records" {
  "$WARD" --root "$WARD_ROOT" sandbox --name sc -- sh -c '
    sleep 0.5; head -c 65536 /dev/urandom | dd of=/run/ward-probe/ring bs=4096 seek=1 conv=notrunc 2>/dev/null; echo scribbled;
    cat /etc/hostname >/dev/null; sleep 1; echo still-running' > "$TEST_TMP/sc.out" 2>&1 &
  bg=$!
  wait_state sc
  sleep 1
  run "$WARD" --root "$WARD_ROOT" events --json sc
  wait $bg
  grep -q still-running "$TEST_TMP/sc.out"
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/etc/hostname")) | length == 1' 2>/dev/null || [[ "$output" == *bad* ]]
}

@test "a ring truncated by its own workload does not take the host's reader down" {
  # busybox-static is not probed, so the truncating workload itself lives on
  "$WARD" --root "$WARD_ROOT" sandbox --name tr -- busybox sh -c 'busybox sleep 1; : > /run/ward-probe/ring; echo truncated; busybox sleep 2' &
  bg=$!
  wait_state tr
  # a reader already mapped when the file shrinks (the SIGBUS path) ...
  run timeout 10 "$WARD" --root "$WARD_ROOT" events --follow --json tr
  [ "$status" -eq 1 ]
  [[ "$output" == *"truncated its ring"* ]]
  # ... and one that comes later
  run "$WARD" --root "$WARD_ROOT" events --json tr
  [ "$status" -ne 0 ]
  [[ "$output" == *"implausible size 0"* ]]
  wait $bg
}

@test "a container made by a ward from before state_dir/run is still reached by id after the upgrade" {
  make_bundle "$TEST_TMP/u" '["sh","-c","while :; do cat /etc/hostname > /dev/null; sleep 0.1; done"]'
  rm -rf "$TEST_TMP/u/rootfs"; sh tests/lib/glibc_rootfs.sh "$TEST_TMP/u/rootfs"
  echo ward-test > "$TEST_TMP/u/rootfs/etc/hostname"
  "$WARD" --root "$WARD_ROOT" create --bundle "$TEST_TMP/u" u1 </dev/null >/dev/null 2>&1
  "$WARD" --root "$WARD_ROOT" start u1
  # the old layout: the probe directory at the top of the state directory
  # (moved, not copied: the container's binds keep pointing at it)
  rd=$(run_dir u1)
  mv "$rd/probe" "$WARD_ROOT/u1/probe"
  rm -r "$rd"
  [ ! -e "$(run_dir u1)/probe/control" ]
  run "$WARD" --root "$WARD_ROOT" probe off u1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"(all off)"* ]]
  "$WARD" --root "$WARD_ROOT" probe on --group file u1
  sleep 0.5
  run timeout 5 "$WARD" --root "$WARD_ROOT" events --json u1
  echo "$output" | jq -s -e 'map(select(.type == "open" and .path == "/etc/hostname")) | length >= 1'
  "$WARD" --root "$WARD_ROOT" delete --force u1
  assert_clean u1
}

#!/usr/bin/env bats
# Detection (issues 5 and 6): each injected-code rule fires on a real program
# in a real sandbox (`ward trace --detect`, the live detector with the
# container's root and start time), with a benign negative control; recorded
# events replayed through `ward model detect` give the same findings; the
# sequence and rate models alert on what they did not learn; bad input gets
# one error naming file:line.

load ../lib/common

setup() {
  common_setup
  BIN=$(dirname "$WARD")/../agent
  [ -x "$BIN/detect-wx" ] || skip "test programs not built"
}
teardown() { common_teardown; }

# det NAME [OPTIONS] -- CMD...: traces CMD in a sandbox; detections in $TEST_TMP/NAME.det, events in NAME.ev
det() {
  local name=$1
  shift
  "$WARD" --root "$WARD_ROOT" trace --name "det-$name-$$" -o "$TEST_TMP/$name.tr" --events "$TEST_TMP/$name.ev" \
    --detect "$TEST_TMP/$name.det" "$@"
}

rules() { jq -r .rule "$1" | sort | uniq | tr '\n' ' '; }

@test "inject.wx_mapping: mmap and mprotect asking for W+X; W then X separately raises nothing" {
  det wx -- "$BIN/detect-wx"
  cat "$TEST_TMP/wx.det"
  [ "$(jq -s 'map(select(.rule == "inject.wx_mapping")) | length' "$TEST_TMP/wx.det")" = 2 ]
  det wxok -- "$BIN/detect-wx" benign
  [ ! -s "$TEST_TMP/wxok.det" ]
  # the recorded events replayed through the detector: the same findings
  run "$WARD" model detect "$TEST_TMP/wx.ev"
  [ "$status" = 0 ]
  [ "$(echo "$output" | jq -s 'map(select(.rule == "inject.wx_mapping")) | length')" = 2 ]
}

@test "an exec that failed (its file is missing) is not taken as the process's program in the engine's alerts" {
  run "$WARD" --root "$WARD_ROOT" sandbox --name "det-exe-$$" --alerts "$TEST_TMP/exe.alerts" -- "$BIN/detect-wx" afterexec
  [ "$status" = 0 ]
  cat "$TEST_TMP/exe.alerts"
  [ "$(jq -s 'map(select(.rule == "inject.wx_mapping")) | length' "$TEST_TMP/exe.alerts")" -ge 1 ]
  jq -s -e 'map(select(.rule == "inject.wx_mapping")) | all(.exe | test("detect-wx$"))' "$TEST_TMP/exe.alerts"
}

@test "inject.exec_memfd and inject.exec_deleted: fexecve of a memfd and of an unlinked file; plain exec raises nothing" {
  det memfd -- "$BIN/detect-fdexec" memfd /bin/true
  cat "$TEST_TMP/memfd.det"
  jq -s -e 'map(select(.rule == "inject.exec_memfd" and (.detail | contains("/memfd:payload")))) | length >= 1' "$TEST_TMP/memfd.det"
  det deleted -- "$BIN/detect-fdexec" deleted /bin/true
  cat "$TEST_TMP/deleted.det"
  jq -s -e 'map(select(.rule == "inject.exec_deleted" and (.detail | contains("(deleted)")))) | length >= 1' "$TEST_TMP/deleted.det"
  det plain -- "$BIN/detect-fdexec" plain /bin/true
  [ ! -s "$TEST_TMP/plain.det" ]
}

@test "inject.exec_modified: a binary written after the start; programs of the image raise nothing" {
  det mod -- sh -c 'cp /bin/true /tmp/t && /tmp/t && /bin/true'
  cat "$TEST_TMP/mod.det"
  [ "$(rules "$TEST_TMP/mod.det")" = "inject.exec_modified " ]
  jq -s -e 'map(select(.rule == "inject.exec_modified" and (.detail | startswith("exec of /tmp/t,")))) | length >= 1' "$TEST_TMP/mod.det"
  det unmod -- sh -c '/bin/true; ls / >/dev/null; cat /etc/hostname >/dev/null'
  [ ! -s "$TEST_TMP/unmod.det" ]
}

@test "inject.preload_change: writing /etc/ld.so.preload (even refused) and LD_PRELOAD on a command line; reading it raises nothing" {
  det pre -- sh -c 'echo /tmp/x.so > /etc/ld.so.preload; env LD_PRELOAD=/tmp/x.so /bin/true; exit 0'
  cat "$TEST_TMP/pre.det"
  jq -s -e 'map(select(.rule == "inject.preload_change" and (.detail | contains("/etc/ld.so.preload")))) | length >= 1' "$TEST_TMP/pre.det"
  jq -s -e 'map(select(.rule == "inject.preload_change" and (.detail | contains("LD_PRELOAD=")))) | length >= 1' "$TEST_TMP/pre.det"
  det preok -- sh -c 'cat /etc/ld.so.preload >/dev/null 2>&1; cat /etc/hostname > /dev/null'
  [ ! -s "$TEST_TMP/preok.det" ]
}

@test "inject.ptrace: PTRACE_ATTACH to a sibling; PTRACE_TRACEME raises nothing" {
  det pt -- "$BIN/detect-ptrace" || true
  cat "$TEST_TMP/pt.det"
  jq -s -e 'map(select(.rule == "inject.ptrace" and (.detail | startswith("ptrace request 16 ")))) | length >= 1' "$TEST_TMP/pt.det"
  det ptok -- "$BIN/detect-ptrace" self
  [ ! -s "$TEST_TMP/ptok.det" ]
}

@test "inject.server_shell: a shell started by a listening server; the same server answering without a shell raises nothing" {
  port=$((30000 + RANDOM % 20000))
  det srv --net host -- "$BIN/detect-server" $port 'id; uname -a' &
  bg=$!
  for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
  wait $bg
  cat "$TEST_TMP/srv.det"
  jq -s -e 'map(select(.rule == "inject.server_shell" and (.detail | startswith("shell /bin/sh started by server process")))) | length >= 1' "$TEST_TMP/srv.det"
  port=$((port + 1))
  det srvok --net host -- "$BIN/detect-server" $port - &
  bg=$!
  for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
  wait $bg
  [ ! -s "$TEST_TMP/srvok.det" ]
}

@test "model.sequence: trained on traces of a workload, a different call sequence alerts and a repeat does not" {
  for i in 1 2 3 4 5 6; do
    "$WARD" --root "$WARD_ROOT" trace --name "det-tr$i-$$" -o "$TEST_TMP/train" --prefix "r$i" -- \
      sh -c 'cat /etc/hostname /etc/passwd >/dev/null; ls /etc >/dev/null; mkdir -p /tmp/a; touch /tmp/a/b; rm -r /tmp/a'
  done
  run "$WARD" model train -n 3 --window 8 "$TEST_TMP/train" -o "$TEST_TMP/model.json"
  echo "$output"
  [ "$status" = 0 ]
  det same --model "$TEST_TMP/model.json" -- \
    sh -c 'cat /etc/hostname /etc/passwd >/dev/null; ls /etc >/dev/null; mkdir -p /tmp/a; touch /tmp/a/b; rm -r /tmp/a'
  cat "$TEST_TMP/same.det"
  [ ! -s "$TEST_TMP/same.det" ]
  det other --model "$TEST_TMP/model.json" -- \
    sh -c 'ln -s /etc/passwd /tmp/p; chmod 600 /tmp/p; mv /tmp/p /tmp/q; unlink /tmp/q; mkdir /tmp/x; rmdir /tmp/x'
  cat "$TEST_TMP/other.det"
  jq -s -e 'map(select(.rule == "model.sequence")) | length >= 1' "$TEST_TMP/other.det"
  # offline: the same model scores the recorded traces
  run "$WARD" model score "$TEST_TMP/model.json" "$TEST_TMP/same.tr" "$TEST_TMP/other.tr"
  echo "$output"
  [ "$status" = 0 ]
  [ "$(echo "$output" | wc -l)" -ge 2 ]
}

@test "rate.exec: learned from a calm run, a burst of execs alerts; the calm run replayed does not" {
  det calm -- sh -c '/bin/true; sleep 0.2; /bin/true; sleep 0.2; /bin/true'
  "$WARD" model detect --learn -o "$TEST_TMP/rate.json" "$TEST_TMP/calm.ev"
  jq -e '.rate.exec.threshold >= 8' "$TEST_TMP/rate.json"
  det burst -- sh -c 'for i in $(seq 60); do /bin/true; done'
  run "$WARD" model detect --model "$TEST_TMP/rate.json" "$TEST_TMP/burst.ev"
  echo "$output"
  [ "$status" = 0 ]
  [ "$(echo "$output" | jq -s 'map(select(.rule == "rate.exec")) | length')" = 1 ]
  run "$WARD" model detect --model "$TEST_TMP/rate.json" "$TEST_TMP/calm.ev"
  [ "$status" = 0 ]
  [ -z "$(echo "$output" | jq -r 'select(.rule | startswith("rate."))')" ]
}

@test "bad input: binary traces, huge tokens, empty dirs, broken models and event lines get one error naming file:line" {
  mkdir -p "$TEST_TMP/t"
  printf 'read write\nopen\001close\n' > "$TEST_TMP/t/bin"
  run "$WARD" model train "$TEST_TMP/t" -o "$TEST_TMP/m.json"
  [ "$status" = 1 ]
  [[ "$output" == *"/t/bin:2: unexpected byte 0x01"* ]]
  [ ! -e "$TEST_TMP/m.json" ]
  head -c 300 /dev/zero | tr '\0' a > "$TEST_TMP/t/bin"
  run "$WARD" model train "$TEST_TMP/t" -o "$TEST_TMP/m.json"
  [[ "$output" == *"/t/bin:1: a token of 300 bytes"* ]]
  rm "$TEST_TMP/t/bin"
  run "$WARD" model train "$TEST_TMP/t" -o "$TEST_TMP/m.json"
  [ "$status" = 1 ]
  [[ "$output" == *"no trace files"* ]]
  echo '{"kind":"ward-seq","version":1,"n":3,"window":4,"vocab":["a"],"grams":[0,0,7,1]}' > "$TEST_TMP/bad.json"
  printf 'a a\n' > "$TEST_TMP/ok"
  run "$WARD" model score "$TEST_TMP/bad.json" "$TEST_TMP/ok"
  [ "$status" = 1 ]
  [[ "$output" == *"bad.json: model.grams[2]: expected a token id of the vocabulary"* ]]
  printf '{"type":"exec","pid":1}\n{"type":"exec","pid":"x"}\n' > "$TEST_TMP/ev.jsonl"
  run "$WARD" model detect "$TEST_TMP/ev.jsonl"
  [ "$status" = 1 ]
  [[ "$output" == *"ev.jsonl:2: event.pid: expected an integer"* ]]
}

@test "ward trace ID: records a running container's processes (from its ring, or the engine's flight recorder)" {
  "$WARD" --root "$WARD_ROOT" sandbox --name "det-id-$$" -- sh -c 'sleep 1; cat /etc/hostname >/dev/null; ls / >/dev/null; sleep 2' &
  bg=$!
  # the sandbox's own engine consumes the ring: wait for its flight recorder
  for i in $(seq 100); do [ -e "$(run_dir det-id-$$)/flight" ] && break; sleep 0.05; done
  "$WARD" --root "$WARD_ROOT" trace -o "$TEST_TMP/byid" --source probe --duration 2.5 "det-id-$$"
  wait $bg
  cat "$TEST_TMP"/byid/*
  grep -l '^execve.cat openat.r' "$TEST_TMP"/byid/*
  grep -l '^execve.ls' "$TEST_TMP"/byid/*
}

@test "ward trace --supervisor: a static binary's execs and connects, which the probe cannot see" {
  [ "$(file -b /usr/bin/busybox | grep -c 'statically linked')" = 1 ] || skip "no static busybox"
  cmd='/usr/bin/busybox true; /usr/bin/busybox wget -q -O /dev/null http://127.0.0.1:1/ 2>/dev/null; exit 0'
  det sv --supervisor -- /usr/bin/busybox sh -c "$cmd"
  cat "$TEST_TMP"/sv.tr/*
  [ "$(cat "$TEST_TMP"/sv.tr/* | grep -c '^execve.busybox')" = 3 ]
  grep -q 'connect.inet.lo' "$TEST_TMP"/sv.tr/*
  jq -s -e 'map(select(.source == "supervisor")) | length >= 4' "$TEST_TMP/sv.ev"
  # without the supervisor the probes see nothing of a static binary
  det nosv -- /usr/bin/busybox sh -c "$cmd"
  [ -z "$(ls "$TEST_TMP/nosv.tr")" ]
}

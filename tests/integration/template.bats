#!/usr/bin/env bats
# Behavioural templates with real workloads: record a workload's events,
# learn a template offline, check that two runs give the same template,
# replay the workload under the compiled Landlock and seccomp layers with
# zero denials, and show that deviations are denied (each with a positive
# control without the layers).

load ../lib/common

# The workload: reads, a numbered log file in its data directory, a mktemp file, /proc/PID, and
# a TCP connect to a closed loopback port (refused, so Landlock's verdict
# is visible: EACCES instead of ECONNREFUSED).
WORKLOAD='set -e
cat /etc/hostname > /dev/null
echo "$RANDOM" > /data/out/log.$$
f=$(mktemp); echo x > "$f"; rm "$f"
cat /proc/$$/status > /dev/null
out=$( (exec 3<>/dev/tcp/127.0.0.1/7777) 2>&1 ) || true
case $out in *refused*) ;; *) echo "connect: $out"; exit 1 ;; esac
echo DONE'

setup_file() {
  export TPL_ROOTFS="$BATS_FILE_TMPDIR/rootfs"
  sh tests/lib/template_rootfs.sh "$TPL_ROOTFS"
}

setup() {
  common_setup
}

teardown() {
  common_teardown
}

W() { "$WARD" --root "$WARD_ROOT" "$@"; }

# bundle DIR ARGS_JSON [jq filter]: the template rootfs in a hardened bundle
bundle() {
  make_bundle "$1" "$2" "${3:-.}"
  rm -rf "$1/rootfs"
  cp -a "$TPL_ROOTFS" "$1/rootfs"
}

# record ID: runs the workload in a fresh bundle and writes ID.jsonl
record() {
  local id=$1 dir="$TEST_TMP/$1"
  bundle "$dir" "$(jq -cn --arg w "$WORKLOAD; sleep 2" '["/bin/bash","-c",$w]')"
  W run --bundle "$dir" "$id" > "$dir.out" 2>&1 &
  local bg=$! i
  for i in $(seq 100); do grep -q DONE "$dir.out" && break; sleep 0.1; done
  W events --json "$id" > "$TEST_TMP/$id.jsonl"
  wait $bg
  cat "$dir.out"
  grep -q DONE "$dir.out"
}

@test "two runs of the same workload learn the same template" {
  record tpl-1
  record tpl-2
  W template learn --events "$TEST_TMP/tpl-1.jsonl" --app demo --exec /bin/bash -o "$TEST_TMP/a.json"
  W template learn --events "$TEST_TMP/tpl-2.jsonl" --app demo --exec /bin/bash -o "$TEST_TMP/b.yaml"
  cat "$TEST_TMP/a.json"
  # the runs differ in pids, the log name and the mktemp name...
  run diff <(jq -c 'select(.path) | .path' "$TEST_TMP/tpl-1.jsonl") <(jq -c 'select(.path) | .path' "$TEST_TMP/tpl-2.jsonl")
  [ "$status" -eq 1 ]
  # ...and generalisation hides that
  run W template diff "$TEST_TMP/a.json" "$TEST_TMP/b.yaml"
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  jq -e '.files.write | index("/data/out/log.#") and index("/tmp/tmp.*")' "$TEST_TMP/a.json"
  jq -e '.files.read | index("/proc/*/status")' "$TEST_TMP/a.json"
  # (the supervisor, on by default, also reports glibc's own nscd connect)
  jq -e '.network.connect | index("inet:127.0.0.1:7777")' "$TEST_TMP/a.json"
  jq -e '.network.connect - ["unix:/var/run/nscd/socket"] == ["inet:127.0.0.1:7777"]' "$TEST_TMP/a.json"
  # a different workload does differ, and diff says how (exit 1)
  jq '.exec += [{"path": "/bin/id"}]' "$TEST_TMP/a.json" > "$TEST_TMP/c.json"
  run W template diff "$TEST_TMP/a.json" "$TEST_TMP/c.json"
  [ "$status" -eq 1 ]
  [ "$output" = "+ exec: /bin/id" ]
}

# protect_bundle DIR ARGS_JSON TEMPLATE: the bundle with the template's
# Landlock annotations and seccomp profile
protect_bundle() {
  bundle "$1" "$2"
  W template export --landlock --annotations --rootfs "$1/rootfs" "$3" > "$1/ll.json"
  W template export --seccomp "$3" -o "$1/docker-seccomp.json"
  W seccomp convert "$1/docker-seccomp.json" -o "$1/seccomp.json"
  jq --slurpfile ll "$1/ll.json" --slurpfile sc "$1/seccomp.json" \
    '.annotations = $ll[0] | .linux.seccomp = $sc[0]' "$1/config.json" > "$1/config.tmp"
  mv "$1/config.tmp" "$1/config.json"
}

learn_demo() {
  record tpl-3
  W template learn --events "$TEST_TMP/tpl-3.jsonl" --app demo --exec /bin/bash -o "$TEST_TMP/t.json"
}

@test "the workload replayed under its compiled template runs with zero denials" {
  learn_demo
  protect_bundle "$TEST_TMP/p" "$(jq -cn --arg w "$WORKLOAD" '["/bin/bash","-c",$w]')" "$TEST_TMP/t.json"
  jq .annotations "$TEST_TMP/p/config.json"
  # recorded again under the layers: the probe still loads and reports
  # everything, nothing was denied and everything fits the template
  jq '.process.args[2] += "; sleep 2"' "$TEST_TMP/p/config.json" > "$TEST_TMP/p/c.tmp" && mv "$TEST_TMP/p/c.tmp" "$TEST_TMP/p/config.json"
  W run --bundle "$TEST_TMP/p" tpl-4 > "$TEST_TMP/p.out" 2>&1 &
  local bg=$! i
  for i in $(seq 100); do grep -q DONE "$TEST_TMP/p.out" && break; sleep 0.1; done
  W events --json tpl-4 > "$TEST_TMP/p.jsonl"
  wait $bg
  cat "$TEST_TMP/p.out"
  [ "$(cat "$TEST_TMP/p.out")" = DONE ]
  jq -s -e 'length > 10 and all(.denied != true)' "$TEST_TMP/p.jsonl"
  run W template check "$TEST_TMP/t.json" --events "$TEST_TMP/p.jsonl"
  echo "$output"
  [ "$status" -eq 0 ]
}

# deviation NAME SCRIPT: runs SCRIPT without the layers (positive control,
# must print OK) and under them (must print DENIED)
deviation() {
  local name=$1 script=$2 args
  args=$(jq -cn --arg w "$script" '["/bin/bash","-c",$w]')
  bundle "$TEST_TMP/free-$name" "$args"
  run W run --bundle "$TEST_TMP/free-$name" "tpl-f$name"
  echo "without the template: $output"
  [ "$status" -eq 0 ]
  [[ "$output" == *OK* ]]
  protect_bundle "$TEST_TMP/prot-$name" "$args" "$TEST_TMP/t.json"
  run W run --bundle "$TEST_TMP/prot-$name" "tpl-p$name"
  echo "under the template: $output"
  [[ "$output" == *DENIED* ]]
  [[ "$output" != *OK* ]]
}

@test "deviations are denied under the compiled template: exec, write, connect" {
  learn_demo
  # exec of a binary the workload never ran
  deviation exec '/bin/id >/dev/null 2>&1 && echo OK || echo DENIED'
  # a write outside the learned directories (/data/out, /tmp)
  deviation write '(echo x > /data/evil) 2>/dev/null && echo OK || echo DENIED'
  deviation write2 '(echo x > /etc/evil) 2>/dev/null && echo OK || echo DENIED'
  # a connect to a port the workload never used: refused (nothing listens)
  # without the template, permission denied under it
  deviation connect 'out=$( (exec 3<>/dev/tcp/127.0.0.1/7778) 2>&1 ); case $out in *refused*) echo OK ;; *denied*) echo DENIED ;; *) echo "other: $out" ;; esac'
  # the learned write and connect still work under the template
  protect_bundle "$TEST_TMP/same" "$(jq -cn '["/bin/bash","-c","echo y > /data/out/log.77 && out=$( (exec 3<>/dev/tcp/127.0.0.1/7777) 2>&1 ); case $out in *refused*) echo SAME ;; esac"]')" "$TEST_TMP/t.json"
  run W run --bundle "$TEST_TMP/same" tpl-s
  echo "$output"
  [[ "$output" == *SAME* ]]
}

@test "an offline monitor flags the same deviations in recorded events" {
  learn_demo
  run W template check "$TEST_TMP/t.json" --events "$TEST_TMP/tpl-3.jsonl"
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  # a run that does more than the template allows
  bundle "$TEST_TMP/dev" "$(jq -cn --arg w "$WORKLOAD; /bin/id > /dev/null; echo x > /etc/evil; (exec 3<>/dev/tcp/127.0.0.1/7778) 2>/dev/null || true; sleep 2" '["/bin/bash","-c",$w]')"
  W run --bundle "$TEST_TMP/dev" tpl-5 > "$TEST_TMP/dev.out" 2>&1 &
  local bg=$! i
  for i in $(seq 100); do grep -q DONE "$TEST_TMP/dev.out" && break; sleep 0.1; done
  sleep 0.5
  W events --json tpl-5 > "$TEST_TMP/dev.jsonl"
  wait $bg
  run W template check "$TEST_TMP/t.json" --events "$TEST_TMP/dev.jsonl"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"high template.exec: exec of /bin/id"* ]]
  [[ "$output" == *"high template.file.write: write of /etc/evil"* ]]
  [[ "$output" == *"high template.connect: connect to inet:127.0.0.1:7778"* ]]
}

@test "bad input: file:line errors, conflicting merges, bad event lines" {
  printf 'version: 1\napp: x\nfiles:\n  wirte: []\n' > "$TEST_TMP/bad.yaml"
  run W template show "$TEST_TMP/bad.yaml"
  [ "$status" -eq 1 ]
  [[ "$output" == *"bad.yaml:4: files.wirte: unknown field"* ]]
  printf '{"version": 1, "app": "a"}\n' > "$TEST_TMP/a.json"
  printf '{"version": 1, "app": "b"}\n' > "$TEST_TMP/b.json"
  run W template merge "$TEST_TMP/a.json" "$TEST_TMP/b.json" -o "$TEST_TMP/m.json"
  [ "$status" -eq 1 ]
  [[ "$output" == *'app: "a" and "b" are different applications'* ]]
  [ ! -e "$TEST_TMP/m.json" ]
  printf '{"type":"open","pid":1,"path":"/etc/x","flags":0,"ret":3}\n\n{"type":"bogus","pid":1}\n' > "$TEST_TMP/ev.jsonl"
  run W template learn --events "$TEST_TMP/ev.jsonl" -o "$TEST_TMP/l.json"
  [ "$status" -eq 1 ]
  [[ "$output" == *'ev.jsonl:3: type: unknown event type "bogus"'* ]]
  [ ! -e "$TEST_TMP/l.json" ]
  run W template export --seccomp --landlock "$TEST_TMP/a.json"
  [ "$status" -eq 2 ]
  # merge of runs is the union; merging a template with itself changes nothing
  printf '{"type":"open","pid":1,"path":"/etc/x","flags":0,"ret":3}\n' > "$TEST_TMP/ev1.jsonl"
  printf '{"type":"open","pid":1,"path":"/etc/y","flags":0,"ret":3}\n' > "$TEST_TMP/ev2.jsonl"
  W template learn --events "$TEST_TMP/ev1.jsonl" --app a -o "$TEST_TMP/1.json"
  W template learn --events "$TEST_TMP/ev2.jsonl" --app a -o "$TEST_TMP/2.yaml"
  W template merge "$TEST_TMP/1.json" "$TEST_TMP/2.yaml" "$TEST_TMP/1.json" -o "$TEST_TMP/m.yml"
  grep -q -- '- /etc/x' "$TEST_TMP/m.yml"
  grep -q -- '- /etc/y' "$TEST_TMP/m.yml"
  run W template diff "$TEST_TMP/1.json" "$TEST_TMP/m.yml"
  [ "$status" -eq 1 ]
  [ "$output" = "+ files.read: /etc/y" ]
  run W template show "$TEST_TMP/m.yml"
  [[ "$output" == *"files.read (2)"* ]]
}

@test "ward sandbox: the exported flags replay the workload and deny a new port" {
  local w='set -e
cat /etc/hostname > /dev/null
echo x > /tmp/tplw.$$; rm /tmp/tplw.$$
out=$( (exec 3<>/dev/tcp/127.0.0.1/7777) 2>&1 ) || true
case $out in *refused*) ;; *) echo "connect: $out"; exit 1 ;; esac
echo DONE'
  W sandbox --name tpl-s1 -- bash -c "$w; sleep 2" > "$TEST_TMP/s1.out" 2>&1 &
  local bg=$! i
  for i in $(seq 100); do grep -q DONE "$TEST_TMP/s1.out" && break; sleep 0.1; done
  W events --json tpl-s1 > "$TEST_TMP/s1.jsonl"
  wait $bg
  W template learn --events "$TEST_TMP/s1.jsonl" --app sbx --exec "$(command -v bash)" -o "$TEST_TMP/s.json"
  mapfile -t flags < <(W template export --landlock "$TEST_TMP/s.json")
  echo "${flags[*]}"
  [[ " ${flags[*]} " == *" --connect 7777 "* ]]
  run W sandbox --name tpl-s2 "${flags[@]}" -- bash -c "$w"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = DONE ]
  local dev='out=$( (exec 3<>/dev/tcp/127.0.0.1/7778) 2>&1 ); case $out in *refused*) echo OK ;; *denied*) echo DENIED ;; *) echo "other: $out" ;; esac'
  run W sandbox --name tpl-s3 -- bash -c "$dev"
  [ "$output" = OK ]
  run W sandbox --name tpl-s4 "${flags[@]}" -- bash -c "$dev"
  [ "$output" = DENIED ]
}

#!/usr/bin/env bats
# The breakout battery (issue 7, section 3): tests/breakout/escape.c tries
# container escape techniques from inside a container, harmlessly, and
# prints one JSON line each. It runs under ward's hardened bundle, the
# sandbox, a deliberately privileged bundle (the positive control: what it
# exposes is what the other runs must block), crun's default config and
# ward spec's config. Results and technique list: docs/breakout.md.

load ../lib/common
source "$BATS_TEST_DIRNAME/../breakout/lib.bash"

setup_file() {
  command -v gcc >/dev/null || skip "gcc is needed to build the probe"
  export BO_CACHE="$BATS_FILE_TMPDIR/escape"
  bo_fixture_start
}

teardown_file() { bo_fixture_stop; }

setup() {
  common_setup
  bo_set_args
}

teardown() { common_teardown; }

# The techniques the privileged control exposes: only these count, and each
# run below must block every one of them. Measured once per file.
countable() {
  local cache="$BATS_FILE_TMPDIR/countable"
  if [ ! -s "$cache" ]; then
    local out
    out=$(bo_run_privileged priv-count 2>&1)
    bo_exposed "$out" > "$cache"
    "$WARD" --root "$WARD_ROOT" delete --force priv-count >/dev/null 2>&1 || true
  fi
  cat "$cache"
}

# assert_all_blocked OUTPUT: every technique ran, none exposed, and at least
# 20 of them are backed by the positive control.
assert_all_blocked() {
  local out=$1 total n
  bo_show "$out"
  total=$("$BO_BIN" --list | wc -l)
  [ "$(bo_count "$out")" -eq "$total" ]
  [ -z "$(bo_exposed "$out")" ]
  n=$(comm -12 <(countable) <(bo_blocked "$out") | wc -l)
  echo "blocked and exposed by the positive control: $n"
  [ "$n" -ge 20 ]
  [ "$n" -eq "$(countable | wc -l)" ]
}

@test "breakout: the privileged positive control exposes most techniques" {
  run bo_run_privileged priv1
  bo_show "$output"
  [ "$status" -eq 0 ]
  total=$("$BO_BIN" --list | wc -l)
  [ "$total" -ge 30 ]
  [ "$(bo_count "$output")" -eq "$total" ]
  exposed=$(bo_exposed "$output")
  echo "exposed: $(echo "$exposed" | wc -l) of $total"
  [ "$(echo "$exposed" | wc -l)" -ge 25 ]
  for t in core_pattern proc_sys_write cgroup_v1_mount release_agent mknod_disk mknod_block_device open_by_handle_at \
           host_pid_visible ptrace_host host_root_via_proc setns_host unshare_userns_mount bpf perf_event_open \
           userfaultfd clock_settime reboot leaked_fds runtime_exe host_net_interfaces host_loopback_connect \
           abstract_socket runtime_sockets sys_write kernel_log mount_tmpfs; do
    grep -qx "$t" <<<"$exposed" || { echo "the positive control does not expose $t" >&2; false; }
  done
  # what is not exposed is missing from this kernel, or (chroot_escape)
  # impossible under ward's pivot_root whatever the config
  not=$(printf '%s\n' "$output" | grep '^{' | jq -r 'select((.exposed | not) and .available != false) | .technique')
  [ "$not" = chroot_escape ]
  assert_clean priv1
}

@test "breakout: a hardened ward bundle with ward's default seccomp profile blocks every technique" {
  run bo_run_bundle wb1 . --default-seccomp
  [ "$status" -eq 0 ]
  assert_all_blocked "$output"
  assert_clean wb1
}

@test "breakout: a hardened ward bundle without a seccomp profile exposes only what a filter alone stops" {
  # make_bundle's config as is: user namespace, no capabilities, NNP, no
  # linux.seccomp (OCI: no filter). Capabilities and namespaces stop the
  # rest; these need the filter (docs/breakout.md).
  run bo_run_bundle wb2
  bo_show "$output"
  [ "$status" -eq 0 ]
  extra=$(comm -23 <(bo_exposed "$output") <(bo_seccomp_only))
  [ -z "$extra" ] || { echo "exposed beyond the seccomp-only set: $extra" >&2; false; }
  assert_clean wb2
}

@test "breakout: ward sandbox blocks every technique" {
  run bo_run_sandbox --name sbx-bo
  [ "$status" -eq 0 ]
  assert_all_blocked "$output"
  assert_clean sbx-bo
}

@test "breakout: ward sandbox with the host network: the network techniques' own control" {
  run bo_run_sandbox --name sbx-bo-net --net host
  bo_show "$output"
  [ "$status" -eq 0 ]
  [ "$(bo_exposed "$output" | tr '\n' ' ')" = "host_loopback_connect host_net_interfaces " ]
  # the host's abstract sockets stay out of reach: Landlock's scope
  [[ "$(printf '%s\n' "$output" | grep '"abstract_socket"')" == *EPERM* ]]
  run bo_run_sandbox --name sbx-bo-net2 --net host --no-landlock
  bo_show "$output"
  [ "$(bo_exposed "$output" | tr '\n' ' ')" = "abstract_socket host_loopback_connect host_net_interfaces " ]
}

@test "breakout: crun's default config leaves open exactly what only a seccomp filter stops" {
  command -v crun >/dev/null || skip "crun is not installed"
  run bo_run_crun crun-bo
  bo_show "$output"
  [ "$status" -eq 0 ]
  [ "$(bo_count "$output")" -eq "$("$BO_BIN" --list | wc -l)" ]
  echo "crun default exposes: $(bo_exposed "$output" | tr '\n' ' ')"
  # `crun spec` has no linux.seccomp: the syscalls a filter alone stops are
  # reachable; capabilities, namespaces, masked/read-only paths and crun's
  # deny-all device cgroup stop the rest
  [ "$(bo_exposed "$output")" = "$(bo_seccomp_only)" ]
  [ ! -e /run/crun/crun-bo ]
}

@test "breakout: ward spec's config (root, Docker's capabilities, the annotated default seccomp) and the device cgroup" {
  run bo_run_spec spec-bo
  bo_show "$output"
  [ "$status" -eq 0 ]
  [ "$(bo_count "$output")" -eq "$("$BO_BIN" --list | wc -l)" ]
  # ward spec writes run.ward.seccomp: default, so the seccomp-only set
  # (keyctl among it) is refused; the capabilities Docker drops stay
  # dropped; CAP_MKNOD is in Docker's set and no user namespace stops it, so
  # the deny-all device cgroup is what refuses mknod b 7:0 (and the host
  # disk's node)
  [ -z "$(bo_exposed "$output")" ]
  [ "$(printf '%s\n' "$output" | grep '^{' | jq -r 'select(.technique == "keyctl") | .exposed')" = false ]
  [[ "$(printf '%s\n' "$output" | grep '^{' | jq -r 'select(.technique == "mknod_block_device") | .detail')" == "mknod b 7:0: EPERM" ]]
  assert_clean spec-bo
}

@test "breakout: ward spec's config whose linux.resources.devices allows b 7:0: mknod and open work (control)" {
  BO_ARGS+=(--only mknod_block_device,mknod_disk)
  BO_SPEC_FILTER='.linux.resources.devices = [{allow: true, type: "b", major: 7, minor: 0, access: "rwm"}]' run bo_run_spec spec-bo3
  bo_show "$output"
  [ "$status" -eq 0 ]
  [ "$(bo_exposed "$output")" = mknod_block_device ]
  # the host disk stays refused: only 7:0 was allowed
  [[ "$(printf '%s\n' "$output" | grep '^{' | jq -r 'select(.technique == "mknod_disk") | .detail')" == *": EPERM"* ]]
  assert_clean spec-bo3
}

@test "breakout: ward spec's config with the annotation set to config: the seccomp-only set is open (control)" {
  BO_ARGS+=(--only keyctl,add_key,personality)
  BO_SPEC_FILTER='.annotations["run.ward.seccomp"] = "config"' run bo_run_spec spec-bo2
  bo_show "$output"
  [ "$status" -eq 0 ]
  [ "$(bo_exposed "$output" | tr '\n' ' ')" = "add_key keyctl personality " ]
  assert_clean spec-bo2
}

#!/usr/bin/env bats
# ward check (issue 7, section 2) from inside four containers: a hardened
# ward bundle, ward sandbox, crun's default config and a deliberately
# privileged ward bundle. Its JSON answers are checked against what each
# configuration sets.
#
# ward is linked dynamically (libseccomp, jansson, yaml, cap, nettle, and
# libasan in the ASan build) and the busybox rootfs has no libraries: the
# bundles bind-mount the host's /usr read-only, with the merged-/usr
# symlinks /lib -> usr/lib and /lib64 -> usr/lib64 in the rootfs, and a copy
# of the ward binary at /bin/ward. The sandbox sees the host's / already.

load ../lib/common
source "$BATS_TEST_DIRNAME/../breakout/lib.bash"

setup() { common_setup; }
teardown() { common_teardown; }

CHECK_ARGS='["/bin/ward","check","--json"]'
CHECK_ENV='["PATH=/bin","ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0"]'
USR_MOUNT='{destination: "/usr", type: "bind", source: "/usr", options: ["rbind","ro","nosuid","nodev"]}'

# ward_in_rootfs ROOTFS: what the dynamic ward binary needs
ward_in_rootfs() {
  mkdir -p "$1/usr"
  ln -sfn usr/lib "$1/lib"
  ln -sfn usr/lib64 "$1/lib64"
  cp "$WARD" "$1/bin/ward"
}

check_bundle() { # DIR [jq filter]
  make_bundle "$1" "$CHECK_ARGS" ".mounts += [$USR_MOUNT] | .process.env = $CHECK_ENV | ${2:-.}"
  ward_in_rootfs "$1/rootfs"
}

# Fields the assertions read, compacted.
summary() {
  jq -c '{userns: .identity.user_namespace, uid_map: (.identity.uid_map | gsub(" +"; " ") | ltrimstr(" ") | rtrimstr("\n")),
    ns: (.namespaces | map_values(.state)), nspid: .pid_namespace.nspid, kthreads: .pid_namespace.kernel_threads_visible,
    eff: .capabilities.effective, bnd: .capabilities.bounding, seccomp: .seccomp.mode, nnp: .no_new_privs,
    userns_create: .user_namespace_creation.allowed, masked: .masked_paths, sensitive: .sensitive_paths,
    sockets: .runtime_sockets, sc: (.syscalls | map_values(.verdict))}' <<<"$1"
}

# q JSON FILTER: one answer
q() { jq -c "$2" <<<"$1"; }

@test "check: inside a hardened ward bundle (user namespace, no caps, NNP, default seccomp)" {
  check_bundle "$TEST_TMP/c1"
  run bash -c "'$WARD' --root '$WARD_ROOT' run --default-seccomp --bundle '$TEST_TMP/c1' chk1 3>&- 2>/dev/null"
  [ "$status" -eq 0 ]
  s=$(summary "$output"); echo "$s"
  [ "$(q "$s" .userns)" = true ]
  [ "$(q "$s" .uid_map)" = "\"0 $(id -u) 1\"" ]
  [ "$(q "$s" '.ns | [.user, .mnt, .pid, .net, .ipc, .uts, .cgroup] | unique')" = '["private"]' ]
  [ "$(q "$s" .nspid)" = '"1"' ]
  [ "$(q "$s" .kthreads)" = false ]
  [ "$(q "$s" .eff)" = '[]' ]
  [ "$(q "$s" .bnd)" = '[]' ]
  [ "$(q "$s" .seccomp)" = 2 ]
  [ "$(q "$s" .nnp)" = true ]
  [ "$(q "$s" .userns_create)" = false ]
  # make_bundle masks kcore, keys, timer_list and /sys/firmware
  [ "$(q "$s" '.masked["/proc/keys"]')" = '"masked"' ]
  [ "$(q "$s" '.masked["/proc/timer_list"]')" = '"masked"' ]
  [ "$(q "$s" '.masked["/sys/firmware"]')" = '"masked"' ]
  [ "$(q "$s" '.sensitive["/proc/sys/kernel/core_pattern"]')" = '"read-only"' ]
  [ "$(q "$s" '.sensitive["/sys"]')" = '"read-only"' ]
  [ "$(q "$s" .sockets)" = '[]' ]
  [ "$(q "$s" '.sc | [.keyctl, .bpf, .mount, .unshare, .setns, .perf_event_open, .io_uring_setup, .reboot,
    .open_by_handle_at, .clock_settime] | unique')" = '["blocked"]' ]
  # ward's profile allows ptrace on kernels >= 4.8, as Docker's does
  [ "$(q "$s" .sc.ptrace)" = '"reachable"' ]
  assert_clean chk1
}

@test "check: inside ward sandbox" {
  run bash -c "'$WARD' --root '$WARD_ROOT' sandbox --name chk2 -- env ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 '$WARD' check --json 3>&- 2>/dev/null"
  [ "$status" -eq 0 ]
  s=$(summary "$output"); echo "$s"
  [ "$(q "$s" .userns)" = true ]
  # root outside maps to nobody inside
  [ "$(q "$s" .uid_map)" = '"0 65534 1"' ]
  [ "$(q "$s" '.ns | [.user, .mnt, .pid, .net, .ipc, .uts, .cgroup] | unique')" = '["private"]' ]
  [ "$(q "$s" .kthreads)" = false ]
  [ "$(q "$s" .eff)" = '[]' ]
  [ "$(q "$s" .seccomp)" = 2 ]
  [ "$(q "$s" .nnp)" = true ]
  [ "$(q "$s" .userns_create)" = false ]
  [ "$(q "$s" '.masked["/proc/keys"]')" = '"masked"' ]
  [ "$(q "$s" '.masked["/sys/firmware"]')" = '"masked"' ]
  [[ "$(q "$s" '.sensitive["/proc/sys/kernel/core_pattern"]')" == @('"read-only"'|'"denied"') ]]
  [ "$(q "$s" '.sensitive["/sys"]')" = '"read-only"' ]
  [ "$(q "$s" .sockets)" = '[]' ]
  [ "$(q "$s" '.sc | [.keyctl, .bpf, .mount, .unshare, .setns, .perf_event_open, .io_uring_setup, .reboot] | unique')" = '["blocked"]' ]
  # with --net host the network namespace is the host's, and check says so
  run bash -c "'$WARD' --root '$WARD_ROOT' sandbox --net host -- env ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 '$WARD' check --json 3>&- 2>/dev/null"
  [ "$(q "$output" .namespaces.net.state)" = '"host"' ]
  [ "$(q "$output" .namespaces.user.state)" = '"private"' ]
}

# crun_check ID [jq filter]: ward check --json inside crun with `crun spec`'s
# config (crun 1.8.1 needs the cgroup2 mount of this hybrid host out of sight)
crun_check() {
  local dir="$TEST_TMP/$1"
  ensure_rootfs
  mkdir -p "$dir"
  cp -a "$ROOTFS_CACHE" "$dir/rootfs"
  ward_in_rootfs "$dir/rootfs"
  (cd "$dir" && crun spec)
  jq --argjson a "$CHECK_ARGS" --argjson e "$CHECK_ENV" ".process.args = \$a | .process.env = \$e | .process.terminal = false | .mounts += [$USR_MOUNT] | ${2:-.}" \
    "$dir/config.json" > "$dir/c.tmp" && mv "$dir/c.tmp" "$dir/config.json"
  bash -c "unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root \"\$1/state\" run -b \"\$1\" \$2' sh '$dir' '$1' 3>&- 2>/dev/null"
}

@test "check: inside crun's default container" {
  command -v crun >/dev/null || skip "crun is not installed"
  run crun_check chk3
  [ "$status" -eq 0 ]
  s=$(summary "$output"); echo "$s"
  # root without a user namespace; crun spec's namespaces: pid net ipc uts mount
  [ "$(q "$s" .userns)" = false ]
  [ "$(q "$s" .ns.user)" = '"host"' ]
  [ "$(q "$s" '.ns | [.mnt, .pid, .net, .ipc, .uts] | unique')" = '["private"]' ]
  [ "$(q "$s" .ns.cgroup)" = '"host"' ]
  [ "$(q "$s" .kthreads)" = false ]
  [ "$(q "$s" .eff)" = '["KILL","NET_BIND_SERVICE","AUDIT_WRITE"]' ]
  # crun spec has no linux.seccomp
  [ "$(q "$s" .seccomp)" = 0 ]
  [ "$(q "$s" .nnp)" = true ]
  [ "$(q "$s" .userns_create)" = true ]
  [ "$(q "$s" '.masked["/proc/keys"]')" = '"masked"' ]
  [ "$(q "$s" '.masked["/sys/firmware"]')" = '"masked"' ]
  [ "$(q "$s" '.sensitive["/proc/sys/kernel/core_pattern"]')" = '"read-only"' ]
  [ "$(q "$s" '.sensitive["/sys"]')" = '"read-only"' ]
  # crun 1.8.1 on cgroup v1: a rw tmpfs holding read-only hierarchies
  [ "$(q "$s" '.sensitive["/sys/fs/cgroup"]')" = '"writable"' ]
  # no filter: what needs no capability is reachable
  [ "$(q "$s" '.sc | [.keyctl, .add_key, .io_uring_setup, .unshare] | unique')" = '["reachable"]' ]
  # no filter, but no CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON,
  # CAP_DAC_READ_SEARCH or CAP_SYS_TIME either: each probe passes the
  # capability check before its bad argument, so the missing capability
  # shows (mount, bpf, setns, perf_event_open, open_by_handle_at and
  # clock_settime used to read "reachable" here)
  [ "$(q "$s" '.sc | [.reboot, .fsopen, .swapon, .syslog, .mount, .bpf, .setns, .perf_event_open,
    .open_by_handle_at, .clock_settime, .pivot_root] | unique')" = '["blocked"]' ]
  [ "$(q "$output" '[.syscalls.mount.errno, .syscalls.bpf.errno, .syscalls.setns.errno, .syscalls.open_by_handle_at.errno] | unique')" = '["EPERM"]' ]
  [ "$(q "$output" .syscalls.perf_event_open.errno)" = '"EACCES"' ]
  # ptrace needs no capability for the process's own children (and this
  # kernel has no Yama): without a filter it is reachable; the battery's
  # ptrace_host is stopped by the pid namespace, not by ptrace
  [ "$(q "$s" .sc.ptrace)" = '"reachable"' ]
}

@test "check: inside crun with podman's default profile (containers-common: ENOSYS by default, EPERM for some)" {
  command -v crun >/dev/null || skip "crun is not installed"
  [ -f /usr/share/containers/seccomp.json ] || skip "containers-common's seccomp.json is not installed"
  "$WARD" seccomp convert /usr/share/containers/seccomp.json --caps CAP_KILL,CAP_NET_BIND_SERVICE,CAP_AUDIT_WRITE > "$TEST_TMP/cc.json"
  [ "$(jq .defaultErrnoRet "$TEST_TMP/cc.json")" = 38 ]
  run crun_check chk5 ".linux.seccomp = $(cat "$TEST_TMP/cc.json")"
  [ "$status" -eq 0 ]
  s=$(summary "$output"); echo "$s"
  [ "$(q "$s" .seccomp)" = 2 ]
  # outside the allow-list: the default action's ENOSYS
  [ "$(q "$output" '[.syscalls.add_key.errno, .syscalls.io_uring_setup.errno] | unique')" = '["ENOSYS"]' ]
  # explicit EPERM rules for what the capabilities do not include, and
  # allowed calls whose capability check then says EPERM (mount, setns,
  # reboot are on the allow-list)
  [ "$(q "$output" '[.syscalls.bpf.errno, .syscalls.perf_event_open.errno, .syscalls.clock_settime.errno,
    .syscalls.open_by_handle_at.errno, .syscalls.mount.errno, .syscalls.setns.errno, .syscalls.reboot.errno] | unique')" = '["EPERM"]' ]
  [ "$(q "$s" '.sc | [.add_key, .io_uring_setup, .bpf, .perf_event_open, .clock_settime, .open_by_handle_at, .mount,
    .setns, .reboot, .fsopen, .swapon] | unique')" = '["blocked"]' ]
  # allowed by the profile and needing no capability
  [ "$(q "$s" '.sc | [.keyctl, .unshare, .ptrace] | unique')" = '["reachable"]' ]
}

@test "check: inside the privileged ward container (the positive control)" {
  bo_fixture_start
  check_bundle "$TEST_TMP/c4" "$(bo_privileged_filter)"
  run bash -c "'$WARD' --root '$WARD_ROOT' run --bundle '$TEST_TMP/c4' chk4 3>&- 2>/dev/null"
  bo_fixture_stop
  [ "$status" -eq 0 ]
  s=$(summary "$output"); echo "$s"
  [ "$(q "$s" .userns)" = false ]
  [ "$(q "$s" '.ns | [.user, .pid, .net, .cgroup] | unique')" = '["host"]' ]
  [ "$(q "$s" '.ns | [.mnt, .ipc, .uts] | unique')" = '["private"]' ]
  [ "$(q "$s" .kthreads)" = true ]
  # every capability this host's root holds
  [ "$(q "$s" '.eff | length')" -eq "$(bo_all_caps | jq length)" ]
  [ "$(q "$s" '.eff | index("SYS_ADMIN") != null')" = true ]
  [ "$(q "$s" .seccomp)" = 0 ]
  [ "$(q "$s" .nnp)" = false ]
  [ "$(q "$s" .userns_create)" = true ]
  [ "$(q "$s" '.masked["/proc/keys"]')" = '"exposed"' ]
  [ "$(q "$s" '.masked["/sys/firmware"]')" = '"exposed"' ]
  [ "$(q "$s" '.sensitive["/proc/sys/kernel/core_pattern"]')" = '"writable"' ]
  [ "$(q "$s" '.sensitive["/sys"]')" = '"writable"' ]
  [ "$(q "$s" '.sockets | length')" -ge 1 ]
  [ "$(q "$s" '.sc | [.keyctl, .bpf, .mount, .setns, .reboot, .perf_event_open, .open_by_handle_at, .unshare,
    .ptrace, .clock_settime, .fsopen, .swapon, .syslog] | unique')" = '["reachable"]' ]
  assert_clean chk4
}

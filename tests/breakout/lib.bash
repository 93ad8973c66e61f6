# The breakout battery's host side (issue 7, section 3): builds the static
# probe, sets up harmless host fixtures for it to find, and runs it under
# each configuration. Sourced by tests/integration/breakout.bats and by
# tests/breakout/run.sh. Needs tests/lib/bundle.sh (make_bundle) and WARD,
# WARD_ROOT, TEST_TMP.
#
# Fixtures (all owned by the test, removed by bo_fixture_stop):
#   a host process whose argv[0] is ward-bo-$BO_TOKEN (sleep)   -> BO_MARKER_PID
#   a host file $BO_HOST_DIR/marker containing $BO_TOKEN
#   a listener on 127.0.0.1:$BO_PORT, on the abstract unix socket
#   @ward-bo-$BO_TOKEN and on the unix socket $BO_HOST_DIR/docker.sock
#   (a stand-in for a runtime socket; it accepts and closes)
#   BO_DISK: maj:min of the host's root file system device

BO_SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# bo_build OUT: the static probe
bo_build() {
  local out=$1
  if [ ! -x "$out" ] || [ "$BO_SRC_DIR/escape.c" -nt "$out" ]; then
    gcc -static -O2 -Wall -o "$out.tmp" "$BO_SRC_DIR/escape.c" 2>/dev/null && mv "$out.tmp" "$out"
  fi
  [ -x "$out" ]
}

bo_fixture_start() {
  BO_TOKEN="$$$RANDOM$RANDOM"
  # /var/tmp: the sandbox has a private /tmp but sees the host's /var/tmp
  BO_HOST_DIR=$(mktemp -d /var/tmp/ward-bo.XXXXXX)
  chmod 755 "$BO_HOST_DIR"
  BO_BIN="$BO_HOST_DIR/escape"
  bo_build "${BO_CACHE:-/tmp/ward-bo-escape}" || return 1
  cp "${BO_CACHE:-/tmp/ward-bo-escape}" "$BO_BIN"
  chmod 755 "$BO_BIN"
  echo "$BO_TOKEN" > "$BO_HOST_DIR/marker"
  bash -c "exec -a ward-bo-$BO_TOKEN sleep 600" </dev/null >/dev/null 2>&1 3>&- &
  BO_MARKER_PID=$!
  /usr/bin/python3 - "$BO_TOKEN" "$BO_HOST_DIR" </dev/null >/dev/null 2>&1 3>&- <<'EOF' &
import os, select, socket, sys
token, d = sys.argv[1], sys.argv[2]
tcp = socket.socket(); tcp.bind(("127.0.0.1", 0)); tcp.listen(16)
ab = socket.socket(socket.AF_UNIX); ab.bind("\0ward-bo-" + token); ab.listen(16)
fs = socket.socket(socket.AF_UNIX); fs.bind(d + "/docker.sock"); fs.listen(16)
os.chmod(d + "/docker.sock", 0o666)
with open(d + "/port.tmp", "w") as f: f.write(str(tcp.getsockname()[1]))
os.rename(d + "/port.tmp", d + "/port")
while True:
    for s in select.select([tcp, ab, fs], [], [])[0]:
        c, _ = s.accept(); c.close()
EOF
  BO_LISTENER_PID=$!
  local i
  for i in $(seq 100); do [ -s "$BO_HOST_DIR/port" ] && break; sleep 0.05; done
  BO_PORT=$(cat "$BO_HOST_DIR/port")
  BO_DISK=$(mountpoint -d /)
  # what the host's own root gets opening that disk (some VMs refuse it)
  BO_DISK_HOST=$(/usr/bin/python3 -c 'import os, errno, stat, sys
maj, mn = map(int, sys.argv[1].split(":"))
for n in sorted(os.listdir("/dev")):
    st = os.stat("/dev/" + n)
    if stat.S_ISBLK(st.st_mode) and os.major(st.st_rdev) == maj and os.minor(st.st_rdev) == mn:
        try: os.close(os.open("/dev/" + n, os.O_RDONLY)); print("ok")
        except OSError as e: print(errno.errorcode.get(e.errno, "E?"))
        break
else: print("ok")' "$BO_DISK")
  for i in $(seq 100); do grep -q "ward-bo-$BO_TOKEN" /proc/$BO_MARKER_PID/cmdline 2>/dev/null && break; sleep 0.02; done
  export BO_TOKEN BO_HOST_DIR BO_BIN BO_MARKER_PID BO_LISTENER_PID BO_PORT BO_DISK BO_DISK_HOST
  bo_set_args
  [ -n "$BO_PORT" ]
}

# BO_ARGS (an array, so not exported) from the exported fixture variables.
bo_set_args() {
  BO_ARGS=(--marker "$BO_TOKEN" --marker-file "$BO_HOST_DIR/marker" --host-pid "$BO_MARKER_PID" --disk "$BO_DISK" --port "$BO_PORT")
  [ "$BO_DISK_HOST" = ok ] || BO_ARGS+=(--disk-host-errno "$BO_DISK_HOST")
}

bo_fixture_stop() {
  [ -z "${BO_MARKER_PID:-}" ] || kill "$BO_MARKER_PID" 2>/dev/null || true
  [ -z "${BO_LISTENER_PID:-}" ] || kill "$BO_LISTENER_PID" 2>/dev/null || true
  wait "${BO_MARKER_PID:-}" "${BO_LISTENER_PID:-}" 2>/dev/null || true
  [ -z "${BO_HOST_DIR:-}" ] || rm -rf "$BO_HOST_DIR"
}

# The args array as a JSON list, for a bundle's process.args.
bo_args_json() {
  printf '%s\n' /bin/escape "${BO_ARGS[@]}" | jq -R . | jq -cs .
}

# bo_bundle DIR [jq filter]: make_bundle's hardened bundle with the probe.
bo_bundle() {
  make_bundle "$1" "$(bo_args_json)" "${2:-.}"
  cp "$BO_BIN" "$1/rootfs/bin/escape"
}

# Every fd above stdio is closed for the runtime (bats keeps fd 3 open).
bo_ward_run() { "$WARD" --root "$WARD_ROOT" run "$@" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; }

bo_run_bundle() { # ID [jq filter] [ward run options...]
  local id=$1 filter=${2:-.}
  bo_bundle "$TEST_TMP/$id" "$filter"
  bo_ward_run "${@:3}" --bundle "$TEST_TMP/$id" "$id"
}

bo_run_sandbox() { # [sandbox options...]
  "$WARD" --root "$WARD_ROOT" sandbox "$@" -- "$BO_BIN" "${BO_ARGS[@]}" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
}

# The positive control: everything a careless "privileged" container gets.
# No user namespace (root is host root), every capability, no seccomp, no
# no_new_privs, no masked or read-only paths, /sys and /proc writable, the
# host's pid, network and cgroup namespaces, the host's root disk, /dev/mem
# and /dev/kmsg as device nodes, a runtime socket bind-mounted in, a host
# directory fd leaked in (--preserve-fds), and a device cgroup that allows
# every device.
# /dev is the runtime's tmpfs, not a bind of the host's /dev: without a
# user namespace ward replaces its default device nodes in the /dev it is
# given (unlink + mknod), which on a bind would act on the host's /dev.
# Every capability this (root) process may hand on: the names of the bits of
# its own bounding set (a VM's root can lack some, e.g. CAP_SYS_RESOURCE).
BO_CAP_NAMES=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
  NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE
  SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL
  SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE)
bo_all_caps() {
  local bnd i out=()
  bnd=$((16#$(awk '/^CapBnd:/ {print $2}' /proc/self/status)))
  for i in "${!BO_CAP_NAMES[@]}"; do
    (( (bnd >> i) & 1 )) && out+=("CAP_${BO_CAP_NAMES[$i]}")
  done
  printf '%s\n' "${out[@]}" | jq -R . | jq -cs .
}

bo_privileged_filter() {
  local maj=${BO_DISK%:*} min=${BO_DISK#*:} caps
  caps=$(bo_all_caps)
  cat <<EOF
del(.linux.uidMappings, .linux.gidMappings)
| .linux.namespaces = [{type: "mount"}, {type: "ipc"}, {type: "uts"}]
| .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps, inheritable: $caps, ambient: $caps}
| .process.noNewPrivileges = false
| .linux.maskedPaths = [] | .linux.readonlyPaths = []
| .mounts |= map(if .destination == "/sys" then .options = ["nosuid","noexec","nodev"] else . end)
| .mounts += [{destination: "/run/docker.sock", type: "bind", source: "$BO_HOST_DIR/docker.sock", options: ["rbind"]}]
| .linux.devices = [{path: "/dev/hostdisk", type: "b", major: $maj, minor: $min, fileMode: 384},
                    {path: "/dev/mem", type: "c", major: 1, minor: 1, fileMode: 384},
                    {path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 420}]
| .linux.resources = {devices: [{allow: true, access: "rwm"}]}
EOF
}

bo_run_privileged() { # ID
  local id=$1
  bo_bundle "$TEST_TMP/$id" "$(bo_privileged_filter)"
  # fd 3: a host directory, passed on as a leaked fd
  "$WARD" --root "$WARD_ROOT" run --preserve-fds 1 --bundle "$TEST_TMP/$id" "$id" 3<"$BO_HOST_DIR" 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
}

# The config `ward spec` writes (root without a user namespace, Docker's 14
# capabilities, no_new_privs, read-only root, the annotation asking for
# ward's default seccomp profile); BO_SPEC_FILTER: a jq filter applied to it.
bo_run_spec() { # ID [ward run options...]
  local id=$1 dir="$TEST_TMP/$1"
  ensure_rootfs
  mkdir -p "$dir"
  cp -a "$ROOTFS_CACHE" "$dir/rootfs"
  cp "$BO_BIN" "$dir/rootfs/bin/escape"
  (cd "$dir" && "$WARD" spec)
  jq --argjson args "$(bo_args_json)" '.process.args = $args | .process.terminal = false' "$dir/config.json" \
    | jq "${BO_SPEC_FILTER:-.}" > "$dir/config.tmp"
  mv "$dir/config.tmp" "$dir/config.json"
  bo_ward_run "${@:2}" --bundle "$dir" "$id"
}

# crun with the config `crun spec` generates (root: no user namespace),
# with process.args and the rootfs path adapted. crun 1.8.1 refuses this
# hybrid host unless cgroup2 at /sys/fs/cgroup/unified is out of sight, so
# it runs in a private mount namespace without it.
bo_run_crun() { # ID [jq filter]
  local id=$1 filter=${2:-.} dir="$TEST_TMP/$1"
  ensure_rootfs
  mkdir -p "$dir"
  cp -a "$ROOTFS_CACHE" "$dir/rootfs"
  cp "$BO_BIN" "$dir/rootfs/bin/escape"
  (cd "$dir" && crun spec)
  jq --argjson args "$(bo_args_json)" '.process.args = $args | .process.terminal = false' "$dir/config.json" | jq "$filter" > "$dir/config.tmp"
  mv "$dir/config.tmp" "$dir/config.json"
  unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root "$1/crun-state" run -b "$1" "$2"' sh "$dir" "$id" \
    3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
}

# The names of the techniques exposed in battery output $1, sorted, one a line.
bo_exposed() { printf '%s\n' "$1" | grep '^{' | jq -r 'select(.exposed) | .technique' | sort; }
bo_blocked() { printf '%s\n' "$1" | grep '^{' | jq -r 'select(.exposed | not) | .technique' | sort; }
bo_count() { printf '%s\n' "$1" | grep -c '^{"technique"'; }
# A readable table row per technique, for test logs.
bo_show() { printf '%s\n' "$1" | grep '^{' | jq -r '"\(if .exposed then "EXPOSED" elif .available == false then "n/a" else "blocked" end)\t\(.technique)\t\(.detail)"'; }

# Techniques a seccomp filter alone stops: reachable by an unprivileged
# process in any namespace, with no capability (their availability depends
# on host sysctls).
bo_seccomp_only() {
  local t=(add_key keyctl personality)
  [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ] && t+=(io_uring)
  [ "$(cat /proc/sys/user/max_user_namespaces)" -gt 0 ] && t+=(unshare_userns_mount)
  printf '%s\n' "${t[@]}" | sort
}

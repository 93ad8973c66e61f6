# Sourced by the integration tests: build bundles from the busybox rootfs.
# WARD, WARD_ROOT and TEST_TMP are set by tests/run.sh or the bats setup.

: "${WARD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/src/cli/ward}"
ROOTFS_CACHE="${ROOTFS_CACHE:-/tmp/ward-test-rootfs}"

ensure_rootfs() {
  if [ ! -x "$ROOTFS_CACHE/bin/busybox" ]; then
    rm -rf "$ROOTFS_CACHE.tmp"
    sh "$(dirname "${BASH_SOURCE[0]}")/mkrootfs.sh" "$ROOTFS_CACHE.tmp"
    mv "$ROOTFS_CACHE.tmp" "$ROOTFS_CACHE" 2>/dev/null || rm -rf "$ROOTFS_CACHE.tmp"
  fi
}

# make_bundle DIR ARGS_JSON [extra jq filter]: a hardened default bundle
# (user, mount, pid, ipc, uts, net namespaces; no caps; NNP).
make_bundle() {
  local dir=$1 args=$2 filter=${3:-.}
  ensure_rootfs
  mkdir -p "$dir"
  cp -a "$ROOTFS_CACHE" "$dir/rootfs"
  local uid gid
  uid=$(id -u); gid=$(id -g)
  local hostid=$uid hostgid=$gid
  jq -n --argjson args "$args" --argjson uid "$hostid" --argjson gid "$hostgid" '{
    ociVersion: "1.0.2",
    process: { terminal: false, user: {uid: 0, gid: 0}, args: $args,
      env: ["PATH=/bin:/usr/bin", "HOME=/root"], cwd: "/",
      capabilities: {bounding: [], effective: [], permitted: [], inheritable: [], ambient: []},
      noNewPrivileges: true },
    root: { path: "rootfs", readonly: false },
    hostname: "ward-test",
    mounts: [
      {destination: "/proc", type: "proc", source: "proc", options: ["nosuid","noexec","nodev"]},
      {destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid","strictatime","mode=755","size=65536k"]},
      {destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},
      {destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid","noexec","nodev","mode=1777","size=65536k"]},
      {destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid","nodev","mode=1777"]},
      {destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid","noexec","nodev","ro"]}
    ],
    linux: {
      namespaces: [{type: "user"}, {type: "mount"}, {type: "pid"}, {type: "ipc"}, {type: "uts"}, {type: "network"}, {type: "cgroup"}],
      uidMappings: [{containerID: 0, hostID: $uid, size: 1}],
      gidMappings: [{containerID: 0, hostID: $gid, size: 1}],
      maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
      readonlyPaths: ["/proc/sys", "/proc/sysrq-trigger", "/proc/bus", "/proc/fs", "/proc/irq"]
    }
  }' | jq "$filter" > "$dir/config.json"
}

# Asserts that nothing of container ID is left behind.
assert_clean() {
  local id=$1
  [ ! -e "$WARD_ROOT/$id" ] || { echo "state directory $WARD_ROOT/$id left behind" >&2; return 1; }
  local c
  for c in /sys/fs/cgroup/*/ward/"$id" /sys/fs/cgroup/ward/"$id"; do
    [ ! -d "$c" ] || { echo "cgroup $c left behind" >&2; return 1; }
  done
  if grep -q "$id" /proc/self/mountinfo; then echo "mount of $id left behind" >&2; return 1; fi
  return 0
}

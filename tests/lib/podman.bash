# podman configured entirely under a temporary directory, for the OCI-client
# tests and the benchmark. No systemd here: cgroupfs, file events, no network.
#   podman_setup DIR    sets PODMAN_DIR and defines `pm` (podman with the
#                       config) and `pm_ward` (the same with --runtime $WARD)
#   podman_image NAME   imports the busybox rootfs as localhost/NAME
#   podman_teardown

podman_setup() {
  PODMAN_DIR=$1
  mkdir -p "$PODMAN_DIR"/{root,runroot,tmp,config}
  # root lacks CAP_SYS_RESOURCE in this VM: limits above the hard limits
  # (podman's default nofile is 1048576) would make every create fail.
  local nofile nproc
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  [ "$nofile" = unlimited ] && nofile=1048576
  [ "$nproc" = unlimited ] && nproc=4194304
  # podman lowers its own (and so conmon's) nproc hard limit to 32768
  [ "$nproc" -gt 32768 ] && nproc=32768
  cat > "$PODMAN_DIR/config/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$PODMAN_DIR/root"
runroot = "$PODMAN_DIR/runroot"
CONF
  cat > "$PODMAN_DIR/config/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PODMAN_DIR/events.log"
tmp_dir = "$PODMAN_DIR/tmp"
static_dir = "$PODMAN_DIR/root/libpod"
volume_path = "$PODMAN_DIR/root/volumes"
[engine.runtimes]
ward = ["$WARD"]
CONF
  export CONTAINERS_STORAGE_CONF="$PODMAN_DIR/config/storage.conf"
  export CONTAINERS_CONF="$PODMAN_DIR/config/containers.conf"
}

pm() {
  podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/runroot" --tmpdir "$PODMAN_DIR/tmp" \
    --cgroup-manager cgroupfs --events-backend file "$@"
}

pm_ward() { pm --runtime "$WARD" "$@"; }

# A local image from the busybox rootfs, no registry involved.
podman_image() {
  local name=$1
  ensure_rootfs
  pm image exists "localhost/$name" 2>/dev/null && return 0
  tar -C "$ROOTFS_CACHE" -cf "$PODMAN_DIR/rootfs.tar" .
  pm import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin:/usr/bin' "$PODMAN_DIR/rootfs.tar" "localhost/$name" >/dev/null
}

podman_teardown() {
  [ -n "${PODMAN_DIR:-}" ] || return 0
  pm rm -af -t 0 >/dev/null 2>&1 || true
  # overlay mounts of the temporary storage, then the storage itself
  pm system reset -f >/dev/null 2>&1 || true
  grep -o " $PODMAN_DIR[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$PODMAN_DIR"
}

# A private containerd for the OCI-client tests and the benchmark: its own
# config, root, state and sockets under a temporary directory, no CRI.
#   containerd_setup DIR   starts it (CTRD_DIR, CTRD_PID) and defines `ct`
#   containerd_image NAME  imports localhost/NAME from podman (podman.bash)
#   containerd_teardown    stops it by its pid and removes what it left

containerd_setup() {
  CTRD_DIR=$1
  mkdir -p "$CTRD_DIR"/{root,state}
  cat > "$CTRD_DIR/config.toml" <<CONF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_DIR/containerd.sock"
[ttrpc]
  address = "$CTRD_DIR/containerd.sock.ttrpc"
[debug]
  address = "$CTRD_DIR/debug.sock"
[metrics]
  address = ""
CONF
  containerd --config "$CTRD_DIR/config.toml" > "$CTRD_DIR/containerd.log" 2>&1 &
  CTRD_PID=$!
  local i
  for i in $(seq 100); do
    [ -S "$CTRD_DIR/containerd.sock" ] && ctr --address "$CTRD_DIR/containerd.sock" version >/dev/null 2>&1 && return 0
    kill -0 "$CTRD_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "containerd did not come up:" >&2
  cat "$CTRD_DIR/containerd.log" >&2
  return 1
}

ct() { ctr --address "$CTRD_DIR/containerd.sock" --namespace ward "$@"; }

# The image goes podman -> archive -> containerd: no registry involved.
containerd_image() {
  local name=$1
  ct image ls -q | grep -qx "localhost/$name:latest" && return 0
  [ -f "$CTRD_DIR/$name.tar" ] || pm save -o "$CTRD_DIR/$name.tar" "localhost/$name" >/dev/null
  ct image import --all-platforms "$CTRD_DIR/$name.tar" >/dev/null
}

containerd_teardown() {
  [ -n "${CTRD_DIR:-}" ] || return 0
  local t
  for t in $(ct task ls -q 2>/dev/null); do ct task kill -s KILL "$t" >/dev/null 2>&1; ct task delete -f "$t" >/dev/null 2>&1; done
  for t in $(ct container ls -q 2>/dev/null); do ct container delete "$t" >/dev/null 2>&1; done
  if [ -n "${CTRD_PID:-}" ]; then
    kill "$CTRD_PID" 2>/dev/null
    local i
    for i in $(seq 50); do kill -0 "$CTRD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$CTRD_PID" 2>/dev/null
    wait "$CTRD_PID" 2>/dev/null
  fi
  grep -o " $CTRD_DIR[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$CTRD_DIR"
}

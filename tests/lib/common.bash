# Shared set-up for the bats integration tests.
source "$(dirname "${BASH_SOURCE[0]}")/bundle.sh"

common_setup() {
  TEST_TMP=$(mktemp -d /tmp/ward-it.XXXXXX)
  chmod 755 "$TEST_TMP"
  export WARD_ROOT="$TEST_TMP/state"
}

common_teardown() {
  if [ -d "$WARD_ROOT" ]; then
    for id in $(ls "$WARD_ROOT" 2>/dev/null); do "$WARD" --root "$WARD_ROOT" delete --force "$id" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$TEST_TMP"
  # a rootless test's copy of ward and state (rootless_setup), whatever the
  # test did or where it failed: each left 13 MB in /tmp otherwise
  if [ -n "${RL_TMP:-}" ] && [ -d "$RL_TMP" ]; then
    for id in $(ls "$RL_ROOT" 2>/dev/null); do rootless "$RL_WARD" delete --force "$id" >/dev/null 2>&1 || true; done
    rm -rf "$RL_TMP"
  fi
}

# A container's memory directory (src/common/rundir.h): STATE_DIR/run if it
# exists, else the directory in /run or /dev/shm whose "state" link leads
# back to the state directory, else STATE_DIR/run (which does not exist).
run_dir() {
  local sd="${2:-$WARD_ROOT}/$1" d
  if [ -e "$sd/run" ]; then echo "$sd/run"; return; fi
  for d in /run/ward-run-"$(id -u)"/* /dev/shm/ward-run-"$(id -u)"/*; do
    if [ -L "$d/state" ] && [ "$d/state" -ef "$sd" ]; then echo "$d"; return; fi
  done
  echo "$sd/run"
}

# An unprivileged user with a copy of ward it can execute.
rootless_setup() {
  id wardtest >/dev/null 2>&1 || useradd -M -s /bin/sh wardtest
  RL_TMP=$(mktemp -d /tmp/ward-rl.XXXXXX)
  chown wardtest: "$RL_TMP"
  RL_WARD="$RL_TMP/ward"
  cp "$WARD" "$RL_WARD"
  chmod 755 "$RL_WARD"
  # ward looks for its probe libraries beside itself
  local lib
  for lib in "$(dirname "$WARD")"/../probe/libward-probe*.so; do
    [ -e "$lib" ] && cp "$lib" "$RL_TMP/" && chmod 644 "$RL_TMP/$(basename "$lib")"
  done
  RL_ROOT="$RL_TMP/state"
}

rootless() {
  setpriv --reuid wardtest --regid wardtest --clear-groups env -u XDG_RUNTIME_DIR HOME="$RL_TMP" \
    "$1" --root "$RL_ROOT" "${@:2}"
}

rl_bundle() {
  local dir=$1
  make_bundle "$dir" "$2"
  local uid gid
  uid=$(id -u wardtest); gid=$(id -g wardtest)
  jq --argjson u "$uid" --argjson g "$gid" '.linux.uidMappings[0].hostID = $u | .linux.gidMappings[0].hostID = $g' \
    "$dir/config.json" > "$dir/config.tmp" && mv "$dir/config.tmp" "$dir/config.json"
  chown -R wardtest: "$dir"
}

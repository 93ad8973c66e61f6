#!/usr/bin/env bash
# Installs what ward needs to build and test, from Debian 12 packages only.
set -euo pipefail
pkgs=(gcc meson ninja-build pkg-config python3 libseccomp-dev libjansson-dev libyaml-dev libcap-dev nettle-dev
      musl-tools busybox-static bats jq uidmap util-linux strace crun bubblewrap hyperfine golang-github-containers-common
      podman containerd runc libarchive-dev criu clang)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi

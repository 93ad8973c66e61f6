#!/usr/bin/env bash
# Installs what is missing, builds ward, and runs its main job: a host
# command in a hardened sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
ward=build/src/cli/ward
echo '$ ward sandbox -- sh -c "id; grep -E ^(CapEff|NoNewPrivs|Seccomp): /proc/self/status; touch /etc/x; ls /sys/class/net"'
"$ward" sandbox -- sh -c 'id; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; touch /etc/x; ls /sys/class/net' || true
echo
echo '$ ward audit tests/data/audit/k8s/bad.yaml  (what a config would let a container do)'
f=tests/data/audit/k8s/bad.yaml
[ -n "$f" ] && "$ward" audit --fail-on never "$f" | head -20 || true

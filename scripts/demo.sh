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
echo
tpl=$(mktemp -d /tmp/ward-demo.XXXXXX)/app.json
echo '$ ward sandbox --mode learn --template app.json -- sh -c "cat /etc/hostname; ls / >/dev/null"'
"$ward" sandbox --mode learn --template "$tpl" -- sh -c 'cat /etc/hostname; ls / >/dev/null' 2>/dev/null || true
echo '$ ward template show app.json   (what it learned)'
"$ward" template show "$tpl" | head -8
echo '$ ward sandbox --mode protect --template app.json -- sh -c "cat /etc/hostname; id"   (id was never learned: denied, alerted)'
"$ward" sandbox --mode protect --template "$tpl" --alerts stdout -- sh -c 'cat /etc/hostname; id' 2>&1 |
  grep -v '^ward: engine' | while IFS= read -r line; do
    case $line in
      '{'*) printf '%s\n' "$line" | jq -c '{alert: .rule, severity, detail, denied}' ;;
      *) printf '%s\n' "$line" ;;
    esac
  done | head -6 || true
rm -rf "$(dirname "$tpl")"

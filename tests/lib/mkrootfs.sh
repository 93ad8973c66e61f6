#!/bin/sh
# Builds a minimal busybox-static root file system for test bundles:
#   tests/lib/mkrootfs.sh DIR
set -eu
dir=$1
busybox=$(command -v busybox || echo /bin/busybox)
[ -x "$busybox" ] || { echo "mkrootfs: busybox-static is not installed" >&2; exit 1; }
mkdir -p "$dir/bin" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp" "$dir/etc" "$dir/root" "$dir/run"
cp "$busybox" "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
  [ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
done
chmod 1777 "$dir/tmp"
echo "root:x:0:0:root:/root:/bin/sh" > "$dir/etc/passwd"
echo "root:x:0:" > "$dir/etc/group"

#!/bin/sh
# The glibc root file system of tests/lib/glibc_rootfs.sh plus bash (for
# /dev/tcp) and the coreutils the template workload uses.
#   tests/lib/template_rootfs.sh DIR
set -eu
dir=$1
sh "$(dirname "$0")/glibc_rootfs.sh" "$dir"
for prog in /bin/bash /bin/mkdir /bin/rm /bin/mktemp /bin/touch; do
  cp "$prog" "$dir/bin/"
  ldd "$prog" | awk '/=>/ {print $3} /ld-linux/ {print $1}' | while read -r lib; do
    [ -f "$lib" ] || continue
    mkdir -p "$dir$(dirname "$lib")"
    cp -n "$lib" "$dir$lib"
  done
done
mkdir -p "$dir/data/out" "$dir/root"
echo ward-template > "$dir/etc/hostname"

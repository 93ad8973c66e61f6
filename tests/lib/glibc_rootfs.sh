#!/bin/sh
# A minimal dynamically linked (glibc) root file system: the host's dash,
# cat and sleep with the libraries they need, for tests of the preload.
#   tests/lib/glibc_rootfs.sh DIR
set -eu
dir=$1
mkdir -p "$dir/bin" "$dir/etc" "$dir/proc" "$dir/dev" "$dir/tmp" "$dir/sys"
for prog in /bin/dash /bin/cat /bin/sleep /bin/ls /usr/bin/id; do
  cp "$prog" "$dir/bin/"
  ldd "$prog" | awk '/=>/ {print $3} /ld-linux/ {print $1}' | while read -r lib; do
    [ -f "$lib" ] || continue
    mkdir -p "$dir$(dirname "$lib")"
    cp -n "$lib" "$dir$lib"
  done
done
ln -sf dash "$dir/bin/sh"
# glibc looks for the loader where the ELF interpreter says
[ -e "$dir/lib64/ld-linux-x86-64.so.2" ] || { mkdir -p "$dir/lib64"; cp /lib64/ld-linux-x86-64.so.2 "$dir/lib64/"; }

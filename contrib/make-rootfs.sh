#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds a minimal root filesystem from the host's static busybox (Debian busybox-static):
# every applet linked, /etc/passwd and /etc/group, nothing fetched from anywhere.
#   contrib/make-rootfs.sh DIR
set -euo pipefail
dir=${1:?usage: make-rootfs.sh DIR}
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "make-rootfs: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
# ldd fails on a static binary; a dynamic busybox would not run inside the container.
if ldd "$busybox" >/dev/null 2>&1; then
        echo "make-rootfs: $busybox is not static (apt-get install busybox-static)" >&2
        exit 1
fi
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var/www,run}
chmod 1777 "$dir/tmp"
install -m 0755 "$busybox" "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
        [ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
done
cat > "$dir/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$dir/etc/group" <<'GR'
root:x:0:
daemon:x:1:
www-data:x:33:
nogroup:x:65534:
GR
echo "hello from supd" > "$dir/var/www/index.html"

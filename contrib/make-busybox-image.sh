#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Makes the default image busybox:latest from the host's static busybox (Debian busybox-static),
# with every applet linked and /etc/passwd and /etc/group: no registry involved.
#   contrib/make-busybox-image.sh FILE.tar        writes a plain rootfs tarball
#   supctl image import FILE.tar busybox:latest   puts it into supd's store
# With --import, it also runs the supctl import (pass supctl options such as --root after it).
set -euo pipefail
out=${1:?usage: make-busybox-image.sh FILE.tar [--import [SUPCTL-OPTIONS...]]}
shift
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/make-rootfs.sh" "$tmp/rootfs"
# Reproducible: the same busybox gives the same tarball, so importing it again stores nothing new.
mtime=$(stat -c %Y "$(command -v busybox)")
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime="@$mtime" -C "$tmp/rootfs" -cf "$out" .
touch -d "@$mtime" "$out"
if [ "${1:-}" = --import ]; then
        shift
        supctl "$@" image import "$out" busybox:latest
fi

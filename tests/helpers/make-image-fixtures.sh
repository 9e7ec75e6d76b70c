#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the image fixtures the image tests import, offline, with real tools (umoci, skopeo, tar,
# gzip, xz, zstd) from the busybox rootfs of contrib/make-rootfs.sh:
#   rootfs.tar{,.gz,.xz,.zst}  plain root filesystem tarballs (the .zst one is named .tar: magic bytes decide)
#   oci/                       OCI layout "busybox:test": rootfs layer, a layer whose whiteout deletes
#                              /bin/cat, and a layer that makes /var/www opaque with a new index.html
#   oci-archive.tar            tar of oci/ (as `tar -C oci -cf`), docker-archive.tar (skopeo),
#   skopeo-oci-archive.tar     (skopeo oci-archive), oci-zstd/ (skopeo, zstd layers)
#   tests/helpers/make-image-fixtures.sh DIR
set -euo pipefail
dir=${1:?usage: make-image-fixtures.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
for tool in umoci skopeo zstd xz gzip tar; do
        command -v "$tool" >/dev/null || { echo "make-image-fixtures: $tool is missing (contrib/install-deps.sh)" >&2; exit 1; }
done
mkdir -p "$dir"
cd "$dir"
rm -rf rootfs oci oci-zstd opaque
"$here/../../contrib/make-rootfs.sh" rootfs >/dev/null
mkdir -p rootfs/var/www/old && echo old > rootfs/var/www/old/file
tar --numeric-owner -C rootfs -cf rootfs.tar .
gzip -c rootfs.tar > rootfs.tar.gz
xz -T0 -c rootfs.tar > rootfs.tar.xz
zstd -q -c rootfs.tar > rootfs.tar.zst
cp rootfs.tar.zst rootfs-zstd-misnamed.tar

# umoci needs no root and no storage; each insert is one layer.
umoci init --layout oci
umoci new --image oci:test
umoci insert --image oci:test rootfs /
umoci insert --image oci:test --whiteout /bin/cat
mkdir -p opaque && echo "new page" > opaque/index.html
umoci insert --image oci:test --opaque opaque /var/www
umoci config --image oci:test --config.cmd /bin/sh --config.env PATH=/bin:/usr/bin --config.workingdir /var/www \
        --config.label org.example.fixture=yes --config.exposedports 80/tcp
umoci gc --layout oci
tar -C oci -cf oci-archive.tar .
# skopeo wants a policy; give it its own, never the host's.
cat > policy.json <<'POL'
{"default": [{"type": "insecureAcceptAnything"}]}
POL
skopeo --policy policy.json copy -q oci:oci:test docker-archive:docker-archive.tar:busybox:test
skopeo --policy policy.json copy -q oci:oci:test oci-archive:skopeo-oci-archive.tar:test
skopeo --policy policy.json copy -q --dest-compress --dest-compress-format zstd oci:oci:test oci:oci-zstd:test

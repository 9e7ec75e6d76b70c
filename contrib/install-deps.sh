#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs every Debian 12 package that building, the demo and the tests need. Idempotent.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "install-deps.sh: run as root" >&2; exit 1; }
packages=(
        # build
        meson ninja-build pkg-config gcc clang libc6-dev
        libsystemd-dev libinih-dev libnl-3-dev libnl-route-3-dev libarchive-dev libseccomp-dev libnftables-dev
        libcurl4-openssl-dev libssl-dev libjson-c-dev
        scdoc
        # tests and demo
        libcmocka-dev bats jq busybox-static iproute2 util-linux procps python3 systemd
        umoci skopeo docker-registry zstd xz-utils
)
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "install-deps.sh: installing ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

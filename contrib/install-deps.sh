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
        python3-yaml python3-kubernetes
        umoci skopeo docker-registry zstd xz-utils
)
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "install-deps.sh: installing ${missing[*]}" >&2
        apt-get update -qq
        # The tests run their own docker-registry on 127.0.0.1. Debian's package would start its
        # service listening on every interface: keep package scripts from starting any service
        # during this install (policy-rc.d, exit 101), and leave that one disabled.
        policy_rc=
        if [ ! -e /usr/sbin/policy-rc.d ]; then
                printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
                chmod 755 /usr/sbin/policy-rc.d
                policy_rc=/usr/sbin/policy-rc.d
        fi
        rc=0
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
        [ -z "$policy_rc" ] || rm -f "$policy_rc"
        [ "$rc" -eq 0 ] || exit "$rc"
        if [[ " ${missing[*]} " == *" docker-registry "* ]] && [ -d /run/systemd/system ]; then
                systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
        fi
fi

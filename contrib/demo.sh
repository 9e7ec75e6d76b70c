#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job: builds supd, makes the default image busybox:latest from the host's static
# busybox, and runs supd on units/examples/ in a network namespace of its own (so the demo's web
# server cannot clash with the host's ports), then shows "supctl status". supd keeps running; the
# script says how to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash contrib/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

root=${SUPD_DEMO_ROOT:-/var/tmp/supd-demo}
netns=supd-demo
supd=$PWD/build/supervisor/supd
supctl="$PWD/build/supervisor/supctl --root $root"

if [ -f "$root/supd.pid" ] && kill -0 "$(cat "$root/supd.pid")" 2>/dev/null; then
        echo "demo: stopping the previous demo supd"
        kill -TERM "$(cat "$root/supd.pid")"
        for _ in $(seq 200); do kill -0 "$(cat "$root/supd.pid")" 2>/dev/null || break; sleep 0.1; done
fi
mkdir -p "$root/etc/supd/units"
rm -f "$root"/etc/supd/units/*.container
# A cgroup subtree of its own: a supd installed on this host (Parent=supd) may be running.
[ -f "$root/etc/supd/supd.conf" ] || printf '[Cgroup]\nParent=supd-demo\n' >"$root/etc/supd/supd.conf"
ip netns add "$netns" 2>/dev/null || true
ip netns exec "$netns" ip link set lo up

# nsenter, not "ip netns exec": that remounts /sys and would hide /sys/fs/cgroup from supd.
nsenter --net="/run/netns/$netns" "$supd" --root "$root" >"$root/supd.log" 2>&1 &
echo $! > "$root/supd.pid"
for _ in $(seq 100); do $supctl list >/dev/null 2>&1 && break; sleep 0.1; done

# The default image, made from the host's static busybox: no registry involved.
contrib/make-busybox-image.sh "$root/busybox.tar"
$supctl image import "$root/busybox.tar" busybox:latest
cp units/examples/*.container "$root/etc/supd/units/"
$supctl reload
sleep 0.5

$supctl status || true
echo
echo "web answers inside the demo namespace:"
ip netns exec "$netns" busybox wget -qO- http://127.0.0.1:8080/ || true
echo
echo "supd runs as PID $(cat "$root/supd.pid"), log in $root/supd.log. Try:"
echo "  $supctl list"
echo "Stop it with: kill $(cat "$root/supd.pid")"

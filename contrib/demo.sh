#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job: builds supd, makes the default image busybox:latest from the host's static
# busybox, and runs supd on units/examples/ in a network namespace of its own (so the demo's web
# server cannot clash with the host's ports), then shows "supctl status". supd keeps running; the
# script ends with the commands to look around and the one that stops it all.
#   contrib/demo.sh         start (again: the previous demo's supd is stopped first)
#   contrib/demo.sh stop    stop the demo's supd (by the PID it recorded), wait for it, then remove
#                           its network namespace and the demo root
# SUPD_DEMO_ROOT (default /var/tmp/supd-demo) and SUPD_DEMO_NETNS (default supd-demo) move them.
set -euo pipefail
cd "$(dirname "$0")/.."

root=${SUPD_DEMO_ROOT:-/var/tmp/supd-demo}
netns=${SUPD_DEMO_NETNS:-supd-demo}
supd=$PWD/build/supervisor/supd
supctl="$PWD/build/supervisor/supctl --root $root"
case "$root" in
/*/*) ;;
*) echo "demo: SUPD_DEMO_ROOT must be an absolute path below a directory, not '$root'" >&2; exit 1 ;;
esac

# Stops the supd the demo recorded and waits for it (it stops its containers first); bounded.
stop_supd() {
        local pid
        [ -f "$root/supd.pid" ] || return 0
        pid=$(cat "$root/supd.pid")
        # Only our supd: the PID must still be a supd running with this root.
        if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--root $root"; then
                echo "demo: stopping supd (PID $pid)"
                kill -TERM "$pid"
                for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                if kill -0 "$pid" 2>/dev/null; then
                        echo "demo: supd (PID $pid) did not exit within 30 s; killing it" >&2
                        kill -KILL "$pid"
                        sleep 0.5
                fi
        fi
        rm -f "$root/supd.pid"
}

if [ "${1:-}" = stop ] || [ "${1:-}" = --stop ]; then
        stop_supd
        # The netns the demo made (its name recorded at start), then everything under the root.
        [ -f "$root/netns" ] && netns=$(cat "$root/netns")
        if ip netns list | grep -qw -- "^$netns"; then
                ip netns del "$netns"
                echo "demo: removed network namespace $netns"
        fi
        if [ -d "$root" ]; then
                rm -rf --one-file-system "$root"
                echo "demo: removed $root"
        fi
        exit 0
elif [ $# -gt 0 ]; then
        echo "usage: contrib/demo.sh [stop]" >&2
        exit 1
fi

bash contrib/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

stop_supd
mkdir -p "$root/etc/supd/units"
rm -f "$root"/etc/supd/units/*.container
# A cgroup subtree of its own: a supd installed on this host (Parent=supd) may be running.
[ -f "$root/etc/supd/supd.conf" ] || printf '[Cgroup]\nParent=supd-demo\n' >"$root/etc/supd/supd.conf"
ip netns add "$netns" 2>/dev/null || true
echo "$netns" >"$root/netns"
ip netns exec "$netns" ip link set lo up

# nsenter, not "ip netns exec": that remounts /sys and would hide /sys/fs/cgroup from supd.
nsenter --net="/run/netns/$netns" "$supd" --root "$root" >"$root/supd.log" 2>&1 &
echo $! >"$root/supd.pid"
for _ in $(seq 100); do $supctl list >/dev/null 2>&1 && break; sleep 0.1; done

# The default image, made from the host's static busybox: no registry involved.
contrib/make-busybox-image.sh "$root/busybox.tar"
echo "demo: imported busybox:latest as image $($supctl image import "$root/busybox.tar" busybox:latest)"
cp units/examples/*.container "$root/etc/supd/units/"
$supctl reload >/dev/null
sleep 0.5

$supctl status || true
echo
echo "web answers inside the demo namespace:"
ip netns exec "$netns" busybox wget -qO- http://127.0.0.1:8080/ || true
echo
echo "supd runs as PID $(cat "$root/supd.pid") in network namespace $netns, log in $root/supd.log."
echo "Look around:"
echo "  $supctl list --all"
echo "  $supctl status web"
echo "  $supctl image ls"
echo "  $supctl exec web ps"
echo "  cat $root/var/log/supd/web.log"
echo "Stop it all (supd, its containers, the namespace and $root):"
echo "  ${SUPD_DEMO_ROOT:+SUPD_DEMO_ROOT=$root }${SUPD_DEMO_NETNS:+SUPD_DEMO_NETNS=$netns }bash $PWD/contrib/demo.sh stop"

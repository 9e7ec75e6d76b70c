#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What a crash-looping unit costs supd: CPU time (utime + stime of supd itself, from
# /proc/PID/stat) per restart and per second while a unit running /bin/false is restarted with
# Restart=always at RestartSec=100ms (systemd's default pace). Target: supd below 1% of one CPU.
# A benchmark, not a test: prints a table, one JSON line and a PASS/FAIL line, and exits 0 either
# way (non-zero only when it cannot measure at all).
#   tests/bench/crash-loop.sh [SECONDS]     (root; SECONDS defaults to 10)
# Environment: SUPD, SUPCTL (binaries; default: build with meson into /var/tmp/supd-bench-build).
set -euo pipefail
shopt -s nullglob

secs=${1:-10}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "crash-loop.sh: run as root" >&2; exit 1; }
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -ge 1 ] || { echo "usage: crash-loop.sh [SECONDS]" >&2; exit 1; }
log() { echo "crash-loop: $*" >&2; }
die() { log "$*"; exit 1; }

if [ -z "${SUPD:-}" ] || [ -z "${SUPCTL:-}" ]; then
        build=${BENCH_BUILD:-/var/tmp/supd-bench-build}
        command -v meson >/dev/null && command -v ninja >/dev/null || "$src/contrib/install-deps.sh"
        [ -f "$build/build.ninja" ] ||
                meson setup -Dman=disabled -Dintegration=disabled -Dtests=false "$build" "$src" >/dev/null
        ninja -C "$build" supervisor/supd supervisor/supctl >/dev/null || die "building supd failed"
        SUPD=$build/supervisor/supd
        SUPCTL=$build/supervisor/supctl
fi
SUPD=$(realpath "$SUPD")
SUPCTL=$(realpath "$SUPCTL")
command -v jq >/dev/null || die "needs jq (contrib/install-deps.sh)"

work=$(mktemp -d /var/tmp/supd-bench-loop.XXXXXX)
netns=supd-bench-loop-$$
supd_pid=
cleanup() {
        set +e
        if [ -n "$supd_pid" ]; then
                kill -TERM "$supd_pid" 2>/dev/null
                for _ in $(seq 500); do kill -0 "$supd_pid" 2>/dev/null || break; sleep 0.01; done
                kill -KILL "$supd_pid" 2>/dev/null
                wait "$supd_pid" 2>/dev/null
        fi
        for f in "$work"/root/run/supd/instances/*/pid; do kill -KILL "$(cat "$f")" 2>/dev/null; done
        ip netns del "$netns" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$src/contrib/make-rootfs.sh" "$work/rootfs" >/dev/null
mkdir -p "$work/root/etc/supd/units"
cat > "$work/root/etc/supd/supd.conf" <<CONF
[Cgroup]
Parent=supd-bench-loop-$$
CONF
cat > "$work/root/etc/supd/units/loop.container" <<UNIT
[Unit]
StartLimitBurst=0
[Container]
Rootfs=$work/rootfs
Exec=/bin/false
[Service]
Restart=always
RestartSec=100ms
[Install]
WantedBy=multi-user.target
UNIT
ip netns add "$netns"
nsenter --net="/run/netns/$netns" "$SUPD" --root "$work/root" >"$work/supd.log" 2>&1 &
supd_pid=$!
for _ in $(seq 100); do
        "$SUPCTL" --root "$work/root" list >/dev/null 2>&1 && break
        sleep 0.05
done
"$SUPCTL" --root "$work/root" list >/dev/null || die "supd did not come up: $(cat "$work/supd.log")"
sleep 1 # past the first start

restarts() { "$SUPCTL" --root "$work/root" inspect loop | jq .NRestarts; }
hz=$(getconf CLK_TCK)
read -r -a before <"/proc/$supd_pid/stat"
n1=$(restarts)
t1=$EPOCHREALTIME
sleep "$secs"
read -r -a after <"/proc/$supd_pid/stat"
t2=$EPOCHREALTIME
n2=$(restarts)

ticks=$(((after[13] + after[14]) - (before[13] + before[14])))
awk -v ticks="$ticks" -v hz="$hz" -v n=$((n2 - n1)) -v t1="$t1" -v t2="$t2" 'BEGIN {
        wall = t2 - t1; cpu_ms = ticks * 1000 / hz
        pct = 100 * cpu_ms / 1000 / wall
        per = n > 0 ? cpu_ms / n : 0
        printf "%-28s %10s %10s %12s %14s\n", "what", "wall s", "restarts", "supd CPU ms", "CPU ms/restart"
        printf "%-28s %10.2f %10d %12.1f %14.2f\n", "crash loop, RestartSec=100ms", wall, n, cpu_ms, per
        printf "{\"bench\":\"crash-loop\",\"wall_s\":%.3f,\"restarts\":%d,\"supd_cpu_ms\":%.1f,\"cpu_percent\":%.3f}\n", wall, n, cpu_ms, pct
        printf "%s: supd used %.2f%% of one CPU (target < 1%%)\n", pct < 1 ? "PASS" : "FAIL", pct
}'

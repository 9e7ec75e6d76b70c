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

. "$(dirname "$0")/lib.sh"
bench_init crash-loop
secs=${1:-10}
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -ge 1 ] || { echo "usage: crash-loop.sh [SECONDS]" >&2; exit 1; }
bench_binaries
command -v jq >/dev/null || die "needs jq (contrib/install-deps.sh)"

work=$(mktemp -d /var/tmp/supd-bench-loop.XXXXXX)
cleanup() {
        set +e
        bench_stop_supd 500
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
bench_start_supd "$work" "supd-bench-loop-$$"
sleep 1 # past the first start

restarts() { sup inspect loop | jq .NRestarts; }
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

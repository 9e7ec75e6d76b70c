#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What one `supctl reload` costs, and whether supd keeps answering meanwhile:
#   1. N units (default 100) added at once and started by one reload: time until the reload
#      returns with all of them running, and the worst round trip of a D-Bus Ping (busctl, every
#      ~20 ms) while it runs. Targets: all running within 2 s; no Ping waits more than 50 ms.
#   2. M loaded units (default 2,000; inactive, so no containers) with one file changed: time of
#      the reload, and that only that one unit was touched. Target: <= 100 ms.
# A benchmark, not a test: prints a table, one JSON line and PASS/FAIL lines, and exits 0 either
# way (non-zero only when it cannot measure at all).
#   tests/bench/reload.sh [N [M]]      (root)
# Environment: SUPD, SUPCTL (binaries; default: build with meson into /var/tmp/supd-bench-build).
# busctl's own start (a fork and exec, ~2-4 ms here) is part of every Ping it times.
set -euo pipefail
shopt -s nullglob

. "$(dirname "$0")/lib.sh"
bench_init reload
n=${1:-100}
m=${2:-2000}
bench_binaries
command -v busctl >/dev/null || die "needs busctl (systemd)"

work=$(mktemp -d /var/tmp/supd-bench-reload.XXXXXX)
pinger=
cleanup() {
        set +e
        [ -n "$pinger" ] && kill "$pinger" 2>/dev/null && wait "$pinger" 2>/dev/null
        bench_stop_supd 3000
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$src/contrib/make-rootfs.sh" "$work/rootfs" >/dev/null
units=$work/root/etc/supd/units
mkdir -p "$units"
printf '[Cgroup]\nParent=supd-bench-reload-%s\n' $$ >"$work/root/etc/supd/supd.conf"
bench_start_supd "$work" "supd-bench-reload-$$"
addr=unix:path=$work/root/run/supd/supd.sock
ms_since() { echo $(((${EPOCHREALTIME/./} - ${1/./}) / 1000)); }

# --- 1. N units started by one reload, Pings meanwhile ---------------------------------------------
for i in $(seq "$n"); do
        printf '[Container]\nRootfs=%s\nExec=/bin/sleep 100000\n[Install]\nWantedBy=multi-user.target\n' \
                "$work/rootfs" >"$units/run$i.container"
done
(
        while :; do
                t=$EPOCHREALTIME
                busctl --address="$addr" call io.supd /io/supd org.freedesktop.DBus.Peer Ping >/dev/null 2>&1 || echo fail
                echo "$(ms_since "$t")"
                sleep 0.02
        done
) >"$work/pings" &
pinger=$!
sleep 0.3 # baseline Pings before the reload
t0=$EPOCHREALTIME
sup reload >"$work/reload1.out"
start_ms=$(ms_since "$t0")
sleep 0.3
kill "$pinger"
wait "$pinger" 2>/dev/null || true
pinger=
running=$(sup list --json | jq '[.[] | select(.sub == "running")] | length')
worst_ping=$(grep -v fail "$work/pings" | sort -n | tail -1)
median_ping=$(grep -v fail "$work/pings" | sort -n | awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : 0 }')
echo "Pings in order (ms): $(grep -v fail "$work/pings" | tr '\n' ' ')" >&2
pings=$(grep -vc fail "$work/pings" || true)
failed_pings=$(grep -c fail "$work/pings" || true)

# Back to none running, quickly: the second part measures a reload, not stops.
rm -f "$units"/run*.container
sup reload >/dev/null

# --- 2. M loaded units, one changed ------------------------------------------------------------------
for i in $(seq "$m"); do
        printf '[Unit]\nDescription=unit %d\n[Container]\nRootfs=%s\nExec=/bin/sleep 100000\n' "$i" "$work/rootfs" \
                >"$units/idle$i.container"
done
sup reload >/dev/null # load them all
sup reload >/dev/null # warm
t0=$EPOCHREALTIME
sup reload >/dev/null
noop_ms=$(ms_since "$t0")
printf '[Unit]\nDescription=changed\n[Container]\nRootfs=%s\nExec=/bin/sleep 100000\n' "$work/rootfs" >"$units/idle7.container"
t0=$EPOCHREALTIME
sup reload >"$work/reload2.out"
one_ms=$(ms_since "$t0")
touched=$(grep -c . "$work/reload2.out" || true)

printf '%-44s %10s\n' "what" "value"
printf '%-44s %10s\n' "units started by one reload" "$running/$n"
printf '%-44s %10s\n' "reload until all running, ms" "$start_ms"
printf '%-44s %10s\n' "worst Ping during it, ms ($pings Pings)" "$worst_ping"
printf '%-44s %10s\n' "median Ping, ms (busctl's own start included)" "$median_ping"
printf '%-44s %10s\n' "Pings that failed" "$failed_pings"
printf '%-44s %10s\n' "no-op reload of $m units, ms" "$noop_ms"
printf '%-44s %10s\n' "reload of $m units, one changed, ms" "$one_ms"
printf '%-44s %10s\n' "lines printed by that reload" "$touched"
echo "--- reload output (one changed):"
cat "$work/reload2.out"
printf '{"bench":"reload","units":%d,"running":%d,"start_ms":%d,"worst_ping_ms":%d,"failed_pings":%d,"loaded":%d,"noop_ms":%d,"one_changed_ms":%d}\n' \
        "$n" "$running" "$start_ms" "${worst_ping:-0}" "$failed_pings" "$m" "$noop_ms" "$one_ms"
verdict() { if [ "$1" -eq 1 ]; then echo "PASS: $2"; else echo "FAIL: $2"; fi; }
verdict $((running == n && start_ms <= 2000)) "$running/$n units running after a reload of ${start_ms} ms (target: all, <= 2000 ms)"
verdict $((${worst_ping:-99999} <= 50 && failed_pings == 0)) "worst Ping ${worst_ping} ms during that reload (target <= 50 ms)"
verdict $((one_ms <= 100)) "reload of $m units with one changed: ${one_ms} ms (target <= 100 ms)"

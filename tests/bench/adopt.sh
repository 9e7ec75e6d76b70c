#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Adoption after supd's death: N containers (default 100) run, supd is killed with SIGKILL, a new
# supd starts; measured is the time from its exec until its control socket first answers, which
# it does only once startup, adoption included, is over (the loop serves no call before). The
# same startup with the same units and no containers to adopt is measured too, so the
# difference is what adoption costs. Target: every container adopted within 200 ms.
# A benchmark, not a test: prints a table, one JSON line and a PASS/FAIL line, and exits 0 either
# way (non-zero only when it cannot measure at all).
#   tests/bench/adopt.sh [N]      (root)
# Environment: SUPD, SUPCTL (binaries; default: build with meson into /var/tmp/supd-bench-build).
set -euo pipefail
shopt -s nullglob

. "$(dirname "$0")/lib.sh"
bench_init adopt
n=${1:-100}
[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || { echo "usage: adopt.sh [N]" >&2; exit 1; }
bench_binaries
command -v jq >/dev/null || die "needs jq (contrib/install-deps.sh)"

work=$(mktemp -d /var/tmp/supd-bench-adopt.XXXXXX)
cleanup() {
        set +e
        bench_stop_supd 3000
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$src/contrib/make-rootfs.sh" "$work/rootfs" >/dev/null
units=$work/root/etc/supd/units
mkdir -p "$units"
printf '[Cgroup]\nParent=supd-bench-adopt-%s\n' $$ >"$work/root/etc/supd/supd.conf"
for i in $(seq "$n"); do
        printf '[Container]\nRootfs=%s\nExec=/bin/sleep 100000\n[Install]\nWantedBy=multi-user.target\n' \
                "$work/rootfs" >"$units/c$i.container"
done
netns=supd-bench-adopt-$$
bench_start_supd "$work" "$netns"
running() { sup list --json | jq '[.[] | select(.sub == "running")] | length'; }
for _ in $(seq 600); do
        [ "$(running)" -eq "$n" ] && break
        sleep 0.1
done
[ "$(running)" -eq "$n" ] || die "only $(running) of $n containers came up"
pids_before=$(sup list --json | jq -r '.[].unit' | while read -r u; do sup inspect "$u" | jq .MainPID; done | sort)

ms_since() { echo $(((${EPOCHREALTIME/./} - ${1/./}) / 1000)); }
# A new supd in the same namespace; the time until its socket answers, in ms, in $took (not a
# command substitution: supd_pid must be set in this shell).
restart_timed() {
        local t0
        t0=$EPOCHREALTIME
        nsenter --net="/run/netns/$netns" "$SUPD" --root "$work/root" >>"$work/supd.log" 2>&1 3>&- &
        supd_pid=$!
        for _ in $(seq 20000); do
                sup list >/dev/null 2>&1 && break
                sleep 0.001
        done
        took=$(ms_since "$t0")
}

kill -KILL "$supd_pid"
wait "$supd_pid" 2>/dev/null || true
restart_timed
adopt_ms=$took
pids_after=$(sup list --json | jq -r '.[].unit' | while read -r u; do sup inspect "$u" | jq .MainPID; done | sort)
adopted=$(grep -c "adopted run" "$work/supd.log" || true)
same=$([ "$pids_before" = "$pids_after" ] && echo yes || echo no)

# The baseline: the same units, nothing to adopt (a clean stop first).
kill -TERM "$supd_pid"
reap "$supd_pid" 6000
for f in "$units"/*.container; do sed -i '/WantedBy/d' "$f"; done
restart_timed
base_ms=$took

printf '%-46s %10s\n' "what" "value"
printf '%-46s %10s\n' "containers adopted after kill -9 of supd" "$adopted/$n"
printf '%-46s %10s\n' "same PIDs before and after" "$same"
printf '%-46s %10s\n' "new supd: exec -> socket answers, ms" "$adopt_ms"
printf '%-46s %10s\n' "same with nothing to adopt, ms" "$base_ms"
printf '{"bench":"adopt","containers":%d,"adopted":%d,"same_pids":"%s","startup_adopt_ms":%d,"startup_base_ms":%d}\n' \
        "$n" "$adopted" "$same" "$adopt_ms" "$base_ms"
if [ "$adopted" -eq "$n" ] && [ "$same" = yes ] && [ $((adopt_ms - base_ms)) -le 200 ]; then
        echo "PASS: $n containers adopted in $((adopt_ms - base_ms)) ms over a plain startup (target <= 200 ms)"
else
        echo "FAIL: $adopted/$n adopted, same PIDs: $same, $((adopt_ms - base_ms)) ms over a plain startup (target <= 200 ms)"
fi

# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the benchmarks that run their own supd (crash-loop.sh, reload.sh, start-latency.sh):
# root check, messages, the supd binaries, starting supd in a network namespace of its own, and
# stopping it and its containers again. Each benchmark keeps its own trap, which calls
# bench_stop_supd; everything here ends only processes the benchmark started, by PID.
#
#   . "$(dirname "$0")/lib.sh"; bench_init NAME
#
# sets src (the source tree), log, die and sup; bench_binaries sets SUPD and SUPCTL;
# bench_start_supd WORK NETNS sets supd_pid.

bench_init() {
        bench_name=$1
        src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
        supd_pid=
        [ "$(id -u)" = 0 ] || { echo "$bench_name.sh: run as root" >&2; exit 1; }
}

log() { echo "$bench_name: $*" >&2; }
die() {
        log "$*"
        exit 1
}

# SUPD and SUPCTL from the environment, or built with meson into BENCH_BUILD (default
# /var/tmp/supd-bench-build). ninja always runs, so that an existing build dir follows the tree.
bench_binaries() {
        local build
        if [ -z "${SUPD:-}" ] || [ -z "${SUPCTL:-}" ]; then
                build=${BENCH_BUILD:-/var/tmp/supd-bench-build}
                if [ ! -f "$build/build.ninja" ]; then
                        command -v meson >/dev/null && command -v ninja >/dev/null || "$src/contrib/install-deps.sh"
                        meson setup -Dman=disabled -Dintegration=disabled -Dtests=false "$build" "$src" >/dev/null
                fi
                ninja -C "$build" supervisor/supd supervisor/supctl >/dev/null || die "building supd failed"
                SUPD=$build/supervisor/supd
                SUPCTL=$build/supervisor/supctl
        fi
        SUPD=$(realpath "$SUPD")
        SUPCTL=$(realpath "$SUPCTL")
        [ -x "$SUPD" ] && [ -x "$SUPCTL" ] || die "no supd/supctl binaries"
}

# Waits up to $2 centiseconds (default 500) for PID $1 (our child) to exit; SIGKILL after that.
# Never blocks forever.
reap() {
        local pid=$1 limit=${2:-500} i
        [ -n "$pid" ] || return 0
        for ((i = 0; i < limit; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.01
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null || true
}

# supd --root WORK/root in the new network namespace NETNS, its output in WORK/supd.log; returns
# once it answers (at most 10 s). nsenter, not "ip netns exec": that remounts /sys and so hides
# /sys/fs/cgroup (as the tests do). No fd of ours past 2 reaches it (start-latency.sh holds a FIFO
# on fd 3 whose reader must see only the workload's writes).
bench_start_supd() {
        bench_work=$1
        bench_netns=$2
        # /run is a tmpfs on every real host; the work dir's file system (ext4, an overlay) would
        # make each run's state files cost what they never cost there.
        mkdir -p "$bench_work/root/run"
        mount -t tmpfs -o mode=0755 tmpfs "$bench_work/root/run" && bench_run_tmpfs=1
        ip netns add "$bench_netns"
        nsenter --net="/run/netns/$bench_netns" "$SUPD" --root "$bench_work/root" >"$bench_work/supd.log" 2>&1 3>&- &
        supd_pid=$!
        for _ in $(seq 200); do
                sup list >/dev/null 2>&1 && return 0
                kill -0 "$supd_pid" 2>/dev/null || break
                sleep 0.05
        done
        sup list >/dev/null 2>&1 || die "supd did not come up: $(cat "$bench_work/supd.log")"
}

sup() { "$SUPCTL" --root "$bench_work/root" "$@"; }

# For the trap: SIGTERM to supd (it stops its containers, then exits), SIGKILL after $1
# centiseconds (default 1000); then the containers of a supd that had to be killed, by the PIDs it
# recorded, and the network namespace. Safe to call before bench_start_supd.
bench_stop_supd() {
        if [ -n "${supd_pid:-}" ]; then
                kill -TERM "$supd_pid" 2>/dev/null
                reap "$supd_pid" "${1:-1000}"
                supd_pid=
        fi
        [ -n "${bench_work:-}" ] || return 0
        for f in "$bench_work"/root/run/supd/instances/*/pid; do
                [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
        done
        ip netns del "$bench_netns" 2>/dev/null
        [ -z "${bench_run_tmpfs:-}" ] || umount "$bench_work/root/run" 2>/dev/null
        bench_run_tmpfs=
        return 0
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Start latency (start command -> workload running) of supd, `runc run -d` and systemd-nspawn on the
# same busybox rootfs, and supd's restart latency (kill -9 of the workload -> new workload running,
# Restart=always, RestartSec=0). Targets: supd's median start <= runc's / 3; restart median < 10 ms.
# A benchmark, not a test: prints a table, one JSON line and PASS/FAIL lines, and exits 0 either way
# (non-zero only when it cannot measure at all).
#   tests/bench/start-latency.sh [RUNS]     (root; RUNS defaults to 30, at least 30 for the targets)
# Environment: SUPD, SUPCTL (binaries; default: build with meson into a build dir of our own),
#              BENCH_WARMUP (untimed runs per tool first, default 3), BENCH_KEEP=1 (keep the work dir),
#              BENCH_PAUSE (seconds of quiet before each timed run, default 0.1).
#
# "Workload running", identical for all three: the container's command is
#   /bin/sh -c 'echo r > /m/ready; exec sleep 1000'
# where /m is a bind mount (Volume=, an OCI bind mount, --bind=) of a host directory holding the FIFO
# "ready". The harness keeps the FIFO open read-write (so the writer never blocks), takes
# $EPOCHREALTIME, forks the start command into the background and blocks in `read` on the FIFO: it
# wakes when the shell in the container, already exec'd, writes its line. Both ends of the interval
# are taken by the same bash with no fork in between, and the fork of the start command costs the
# three tools the same. Runs are interleaved (supd, runc, nspawn, supd, ...) so drift in the
# machine's load hits all three alike; every container is gone before the next run starts, and
# each timed run begins after a short pause: the kernel's cgroup migration lock stays cheap for a
# moment after a migration (its RCU grace period is paid once per burst), so without the pause a
# tool's run would be sped up or slowed down by whatever the previous tool just did.
set -euo pipefail
shopt -s nullglob

. "$(dirname "$0")/lib.sh"
bench_init start-latency
runs=${1:-30}
warmup=${BENCH_WARMUP:-3}
pause=${BENCH_PAUSE:-0.1}
[ -n "${EPOCHREALTIME:-}" ] || { echo "start-latency.sh: needs bash >= 5 (EPOCHREALTIME)" >&2; exit 1; }
[[ "$runs" =~ ^[0-9]+$ ]] && [ "$runs" -ge 1 ] || { echo "usage: start-latency.sh [RUNS]" >&2; exit 1; }

# --- packages -------------------------------------------------------------------------------------
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in runc systemd-container jq busybox-static iproute2 util-linux procps coreutils; do
        have_pkg "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
        log "installing ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- supd binaries ---------------------------------------------------------------------------------
bench_binaries

# --- work dir, cleanup -----------------------------------------------------------------------------
work=$(mktemp -d /var/tmp/supd-bench-start.XXXXXX)
tag=sb$$ # unique per run: netns, cgroup parent, runc container id, nspawn machine name
cg_parent=supd-bench-$$
runc_root=$work/runc-state
runc_id=$tag
nspawn_pid=
bg_pid=

cleanup() {
        set +e
        exec 3>&-
        [ -n "$bg_pid" ] && reap "$bg_pid" 300
        if [ -n "$nspawn_pid" ]; then
                kill -TERM "$nspawn_pid" 2>/dev/null
                reap "$nspawn_pid" 500
        fi
        if [ -d "$runc_root" ]; then
                runc --root "$runc_root" delete -f "$runc_id" >/dev/null 2>&1
        fi
        bench_stop_supd 1000
        rmdir "/run/systemd/nspawn/propagate/$tag" 2>/dev/null
        # Empty cgroups left below our parents (there should be none); only directories we named.
        for d in /sys/fs/cgroup/"$cg_parent" /sys/fs/cgroup/*/"$cg_parent" \
                /sys/fs/cgroup/"$runc_id" /sys/fs/cgroup/*/"$runc_id"; do
                find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        if [ "${BENCH_KEEP:-0}" = 1 ]; then
                log "work dir kept: $work"
        else
                rm -rf "$work"
        fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- rootfs, marker --------------------------------------------------------------------------------
"$src/contrib/make-rootfs.sh" "$work/rootfs" >/dev/null
# One identical copy per tool: runc and nspawn write into the directory they are given (mount
# points, /etc files), supd stacks an overlay on its copy.
for t in supd runc nspawn; do cp -a "$work/rootfs" "$work/rootfs-$t"; done
mkdir -p "$work/m"
mkfifo "$work/m/ready"
exec 3<>"$work/m/ready"
workload_sh='echo r > /m/ready; exec sleep 1000'

# Reads one line from the FIFO within 10 s; sets t1. Returns 1 on timeout.
wait_ready() {
        if read -r -t 10 -u 3 _; then
                t1=$EPOCHREALTIME
                return 0
        fi
        return 1
}

us_between() { # us_between T0 T1 (EPOCHREALTIME strings) -> integer microseconds
        local a=${1/./} b=${2/./}
        echo $((10#$b - 10#$a))
}

# --- supd ------------------------------------------------------------------------------------------
mkdir -p "$work/root/etc/supd/units"
cat > "$work/root/etc/supd/supd.conf" <<CONF
[Network]
Bridge=supdb$(($$ % 10000))
Subnet=10.254.$(($$ % 250)).0/24
[Cgroup]
Parent=$cg_parent
CONF
cat > "$work/root/etc/supd/units/lat.container" <<UNIT
[Unit]
Description=start latency probe
StartLimitIntervalSec=0
[Container]
Rootfs=$work/rootfs-supd
Exec=/bin/sh -c '$workload_sh'
Volume=$work/m:/m
UNIT
cat > "$work/root/etc/supd/units/rst.container" <<UNIT
[Unit]
Description=restart latency probe
StartLimitIntervalSec=0
[Container]
Rootfs=$work/rootfs-supd
Exec=/bin/sh -c '$workload_sh'
Volume=$work/m:/m
[Service]
Restart=always
RestartSec=0
UNIT
bench_start_supd "$work" "supd-bench-$$"

supd_once() {
        sleep "$pause"
        t0=$EPOCHREALTIME
        sup start lat >/dev/null &
        bg_pid=$!
        wait_ready || { sup status lat >&2 || true; die "supd: workload never became ready"; }
        wait "$bg_pid" || die "supctl start failed"
        bg_pid=
        sup stop lat >/dev/null || die "supctl stop failed"
}

# --- runc ------------------------------------------------------------------------------------------
mkdir -p "$work/bundle" "$runc_root"
(cd "$work/bundle" && rm -f config.json && runc spec)
jq --arg rootfs "$work/rootfs-runc" --arg m "$work/m" --arg sh "$workload_sh" --arg cg "/$runc_id" '
        .process.terminal = false
        | .process.args = ["/bin/sh", "-c", $sh]
        | .root = {path: $rootfs, readonly: false}
        | .hostname = "lat"
        | .mounts += [{destination: "/m", type: "bind", source: $m, options: ["rbind", "rw"]}]
        | .linux.cgroupsPath = $cg' "$work/bundle/config.json" > "$work/bundle/config.json.new"
mv "$work/bundle/config.json.new" "$work/bundle/config.json"

runc_once() {
        sleep "$pause"
        t0=$EPOCHREALTIME
        runc --root "$runc_root" run -d --bundle "$work/bundle" "$runc_id" </dev/null >>"$work/runc.log" 2>&1 3>&- &
        bg_pid=$!
        wait_ready || { tail "$work/runc.log" >&2; die "runc: workload never became ready"; }
        wait "$bg_pid" || die "runc run failed"
        bg_pid=
        runc --root "$runc_root" delete -f "$runc_id" >>"$work/runc.log" 2>&1 || die "runc delete failed"
}

# --- systemd-nspawn --------------------------------------------------------------------------------
# --private-network: supd (by default) and runc (its default spec) give the container its own
# network namespace; so does nspawn here. --register=no --keep-unit: no machined, no systemd unit.
nspawn_once() {
        sleep "$pause"
        t0=$EPOCHREALTIME
        systemd-nspawn --quiet --register=no --keep-unit --private-network --console=pipe \
                --machine="$tag" -D "$work/rootfs-nspawn" --bind="$work/m:/m" \
                /bin/sh -c "$workload_sh" </dev/null >>"$work/nspawn.log" 2>&1 3>&- &
        nspawn_pid=$!
        wait_ready || { tail "$work/nspawn.log" >&2; die "nspawn: workload never became ready"; }
        # Without --boot, nspawn answers SIGTERM by killing the container and cleaning up.
        kill -TERM "$nspawn_pid" 2>/dev/null || true
        reap "$nspawn_pid" 1000
        nspawn_pid=
}

# --- supd restart ----------------------------------------------------------------------------------
# The workload is the child of supd's init (MainPID, the container's PID 1).
workload_of() { # workload_of UNIT -> PID of the workload, waiting (bounded) for it to exist
        local init kids i
        for ((i = 0; i < 500; i++)); do
                init=$(sup inspect "$1" 2>/dev/null | jq -r '.MainPID // 0')
                # (no trailing newline in "children": read it with $(<), not read)
                if [ "${init:-0}" -gt 0 ] && kids=$(<"/proc/$init/task/$init/children") 2>/dev/null &&
                        [ -n "${kids// /}" ]; then
                        echo "${kids%% *}"
                        return 0
                fi
                sleep 0.01
        done
        return 1
}

restart_once() {
        local w
        w=$(workload_of rst) || die "restart: no workload found"
        sleep "$pause"
        # The workload runs `sleep` (the shell exec'd it after writing the marker).
        t0=$EPOCHREALTIME
        kill -KILL "$w"
        wait_ready || { sup status rst >&2 || true; die "restart: new workload never became ready"; }
}

# --- runs ------------------------------------------------------------------------------------------
declare -A samples=()
record() { samples[$1]+="$(us_between "$t0" "$t1") "; }

log "warm-up: $warmup untimed runs per tool"
for ((i = 0; i < warmup; i++)); do supd_once; runc_once; nspawn_once; done
log "start latency: $runs runs per tool, interleaved"
for ((i = 0; i < runs; i++)); do
        supd_once; record supd
        runc_once; record runc
        nspawn_once; record nspawn
done

log "restart latency: $runs runs"
t0=$EPOCHREALTIME
sup start rst >/dev/null || die "supctl start rst failed"
wait_ready || die "restart unit never became ready"
for ((i = 0; i < warmup; i++)); do restart_once; done
for ((i = 0; i < runs; i++)); do restart_once; record restart; done
n_restarts=$(sup inspect rst | jq -r '.NRestarts // empty' 2>/dev/null || true)
sup stop rst >/dev/null || true

# --- report ----------------------------------------------------------------------------------------
# stats LIST-OF-MICROSECONDS -> "n median p95 min max" in ms (median: mean of the middle two for an
# even n; p95: nearest rank, the ceil(0.95 n)-th smallest).
stats() {
        tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '
                { v[NR] = $1 }
                END {
                        n = NR
                        med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
                        r = int(0.95 * n); if (r < 0.95 * n) r++
                        printf "%d %.2f %.2f %.2f %.2f\n", n, med / 1000, v[r] / 1000, v[1] / 1000, v[n] / 1000
                }'
}

label() {
        case $1 in
        supd) echo "supd (supctl start)" ;;
        runc) echo "runc run -d" ;;
        nspawn) echo "systemd-nspawn" ;;
        restart) echo "supd restart (kill -9)" ;;
        esac
}

echo
echo "start latency: start command -> workload running ($(nproc) CPUs, $(uname -r))"
printf '%-24s %5s %10s %10s %10s %10s\n' tool runs "median ms" "p95 ms" "min ms" "max ms"
declare -A med=()
json='{'
for t in supd runc nspawn restart; do
        read -r n med p95 min max <<<"$(stats "${samples[$t]}")"
        printf '%-24s %5d %10.2f %10.2f %10.2f %10.2f\n' "$(label "$t")" "$n" "$med" "$p95" "$min" "$max"
        json+="\"$t\":{\"runs\":$n,\"median_ms\":$med,\"p95_ms\":$p95,\"min_ms\":$min,\"max_ms\":$max},"
        med[$t]=$med
done
json+="\"cpus\":$(nproc),\"kernel\":\"$(uname -r)\",\"runc\":\"$(runc --version | awk 'NR==1{print $3}')\","
json+="\"systemd_nspawn\":\"$(systemd-nspawn --version | awk 'NR==1{print $2}')\"}"
echo "$json"
[ -n "$n_restarts" ] && echo "supd counted $n_restarts automatic restarts of rst"

ratio=$(awk -v s="${med[supd]}" -v r="${med[runc]}" 'BEGIN { printf "%.2f", (r > 0) ? s / r : 0 }')
if awk -v s="${med[supd]}" -v r="${med[runc]}" 'BEGIN { exit !(s * 3 <= r) }'; then
        echo "PASS: supd median start ${med[supd]} ms <= runc median ${med[runc]} ms / 3 (ratio $ratio)"
else
        echo "FAIL: supd median start ${med[supd]} ms > runc median ${med[runc]} ms / 3 (ratio $ratio, target <= 0.33)"
fi
if awk -v m="${med[restart]}" 'BEGIN { exit !(m < 10) }'; then
        echo "PASS: supd restart median ${med[restart]} ms < 10 ms"
else
        echo "FAIL: supd restart median ${med[restart]} ms >= 10 ms"
fi
[ "$runs" -ge 30 ] || echo "note: fewer than 30 runs; the targets are defined over at least 30"
exit 0

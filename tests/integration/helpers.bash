# SPDX-License-Identifier: GPL-2.0-or-later
# Shared set-up for the integration tests. Each test gets its own supd: its own --root, network
# namespace, bridge name, subnet and cgroup parent, so tests never touch the host or each other.

bats_require_minimum_version 1.5.0 # "run !"

: "${SUPD:?SUPD must point at the supd binary}"
: "${SUPCTL:?SUPCTL must point at the supctl binary}"

require_root() {
        [ "$(id -u)" = 0 ] || { echo "integration tests must run as root" >&2; return 1; }
}

# One busybox root filesystem per test file, built from the host's static busybox.
setup_rootfs() {
        ROOTFS=$BATS_FILE_TMPDIR/rootfs
        [ -x "$ROOTFS/bin/busybox" ] || "$BATS_TEST_DIRNAME/../../contrib/make-rootfs.sh" "$ROOTFS" >/dev/null
        # The static probe (tests/helpers/probe.c) asks the kernel what busybox cannot.
        if [ -n "${PROBE:-}" ] && [ ! -x "$ROOTFS/bin/probe" ]; then
                install -m 0755 "$PROBE" "$ROOTFS/bin/probe"
        fi
        export ROOTFS
}

setup_supd() {
        require_root
        setup_rootfs
        TEST_ROOT=$(mktemp -d /tmp/supd-test.XXXXXX)
        UNITS=$TEST_ROOT/etc/supd/units
        mkdir -p "$UNITS"
        NETNS=supd-t$$-$BATS_TEST_NUMBER
        ip netns add "$NETNS"
        local n=$((BATS_TEST_NUMBER % 200 + 20))
        cat > "$TEST_ROOT/etc/supd/supd.conf" <<CONF
[Network]
Bridge=supdt$n
Subnet=10.$n.0.0/24
[Cgroup]
Parent=supd-test-$$-$BATS_TEST_NUMBER
CONF
        export TEST_ROOT UNITS NETNS
}

start_supd() {
        # nsenter, not "ip netns exec": that remounts /sys and so hides /sys/fs/cgroup.
        nsenter --net="/run/netns/$NETNS" "$SUPD" --root "$TEST_ROOT" "$@" >>"$TEST_ROOT/supd.log" 2>&1 &
        SUPD_PID=$!
        export SUPD_PID
        # Ready once the socket answers; bounded.
        for _ in $(seq 100); do
                "$SUPCTL" --root "$TEST_ROOT" list >/dev/null 2>&1 && return 0
                kill -0 "$SUPD_PID" 2>/dev/null || break
                sleep 0.05
        done
        echo "supd did not come up:" >&2
        cat "$TEST_ROOT/supd.log" >&2
        return 1
}

# Stops supd (which stops its containers) and waits for it, bounded.
stop_supd() {
        [ -n "${SUPD_PID:-}" ] || return 0
        kill -TERM "$SUPD_PID" 2>/dev/null || true
        for _ in $(seq 300); do
                kill -0 "$SUPD_PID" 2>/dev/null || break
                sleep 0.05
        done
        if kill -0 "$SUPD_PID" 2>/dev/null; then
                echo "supd did not exit on SIGTERM" >&2
                kill -KILL "$SUPD_PID" 2>/dev/null || true
        fi
        wait "$SUPD_PID" 2>/dev/null || true
        SUPD_PID=
}

teardown_supd() {
        stop_supd
        # Containers left behind by a test that killed supd: end them by the PIDs supd recorded.
        if [ -n "${TEST_ROOT:-}" ] && [ -d "$TEST_ROOT/run/supd/instances" ]; then
                for pidfile in "$TEST_ROOT"/run/supd/instances/*/pid; do
                        [ -f "$pidfile" ] && kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
                done
        fi
        [ -n "${NETNS:-}" ] && ip netns del "$NETNS" 2>/dev/null || true
        # What a killed supd could not remove of the test's own cgroup subtree (only directories
        # under the Parent= this test chose; rmdir fails on any that still holds a process).
        if [ -n "${TEST_ROOT:-}" ] && [ -f "$TEST_ROOT/etc/supd/supd.conf" ]; then
                local parent d
                parent=$(sed -n 's/^Parent=//p' "$TEST_ROOT/etc/supd/supd.conf")
                if [[ "$parent" == supd-test-* ]]; then
                        for d in /sys/fs/cgroup/"$parent" /sys/fs/cgroup/*/"$parent"; do
                                [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
                        done
                fi
        fi
        if [ -n "${TEST_ROOT:-}" ] && [ -d "$TEST_ROOT" ]; then
                [ -n "${BATS_TEST_COMPLETED:-}" ] || { echo "--- supd.log"; cat "$TEST_ROOT/supd.log"; } | sed "s/^/# /" >&3 2>/dev/null || true
                rm -rf "$TEST_ROOT"
        fi
}

supctl() {
        "$SUPCTL" --root "$TEST_ROOT" "$@"
}

# write_unit NAME <<EOF ... EOF
write_unit() {
        cat > "$UNITS/$1.container"
}

# simple_unit NAME [EXTRA LINES FOR [Container]]: an enabled unit "unit NAME" that sleeps, from
# $ROOTFS (a bystander, or something that runs to be looked at).
simple_unit() {
        write_unit "$1" <<UNIT
[Unit]
Description=unit $1
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
${2:-}
[Install]
WantedBy=multi-user.target
UNIT
}

# start_supd_running UNIT...: start_supd, then wait (at most 5 s each) until every UNIT runs.
start_supd_running() {
        local u
        start_supd
        for u in "$@"; do
                wait_until 5 state_is "$u" running
        done
}

# end_bg PID: ends a background process the test started (nothing if PID is empty) and reaps it.
end_bg() {
        [ -n "$1" ] || return 0
        kill "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
}

# wait_until SECONDS CMD...: polls CMD every 50ms until it succeeds or the time is up.
wait_until() {
        local limit=$1 i
        shift
        for i in $(seq $((limit * 20))); do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.05
        done
        echo "timed out after ${limit}s waiting for: $*" >&2
        return 1
}

prop() { # prop UNIT KEY: one property from inspect --json
        supctl inspect "$1" | jq -r ".$2"
}

state_is() { # state_is UNIT STATE
        [ "$(prop "$1" State)" = "$2" ]
}

assert_contains() { # assert_contains HAYSTACK NEEDLE
        case "$1" in
        *"$2"*) return 0 ;;
        esac
        echo "expected to find: $2" >&2
        echo "in: $1" >&2
        return 1
}

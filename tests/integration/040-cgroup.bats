#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# cgroups: one per instance under supd.conf's [Cgroup] Parent=, limits, accounting, OOM, cleanup.
# Works on this host's hybrid layout and on pure cgroup v2 (run under ../shared/tools/vm-run).

load helpers

setup() { setup_supd; }
teardown() { teardown_supd; }

parent() { sed -n 's/^Parent=//p' "$TEST_ROOT/etc/supd/supd.conf"; }

# The directory name of a unit's current cgroup, NAME.RUN_ID (one per run).
cg() {
        local c
        c=$(prop "$1" ControlGroup)
        [[ "$c" == */"$1".* ]] || { echo "no cgroup for $1: '$c'" >&2; return 1; }
        echo "${c##*/}"
}

# Every directory of our subtree in every hierarchy.
our_cgroups() {
        local p
        p=$(parent)
        find /sys/fs/cgroup -maxdepth 3 -type d -path "*/$p*" 2>/dev/null || true
}

@test "each instance gets a cgroup with its limits; stop removes it" {
        write_unit lim <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'cat /proc/self/cgroup; ls /sys/fs/cgroup; echo done; sleep 1000'
Memory=64M
PidsLimit=100
[Service]
CPUQuota=50%
[Install]
WantedBy=multi-user.target
UNIT
        start_supd
        wait_until 5 grep -q done "$TEST_ROOT/var/log/supd/lim.log"
        p=$(parent)
        # The run's cgroup: NAME.RUN_ID, the only one of the unit.
        c=$(cg lim)
        [ "$c" = "lim.$(prop lim RunID)" ]
        [ "$(our_cgroups | grep -c '/lim\.')" -eq "$(our_cgroups | grep -c "/$c\$")" ]
        # The limits, wherever this host keeps them.
        if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
                [ "$(cat /sys/fs/cgroup/$p/$c/memory.max)" = 67108864 ]
                [ "$(cat /sys/fs/cgroup/$p/$c/pids.max)" = 100 ]
                [ "$(cat /sys/fs/cgroup/$p/$c/cpu.max)" = "50000 100000" ]
        else
                [ "$(cat /sys/fs/cgroup/memory/$p/$c/memory.limit_in_bytes)" = 67108864 ]
                [ "$(cat /sys/fs/cgroup/pids/$p/$c/pids.max)" = 100 ]
                [ "$(cat /sys/fs/cgroup/cpu/$p/$c/cpu.cfs_quota_us)" = 50000 ]
        fi
        # Inside, the container sees its own cgroup as the root.
        log=$(cat "$TEST_ROOT/var/log/supd/lim.log")
        assert_contains "$log" "0::/"
        [[ "$log" != *"$p"* ]]
        # Accounting reaches status and inspect.
        [ "$(prop lim TasksCurrent)" -ge 2 ]
        [ "$(prop lim MemoryCurrent)" -gt 0 ]
        run supctl status lim
        assert_contains "$output" "Tasks: "
        assert_contains "$output" "(limit: 100)"
        assert_contains "$output" "Memory: "
        supctl stop lim
        [ -z "$(our_cgroups | grep /lim)" ]
        stop_supd
        [ -z "$(our_cgroups)" ]
}

@test "a fork bomb is contained by the pids limit (a default applies)" {
        write_unit bomb <<UNIT
[Container]
Rootfs=$ROOTFS
PidsLimit=50
Exec=/bin/probe forkbomb 500
[Install]
WantedBy=multi-user.target
UNIT
        simple_unit dflt
        start_supd
        wait_until 10 grep -q forked= "$TEST_ROOT/var/log/supd/bomb.log"
        forked=$(sed -n 's/^forked=//p' "$TEST_ROOT/var/log/supd/bomb.log")
        n=$(prop bomb TasksCurrent)
        echo "forked $forked, tasks $n"
        # 50 tasks in all: our init, the probe and 48 children.
        [ "$forked" -eq 48 ]
        [ "$n" -eq 50 ]
        state_is bomb running
        supctl inspect dflt | jq -e ".TasksMax > 1e18" # unset in the unit (infinity)...
        p=$(parent)
        c=$(cg dflt)
        if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
                [ "$(cat /sys/fs/cgroup/$p/$c/pids.max)" = 2048 ] # ...but the cgroup has a default
        else
                [ "$(cat /sys/fs/cgroup/pids/$p/$c/pids.max)" = 2048 ]
        fi
        # supd and the other unit are fine.
        state_is dflt running
        supctl stop bomb
        [ -z "$(our_cgroups | grep /bomb)" ]
}

@test "allocating past Memory= ends in oom-kill and a restart" {
        write_unit hog <<UNIT
[Container]
Rootfs=$ROOTFS
Memory=16M
Exec=/bin/sh -c 'echo start; x=\$(head -c 200000000 /dev/zero | tr "\\\\0" x); echo survived'
[Service]
Restart=on-failure
RestartSec=500ms
[Install]
WantedBy=multi-user.target
UNIT
        write_unit hog-once <<UNIT
[Container]
Rootfs=$ROOTFS
Memory=16M
Exec=/bin/sh -c 'x=\$(head -c 200000000 /dev/zero | tr "\\\\0" x); echo survived'
UNIT
        start_supd
        wait_until 20 sh -c "$SUPCTL --root $TEST_ROOT inspect hog | jq -e '.NRestarts >= 1'"
        run ! grep -q survived "$TEST_ROOT/var/log/supd/hog.log"
        grep -q "hog: killed by the OOM killer" "$TEST_ROOT/supd.log"
        # Without a restart the result stays visible.
        supctl start hog-once || true
        wait_until 20 state_is hog-once failed
        [ "$(prop hog-once Result)" = oom-kill ]
        [ "$(prop hog-once OOMKills)" -ge 1 ]
}

@test "stop leaves no process and no cgroup behind, even processes that ignore SIGTERM" {
        write_unit stubborn <<UNIT
[Container]
Rootfs=$ROOTFS
StopTimeout=1
Exec=/bin/sh -c 'trap "" TERM; (trap "" TERM; sleep 1000) & sleep 1000 & wait'
[Install]
WantedBy=multi-user.target
UNIT
        start_supd_running stubborn
        sleep 0.3
        p=$(parent)
        procs=$(find /sys/fs/cgroup -path "*/$p/$(cg stubborn)/cgroup.procs" | head -1)
        [ -n "$procs" ]
        pids=$(cat "$procs")
        [ "$(echo "$pids" | wc -l)" -ge 3 ]
        supctl stop stubborn
        for pid in $pids; do run ! kill -0 "$pid"; done
        [ -z "$(our_cgroups | grep /stubborn)" ]
}

@test "a second supd with the same cgroup Parent= refuses to start and names the first" {
        simple_unit sleeper
        start_supd_running sleeper
        other=$(mktemp -d /tmp/supd-test.XXXXXX)
        mkdir -p "$other/etc/supd/units"
        cp "$TEST_ROOT/etc/supd/supd.conf" "$other/etc/supd/"
        run timeout 20 nsenter --net="/run/netns/$NETNS" "$SUPD" --root "$other"
        rm -rf "$other"
        [ "$status" -eq 1 ]
        assert_contains "$output" "in use by another supd (pid $SUPD_PID, root $TEST_ROOT)"
        assert_contains "$output" "Parent=$(parent)"
        # The first one and its container are untouched.
        state_is sleeper running
        c=$(cg sleeper)
        [ -n "$(our_cgroups | grep "/$c\$")" ]
        # A supd killed outright leaves no stale claim: the next one takes the subtree over.
        kill -KILL "$SUPD_PID"
        wait "$SUPD_PID" 2>/dev/null || true
        SUPD_PID=
        for pidfile in "$TEST_ROOT"/run/supd/instances/*/pid; do kill -KILL "$(cat "$pidfile")"; done
        wait_until 10 sh -c "! grep -qs . $(find /sys/fs/cgroup -path "*/$(parent)/$c/cgroup.procs" | head -1)"
        start_supd
        kill -0 "$SUPD_PID"
        run ! grep -q "in use by another supd" "$TEST_ROOT/supd.log"
}

@test "a start that fails in any phase leaves no run directory, cgroup or process behind" {
        # The image phase: no such image (the store is empty, the name has no registry to ask).
        write_unit noimage <<UNIT
[Container]
Image=localhost:1/none/such:1
Exec=/bin/true
UNIT
        # The prepare phase: a volume whose source is missing, after the cgroup was made.
        write_unit novolume <<UNIT
[Container]
Rootfs=$ROOTFS
Volume=$TEST_ROOT/not-there:/data
Exec=/bin/sleep 1000
UNIT
        # The setup inside the child: the command does not exist (exit 127).
        write_unit noexec <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/no/such/command
UNIT
        start_supd
        for u in noimage novolume noexec; do
                run supctl start "$u"
                [ "$status" -eq 1 ]
                wait_until 10 state_is "$u" failed
                [ -n "$(prop "$u" LastError)" ]
        done
        # Every instance directory is gone, and so is every container cgroup.
        [ -z "$(ls "$TEST_ROOT/run/supd/instances")" ]
        [ -z "$(our_cgroups | grep -E '/(noimage|novolume|noexec)(\.[0-9a-f]{16})?$')" ]
        # No container process either: supd has no children left.
        [ -z "$(ps --ppid "$SUPD_PID" -o pid=)" ]
}

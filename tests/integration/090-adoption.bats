#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Surviving supd's own death: a new supd adopts the containers the old one left (pid and start
# time checked against the state record), learns how those that ended meanwhile ended, and
# never touches a process that only has a recorded pid.

load helpers

setup() { setup_supd; }
teardown() { teardown_supd; }

# kill -9 of supd; its containers stay.
kill_supd() {
        kill -KILL "$SUPD_PID"
        wait "$SUPD_PID" 2>/dev/null || true
        SUPD_PID=
}

# Gone, or a zombie its new parent has not reaped yet (the orphan of a killed supd belongs to
# whatever reaps for this session).
gone() { # gone PID
        [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# The processes of a container: every process whose PID namespace is that of MainPID.
procs_of() { # procs_of PID
        local ns
        ns=$(readlink "/proc/$1/ns/pid")
        for p in /proc/[0-9]*; do
                [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
        done
}

@test "after kill -9 of supd the next one adopts every container: same PID and run, no duplicate, stop works" {
        for i in 1 2 3; do simple_unit "keep$i"; done
        start_supd_running keep1 keep2 keep3
        declare -A pid run cg
        for i in 1 2 3; do
                pid[$i]=$(prop "keep$i" MainPID)
                run[$i]=$(prop "keep$i" RunID)
                cg[$i]=$(prop "keep$i" ControlGroup)
        done
        kill_supd
        for i in 1 2 3; do kill -0 "${pid[$i]}"; done
        start_supd
        for i in 1 2 3; do
                wait_until 5 state_is "keep$i" running
                [ "$(prop "keep$i" MainPID)" = "${pid[$i]}" ]
                [ "$(prop "keep$i" RunID)" = "${run[$i]}" ]
                # The run's own cgroup, with the container in it.
                [ "$(prop "keep$i" ControlGroup)" = "${cg[$i]}" ]
                grep -qx "${pid[$i]}" "${cg[$i]}/cgroup.procs"
        done
        grep -q "keep1: adopted run ${run[1]}" "$TEST_ROOT/supd.log"
        # No second container for any unit: one init and its sleep per PID namespace, and one
        # run directory per unit.
        [ "$(ls "$TEST_ROOT/run/supd/instances" | wc -l)" -eq 3 ]
        [ "$(procs_of "${pid[1]}" | wc -l)" -eq 2 ]
        run ! grep -q "Device or resource busy" "$TEST_ROOT/supd.log"
        # A container this supd did not fork is stopped through its pidfd, and its exit is seen.
        supctl stop keep1
        [ "$(prop keep1 ActiveState)" = inactive ]
        gone "${pid[1]}"
        wait_until 5 test ! -e "${cg[1]}"
        [ ! -e "$TEST_ROOT/var/lib/supd/containers/keep1/${run[1]}" ]
        # supctl exec works in an adopted container.
        run supctl exec keep2 echo inside
        [ "$status" -eq 0 ]
        assert_contains "$output" "inside"
}

@test "a container that ended while supd was down: its exit status and the restart policy apply" {
        write_unit ends <<UNIT
[Container]
Rootfs=$ROOTFS
Tmpfs=/tmp
Exec=/bin/sh -c 'while [ ! -e /tmp/stop ]; do sleep 0.1; done; exit 3'
[Install]
WantedBy=multi-user.target
UNIT
        write_unit comesback <<UNIT
[Container]
Rootfs=$ROOTFS
Tmpfs=/tmp
Exec=/bin/sh -c 'while [ ! -e /tmp/stop ]; do sleep 0.1; done; exit 4'
[Service]
Restart=on-failure
RestartSec=0
[Install]
WantedBy=multi-user.target
UNIT
        start_supd_running ends comesback
        p_ends=$(prop ends MainPID)
        p_back=$(prop comesback MainPID)
        kill_supd
        # Both end while no supd runs; their init records how.
        touch "/proc/$p_ends/root/tmp/stop" "/proc/$p_back/root/tmp/stop"
        wait_until 10 gone "$p_ends"
        wait_until 10 gone "$p_back"
        start_supd
        wait_until 10 state_is ends failed
        [ "$(prop ends ExitStatus)" = 3 ]
        [ "$(prop ends Result)" = exit-code ]
        # Restart=on-failure: back with a new process.
        wait_until 10 state_is comesback running
        [ "$(prop comesback MainPID)" != "$p_back" ]
        [ "$(prop comesback NRestarts)" -ge 1 ]
}

@test "a recorded pid that now belongs to another process is neither adopted nor signalled" {
        simple_unit victim
        start_supd_running victim
        id=$(prop victim RunID)
        pid=$(prop victim MainPID)
        kill_supd
        # The container is gone and its pid "reused": the record now names an unrelated
        # process of ours (a plain sleep), whose start time differs from the record's.
        kill -KILL "$pid"
        wait_until 10 gone "$pid"
        sleep 1000 &
        other=$!
        sed -i "s/^PID=.*/PID=$other/" "$TEST_ROOT/run/supd/instances/$id/state"
        echo "$other" > "$TEST_ROOT/run/supd/instances/$id/pid"
        start_supd
        wait_until 10 sh -c "[ \"\$($SUPCTL --root $TEST_ROOT inspect victim | jq -r .MainPID)\" != $other ]"
        kill -0 "$other"
        [ "$(prop victim MainPID)" != "$other" ]
        kill "$other"
        wait "$other" 2>/dev/null || true
}

@test "a damaged state record is set aside; the other containers are adopted and supd runs" {
        simple_unit good
        simple_unit bad
        start_supd_running good bad
        good_pid=$(prop good MainPID)
        bad_id=$(prop bad RunID)
        bad_pid=$(prop bad MainPID)
        kill_supd
        head -c 7 /dev/urandom > "$TEST_ROOT/run/supd/instances/$bad_id/state"
        start_supd
        wait_until 5 state_is good running
        [ "$(prop good MainPID)" = "$good_pid" ]
        grep -q "damaged state record, set aside as $bad_id.damaged" "$TEST_ROOT/supd.log"
        [ -d "$TEST_ROOT/run/supd/instances/$bad_id.damaged" ]
        kill -0 "$SUPD_PID"
        kill -KILL "$bad_pid" 2>/dev/null || true
}

@test "a container whose unit file was removed while supd was down is stopped" {
        simple_unit gone
        simple_unit stays
        start_supd_running gone stays
        gone_pid=$(prop gone MainPID)
        gone_cg=$(prop gone ControlGroup)
        gone_layer=$TEST_ROOT/var/lib/supd/containers/gone/$(prop gone RunID)
        stays_run=$(prop stays RunID)
        [ -d "$gone_layer/upper" ]
        kill_supd
        rm "$UNITS/gone.container"
        # A writable layer of a run that no longer exists (as after a reboot), next to a volume.
        containers=$TEST_ROOT/var/lib/supd/containers
        mkdir -p "$containers/stays/0123456789abcdef/upper" "$containers/stays/volumes/v"
        start_supd
        wait_until 10 gone "$gone_pid"
        grep -q "gone: run .* is still running, but its unit file is gone: stopping it." "$TEST_ROOT/supd.log"
        # Its cgroup and writable layer go with it.
        wait_until 5 test ! -e "$gone_cg"
        [ ! -e "$gone_layer" ]
        wait_until 5 state_is stays running
        # The stale layer went; the adopted run's layer and the volume stay.
        [ "$(prop stays RunID)" = "$stays_run" ]
        [ ! -e "$containers/stays/0123456789abcdef" ]
        [ -d "$containers/stays/$stays_run/upper" ]
        [ -d "$containers/stays/volumes/v" ]
}

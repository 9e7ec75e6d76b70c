#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# supd's own life: re-executing in place, SIGTERM with and without LiveRestore=yes, the control
# socket file, the notify protocol and the watchdog, socket activation, the shipped systemd units,
# and the state directories of runs that a reload ends. That SIGTERM stops the units in reverse
# dependency order is tested in 020-lifecycle.bats ("dependencies start in order and stop in
# reverse").

load helpers

setup() { setup_supd; }
teardown() {
        end_bg "${NOTIFY_PID:-}"
        teardown_supd
}

# Listens on the datagram socket $TEST_ROOT/notify.sock (for NOTIFY_SOCKET) for at most 120 s and
# appends each message to $TEST_ROOT/notify.log as one line, its newlines shown as "|".
notify_listener() {
        python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
end = time.monotonic() + 120
while time.monotonic() < end:
    s.settimeout(end - time.monotonic())
    try:
        msg = s.recv(4096)
    except TimeoutError:
        break
    with open(sys.argv[2], "a") as f:
        f.write(msg.decode().strip().replace("\n", "|") + "\n")' "$TEST_ROOT/notify.sock" "$TEST_ROOT/notify.log" &
        NOTIFY_PID=$!
        export NOTIFY_PID
        wait_until 10 test -S "$TEST_ROOT/notify.sock"
}

# The line number of the first notify message after line AFTER that contains TEXT.
notify_line() { # notify_line AFTER TEXT
        awk -v after="$1" -v text="$2" 'NR > after && index($0, text) { print NR; exit }' "$TEST_ROOT/notify.log" | grep .
}

supd_exited() { ! kill -0 "$SUPD_PID" 2>/dev/null; }

# Waits (bounded) for supd to exit after a signal; its exit status in SUPD_RC. Not in a
# subshell: only this shell can wait for its child.
wait_supd_exit() {
        SUPD_RC=0
        wait_until 15 supd_exited
        wait "$SUPD_PID" || SUPD_RC=$?
        SUPD_PID=
}

@test "daemon-reexec: same supd PID, every container keeps its MainPID and RunID, the socket is passed on" {
        simple_unit a
        simple_unit b
        start_supd_running a b
        pid_a=$(prop a MainPID)
        run_a=$(prop a RunID)
        pid_b=$(prop b MainPID)
        run_b=$(prop b RunID)
        sock_inode=$(stat -c %i "$TEST_ROOT/run/supd/supd.sock")
        run supctl daemon-reexec
        [ "$status" -eq 0 ]
        # The new supd answered before supctl returned; it is the same process.
        kill -0 "$SUPD_PID"
        grep -q "Re-executing, leaving containers running." "$TEST_ROOT/supd.log"
        [ "$(grep -c "supd ready" "$TEST_ROOT/supd.log")" -eq 2 ]
        state_is a running
        [ "$(prop a MainPID)" = "$pid_a" ]
        [ "$(prop a RunID)" = "$run_a" ]
        [ "$(prop b MainPID)" = "$pid_b" ]
        [ "$(prop b RunID)" = "$run_b" ]
        grep -q "a: adopted run $run_a" "$TEST_ROOT/supd.log"
        # Nothing was stopped, and the listening socket is the one the old supd had.
        run ! grep -q "running -> stopping" "$TEST_ROOT/supd.log"
        [ "$(stat -c %i "$TEST_ROOT/run/supd/supd.sock")" = "$sock_inode" ]
        # The adopted containers are fully managed: a stop works and the run goes.
        supctl stop a
        [ "$(prop a ActiveState)" = inactive ]
        [ ! -e "$TEST_ROOT/run/supd/instances/$run_a" ]
        # Still supd's child across the exec: the new image reaps it (no zombie is left).
        wait_until 5 test ! -e "/proc/$pid_a"
        # And a second re-exec works too.
        supctl daemon-reexec
        [ "$(prop b MainPID)" = "$pid_b" ]
        [ "$(grep -c "supd ready" "$TEST_ROOT/supd.log")" -eq 3 ]
}

@test "daemon-reexec runs the binary now at supd's path: an upgraded supd takes over" {
        simple_unit a
        mkdir -p "$TEST_ROOT/bin"
        cp "$SUPD" "$TEST_ROOT/bin/supd"
        SUPD=$TEST_ROOT/bin/supd start_supd_running a
        pid_a=$(prop a MainPID)
        # An upgrade replaces the file: the running image is now a deleted one.
        cp "$SUPD" "$TEST_ROOT/bin/supd.new"
        mv "$TEST_ROOT/bin/supd.new" "$TEST_ROOT/bin/supd"
        assert_contains "$(readlink "/proc/$SUPD_PID/exe")" "(deleted)"
        supctl daemon-reexec
        [ "$(readlink "/proc/$SUPD_PID/exe")" = "$TEST_ROOT/bin/supd" ]
        [ "$(prop a MainPID)" = "$pid_a" ]
}

@test "daemon-reexec without a daemon fails with exit 1" {
        run supctl daemon-reexec
        [ "$status" -eq 1 ]
        assert_contains "$output" "cannot connect"
}

@test "SIGTERM stops every container, removes the socket file and supd exits 0" {
        simple_unit a
        start_supd_running a
        pid_a=$(prop a MainPID)
        run_a=$(prop a RunID)
        [ -S "$TEST_ROOT/run/supd/supd.sock" ]
        kill -TERM "$SUPD_PID"
        wait_supd_exit
        [ "$SUPD_RC" -eq 0 ]
        [ ! -e "$TEST_ROOT/run/supd/supd.sock" ]
        [ ! -e "/proc/$pid_a" ]
        [ ! -e "$TEST_ROOT/run/supd/instances/$run_a" ]
        # A client is told there is no daemon.
        run supctl list
        [ "$status" -eq 1 ]
        assert_contains "$output" "cannot connect"
}

@test "LiveRestore=yes: SIGTERM leaves the containers running, supd exits 0, the next supd adopts them" {
        printf '[Manager]\nLiveRestore=yes\n' >> "$TEST_ROOT/etc/supd/supd.conf"
        simple_unit a
        start_supd_running a
        pid_a=$(prop a MainPID)
        run_a=$(prop a RunID)
        kill -TERM "$SUPD_PID"
        wait_supd_exit
        [ "$SUPD_RC" -eq 0 ]
        grep -q "Exiting, leaving containers running (LiveRestore=yes)." "$TEST_ROOT/supd.log"
        kill -0 "$pid_a"
        [ -f "$TEST_ROOT/run/supd/instances/$run_a/state" ]
        [ ! -e "$TEST_ROOT/run/supd/supd.sock" ]
        start_supd
        wait_until 5 state_is a running
        [ "$(prop a MainPID)" = "$pid_a" ]
        [ "$(prop a RunID)" = "$run_a" ]
}

@test "notify protocol: READY=1 at startup, RELOADING=1 then READY=1 around a reload and a re-exec, WATCHDOG=1" {
        simple_unit a
        notify_listener
        NOTIFY_SOCKET=$TEST_ROOT/notify.sock WATCHDOG_USEC=1000000 start_supd_running a
        wait_until 5 notify_line 0 READY=1
        ready=$(notify_line 0 READY=1)
        assert_contains "$(sed -n "${ready}p" "$TEST_ROOT/notify.log")" "STATUS=1 units, "
        # The watchdog is pinged from the loop while supd runs.
        wait_until 5 notify_line "$ready" WATCHDOG=1
        supctl reload
        reloading=$(notify_line "$ready" RELOADING=1)
        notify_line "$reloading" READY=1
        # A re-exec is a reload for the service manager: RELOADING=1, then READY=1 from the new
        # supd (same PID, so systemd accepts it).
        n=$(wc -l < "$TEST_ROOT/notify.log")
        supctl daemon-reexec
        reloading=$(notify_line "$n" "STATUS=Re-executing")
        assert_contains "$(sed -n "${reloading}p" "$TEST_ROOT/notify.log")" "RELOADING=1"
        wait_until 5 notify_line "$reloading" READY=1
        ready=$(notify_line "$reloading" READY=1)
        wait_until 5 notify_line "$ready" WATCHDOG=1
        kill -TERM "$SUPD_PID"
        wait_supd_exit
        [ "$SUPD_RC" -eq 0 ]
        notify_line "$ready" STOPPING=1
}

@test "socket activation: supd starts on the first connection and serves the passed socket" {
        simple_unit a
        sock=$TEST_ROOT/run/supd/supd.sock
        mkdir -p "$TEST_ROOT/run/supd"
        nsenter --net="/run/netns/$NETNS" systemd-socket-activate -l "$sock" \
                "$SUPD" --root "$TEST_ROOT" >>"$TEST_ROOT/supd.log" 2>&1 &
        SUPD_PID=$!
        export SUPD_PID
        wait_until 10 test -S "$sock"
        inode=$(stat -c %i "$sock")
        # Nothing runs until someone connects.
        [ "$(cat "/proc/$SUPD_PID/comm")" = systemd-socket- ]
        [ ! -e "$TEST_ROOT/run/supd/supd.lock" ]
        run supctl list
        [ "$status" -eq 0 ]
        [ "$(cat "/proc/$SUPD_PID/comm")" = supd ]
        wait_until 5 state_is a running
        # supd took the passed socket rather than binding its own.
        [ "$(stat -c %i "$sock")" = "$inode" ]
        run ! grep -q "Failed" "$TEST_ROOT/supd.log"
        # A re-exec keeps serving it.
        supctl daemon-reexec
        [ "$(stat -c %i "$sock")" = "$inode" ]
        state_is a running
}

@test "a passed socket that is not the control socket is refused" {
        nsenter --net="/run/netns/$NETNS" systemd-socket-activate -l "$TEST_ROOT/other.sock" \
                "$SUPD" --root "$TEST_ROOT" >>"$TEST_ROOT/supd.log" 2>&1 &
        SUPD_PID=$!
        export SUPD_PID
        wait_until 10 test -S "$TEST_ROOT/other.sock"
        python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$TEST_ROOT/other.sock"
        wait_supd_exit
        [ "$SUPD_RC" -ne 0 ]
        grep -q "The socket passed by systemd is not $TEST_ROOT/run/supd/supd.sock." "$TEST_ROOT/supd.log"
}

@test "systemd-analyze verify accepts units/supd.service (as generated by meson) and units/supd.socket" {
        build=$(dirname "$(dirname "$SUPD")")
        [ -f "$build/units/supd.service" ]
        dir=$TEST_ROOT/systemd
        mkdir -p "$dir"
        # The installed paths do not exist here: point the commands at the built binaries.
        sed -e "s|^ExecStart=[^ ]*|ExecStart=$SUPD|" -e "s|^ExecReload=[^ ]*|ExecReload=$SUPCTL|" \
                "$build/units/supd.service" > "$dir/supd.service"
        cp "$BATS_TEST_DIRNAME/../../units/supd.socket" "$dir/"
        grep -q "^ExecStart=$SUPD$" "$dir/supd.service"
        run systemd-analyze verify --man=no "$dir/supd.service" "$dir/supd.socket"
        echo "$output"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
}

@test "a reload removes the state directories of the runs it ends" {
        simple_unit gone
        simple_unit changed
        simple_unit stays
        start_supd_running gone changed stays
        run_gone=$(prop gone RunID)
        run_changed=$(prop changed RunID)
        run_stays=$(prop stays RunID)
        [ -d "$TEST_ROOT/run/supd/instances/$run_gone" ]
        rm "$UNITS/gone.container"
        simple_unit changed "Environment=V=2"
        supctl reload
        wait_until 5 state_is changed running
        [ "$(prop changed RunID)" != "$run_changed" ]
        [ ! -e "$TEST_ROOT/run/supd/instances/$run_gone" ]
        [ ! -e "$TEST_ROOT/run/supd/instances/$run_changed" ]
        [ ! -e "$TEST_ROOT/var/lib/supd/containers/gone/$run_gone" ]
        [ ! -e "$TEST_ROOT/var/lib/supd/containers/changed/$run_changed" ]
        # Exactly the two runs that exist now.
        [ "$(ls "$TEST_ROOT/run/supd/instances" | sort | tr '\n' ' ')" = \
                "$(printf '%s\n' "$run_stays" "$(prop changed RunID)" | sort | tr '\n' ' ')" ]
}

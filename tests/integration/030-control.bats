#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The control socket: no daemon, access control, busctl, one supd per root, stale sockets.

load helpers

setup() { setup_supd; }
teardown() {
        end_bg "${HANG_PID:-}"
        teardown_supd
}

# A "registry" on the test's own loopback that accepts connections and never answers: a pull
# from it hangs (bounded by the pull's own timeouts), so a start waits observably. Adds units
# NAME... whose image comes from it to the running supd. $TEST_ROOT/hang.conns holds the number of
# connections it accepted (each image worker opens its own).
hanging_registry_unit() {
        local name
        ip -n "$NETNS" link set lo up
        nsenter --net="/run/netns/$NETNS" python3 -c '
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
held, end = [], time.monotonic() + 300
while time.monotonic() < end:
    s.settimeout(end - time.monotonic())
    try:
        held.append(s.accept()[0])
    except TimeoutError:
        break
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % len(held))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])' "$TEST_ROOT/hang.conns" >"$TEST_ROOT/hang.port" &
        HANG_PID=$!
        export HANG_PID
        wait_until 10 test -s "$TEST_ROOT/hang.port"
        for name in "$@"; do
                write_unit "$name" <<UNIT
[Container]
Image=127.0.0.1:$(cat "$TEST_ROOT/hang.port")/test/never:1
Exec=/bin/sleep 1000
UNIT
        done
        supctl reload
}

# start_in_background NAME: a "supctl start NAME" that waits; its output and status end up in
# $TEST_ROOT/start.out and $TEST_ROOT/start.rc. Returns once the unit is pulling.
start_in_background() {
        (
                rc=0
                "$SUPCTL" --root "$TEST_ROOT" start "$1" >"$TEST_ROOT/start.out" 2>&1 || rc=$?
                echo "$rc" >"$TEST_ROOT/start.rc"
        ) &
        START_PID=$!
        wait_until 10 grep -q "$1: pulling " "$TEST_ROOT/supd.log"
        [ "$(prop "$1" ActiveState)" = activating ]
        [ ! -e "$TEST_ROOT/start.rc" ]
}

# start_result: waits (bounded) for the background start and prints its output.
start_result() {
        wait_until 20 test -s "$TEST_ROOT/start.rc"
        wait "$START_PID" || true
        cat "$TEST_ROOT/start.out"
        START_RC=$(cat "$TEST_ROOT/start.rc")
}

@test "supctl without a daemon says it cannot connect, exit 1" {
        run supctl status
        [ "$status" -eq 1 ]
        assert_contains "$output" "supctl: cannot connect to $TEST_ROOT/run/supd/supd.sock: "
        run supctl list
        [ "$status" -eq 1 ]
}

@test "verify works without a daemon" {
        write_unit ok <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/true
Environment=A=1 "B=two words"
PublishPort=8080:80
[Deploy]
Replicas=3
UNIT
        run supctl verify --json "$UNITS/ok.container"
        [ "$status" -eq 0 ]
        echo "$output" | jq -e '.ok == true and .unit == "ok"'
        echo "$output" | jq -e '.sections.Container.Environment.B == "two words"'
        echo "$output" | jq -e '.sections.Container.PublishPort == ["8080:80"]'
        echo "$output" | jq -e '.sections.Deploy.Replicas == 3'
        printf '[Container]\nImage=x\nMemory=lots\n' > "$UNITS/bad.container"
        run supctl verify "$UNITS/bad.container"
        [ "$status" -eq 1 ]
        assert_contains "$output" "$UNITS/bad.container:3: "
        assert_contains "$output" "lots"
}

@test "a non-root client is refused with a clear message" {
        start_supd
        command -v setpriv
        chmod 755 "$TEST_ROOT" "$TEST_ROOT/run" "$TEST_ROOT/run/supd"
        # The socket itself is root-only...
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$SUPCTL" --root "$TEST_ROOT" list
        [ "$status" -eq 1 ]
        assert_contains "$output" "Permission denied"
        # ...and even with the file opened up, every call checks the peer's credentials.
        chmod 666 "$TEST_ROOT/run/supd/supd.sock"
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$SUPCTL" --root "$TEST_ROOT" list
        [ "$status" -eq 1 ]
        assert_contains "$output" "Permission denied"
        supctl list
}

@test "busctl introspects and calls the control socket" {
        command -v busctl
        start_supd
        addr="unix:path=$TEST_ROOT/run/supd/supd.sock"
        run busctl --address="$addr" introspect io.supd /io/supd
        [ "$status" -eq 0 ]
        assert_contains "$output" "io.supd.Manager1"
        assert_contains "$output" ".ListUnits"
        run busctl --address="$addr" call io.supd /io/supd io.supd.Manager1 Ping
        [ "$status" -eq 0 ]
        assert_contains "$output" 's "'
}

@test "one supd per root; a stale socket from a crash is replaced" {
        start_supd
        first=$SUPD_PID
        run nsenter --net="/run/netns/$NETNS" "$SUPD" --root "$TEST_ROOT"
        [ "$status" -ne 0 ]
        assert_contains "$output" "Another supd is already running"
        kill -KILL "$first"
        wait "$first" 2>/dev/null || true
        [ -S "$TEST_ROOT/run/supd/supd.sock" ]
        start_supd
        supctl list
}

@test "malformed messages and vanishing clients do not disturb the daemon" {
        write_unit s <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'trap "" TERM; while :; do sleep 1; done'
StopTimeout=2
[Install]
WantedBy=multi-user.target
UNIT
        start_supd
        sock=$TEST_ROOT/run/supd/supd.sock
        # Garbage instead of the D-Bus handshake, then a huge blob.
        python3 - "$sock" <<'PY'
import socket, sys
for payload in (b"\0AUTH GARBAGE\r\n" * 100, b"\0" + b"x" * (4 << 20)):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    try:
        s.sendall(payload)
    except OSError:
        pass
    s.close()
PY
        # A client that asks for a stop and disappears before the answer.
        timeout -s KILL 0.3 "$SUPCTL" --root "$TEST_ROOT" stop s || true
        supctl list
        wait_until 10 state_is s failed
        [ "$(prop s Result)" = timeout ]
        supctl start s
        state_is s running
}

@test "a start that is still waiting fails when the unit is stopped meanwhile" {
        start_supd
        hanging_registry_unit slow
        start_in_background slow
        supctl stop slow
        start_result
        [ "$START_RC" -eq 1 ]
        assert_contains "$(cat "$TEST_ROOT/start.out")" "Job for slow canceled: unit was stopped"
        [ "$(prop slow ActiveState)" = inactive ]
}

@test "a start that is still waiting fails when the unit file is removed by a reload" {
        start_supd
        hanging_registry_unit slow
        start_in_background slow
        rm "$UNITS/slow.container"
        supctl reload
        start_result
        [ "$START_RC" -eq 1 ]
        assert_contains "$(cat "$TEST_ROOT/start.out")" "Job for slow canceled: unit file was removed"
}

@test "a start that is still waiting fails when supd shuts down" {
        start_supd
        hanging_registry_unit slow
        start_in_background slow
        kill -TERM "$SUPD_PID"
        start_result
        [ "$START_RC" -eq 1 ]
        assert_contains "$(cat "$TEST_ROOT/start.out")" "Job for slow canceled: supd is shutting down"
}

@test "a start that is still waiting fails when the pull fails" {
        start_supd
        hanging_registry_unit slow
        start_in_background slow
        # The registry goes away: the pull's connection is reset.
        end_bg "$HANG_PID"
        HANG_PID=
        start_result
        [ "$START_RC" -eq 1 ]
        assert_contains "$(cat "$TEST_ROOT/start.out")" "Unit slow failed (resources)"
        [ "$(prop slow ActiveState)" = failed ]
}

@test "a restart during the wait does not answer the waiting start; both fail with the pull" {
        start_supd
        hanging_registry_unit slow
        start_in_background slow
        ( rc=0; "$SUPCTL" --root "$TEST_ROOT" restart slow >"$TEST_ROOT/restart.out" 2>&1 || rc=$?
          echo "$rc" >"$TEST_ROOT/restart.rc" ) &
        restart_pid=$!
        # The restart stops the pulling unit and starts it again: it pulls again (joining the
        # pull that still runs).
        wait_until 10 sh -c "[ \$(grep -c 'slow: pulling ' '$TEST_ROOT/supd.log') -ge 2 ]"
        [ ! -e "$TEST_ROOT/start.rc" ]
        [ "$(prop slow ActiveState)" = activating ]
        end_bg "$HANG_PID"
        HANG_PID=
        start_result
        [ "$START_RC" -eq 1 ]
        assert_contains "$(cat "$TEST_ROOT/start.out")" "Unit slow failed (resources)"
        wait_until 20 test -s "$TEST_ROOT/restart.rc"
        wait "$restart_pid" || true
        [ "$(cat "$TEST_ROOT/restart.rc")" -eq 1 ]
        assert_contains "$(cat "$TEST_ROOT/restart.out")" "Unit slow failed (resources)"
}

@test "supd answers while a reload waits for its starts; the reply says which start failed, and why" {
        start_supd
        hanging_registry_unit slow
        # Both autostart now: the reload starts them and waits for them.
        simple_unit quick
        printf '[Install]\nWantedBy=multi-user.target\n' >>"$UNITS/slow.container"
        ( rc=0; "$SUPCTL" --root "$TEST_ROOT" reload >"$TEST_ROOT/reload.out" 2>&1 || rc=$?
          echo "$rc" >"$TEST_ROOT/reload.rc" ) &
        reload_pid=$!
        wait_until 10 grep -q "slow: pulling " "$TEST_ROOT/supd.log"
        # The reload is still waiting for slow; every other call is answered meanwhile.
        wait_until 10 state_is quick running
        run supctl list
        [ "$status" -eq 0 ]
        assert_contains "$output" "quick"
        [ ! -e "$TEST_ROOT/reload.rc" ]
        # The registry goes away: the pull fails, and only then does the reload answer.
        end_bg "$HANG_PID"
        HANG_PID=
        wait_until 20 test -s "$TEST_ROOT/reload.rc"
        wait "$reload_pid" || true
        cat "$TEST_ROOT/reload.out"
        grep -qx "started quick" "$TEST_ROOT/reload.out"
        # "failed slow: WHY", the pull's own error.
        grep -qE "^failed slow: .+" "$TEST_ROOT/reload.out"
}

# supd's children that are image workers (named supd-image once they run; "supd" just after the fork).
image_workers() {
        ps --ppid "$SUPD_PID" -o comm= | grep -cxE 'supd(-image)?' || true
}

@test "units that need one image at once share one pull, and all fail with its error" {
        start_supd
        hanging_registry_unit one two
        printf '[Install]\nWantedBy=multi-user.target\n' >>"$UNITS/one.container"
        printf '[Install]\nWantedBy=multi-user.target\n' >>"$UNITS/two.container"
        # One reload starts both: the second asks for the image while the first one's pull runs.
        ( rc=0; "$SUPCTL" --root "$TEST_ROOT" reload >"$TEST_ROOT/reload.out" 2>&1 || rc=$?
          echo "$rc" >"$TEST_ROOT/reload.rc" ) &
        reload_pid=$!
        wait_until 10 grep -q "one: pulling " "$TEST_ROOT/supd.log"
        wait_until 10 grep -q "two: pulling " "$TEST_ROOT/supd.log"
        [ "$(prop one ActiveState)" = activating ]
        [ "$(prop two ActiveState)" = activating ]
        # The worker has reached the registry: one worker, one connection.
        wait_until 10 test -s "$TEST_ROOT/hang.conns"
        [ "$(image_workers)" -eq 1 ]
        [ "$(cat "$TEST_ROOT/hang.conns")" -eq 1 ]
        # The registry goes away: the one pull fails, and both units with it.
        end_bg "$HANG_PID"
        HANG_PID=
        wait_until 20 test -s "$TEST_ROOT/reload.rc"
        wait "$reload_pid" || true
        cat "$TEST_ROOT/reload.out"
        [ "$(cat "$TEST_ROOT/reload.rc")" -eq 1 ]
        [ "$(prop one ActiveState)" = failed ]
        [ "$(prop two ActiveState)" = failed ]
        error=$(prop one LastError)
        [ -n "$error" ] && [ "$error" != null ]
        [ "$(prop two LastError)" = "$error" ]
        grep -qxF "failed one: $error" "$TEST_ROOT/reload.out"
        grep -qxF "failed two: $error" "$TEST_ROOT/reload.out"
        # One worker failed, once.
        [ "$(grep -c 'Image 127.0.0.1:.*/test/never:1: ' "$TEST_ROOT/supd.log")" -eq 1 ]
}

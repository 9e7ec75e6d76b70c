#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The control socket: no daemon, access control, busctl, one supd per root, stale sockets.

load helpers

setup() { setup_supd; }
teardown() { teardown_supd; }

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

#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The control socket under pressure: clients that connect and say nothing, floods from one user,
# the handshake deadline (supd(8), "Connection limits").

load helpers

setup() { setup_supd; }
teardown() {
        end_bg "${FLOOD_PID:-}"
        teardown_supd
}

# flood N [UID]: opens N connections to supd's socket in the background (as UID if given) and
# never sends a byte. Writes "connected N" to $TEST_ROOT/flood.out once all are open, then waits
# at most 15 s for supd to close them and writes "closed K" (K: how many it saw closed).
flood() {
        python3 - "$TEST_ROOT/run/supd/supd.sock" "$1" "${2:-}" >"$TEST_ROOT/flood.out" 2>&1 <<'PY' &
import os, selectors, socket, sys, time
path, n, uid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if uid:
    os.setgroups([])
    os.setresgid(int(uid), int(uid), int(uid))
    os.setresuid(int(uid), int(uid), int(uid))
sel = selectors.DefaultSelector()
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    socks.append(s)
print("connected", len(socks), flush=True)
closed, deadline = 0, time.monotonic() + 15
while closed < n and time.monotonic() < deadline:
    for key, _ in sel.select(timeout=0.5):
        try:
            data = key.fileobj.recv(4096)
        except ConnectionResetError:
            data = b""
        if not data:
            sel.unregister(key.fileobj)
            closed += 1
print("closed", closed, flush=True)
PY
        FLOOD_PID=$!
        export FLOOD_PID
        wait_until 10 grep -q "^connected $1" "$TEST_ROOT/flood.out"
}

# Waits (bounded by the flood's own 15 s) for the flood to finish and checks that supd closed
# every silent connection.
flood_all_closed() {
        wait "$FLOOD_PID" || true
        FLOOD_PID=
        cat "$TEST_ROOT/flood.out"
        grep -qx "closed $1" "$TEST_ROOT/flood.out"
}

@test "300 silent root connections do not lock root out; supd closes them all" {
        start_supd
        flood 300
        # A new client gets in at once, while the silent ones are still open.
        run supctl list
        [ "$status" -eq 0 ]
        assert_contains "$output" "units listed"
        supctl list
        flood_all_closed 300
        supctl list
}

@test "a connection that never completes the handshake is closed after the timeout" {
        start_supd --log-level=debug
        flood 1
        flood_all_closed 1
        grep -q "Dropping a control connection of UID 0: no request within the handshake timeout" \
                "$TEST_ROOT/supd.log"
        supctl list
}

@test "a non-root user opening many connections cannot lock out root" {
        start_supd
        chmod 755 "$TEST_ROOT" "$TEST_ROOT/run" "$TEST_ROOT/run/supd"
        chmod 666 "$TEST_ROOT/run/supd/supd.sock"
        flood 300 65534
        run supctl list
        [ "$status" -eq 0 ]
        assert_contains "$output" "units listed"
        # The user itself still gets its clear answer, not a hang.
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$SUPCTL" --root "$TEST_ROOT" list
        [ "$status" -eq 1 ]
        assert_contains "$output" "Permission denied"
        flood_all_closed 300
        supctl list
}

@test "a client that has made its first call may stay connected past the handshake timeout" {
        simple_unit s
        start_supd_running s
        # exec keeps its connection open for the command's exit status.
        run supctl exec s sh -c 'sleep 7; exit 3'
        [ "$status" -eq 3 ]
}

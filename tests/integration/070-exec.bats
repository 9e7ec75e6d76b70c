#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# supctl exec and supctl run: joining a running container, exit statuses, terminals, transient
# containers. Terminals are driven through script(1).

load helpers
bats_require_minimum_version 1.5.0

setup() {
        setup_supd
        write_unit web <<UNIT
[Container]
Rootfs=$ROOTFS
User=www-data
Environment=GREETING=hello
Memory=64M
Exec=/bin/sleep 1000
[Install]
WantedBy=multi-user.target
UNIT
        start_supd_running web
}
teardown() { teardown_supd; }

@test "exec returns the command's status and joins every namespace, the cgroup, user, caps and env" {
        run supctl exec web sh -c 'exit 7'
        [ "$status" -eq 7 ]
        # The container's root, not the host's (setns alone does not move it on every kernel).
        run supctl exec web sh -c 'test -x /bin/probe && test ! -e /usr/lib/os-release && echo container-root'
        [ "$output" = container-root ]
        run supctl exec web sh -c 'id; echo G=$GREETING; hostname; grep CapEff /proc/self/status; cat /proc/self/cgroup | tail -1; ps -o pid,comm | grep -c sleep; probe fds'
        [ "$status" -eq 0 ]
        assert_contains "$output" "uid=33(www-data)"
        assert_contains "$output" "G=hello"
        assert_contains "$output" "web"
        assert_contains "$output" "CapEff:	0000000000000000"
        assert_contains "$output" "0::/"
        echo "$output" | grep -qx "1"      # it sees the container's sleep, and only its processes
        echo "$output" | grep -qx "0 1 2 " || echo "$output" | grep -q "^0 1 2"
        # The exec'd command counts against the container's cgroup (it is inside it).
        p=$(sed -n 's/^Parent=//p' "$TEST_ROOT/etc/supd/supd.conf")
        supctl exec web sleep 30 &
        execpid=$!
        wait_until 5 sh -c "[ \$($SUPCTL --root $TEST_ROOT inspect web | jq .TasksCurrent) -ge 3 ]"
        kill "$execpid" 2>/dev/null || true
        wait "$execpid" 2>/dev/null || true
}

@test "exec: -i passes stdin; a missing command is 127, a bad one 126, a missing unit 4, a stopped one an error" {
        run sh -c "echo through-stdin | $SUPCTL --root $TEST_ROOT exec -i web cat"
        [ "$status" -eq 0 ]
        [ "$output" = through-stdin ]
        # Without -i the command reads nothing.
        run sh -c "echo ignored | $SUPCTL --root $TEST_ROOT exec web cat"
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        run -127 supctl exec web /no/such/command
        [ "$status" -eq 127 ]
        assert_contains "$output" "exec /no/such/command: No such file or directory"
        # A file that is no valid executable is not run through /bin/sh: 126.
        supctl exec web sh -c 'printf "echo ran-through-sh\n" > /tmp/app; chmod +x /tmp/app'
        run -126 supctl exec web /tmp/app
        assert_contains "$output" "exec /tmp/app: Exec format error"
        [[ "$output" != *ran-through-sh* ]]
        run supctl exec nosuch ls
        [ "$status" -eq 4 ]
        supctl stop web
        run supctl exec web ls
        [ "$status" -eq 1 ]
        assert_contains "$output" "not running"
}

@test "exec and run refuse a host directory as stdio: it would be a path out of the container" {
        mkdir -p "$TEST_ROOT/hostdir"
        echo host-secret > "$TEST_ROOT/hostdir/marker"
        run sh -c "$SUPCTL --root $TEST_ROOT exec -i web cat /proc/self/fd/0/marker < $TEST_ROOT/hostdir"
        [ "$status" -ne 0 ]
        assert_contains "$output" "stdin given is a directory"
        [[ "$output" != *host-secret* ]]
        run sh -c "$SUPCTL --root $TEST_ROOT run -i --rm --rootfs $ROOTFS cat /proc/self/fd/0/marker < $TEST_ROOT/hostdir"
        [ "$status" -ne 0 ]
        assert_contains "$output" "stdin given is a directory"
        [[ "$output" != *host-secret* ]]
}

@test "exec -t allocates a pty inside the container and returns the status" {
        run script -qec "$SUPCTL --root $TEST_ROOT exec -t web sh -c 'tty; exit 5'" /dev/null
        [ "$status" -eq 5 ]
        assert_contains "$output" "/dev/pts/0"
        # Interactive, with typed input.
        run sh -c "(sleep 1; printf 'echo typed-\$((40+2))\rexit 9\r') | script -qec '$SUPCTL --root $TEST_ROOT exec -it web sh' /dev/null"
        [ "$status" -eq 9 ]
        assert_contains "$output" "typed-42"
}

@test "run: a transient container in the foreground, its status, --rm, --name" {
        run supctl run --rm --rootfs "$ROOTFS" sh -c 'echo in-run; hostname; exit 3'
        [ "$status" -eq 3 ]
        assert_contains "$output" "in-run"
        assert_contains "$output" "run-"
        # --rm: nothing of it is left.
        wait_until 5 sh -c "! $SUPCTL --root $TEST_ROOT list --all | grep -q ^run-"
        [ -z "$(ls "$TEST_ROOT/var/lib/supd/containers" | grep run-)" ]
        # --name, and without --rm it stays listed until the next run of that name.
        run supctl run --name once --rootfs "$ROOTFS" sh -c 'echo x > /f; exit 0'
        [ "$status" -eq 0 ]
        [ "$(prop once ActiveState)" = inactive ]
        [ -f "$TEST_ROOT/var/lib/supd/containers/once/upper/f" ]
        run supctl run --name web --rootfs "$ROOTFS" true
        [ "$status" -eq 125 ]
        assert_contains "$output" "exists already"
}

@test "run -t top shows the container's processes only" {
        run script -qec "$SUPCTL --root $TEST_ROOT run -t --rm --rootfs $ROOTFS top -n 1" /dev/null
        [ "$status" -eq 0 ]
        assert_contains "$output" "supd-init"
        assert_contains "$output" "top -n 1"
        [[ "$output" != *"sleep 1000"* ]]   # the other container's process is not visible
}

@test "Ctrl-C (SIGINT) on run without a terminal stops the container" {
        "$SUPCTL" --root "$TEST_ROOT" run --name fg --rootfs "$ROOTFS" sleep 1000 &
        pid=$!
        wait_until 5 state_is fg running
        kill -INT "$pid"
        wait_until 10 sh -c "! kill -0 $pid"
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 143 ]     # the workload ended by SIGTERM, the stop signal
        [ "$(prop fg ActiveState)" = inactive ]
}

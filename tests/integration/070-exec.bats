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
teardown() {
        # A test that froze the container's cgroup thaws it, also when it failed midway.
        [ -z "${FREEZE:-}" ] || echo 0 > "$FREEZE" 2>/dev/null || true
        teardown_supd
}

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

@test "an exec being set up does not hold supd: other calls are answered meanwhile" {
        # The container's cgroup2 directory (/sys/fs/cgroup/unified on a hybrid host), frozen: the
        # exec helper is born in it (CLONE_INTO_CGROUP) and cannot go on with its setup until thawed.
        pid=$(prop web MainPID)
        cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
        base=/sys/fs/cgroup
        [ -f $base/cgroup.controllers ] || base=/sys/fs/cgroup/unified
        [ -f "$base$cg/cgroup.freeze" ]
        procs=$(wc -l < "$base$cg/cgroup.procs")
        FREEZE=$base$cg/cgroup.freeze
        echo 1 > "$FREEZE"
        wait_until 5 grep -qx "frozen 1" "$base$cg/cgroup.events"
        supctl exec web echo thawed > "$TEST_ROOT/exec.out" 2>&1 &
        execpid=$!
        # The helper is in the (frozen) cgroup: its setup has begun and cannot finish.
        wait_until 5 sh -c "[ \$(wc -l < $base$cg/cgroup.procs) -gt $procs ]"
        run timeout 10 "$SUPCTL" --root "$TEST_ROOT" list
        [ "$status" -eq 0 ]
        assert_contains "$output" web
        run timeout 10 "$SUPCTL" --root "$TEST_ROOT" status web
        [ "$status" -eq 0 ]
        # Still pending: nothing could have run in the frozen cgroup.
        kill -0 "$execpid"
        [ ! -s "$TEST_ROOT/exec.out" ]
        echo 0 > "$FREEZE"
        FREEZE=
        wait "$execpid"
        [ "$(cat "$TEST_ROOT/exec.out")" = thawed ]
}

@test "a container that dies while an exec is being set up: the exec gets an error, not a hang" {
        pid=$(prop web MainPID)
        cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
        base=/sys/fs/cgroup
        [ -f $base/cgroup.controllers ] || base=/sys/fs/cgroup/unified
        procs=$(wc -l < "$base$cg/cgroup.procs")
        FREEZE=$base$cg/cgroup.freeze
        echo 1 > "$FREEZE"
        wait_until 5 grep -qx "frozen 1" "$base$cg/cgroup.events"
        supctl exec web echo never > "$TEST_ROOT/exec.out" 2>&1 &
        execpid=$!
        wait_until 5 sh -c "[ \$(wc -l < $base$cg/cgroup.procs) -gt $procs ]"
        # SIGKILL reaches frozen processes: the container goes, and so does the half-set-up helper.
        run timeout 10 "$SUPCTL" --root "$TEST_ROOT" kill -s KILL web
        [ "$status" -eq 0 ]
        wait_until 10 sh -c "! kill -0 $execpid"
        run wait "$execpid"
        [ "$status" -ne 0 ]
        run cat "$TEST_ROOT/exec.out"
        [[ "$output" != *never* ]]
        assert_contains "$output" "supctl: "
        wait_until 10 sh -c "$SUPCTL --root $TEST_ROOT inspect web | jq -r .State | grep -qvx running"
        FREEZE=
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
        # Its run's writable layer stays with it (podman run without --rm), the only one.
        layers=("$TEST_ROOT"/var/lib/supd/containers/once/*/upper)
        [ "${#layers[@]}" -eq 1 ]
        [ -f "${layers[0]}/f" ]
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

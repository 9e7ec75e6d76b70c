#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Start, stop, reload and dependencies.

load helpers

setup() { setup_supd; }
teardown() { teardown_supd; }

pidns_of() { readlink "/proc/$1/ns/pid"; }

# Every process whose PID namespace is ns.
procs_in_ns() {
        local ns=$1 p
        for p in /proc/[0-9]*; do
                [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
        done
        return 0
}

@test "a process ignoring SIGTERM is killed after StopTimeout= and leaves nothing behind" {
        write_unit stubborn <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'trap "" TERM; sleep 1000 & sleep 1000 & wait; wait'
StopTimeout=1
[Install]
WantedBy=multi-user.target
UNIT
        start_supd_running stubborn
        pid=$(prop stubborn MainPID)
        ns=$(pidns_of "$pid")
        [ "$(procs_in_ns "$ns" | wc -l)" -ge 3 ]
        start=$(date +%s%N)
        supctl stop stubborn
        elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
        echo "stop took ${elapsed}ms"
        [ "$elapsed" -ge 900 ]
        [ "$(prop stubborn ActiveState)" = failed ]
        [ "$(prop stubborn Result)" = timeout ]
        [ -z "$(procs_in_ns "$ns")" ]
        run ! kill -0 "$pid"
}

@test "stop returns when the unit is down; StopSignal= is used" {
        write_unit usr1 <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'trap "echo got USR1; exit 0" USR1; while :; do sleep 0.1; done'
StopSignal=SIGUSR1
StopTimeout=20
[Install]
WantedBy=multi-user.target
UNIT
        start_supd_running usr1
        sleep 0.2
        supctl stop usr1
        [ "$(prop usr1 ActiveState)" = inactive ]
        [ "$(prop usr1 Result)" = success ]
        grep -q "got USR1" "$TEST_ROOT/var/log/supd/usr1.log"
}

@test "status, list and inspect show the unit" {
        simple_unit web 'HostName=webhost'
        start_supd_running web
        run supctl status web
        [ "$status" -eq 0 ]
        assert_contains "$output" "● web - unit web"
        assert_contains "$output" "Loaded: loaded ($UNITS/web.container; enabled)"
        assert_contains "$output" "Active: active (running) since"
        assert_contains "$output" " ago"
        assert_contains "$output" "Main PID: $(prop web MainPID)"
        run supctl list
        assert_contains "$output" "UNIT LOAD   ACTIVE SUB     IMAGE"
        [[ "$output" =~ web\ +loaded\ +active\ +running ]]
        supctl list --json | jq -e '.[] | select(.unit == "web" and .active == "active")'
        supctl status --json web | jq -e '.[0].Name == "web"'
        # not active: exit 3; unknown: exit 4
        supctl stop web
        run supctl status web
        [ "$status" -eq 3 ]
        assert_contains "$output" "○ web"
        run supctl status nosuch
        [ "$status" -eq 4 ]
        assert_contains "$output" "nosuch"
}

@test "the container is isolated: own PID namespace, hostname, root" {
        write_unit iso <<UNIT
[Container]
Rootfs=$ROOTFS
HostName=isohost
Exec=/bin/sh -c 'echo host=\$(hostname); echo pid=\$\$; ps -o pid,comm; ls /; sleep 1000'
[Install]
WantedBy=multi-user.target
UNIT
        start_supd
        wait_until 5 grep -q "^pid=" "$TEST_ROOT/var/log/supd/iso.log"
        log=$(cat "$TEST_ROOT/var/log/supd/iso.log")
        assert_contains "$log" "host=isohost"
        assert_contains "$log" "pid=2"     # our init is PID 1
        [ "$(echo "$log" | grep -cE '^ +[0-9]+ ')" -le 4 ]
        # The rootfs was not written to: writes land in the container's upper dir.
        [ ! -e "$ROOTFS/proc/1" ] || [ -z "$(ls "$ROOTFS/proc")" ]
}

@test "a missing command fails the start with one line, counted by the restart engine" {
        write_unit noexec <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/app
[Service]
Restart=on-failure
RestartSec=10ms
[Unit]
StartLimitBurst=3
UNIT
        start_supd
        run supctl start noexec
        [ "$status" -eq 1 ]
        assert_contains "$output" "exec /app: No such file or directory"
        wait_until 5 state_is noexec failed
        [ "$(prop noexec Result)" = start-limit-hit ]
        [ "$(prop noexec NRestarts)" = 3 ]
        [ "$(prop noexec ExitStatus)" = 127 ] || [ "$(prop noexec LastError)" != "" ]
}

@test "reload adds, removes and changes units and leaves the others untouched" {
        simple_unit keep
        simple_unit change
        simple_unit remove
        start_supd_running keep
        keep_pid=$(prop keep MainPID)
        change_pid=$(prop change MainPID)
        simple_unit add
        rm "$UNITS/remove.container"
        simple_unit change 'Environment=NEW=1'
        # A description-only change is not a config change.
        sed -i 's/Description=unit keep/Description=kept/' "$UNITS/keep.container"
        run supctl reload
        [ "$status" -eq 0 ]
        assert_contains "$output" "started add"
        assert_contains "$output" "stopped remove"
        assert_contains "$output" "replaced change"
        [ "$(prop keep MainPID)" = "$keep_pid" ]
        [ "$(prop keep Description)" = kept ]
        [ "$(prop change ActiveState)" = active ]
        [ "$(prop change MainPID)" != "$change_pid" ]
        [ "$(prop add ActiveState)" = active ]
        wait_until 5 sh -c "! $SUPCTL --root $TEST_ROOT inspect remove"
        # SIGHUP does the same.
        simple_unit hup
        kill -HUP "$SUPD_PID"
        wait_until 5 state_is hup running
        [ "$(prop keep MainPID)" = "$keep_pid" ]
}

@test "one broken unit among several; a running unit whose file turns invalid keeps running" {
        simple_unit good1
        simple_unit good2
        write_unit broken <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/true
PodmanArgs=--foo
UNIT
        start_supd_running good1
        state_is good2 running
        run supctl status broken
        [ "$status" -eq 3 ]
        assert_contains "$output" "$UNITS/broken.container:4: "
        assert_contains "$output" "PodmanArgs"
        pid=$(prop good1 MainPID)
        sed -i '/^\[Container\]/a Frobnicate=yes' "$UNITS/good1.container"
        run supctl reload
        assert_contains "$output" "failed good1"
        [ "$(prop good1 MainPID)" = "$pid" ]
        [ "$(prop good1 ActiveState)" = active ]
        run supctl status good1
        assert_contains "$output" "good1.container:4: "
        assert_contains "$output" "Frobnicate"
}

@test "hostile entries in the unit directory do not disturb the daemon" {
        simple_unit fine
        mkfifo "$UNITS/fifo.container"
        ln -s /dev/zero "$UNITS/zero.container"
        ln -s /dev/null "$UNITS/null.container"
        head -c 100000 /dev/urandom > "$UNITS/binary.container"
        printf '[Container]\nRootfs=/x\nExec=\xff\xfe\n' > "$UNITS/utf8.container"
        : > "$UNITS/empty.container"
        touch "$UNITS/$(printf 'bad\001name').container"
        touch "$UNITS/$(head -c 80 /dev/zero | tr '\0' a).container"
        start_supd_running fine
        run supctl list --all
        assert_contains "$output" "fine"
        for u in fifo zero binary utf8 empty; do
                run supctl status "$u"
                [ "$status" -eq 3 ]
        done
}

@test "dependencies start in order and stop in reverse" {
        write_unit db <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
UNIT
        write_unit app <<UNIT
[Unit]
Requires=db.container
After=db.container
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
[Install]
WantedBy=multi-user.target
UNIT
        write_unit front <<UNIT
[Unit]
Wants=app
After=app.container
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
[Install]
WantedBy=multi-user.target
UNIT
        start_supd_running front
        state_is db running
        log=$TEST_ROOT/supd.log
        l_db=$(grep -n "db: started" "$log" | cut -d: -f1)
        l_app=$(grep -n "app: started" "$log" | cut -d: -f1)
        l_front=$(grep -n "front: started" "$log" | cut -d: -f1)
        [ "$l_db" -lt "$l_app" ] && [ "$l_app" -lt "$l_front" ]
        # Stopping db stops app (Requires=) first; front only Wants= app and stays.
        supctl stop db
        [ "$(prop app ActiveState)" = inactive ]
        [ "$(prop front ActiveState)" = active ]
        l_app_stop=$(grep -n "app: running -> stopping" "$log" | cut -d: -f1)
        l_db_stop=$(grep -n "db: running -> stopping" "$log" | cut -d: -f1)
        [ "$l_app_stop" -lt "$l_db_stop" ]
        # Starting app pulls db in again; supd's own shutdown stops in reverse order.
        supctl start app
        state_is db running
        stop_supd
        l_front_stop=$(grep -n "front: running -> stopping" "$log" | tail -1 | cut -d: -f1)
        l_app_stop=$(grep -n "app: running -> stopping" "$log" | tail -1 | cut -d: -f1)
        l_db_stop=$(grep -n "db: running -> stopping" "$log" | tail -1 | cut -d: -f1)
        [ "$l_front_stop" -lt "$l_app_stop" ] && [ "$l_app_stop" -lt "$l_db_stop" ]
}

@test "a dependency cycle or a missing dependency is an error on the unit, not a hang" {
        write_unit c1 <<UNIT
[Unit]
After=c2
Wants=c2
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
[Install]
WantedBy=multi-user.target
UNIT
        write_unit c2 <<UNIT
[Unit]
After=c1
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
UNIT
        write_unit orphan <<UNIT
[Unit]
Requires=ghost
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
[Install]
WantedBy=multi-user.target
UNIT
        # Quadlet refuses a .container dependency that exists nowhere: the unit does not load.
        write_unit orphan2 <<UNIT
[Unit]
Requires=ghost.container
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
[Install]
WantedBy=multi-user.target
UNIT
        simple_unit bystander
        start_supd_running bystander
        [ "$(prop c1 ActiveState)" = failed ]
        [ "$(prop c1 Result)" = dependency ]
        assert_contains "$(prop c1 LastError)" "ordering cycle"
        [ "$(prop orphan ActiveState)" = failed ]
        assert_contains "$(prop orphan LastError)" "ghost does not exist"
        run supctl start orphan
        [ "$status" -eq 1 ]
        assert_contains "$output" "ghost"
        [ "$(prop orphan2 LoadState)" = error ]
        assert_contains "$(prop orphan2 'LoadErrors[0]')" \
                "orphan2.container:2: Requires=ghost.container: no such unit on the search path"
        run supctl start orphan2
        [ "$status" -eq 1 ]
        assert_contains "$output" "Requires=ghost.container: no such unit on the search path"
}

@test "templates: instances start by name and by DefaultInstance=" {
        write_unit 'echo@' <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'echo instance=%i; sleep 1000'
[Install]
WantedBy=multi-user.target
DefaultInstance=first
UNIT
        start_supd_running echo@first
        supctl start echo@second
        state_is echo@second running
        wait_until 5 grep -q "instance=second" "$TEST_ROOT/var/log/supd/echo@second.log"
        grep -q "instance=first" "$TEST_ROOT/var/log/supd/echo@first.log"
}

@test "each run has a state record: run id, pid and its start time, cgroup, config hash" {
        write_unit rec <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
[Service]
Restart=always
RestartSec=0
UNIT
        start_supd
        supctl start rec
        wait_until 5 state_is rec running
        id=$(prop rec RunID)
        pid=$(prop rec MainPID)
        [[ "$id" =~ ^[0-9a-f]{16}$ ]]
        dir=$TEST_ROOT/run/supd/instances/$id
        grep -qx "RUN_ID=$id" "$dir/state"
        grep -qx "UNIT=rec" "$dir/state"
        grep -qx "PID=$pid" "$dir/state"
        grep -qx "ROOTFS=$ROOTFS" "$dir/state"
        grep -qx "CONFIG_HASH=$(prop rec ConfigHash)" "$dir/state"
        read -r -a st < "/proc/$pid/stat"
        # Field 22 (start time); comm has no spaces here.
        grep -qx "START_TIME=${st[21]}" "$dir/state"
        [ "$(cat "$dir/pid")" = "$pid" ]
        [ -d "$dir/rootfs" ]
        # An automatic restart keeps the run: same id, a new process, a new record.
        kill -KILL "$pid"
        wait_until 10 sh -c "[ \"\$($SUPCTL --root $TEST_ROOT inspect rec | jq -r .MainPID)\" != $pid ] && [ \"\$($SUPCTL --root $TEST_ROOT inspect rec | jq -r .State)\" = running ]"
        [ "$(prop rec RunID)" = "$id" ]
        pid2=$(prop rec MainPID)
        grep -qx "PID=$pid2" "$dir/state"
        # Down for good: the run's directory goes; a new start is a new run.
        supctl stop rec
        [ ! -e "$dir" ]
        supctl start rec
        wait_until 5 state_is rec running
        id2=$(prop rec RunID)
        [ "$id2" != "$id" ]
        [ -f "$TEST_ROOT/run/supd/instances/$id2/state" ]
}

running_with_new_pid() { # running_with_new_pid UNIT OLDPID
        [ "$(prop "$1" State)" = running ] && [ "$(prop "$1" MainPID)" != "$2" ]
}

@test "two runs of a unit never share a cgroup or a writable layer; an automatic restart keeps them" {
        write_unit runs <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'echo x >> /mark; exec sleep 1000'
[Service]
Restart=always
RestartSec=0
UNIT
        start_supd
        supctl start runs
        wait_until 5 state_is runs running
        id=$(prop runs RunID)
        cg=$(prop runs ControlGroup)
        layer=$TEST_ROOT/var/lib/supd/containers/runs/$id
        # Both are keyed by the run id; the record names the run's cgroup.
        [[ "$cg" == */runs."$id" ]]
        [ -d "$cg" ]
        grep -qx "CGROUP=$cg" "$TEST_ROOT/run/supd/instances/$id/state"
        wait_until 5 test -f "$layer/upper/mark"
        [ -d "$layer/work" ]
        # An automatic restart is the same run: its id, cgroup and writable layer (so /mark grows).
        pid=$(prop runs MainPID)
        kill -KILL "$pid"
        wait_until 10 running_with_new_pid runs "$pid"
        [ "$(prop runs RunID)" = "$id" ]
        [ "$(prop runs ControlGroup)" = "$cg" ]
        [ -d "$cg" ]
        wait_until 5 sh -c "[ \$(wc -l < '$layer/upper/mark') -eq 2 ]"
        # A stop and a start make a new run: a new id, cgroup and layer; the old ones are gone, and
        # the new run starts from the root file system again.
        supctl stop runs
        wait_until 5 test ! -e "$cg" # a v1 directory may be held a moment longer
        [ ! -e "$layer" ]
        supctl start runs
        wait_until 5 state_is runs running
        id2=$(prop runs RunID)
        cg2=$(prop runs ControlGroup)
        [ "$id2" != "$id" ]
        [ "$cg2" = "${cg%/*}/runs.$id2" ]
        [ -d "$cg2" ]
        [ ! -e "$cg" ]
        wait_until 5 test -f "$TEST_ROOT/var/lib/supd/containers/runs/$id2/upper/mark"
        [ "$(wc -l < "$TEST_ROOT/var/lib/supd/containers/runs/$id2/upper/mark")" -eq 1 ]
        [ "$(ls "$TEST_ROOT/var/lib/supd/containers/runs")" = "$id2" ]
        supctl stop runs
        [ -z "$(ls "$TEST_ROOT/var/lib/supd/containers/runs")" ]
}

@test "supd raises its own open file limit; the container keeps the one supd was started with" {
        [ "$(ulimit -Hn)" != 1024 ] || { echo "the hard limit is 1024 here: nothing to raise" >&2; false; }
        ulimit -Sn 1024
        simple_unit lim
        start_supd_running lim
        [ "$(awk '/Max open files/ { print $4 }' "/proc/$SUPD_PID/limits")" = "$(ulimit -Hn)" ]
        pid=$(prop lim MainPID)
        # The workload our init forked (the init itself is supd's code, and keeps supd's limit).
        child=$(cat "/proc/$pid/task/$pid/children" | awk '{ print $1 }')
        [ "$(awk '/Max open files/ { print $4 }' "/proc/$child/limits")" = 1024 ]
}

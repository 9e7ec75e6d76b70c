#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# What a workload sees from inside: namespaces, /proc and /sys, capabilities, seccomp, fds,
# credentials, mounts. Each test runs the probe commands as the container's command and reads
# its output from the container log.

load helpers

setup() { setup_supd; }
teardown() { teardown_supd; }

# run_in NAME EXTRA-[Container]-LINES SCRIPT: starts a unit running SCRIPT under sh, waits for it to
# print "done", and leaves its output in $output.
run_in() {
        local name=$1 extra=$2 script=$3
        write_unit "$name" <<UNIT
[Container]
Rootfs=$ROOTFS
$extra
Exec=/bin/sh -c '$script; echo done; sleep 1000'
[Install]
WantedBy=multi-user.target
UNIT
        start_supd
        wait_until 10 grep -q '^done$' "$TEST_ROOT/var/log/supd/$name.log" || { cat "$TEST_ROOT/var/log/supd/$name.log"; false; }
        output=$(cat "$TEST_ROOT/var/log/supd/$name.log")
}

@test "ps shows only the container's processes; hostname is the instance's" {
        run_in iso "" 'hostname; ps -o pid,comm'
        lines=$(echo "$output" | grep -cE '^ +[0-9]+ ')
        [ "$lines" -le 4 ] || { echo "$output"; false; }
        assert_contains "$output" "iso"
        echo "$output" | grep -qE '^ +1 supd-init'
}

@test "default capabilities are Docker's; AddCapability= and DropCapability= change them" {
        write_unit more <<UNIT
[Container]
Rootfs=$ROOTFS
AddCapability=NET_ADMIN SYS_TIME
DropCapability=CHOWN
Exec=/bin/sh -c 'grep CapEff /proc/self/status; echo done; sleep 1000'
[Install]
WantedBy=multi-user.target
UNIT
        write_unit none <<UNIT
[Container]
Rootfs=$ROOTFS
DropCapability=all
Exec=/bin/sh -c 'grep -E "Cap(Eff|Bnd)" /proc/self/status; echo done; sleep 1000'
[Install]
WantedBy=multi-user.target
UNIT
        run_in default "" 'grep -E "Cap(Eff|Prm|Bnd|Amb)" /proc/self/status'
        assert_contains "$output" "CapEff:	00000000a80425fb"
        assert_contains "$output" "CapBnd:	00000000a80425fb"
        assert_contains "$output" "CapAmb:	0000000000000000"
        wait_until 5 grep -q done "$TEST_ROOT/var/log/supd/more.log"
        # a80425fb - CHOWN(0) + NET_ADMIN(12) + SYS_TIME(25)
        grep -q "CapEff:	00000000aa0435fa" "$TEST_ROOT/var/log/supd/more.log"
        wait_until 5 grep -q done "$TEST_ROOT/var/log/supd/none.log"
        grep -q "CapEff:	0000000000000000" "$TEST_ROOT/var/log/supd/none.log"
        grep -q "CapBnd:	0000000000000000" "$TEST_ROOT/var/log/supd/none.log"
}

@test "a non-root User= has no capabilities; names resolve in the image's passwd" {
        run_in user 'User=www-data
Group=nogroup' 'id; grep CapEff /proc/self/status; echo HOME=$HOME'
        assert_contains "$output" "uid=33(www-data) gid=65534(nogroup)"
        assert_contains "$output" "CapEff:	0000000000000000"
        assert_contains "$output" "HOME=/var/www"
}

@test "an unknown User= fails the start with a clear message" {
        write_unit ghost <<UNIT
[Container]
Rootfs=$ROOTFS
User=nosuchuser
Exec=/bin/true
UNIT
        start_supd
        run supctl start ghost
        [ "$status" -eq 1 ]
        assert_contains "$output" "no user 'nosuchuser' in the container's /etc/passwd"
}

@test "a command that is no valid executable fails the start with Exec format error, not through /bin/sh" {
        # A text file without "#!", executable: execvp() would hand it to /bin/sh.
        mkdir -p "$TEST_ROOT/app"
        printf 'echo ran-through-sh\nexit 3\n' > "$TEST_ROOT/app/app"
        chmod +x "$TEST_ROOT/app/app"
        write_unit badexec <<UNIT
[Container]
Rootfs=$ROOTFS
Volume=$TEST_ROOT/app:/opt/app:ro
Exec=/opt/app/app
UNIT
        # Found through PATH, the same.
        write_unit badexecpath <<UNIT
[Container]
Rootfs=$ROOTFS
Volume=$TEST_ROOT/app:/opt/app:ro
Environment=PATH=/nonexistent:/opt/app:/bin
Exec=app
UNIT
        start_supd
        run supctl start badexec
        [ "$status" -eq 1 ]
        assert_contains "$output" "exec /opt/app/app: Exec format error"
        wait_until 5 state_is badexec failed
        [ "$(prop badexec ExitStatus)" = 126 ]
        run supctl status badexec
        assert_contains "$output" "exec /opt/app/app: Exec format error"
        run supctl start badexecpath
        [ "$status" -eq 1 ]
        assert_contains "$output" "exec app: Exec format error"
        wait_until 5 state_is badexecpath failed
        [ "$(prop badexecpath ExitStatus)" = 126 ]
        run cat "$TEST_ROOT/var/log/supd/badexec.log" "$TEST_ROOT/var/log/supd/badexecpath.log"
        [[ "$output" != *ran-through-sh* ]]
}

@test "masked and read-only paths: /proc/kcore, /sys/firmware, /proc/sysrq-trigger, /proc/sys" {
        run_in masks "" 'echo kcore=$(cat /proc/kcore 2>/dev/null | wc -c); echo firmware=$(ls /sys/firmware | wc -l); echo x > /proc/sysrq-trigger && echo sysrq=written; echo 1 > /proc/sys/kernel/ns_last_pid && echo sysctl=written; touch /sys/x && echo sys=written; echo ok'
        assert_contains "$output" "kcore=0"
        assert_contains "$output" "firmware=0"
        [[ "$output" != *"sysrq=written"* ]]
        [[ "$output" != *"sysctl=written"* ]]
        [[ "$output" != *"sys=written"* ]]
}

# Docker's defaults (moby oci/defaults.go), spelled out so that a drift on either side shows.
MASKED_PATHS="/proc/asound /proc/acpi /proc/interrupts /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /sys/devices/virtual/powercap"
READONLY_PATHS="/proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger"

@test "every path Docker masks is masked, every path it makes read-only is read-only" {
        mkdir -p "$TEST_ROOT/scan"
        cat > "$TEST_ROOT/scan/masks.sh" <<'SCAN'
for p in $1; do
        if [ ! -e "$p" ]; then echo "$p absent"
        elif [ -d "$p" ]; then echo "$p dir entries=$(ls -A "$p" | wc -l) fs=$(stat -f -c %T "$p")"
        else echo "$p file dev=$(stat -c %t:%T "$p") bytes=$(head -c 16 "$p" | wc -c)"; fi
done
for p in $2; do
        [ -e "$p" ] || { echo "$p absent"; continue; }
        echo "$p opts=$(awk -v p="$p" '$5 == p { split($6, o, ","); print o[1] }' /proc/self/mountinfo | tail -1)"
done
SCAN
        run_in allmasks "Volume=$TEST_ROOT/scan:/scan:ro" "sh /scan/masks.sh \"$MASKED_PATHS\" \"$READONLY_PATHS\""
        echo "$output"
        for p in $MASKED_PATHS; do
                if [ ! -e "$p" ]; then
                        echo "$output" | grep -qx "$p absent"
                elif [ -d "$p" ]; then
                        echo "$output" | grep -qx "$p dir entries=0 fs=tmpfs"
                else
                        echo "$output" | grep -qx "$p file dev=1:3 bytes=0"
                fi
        done
        # /proc/interrupts exists on every kernel: the one Docker masks that supd did not.
        echo "$output" | grep -qx "/proc/interrupts file dev=1:3 bytes=0"
        for p in $READONLY_PATHS; do
                if [ -e "$p" ]; then
                        echo "$output" | grep -qx "$p opts=ro"
                else
                        echo "$output" | grep -qx "$p absent"
                fi
        done
        echo "$output" | grep -qx "/proc/sys opts=ro"
}

@test "seccomp and capabilities deny unshare, mount, keyctl and namespace clones" {
        run_in sec "" 'probe keyctl; probe unshare; probe mount; probe clone-ns; unshare -m true; echo unshare-cmd=$?'
        assert_contains "$output" "keyctl: Operation not permitted"
        assert_contains "$output" "unshare: Operation not permitted"
        assert_contains "$output" "mount: Operation not permitted"
        assert_contains "$output" "clone-ns: Operation not permitted"
        assert_contains "$output" "unshare-cmd=1"
}

@test "only fds 0, 1 and 2 reach the workload, under our init and as PID 1" {
        write_unit fds2 <<UNIT
[Container]
Rootfs=$ROOTFS
RunInit=no
Exec=/bin/probe fds
UNIT
        run_in fds "" 'echo fds=$(probe fds)'
        echo "$output" | grep -qx "fds=0 1 2"
        supctl start fds2
        wait_until 5 state_is fds2 inactive
        grep -qx "0 1 2 " "$TEST_ROOT/var/log/supd/fds2.log"
}

@test "RunInit=no makes the workload PID 1; RunInit= reaps orphans so no zombies remain" {
        write_unit pid1 <<UNIT
[Container]
Rootfs=$ROOTFS
RunInit=no
Exec=/bin/sh -c 'echo pid=\$\$; sleep 1000'
[Install]
WantedBy=multi-user.target
UNIT
        run_in reaper "" 'for i in 1 2 3 4 5; do (sleep 0.1 &); done; sleep 1; echo zombies=$(ps -o stat | grep -c "^Z")'
        assert_contains "$output" "zombies=0"
        wait_until 5 grep -q "pid=1" "$TEST_ROOT/var/log/supd/pid1.log"
}

@test "private network by default (lo only, up); Network=host shares the host's" {
        ip netns exec "$NETNS" ip link add supdtveth0 type veth peer name supdtveth1
        write_unit hostnet <<UNIT
[Container]
Rootfs=$ROOTFS
Network=host
Exec=/bin/sh -c 'echo links=\$(ls /sys/class/net | tr "\\n" " "); sleep 1000'
[Install]
WantedBy=multi-user.target
UNIT
        run_in priv "" 'echo links=$(ls /sys/class/net | tr "\n" " "); ip link show lo | grep -q "UP" && echo lo=up'
        echo "$output" | grep -qx "links=lo"
        assert_contains "$output" "lo=up"
        wait_until 5 grep -q "links=" "$TEST_ROOT/var/log/supd/hostnet.log"
        grep -q "supdtveth0" "$TEST_ROOT/var/log/supd/hostnet.log"
}

@test "Volume=, Tmpfs=, ReadOnly=, WorkingDir=, Environment= and the generated /etc files" {
        mkdir -p "$TEST_ROOT/data"
        echo from-host > "$TEST_ROOT/data/in"
        printf 'FROMFILE=yes\n# comment\nOVERRIDE=file\n' > "$TEST_ROOT/env"
        run_in mounts "Volume=$TEST_ROOT/data:/data
Volume=named:/named
Volume=$TEST_ROOT/data:/ro:ro
Tmpfs=/scratch:size=1m
ReadOnly=yes
WorkingDir=/data
EnvironmentFile=$TEST_ROOT/env
Environment=OVERRIDE=unit HOSTVAR=\"a b\"
HostName=box" 'cat in; echo written > out; echo x > /ro/y || echo ro=denied; touch /etc/z || echo rootfs=readonly; touch /tmp/t && echo tmp=writable; echo x > /scratch/s && df /scratch | tail -1 | grep -q tmpfs && echo scratch=tmpfs; echo pwd=$PWD; echo env=$FROMFILE,$OVERRIDE,$HOSTVAR; cat /etc/hostname; grep box /etc/hosts; touch /named/n && echo named=ok'
        assert_contains "$output" "from-host"
        [ "$(cat "$TEST_ROOT/data/out")" = written ]
        assert_contains "$output" "ro=denied"
        assert_contains "$output" "rootfs=readonly"
        assert_contains "$output" "tmp=writable"
        assert_contains "$output" "scratch=tmpfs"
        assert_contains "$output" "pwd=/data"
        assert_contains "$output" "env=yes,unit,a b"
        assert_contains "$output" "box"
        assert_contains "$output" "named=ok"
        [ -e "$TEST_ROOT/var/lib/supd/volumes/named/_data/n" ]
}

@test "a symlink in the image cannot redirect a mount outside the container" {
        # The image points /etc/hosts and a volume target at host paths; both must land inside.
        cp -a "$ROOTFS" "$TEST_ROOT/evil"
        rm -f "$TEST_ROOT/evil/etc/hosts"
        ln -s /../../../../tmp/supd-escape-$$ "$TEST_ROOT/evil/etc/hosts"
        ln -s /../../../../tmp/supd-escape-dir-$$ "$TEST_ROOT/evil/vol"
        mkdir -p "$TEST_ROOT/src"
        write_unit evil <<UNIT
[Container]
Rootfs=$TEST_ROOT/evil
Volume=$TEST_ROOT/src:/vol
Exec=/bin/sh -c 'echo done; sleep 1000'
[Install]
WantedBy=multi-user.target
UNIT
        start_supd
        wait_until 10 grep -q done "$TEST_ROOT/var/log/supd/evil.log"
        [ ! -e /tmp/supd-escape-$$ ]
        [ ! -e /tmp/supd-escape-dir-$$ ]
}

@test "the supd binary is not reachable from inside" {
        run_in cve "" 'ls -l /proc/1/exe 2>&1; cat /proc/1/exe > /dev/null 2>&1 && echo exe=readable; echo cmdline=$(tr "\0" " " < /proc/1/cmdline)'
        assert_contains "$output" "cmdline=supd-init"
        [[ "$output" != *"exe=readable"* ]]
        [[ "$output" != *"supervisor/supd"* ]]
}

# The scan run inside a container by the next test: every fd, cwd and root link of every process it
# can see is walked towards the host's root; a walk that reaches the marker file on the host, or a
# directory whose ".." chain ends anywhere but at the container's own root, is an escape.
write_escape_scan() {
        mkdir -p "$TEST_ROOT/scan"
        cat > "$TEST_ROOT/scan/scan.sh" <<'SCAN'
marker=$1
up=../../../../../../../../../../../../../../..
root=$(stat -L -c %d:%i /)
n=0; init=0; bad=0
for l in /proc/[0-9]*/fd/* /proc/[0-9]*/cwd /proc/[0-9]*/root; do
        [ -L "$l" ] || continue
        n=$((n + 1))
        case $l in /proc/1/fd/*) init=$((init + 1)) ;; esac
        if cat "$l$marker" 2>/dev/null || cat "$l/$up$marker" 2>/dev/null; then
                echo "ESCAPE: read the marker through $l -> $(readlink "$l")"; bad=1
        fi
        if touch "$l/$up$marker.created" 2>/dev/null; then
                echo "ESCAPE: created a file through $l"; bad=1
        fi
        if [ -d "$l" ] && [ "$(stat -L -c %d:%i "$l/$up" 2>/dev/null)" != "$root" ]; then
                echo "ESCAPE: $l -> $(readlink "$l") is a directory outside the container"; bad=1
        fi
done
for f in /proc/1/fd/*; do
        [ -L "$f" ] || continue
        head -2 "$f/../../../../../../../etc/shadow" 2>/dev/null && { echo "ESCAPE: /etc/shadow through $f"; bad=1; }
done
echo "links=$n init-fds=$init"
[ "$bad" = 0 ] && echo scan=clean
SCAN
        echo host-secret-$$ > "$TEST_ROOT/marker"
}

@test "no fd, cwd or root of the init, the workload or an exec'd process leads to the host, whatever the capabilities" {
        write_escape_scan
        for caps in default SYS_PTRACE all; do
                write_unit "esc-$caps" <<UNIT
[Container]
Rootfs=$ROOTFS
Volume=$TEST_ROOT/scan:/scan:ro
$([ $caps = default ] || echo "AddCapability=$caps")
Exec=/bin/sh -c 'sh /scan/scan.sh $TEST_ROOT/marker; echo done; sleep 1000'
[Install]
WantedBy=multi-user.target
UNIT
        done
        start_supd
        for caps in default SYS_PTRACE all; do
                log=$TEST_ROOT/var/log/supd/esc-$caps.log
                wait_until 10 grep -q '^done$' "$log" || { cat "$log"; false; }
                # The workload's own view, while its init runs.
                grep -qx scan=clean "$log" || { cat "$log"; false; }
                # An exec'd process, while another exec'd one runs beside it.
                supctl exec "esc-$caps" sleep 100 &
                execpid=$!
                wait_until 5 sh -c "[ \$($SUPCTL --root $TEST_ROOT exec esc-$caps pidof sleep | wc -w) -ge 2 ]"
                run supctl exec "esc-$caps" sh /scan/scan.sh "$TEST_ROOT/marker"
                kill "$execpid" 2>/dev/null || true
                wait "$execpid" 2>/dev/null || true
                echo "$caps: $output"
                [ "$status" -eq 0 ]
                assert_contains "$output" "scan=clean"
                [[ "$output" != *host-secret* ]]
                if [ $caps != default ]; then
                        # With CAP_SYS_PTRACE the init's fds are visible: the scan did look at them.
                        echo "$output" | grep -qE 'init-fds=[1-9]'
                fi
                # The exact walk from the report.
                run supctl exec "esc-$caps" head -2 /proc/1/fd/4/../../../../../../../etc/shadow
                [ "$status" -ne 0 ]
                [[ "$output" != *root:* ]]
        done
        [ -z "$(ls "$TEST_ROOT" | grep created)" ]
}

@test "50 containers started at once all run" {
        for i in $(seq 50); do
                simple_unit "many$i"
        done
        start_supd
        # They start from the event loop, a few per turn, with their setups overlapping.
        wait_until 60 sh -c "[ \$($SUPCTL --root $TEST_ROOT list --json | jq '[.[] | select(.sub == \"running\")] | length') -eq 50 ]"
}

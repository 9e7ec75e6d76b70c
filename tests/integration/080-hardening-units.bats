#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile and odd unit files against a real supd: nothing crashes it, nothing leaks a file.

load helpers

setup() { setup_supd; }
teardown() { teardown_supd; }

assert_alive() {
        kill -0 "$SUPD_PID" 2>/dev/null || { echo "supd died" >&2; cat "$TEST_ROOT/supd.log" >&2; return 1; }
}

replicated_unit() { # replicated_unit NAME N
        write_unit "$1" <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
[Deploy]
Replicas=$2
[Install]
WantedBy=multi-user.target
UNIT
}

@test "Replicas=0: loaded, nothing running; start succeeds and starts nothing; survives restart" {
        replicated_unit web 0
        start_supd
        run supctl list --all
        [ "$status" -eq 0 ]
        assert_contains "$output" "web  loaded inactive"
        run supctl status web
        [ "$status" -eq 3 ]
        assert_contains "$output" "Loaded: loaded ($UNITS/web.container"
        run supctl start web
        [ "$status" -eq 0 ]
        state_is web inactive
        run supctl start web.container
        [ "$status" -eq 0 ]
        run supctl reload
        [ "$status" -eq 0 ]
        assert_alive
        # And on the next start of supd, which is where the old crash repeated itself.
        stop_supd
        start_supd
        state_is web inactive
        assert_alive
}

@test "Replicas= scaled from 2 to 0 on reload stops the instances and keeps the unit" {
        replicated_unit web 2
        start_supd_running web@1
        wait_until 5 state_is web@2 running
        replicated_unit web 0
        run supctl reload
        [ "$status" -eq 0 ]
        assert_contains "$output" "stopped web@1: scaled down"
        assert_contains "$output" "stopped web@2: scaled down"
        assert_alive
        run supctl status web@1
        [ "$status" -eq 4 ]
        state_is web inactive
        # And back up again.
        replicated_unit web 1
        run supctl reload
        [ "$status" -eq 0 ]
        wait_until 5 state_is web@1 running
}

@test "a directory of nasty unit files: supd starts, reloads and lists, and verify agrees" {
        replicated_unit zero 0
        replicated_unit huge 99999999999999999999
        replicated_unit negative -1
        replicated_unit max 1000
        sed -i 's/^Exec=.*/Exec=\/bin\/true/; /WantedBy/d' "$UNITS/max.container"
        simple_unit 'tpl@'
        write_unit 'tplz@' <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
[Deploy]
Replicas=0
[Install]
DefaultInstance=a
UNIT
        write_unit 'tplbad@' <<UNIT
[Container]
Rootfs=$ROOTFS
[Install]
DefaultInstance=../../x
UNIT
        : > "$UNITS/empty.container"
        printf '[Container]\nRootfs=/x\nExec=/bin/a\0b\n' > "$UNITS/nul.container"
        printf '\0\0\0\0' > "$UNITS/allnul.container"
        head -c 4096 /dev/urandom > "$UNITS/random.container"
        printf '[Deploy]\nReplicas=0\n' > "$UNITS/deployonly.container"
        printf '[Container]\nImage=x\n[Deploy]\nReplicas=3\n' > "$UNITS/rep.container"
        printf '[Container]\nImage=y\n' > "$UNITS/rep@2.container"
        mkdir -p "$UNITS/zero.container.d"
        printf '[Deploy]\nReplicas=5\n' > "$UNITS/zero.container.d/10-more.conf"
        printf '[Deploy]\nReplicas=0\n' > "$UNITS/zero.container.d/20-none.conf"
        start_supd
        assert_alive
        run supctl list --all
        [ "$status" -eq 0 ]
        assert_contains "$output" "zero"
        run supctl reload
        assert_alive
        # Change everything once more and reload again.
        replicated_unit zero 2
        printf '[Deploy]\nReplicas=0\n' > "$UNITS/zero.container.d/20-none.conf"
        printf '[Deploy]\nReplicas=2\n' > "$UNITS/deployonly.container"
        rm -f "$UNITS/rep@2.container"
        run supctl reload
        assert_alive
        run supctl list --all
        [ "$status" -eq 0 ]
        for u in huge negative empty nul allnul random tplbad@; do
                run supctl status "$u" >/dev/null
                assert_alive
        done
        run supctl start tplz@b
        assert_alive
        # verify and the daemon agree: a file verify accepts is loaded by supd, and the other way round.
        for f in "$UNITS"/*.container; do
                name=$(basename "$f" .container)
                case "$name" in *@) continue ;; esac
                run supctl verify "$f"
                v=$status
                # A replicated unit is there as its first instance.
                n=$name
                supctl inspect "$n" >/dev/null 2>&1 || n=$name@1
                load=$(prop "$n" LoadState 2>/dev/null || true)
                if [ "$v" -eq 0 ]; then
                        [ "$load" = loaded ] || { echo "verify accepts $name, supd says '$load'"; false; }
                else
                        [ "$load" != loaded ] || { echo "verify rejects $name, supd loaded it"; false; }
                fi
        done
        assert_alive
}

@test "a unit file symlinked outside the search path is refused and never quoted; FIFO and directory too" {
        # A stand-in for /etc/shadow: outside the units directory, inside the test's root.
        printf 'root:TOPSECRETHASH:19000:0:99999:7:::\nTOPSECRET2 line two\n' > "$TEST_ROOT/secret"
        chmod 600 "$TEST_ROOT/secret"
        ln -s ../../../secret "$UNITS/s.container"
        # An absolute target is taken inside --root, as every other path is: /secret is the file
        # above, the host's path to it points nowhere inside the root.
        ln -s /secret "$UNITS/s2.container"
        ln -s "$TEST_ROOT/secret" "$UNITS/s3.container"
        mkfifo "$UNITS/fifo.container"
        mkdir "$UNITS/dir.container"
        mkdir "$UNITS/web.container.d"
        ln -s ../../../../secret "$UNITS/web.container.d/10-leak.conf"
        simple_unit web
        start_supd
        run supctl reload
        assert_contains "$output" "failed s: unit file is a symlink"
        run supctl status s
        assert_contains "$output" "unit file is a symlink to a file outside the unit search path"
        run supctl status s2
        assert_contains "$output" "unit file is a symlink to a file outside the unit search path"
        run supctl status s3
        assert_contains "$output" "unit file is a dangling or looping symlink"
        run supctl status fifo
        assert_contains "$output" "is not a regular file"
        run supctl status dir
        assert_contains "$output" "is not a regular file"
        run supctl status web
        assert_contains "$output" "drop-in is a symlink to a file outside the unit search path"
        kill -0 "$SUPD_PID"
        local all=""
        for u in s s2 s3 fifo dir web; do
                all+=$(supctl status "$u" 2>&1 || true)
                all+=$(supctl inspect "$u" 2>&1 || true)
                all+=$(supctl verify "$UNITS/$u.container" 2>&1 || true)
                all+=$(supctl verify --json "$UNITS/$u.container" 2>&1 || true)
        done
        all+=$(supctl list --all 2>&1)
        all+=$(cat "$TEST_ROOT/supd.log")
        assert_contains "$all" "symlink to a file outside the unit search path"
        case "$all" in
        *TOPSECRET* | *root:* | *"'root'"*) echo "the secret file leaked: $all" >&2; false ;;
        esac
        run supctl verify "$UNITS/s.container"
        [ "$status" -eq 1 ]
        assert_contains "$output" "$UNITS/s.container: unit file is a symlink to a file outside the unit search path"
}

@test "a symlink to another file of the search path is followed (an alias)" {
        mkdir -p "$TEST_ROOT/usr/lib/supd/units"
        cat > "$TEST_ROOT/usr/lib/supd/units/real.container" <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
UNIT
        ln -s /usr/lib/supd/units/real.container "$UNITS/alias.container"
        start_supd
        supctl start alias
        state_is alias running
}

@test "names: NAME and NAME.container mean the same unit for every verb, also for new instances" {
        write_unit 'tp@' <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
UNIT
        cat > "$UNITS/one.container" <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
UNIT
        replicated_unit rep 2
        start_supd
        supctl start tp@x.container
        state_is tp@x running
        run supctl inspect tp@x.container
        [ "$status" -eq 0 ]
        [ "$(echo "$output" | jq -r .Name)" = "tp@x" ]
        run supctl status tp@x.container
        [ "$status" -eq 0 ]
        run supctl status tp@x
        [ "$status" -eq 0 ]
        supctl kill -s SIGCONT tp@x.container
        supctl restart tp@x.container
        state_is tp@x running
        supctl stop tp@x.container
        state_is tp@x inactive
        run supctl list --all
        case "$output" in *"tp@x.container"*) echo "an instance named with the suffix: $output" >&2; false ;; esac
        # Both forms for a plain and a replicated unit.
        for n in one one.container; do
                supctl start "$n"
                state_is one running
                supctl stop "$n"
                state_is one inactive
                supctl reset-failed "$n"
        done
        wait_until 5 state_is rep@1 running
        supctl stop rep.container
        state_is rep@1 inactive
        state_is rep@2 inactive
        supctl start rep.container
        state_is rep@2 running
}

@test "warnings read PATH:LINE: warning: message in verify, the log and status" {
        write_unit w <<UNIT
[Unit]
Frobnicate=yes
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
UNIT
        run supctl verify "$UNITS/w.container"
        [ "$status" -eq 0 ]
        assert_contains "$output" "$UNITS/w.container:2: warning: unknown key 'Frobnicate'"
        start_supd
        run supctl status w
        assert_contains "$output" "$UNITS/w.container:2: warning: unknown key 'Frobnicate'"
        assert_contains "$(cat "$TEST_ROOT/supd.log")" "$UNITS/w.container:2: warning: unknown key 'Frobnicate'"
        case "$(cat "$TEST_ROOT/supd.log") $output" in *"warning: $UNITS"*) false ;; esac
}

@test "the same unit in /etc and /run: /etc wins, status shows it, the log and verify name both" {
        local run_units=$TEST_ROOT/run/supd/units
        mkdir -p "$run_units"
        cat > "$UNITS/dup.container" <<UNIT
[Unit]
Description=from etc
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
UNIT
        sed 's/from etc/from run/' "$UNITS/dup.container" > "$run_units/dup.container"
        start_supd
        run supctl status dup
        assert_contains "$output" "from etc"
        assert_contains "$output" "Loaded: loaded ($UNITS/dup.container"
        local warning="$run_units/dup.container: warning: unit file is shadowed by $UNITS/dup.container"
        assert_contains "$output" "$warning"
        assert_contains "$(cat "$TEST_ROOT/supd.log")" "$warning"
        run supctl verify "$run_units/dup.container" "$UNITS/dup.container"
        [ "$status" -eq 0 ]
        assert_contains "$output" "$warning"
}

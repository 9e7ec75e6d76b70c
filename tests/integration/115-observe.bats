#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# supctl stats, top and events: looking at running containers and at state changes.

load helpers
bats_require_minimum_version 1.5.0

setup() {
        setup_supd
        simple_unit web "User=www-data"
        write_unit busy <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'while :; do :; done'
[Install]
WantedBy=multi-user.target
UNIT
        write_unit manual <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
UNIT
        start_supd_running web busy
}
teardown() {
        end_bg "${EVENTS_PID:-}"
        teardown_supd
}

@test "stats --no-stream: one row per running container with CPU, memory, pids and network I/O" {
        run supctl stats --no-stream
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$(echo "$output" | head -1 | tr -s ' ')" = "NAME CPU % MEM USAGE PIDS NET I/O" ]
        echo "$output" | grep -q "^web "
        echo "$output" | grep -q "^busy "
        # Only running units: manual was never started.
        run ! grep -q "^manual " <<<"$output"

        run supctl stats --no-stream --json
        [ "$status" -eq 0 ]
        echo "$output"
        [ "$(echo "$output" | jq length)" -eq 2 ]
        # The busy loop uses CPU; the sleeper has at least one process and some memory.
        echo "$output" | jq -e '.[] | select(.name == "busy") | .cpu_percent > 0'
        echo "$output" | jq -e '.[] | select(.name == "web") | .pids >= 1 and .memory_bytes > 0'
        # Network counters are read in the container's own namespace (numbers, not null).
        echo "$output" | jq -e '.[] | select(.name == "web") | (.net_rx_bytes | type) == "number" and (.net_tx_bytes | type) == "number"'

        # A pattern picks the rows; one that matches nothing running is an error.
        run supctl stats --no-stream --json 'w*'
        [ "$status" -eq 0 ]
        [ "$(echo "$output" | jq -r '.[].name')" = web ]
        run supctl stats --no-stream manual
        [ "$status" -eq 1 ]
        assert_contains "$output" "no running unit matches manual"
        run supctl stats --bogus
        [ "$status" -eq 1 ]
        assert_contains "$output" "unrecognized option '--bogus'"
}

@test "top: the container's processes with host PIDs, user, time and command" {
        run supctl top web
        [ "$status" -eq 0 ]
        echo "$output"
        [ "$(echo "$output" | head -1 | tr -s ' ')" = "PID USER TIME COMMAND" ]
        line=$(echo "$output" | grep "sleep 1000")
        pid=$(echo "$line" | awk '{print $1}')
        # The PID is the host's: /proc on the host shows that very process.
        [ "$(tr '\0' ' ' < /proc/$pid/cmdline)" = "/bin/sleep 1000 " ]
        [ "$(echo "$line" | awk '{print $2}')" = "$(getent passwd 33 | cut -d: -f1)" ]
        echo "$line" | awk '{print $3}' | grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}$'

        run supctl top --json web
        [ "$status" -eq 0 ]
        echo "$output" | jq -e "any(.[]; .pid == $pid and .command == \"/bin/sleep 1000\")"

        run supctl top manual
        [ "$status" -eq 1 ]
        assert_contains "$output" "manual is not running"
        run supctl top
        [ "$status" -eq 1 ]
}

@test "events: one line per state change, with a timestamp; --json one object per change" {
        supctl events > "$TEST_ROOT/events.txt" 2>&1 &
        EVENTS_PID=$!
        # The subscription is in place once a change shows up (bounded).
        wait_until 10 sh -c "$SUPCTL --root $TEST_ROOT restart busy && grep -q '  busy  active running' $TEST_ROOT/events.txt"
        supctl start manual
        supctl stop manual
        wait_until 5 grep -q '  manual  inactive dead$' "$TEST_ROOT/events.txt"
        cat "$TEST_ROOT/events.txt"
        grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z  manual  active running$' "$TEST_ROOT/events.txt"
        # In order: up before down.
        up=$(grep -n '  manual  active running$' "$TEST_ROOT/events.txt" | head -1 | cut -d: -f1)
        down=$(grep -n '  manual  inactive dead$' "$TEST_ROOT/events.txt" | tail -1 | cut -d: -f1)
        [ "$up" -lt "$down" ]
        end_bg "$EVENTS_PID"
        EVENTS_PID=

        supctl events --json > "$TEST_ROOT/events.json" 2>&1 &
        EVENTS_PID=$!
        wait_until 10 sh -c "$SUPCTL --root $TEST_ROOT restart busy && grep -q '\"busy\"' $TEST_ROOT/events.json"
        supctl start manual
        wait_until 5 grep -q '"manual","active_state":"active","sub_state":"running"' "$TEST_ROOT/events.json"
        grep manual "$TEST_ROOT/events.json" | head -1 | jq -e '.unit == "manual" and .result == "success" and (.time | test("Z$"))'

        run supctl events extra
        [ "$status" -eq 1 ]
}

@test "run: -e, --env-file, -v, -w, -u, --hostname and --memory reach the container; bad values are refused" {
        mkdir -p "$TEST_ROOT/vol"
        echo from-host > "$TEST_ROOT/vol/f"
        printf 'A=1\n# a comment\n\nB=two words\n' > "$TEST_ROOT/envf"
        run supctl run --rootfs "$ROOTFS" -e 'X=a b "q" %n' --env-file "$TEST_ROOT/envf" \
                -v "$TEST_ROOT/vol:/data:ro" -w /data -u 33:44 --hostname box --memory 32M \
                sh -c 'echo "X=$X|A=$A|B=$B"; pwd; cat f; touch g 2>/dev/null || echo read-only; id -u; id -g; hostname
                       cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
        echo "$output"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = 'X=a b "q" %n|A=1|B=two words' ]
        [ "${lines[1]}" = /data ]
        [ "${lines[2]}" = from-host ]
        [ "${lines[3]}" = read-only ]
        [ "${lines[4]}" = 33 ]
        [ "${lines[5]}" = 44 ]
        [ "${lines[6]}" = box ]
        [ "${lines[7]}" = 33554432 ]
        # Without :ro the volume is writable.
        run supctl run --rootfs "$ROOTFS" -v "$TEST_ROOT/vol:/data" sh -c 'echo w > /data/new'
        [ "$status" -eq 0 ]
        [ "$(cat "$TEST_ROOT/vol/new")" = w ]

        # Checked as a unit file's keys are: a bad value is named, and nothing runs.
        run supctl run --rootfs "$ROOTFS" --memory lots true
        [ "$status" -eq 125 ]
        assert_contains "$output" "invalid value 'lots' for Memory="
        run supctl run --rootfs "$ROOTFS" -e NOEQUALS true
        [ "$status" -eq 1 ]
        assert_contains "$output" "-e NOEQUALS: expected KEY=VALUE"
        run supctl run --rootfs "$ROOTFS" --env-file "$TEST_ROOT/missing" true
        [ "$status" -eq 1 ]
        assert_contains "$output" "--env-file $TEST_ROOT/missing"
}

@test "run -d: prints the name, returns at once, the container runs on and logs" {
        run supctl run -d --name bg --rootfs "$ROOTFS" sh -c 'echo to-the-log; exec sleep 1000'
        [ "$status" -eq 0 ]
        [ "$output" = bg ]
        state_is bg running
        supctl list | grep -q '^bg .*active running'
        # Its output goes to its log, as a unit's does.
        wait_until 5 grep -q to-the-log "$(prop bg LogPath)"
        supctl stop bg
        state_is bg inactive

        run supctl run -d -t --rootfs "$ROOTFS" true
        [ "$status" -eq 1 ]
        assert_contains "$output" "cannot take -t or -i"
}

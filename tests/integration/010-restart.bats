#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The restart engine: systemd's Restart= table, backoff, start limit, manual stop.

load helpers

setup() { setup_supd; }
teardown() { teardown_supd; }

# exit cause -> the Restart= values that restart it (systemd.service(5), table 2)
@test "Restart= table: exit 0, exit 1 and SIGKILL under every policy" {
        declare -A cmd=([clean]='exit 0' [code]='exit 1' [kill]='kill -KILL $$')
        declare -A restarts=(
                [clean]="always on-success"
                [code]="always on-failure"
                [kill]="always on-failure on-abnormal on-abort"
        )
        for cause in clean code kill; do
                for policy in no on-success on-failure on-abnormal on-watchdog on-abort always; do
                        write_unit "r-$cause-$policy" <<UNIT
[Unit]
StartLimitBurst=1000
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c '${cmd[$cause]}'
[Service]
Restart=$policy
RestartSec=50ms
[Install]
WantedBy=multi-user.target
UNIT
                done
        done
        start_supd
        sleep 1.5
        for cause in clean code kill; do
                for policy in no on-success on-failure on-abnormal on-watchdog on-abort always; do
                        n=$(prop "r-$cause-$policy" NRestarts)
                        case " ${restarts[$cause]} " in
                        *" $policy "*) [ "$n" -ge 2 ] || { echo "r-$cause-$policy: expected restarts, got $n"; false; } ;;
                        *) [ "$n" -eq 0 ] || { echo "r-$cause-$policy: expected no restart, got $n"; false; } ;;
                        esac
                done
        done
        # What is left after the last run: clean exits are inactive, the others failed.
        [ "$(prop r-clean-no ActiveState)" = inactive ]
        [ "$(prop r-code-no ActiveState)" = failed ]
        [ "$(prop r-code-no Result)" = exit-code ]
        [ "$(prop r-kill-no Result)" = signal ]
        [ "$(prop r-kill-no ExitCode)" = killed ]
        [ "$(prop r-kill-no ExitStatus)" = 9 ]
}

@test "RestartPreventExitStatus= and SuccessExitStatus= are honoured" {
        write_unit prevent <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'exit 42'
[Service]
Restart=always
RestartSec=50ms
RestartPreventExitStatus=42
[Install]
WantedBy=multi-user.target
UNIT
        write_unit success <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'exit 7'
[Service]
Restart=on-failure
RestartSec=50ms
SuccessExitStatus=7
[Install]
WantedBy=multi-user.target
UNIT
        start_supd
        sleep 0.8
        [ "$(prop prevent NRestarts)" = 0 ]
        [ "$(prop prevent ActiveState)" = failed ]
        [ "$(prop success NRestarts)" = 0 ]
        [ "$(prop success ActiveState)" = inactive ]
        [ "$(prop success Result)" = success ]
}

@test "backoff delays grow with RestartSteps= and reset after RestartResetSec= of uptime" {
        # Runs 1-4 fail at once, run 5 lives 1.5s (past RestartResetSec=1s), then fast failures again.
        # The upper dir survives restarts, so /n counts the runs.
        write_unit backoff <<UNIT
[Unit]
StartLimitBurst=1000
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'n=\$((\$(cat /n 2>/dev/null || echo 0) + 1)); echo \$n > /n; [ \$n -eq 5 ] && sleep 1.5; exit 1'
[Service]
Restart=always
RestartSec=100ms
RestartSteps=3
RestartMaxDelaySec=800ms
[Deploy]
RestartResetSec=1s
[Install]
WantedBy=multi-user.target
UNIT
        start_supd
        wait_until 15 grep -c "backoff: scheduled restart" "$TEST_ROOT/supd.log"
        wait_until 15 sh -c "[ \$(grep -c 'backoff: scheduled restart' $TEST_ROOT/supd.log) -ge 7 ]"
        delays=$(grep -o 'backoff: scheduled restart in [^.]*' "$TEST_ROOT/supd.log" | awk '{print $NF}' | head -7 | tr '\n' ' ')
        # 100ms * 8^(i/3): 100ms, 200ms, 400ms, then the 800ms cap; the long run 5 resets to 100ms.
        [ "$delays" = "100ms 200ms 400ms 800ms 100ms 200ms 400ms " ] || { echo "delays: $delays"; false; }
}

@test "start limit ends in failed (start-limit-hit); reset-failed clears it" {
        write_unit limited <<UNIT
[Unit]
StartLimitIntervalSec=60s
StartLimitBurst=3
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'exit 1'
[Service]
Restart=always
RestartSec=10ms
[Install]
WantedBy=multi-user.target
UNIT
        start_supd
        wait_until 5 state_is limited failed
        [ "$(prop limited Result)" = start-limit-hit ]
        [ "$(prop limited NRestarts)" = 3 ]
        run supctl start limited
        [ "$status" -eq 1 ]
        assert_contains "$output" "repeated too quickly"
        supctl reset-failed limited
        [ "$(prop limited ActiveState)" = inactive ]
        supctl start limited
        wait_until 5 state_is limited failed
        [ "$(prop limited Result)" = start-limit-hit ]
}

@test "a crash-looping unit is restarted at the RestartSec= pace, no faster" {
        # What this costs supd in CPU is measured by tests/bench/crash-loop.sh, not here: a
        # threshold in a test fails on a loaded machine.
        write_unit loop <<UNIT
[Unit]
StartLimitBurst=0
[Container]
Rootfs=$ROOTFS
Exec=/bin/false
[Service]
Restart=always
RestartSec=100ms
[Install]
WantedBy=multi-user.target
UNIT
        start_supd
        wait_until 20 sh -c "[ \$($SUPCTL --root $TEST_ROOT inspect loop | jq .NRestarts) -ge 5 ]"
        t1=$EPOCHREALTIME
        n1=$(prop loop NRestarts)
        sleep 1
        n2=$(prop loop NRestarts)
        t2=$EPOCHREALTIME
        # Never faster than one per RestartSec= (100 ms) over the window that held both readings.
        ms=$(( (${t2/./} - ${t1/./}) / 1000 ))
        echo "$((n2 - n1)) restarts in at most ${ms} ms"
        [ $((n2 - n1)) -le $((ms / 100 + 1)) ]
        [ $((n2 - n1)) -ge 1 ]
        kill -0 "$SUPD_PID"
}

@test "a manual stop is never undone by Restart=always" {
        write_unit sleeper <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
[Service]
Restart=always
RestartSec=10ms
[Install]
WantedBy=multi-user.target
UNIT
        start_supd_running sleeper
        supctl stop sleeper
        [ "$(prop sleeper ActiveState)" = inactive ]
        sleep 0.5
        [ "$(prop sleeper ActiveState)" = inactive ]
        [ "$(prop sleeper NRestarts)" = 0 ]
        # A kill is not a stop: the policy brings it back.
        supctl start sleeper
        pid=$(prop sleeper MainPID)
        supctl kill -s KILL sleeper
        wait_until 5 sh -c "[ \$($SUPCTL --root $TEST_ROOT inspect sleeper | jq .NRestarts) -ge 1 ]"
        wait_until 5 state_is sleeper running
        [ "$(prop sleeper MainPID)" != "$pid" ]
}

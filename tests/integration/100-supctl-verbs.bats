#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# supctl's systemctl-style verbs (is-active, is-failed, cat, show), patterns, exit codes, verb
# help, --json on every verb, and the errors of run.

load helpers
bats_require_minimum_version 1.5.0

setup() {
        setup_supd
        simple_unit web2
        simple_unit web10
        simple_unit db
        mkdir -p "$UNITS/web2.container.d"
        printf '[Container]\nEnvironment=A=1\n' > "$UNITS/web2.container.d/10-env.conf"
}
teardown() {
        teardown_supd
}

@test "without a daemon: the message says so and hints at starting supd, exit 1" {
        run supctl is-active web2
        [ "$status" -eq 1 ]
        assert_contains "$output" "supctl: cannot connect to $TEST_ROOT/run/supd/supd.sock: "
        assert_contains "$output" "(is supd running? systemctl start supd)"
}

@test "is-active and is-failed print each state; exit codes and --quiet as systemctl's" {
        start_supd_running web2 web10 db
        supctl stop db
        run supctl is-active web2
        [ "$status" -eq 0 ]
        [ "$output" = active ]
        run supctl is-active db nosuch
        [ "$status" -eq 3 ]
        [ "$output" = $'inactive\ninactive' ]
        # Any active unit makes it 0, as with systemctl.
        run supctl is-active db web2
        [ "$status" -eq 0 ]
        [ "$output" = $'inactive\nactive' ]
        run supctl is-active -q db
        [ "$status" -eq 3 ]
        [ -z "$output" ]
        run supctl is-failed db nosuch
        [ "$status" -eq 1 ]
        [ "$output" = $'inactive\ninactive' ]
        write_unit bad <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/false
UNIT
        supctl reload
        run supctl start bad
        run supctl is-failed bad web2
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = failed ]
        run supctl is-failed --quiet bad
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        # A pattern: every loaded unit it matches.
        run supctl is-active 'web*'
        [ "$status" -eq 0 ]
        [ "$output" = $'active\nactive' ]
}

@test "cat prints the unit file and its drop-ins, each under '# PATH'; show prints KEY=VALUE" {
        start_supd_running web2 web10 db
        run supctl cat web2
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "# $UNITS/web2.container" ]
        assert_contains "$output" "Exec=/bin/sleep 1000"
        assert_contains "$output" $'\n\n# '"$UNITS/web2.container.d/10-env.conf"$'\n[Container]\nEnvironment=A=1'
        run supctl cat nosuch
        [ "$status" -eq 1 ]
        assert_contains "$output" "No files found for nosuch."
        [ "$(supctl cat --json web2 | jq -r '.files[1].content')" = $'[Container]\nEnvironment=A=1' ]

        run supctl show web2 -p Name,ActiveState -p MainPID
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = Name=web2 ]
        [ "${lines[1]}" = ActiveState=active ]
        [[ "${lines[2]}" =~ ^MainPID=[1-9][0-9]*$ ]]
        [ "${#lines[@]}" -eq 3 ]
        run supctl show --value -p SubState web2
        [ "$output" = running ]
        run supctl show web2
        assert_contains "$output" "Autostart=yes"
        assert_contains "$output" "FragmentPath=$UNITS/web2.container"
        # A unit that does not exist: its name and not-found, exit 0, as systemctl show does.
        run supctl show nosuch -p LoadState,ActiveState
        [ "$status" -eq 0 ]
        [ "$output" = $'LoadState=not-found\nActiveState=inactive' ]
        [ "$(supctl show --json -p Name,ActiveState web2)" = '{"Name":"web2","ActiveState":"active"}' ]
}

@test "list is sorted by name and takes patterns; status, stop and start take patterns" {
        start_supd_running web2 web10 db
        run supctl list
        [ "$(echo "$output" | sed -n '2,4p' | awk '{print $1}' | tr '\n' ' ')" = "db web2 web10 " ]
        run supctl list 'web*'
        [ "$(echo "$output" | sed -n '2,3p' | awk '{print $1}' | tr '\n' ' ')" = "web2 web10 " ]
        assert_contains "$output" "2 units listed."
        [ "$(supctl list --json 'w?b1*' | jq -r '.[].unit')" = web10 ]
        run supctl status -n 0 'web*'
        [ "$status" -eq 0 ]
        [ "$(echo "$output" | grep '^● ' | cut -d' ' -f2 | tr '\n' ' ')" = "web2 web10 " ]
        run supctl stop 'web*'
        [ "$status" -eq 0 ]
        state_is web2 inactive
        state_is web10 inactive
        state_is db running
        run supctl start 'web1?'
        [ "$status" -eq 0 ]
        state_is web10 running
        state_is web2 inactive
}

@test "start, stop, restart, kill of no such unit exit 5; a pattern matching nothing too; status 4" {
        start_supd_running web2 web10 db
        for verb in start stop restart kill; do
                run supctl "$verb" nosuch
                [ "$status" -eq 5 ]
                assert_contains "$output" "Unit nosuch not found."
        done
        run supctl stop 'nosuch*'
        [ "$status" -eq 5 ]
        assert_contains "$output" "No loaded unit matches 'nosuch*'."
        state_is db running
        run supctl status nosuch
        [ "$status" -eq 4 ]
}

@test "VERB --help prints that verb's usage and exits 0; --json is honoured or refused" {
        for verb in list status start stop restart kill is-active is-failed show cat reload reset-failed inspect verify exec run image diff; do
                run supctl "$verb" --help
                [ "$status" -eq 0 ]
                assert_contains "${lines[0]}" "usage: supctl $verb"
        done
        run supctl --help
        [ "$status" -eq 0 ]
        assert_contains "$output" "is-active [-q] PATTERN..."
        start_supd_running web2 web10 db
        # Verbs that print data honour --json...
        supctl list --json | jq -e 'length == 3'
        supctl status --json db | jq -e '.[0].Name == "db"'
        supctl show --json db | jq -e '.Name == "db"'
        supctl cat --json db | jq -e '.unit == "db"'
        supctl inspect --json db | jq -e '.Name == "db"'
        supctl image ls --json | jq -e 'type == "array"'
        supctl reload --json | jq -e 'type == "array"'
        # ...the others refuse it, and do nothing.
        for verb in start stop restart kill is-active is-failed reset-failed diff; do
                run supctl --json "$verb" db
                [ "$status" -eq 1 ]
                assert_contains "$output" "supctl: $verb does not support --json."
        done
        state_is db running
        run supctl --json image prune
        [ "$status" -eq 1 ]
        assert_contains "$output" "supctl: image prune does not support --json."
        run supctl --json run --rm --rootfs "$ROOTFS" true
        [ "$status" -eq 1 ]
        assert_contains "$output" "supctl: run does not support --json."
}

@test "run: a missing image or rootfs is 125 with its cause, a missing command 127 with its cause" {
        start_supd
        run -125 supctl run --rm nosuchimage:1 true
        # Pulled from a registry this network namespace cannot reach: the pull's error.
        assert_contains "$output" "supctl: Cannot run run-"
        assert_contains "$output" "nosuchimage"
        run -125 supctl run --rm --rootfs /nonexistent true
        assert_contains "$output" "rootfs /nonexistent: No such file or directory"
        run -127 supctl run --rm --rootfs "$ROOTFS" /nonexist
        assert_contains "$output" "exec /nonexist: No such file or directory"
        # --rm forgets it, also when it ended before supctl asked how.
        [ "$(supctl list --all --json | jq '[.[] | select(.unit | startswith("run-"))] | length')" = 0 ]
        run -127 supctl run --name keep --rootfs "$ROOTFS" /nonexist
        assert_contains "$output" "exec /nonexist: No such file or directory"
        [ "$(prop keep LastError)" = "exec /nonexist: No such file or directory" ]
}

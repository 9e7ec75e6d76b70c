#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# supctl enable/disable (autostart as a drop-in under /etc/supd/units) and supctl edit.

load helpers
bats_require_minimum_version 1.5.0

setup() {
        setup_supd
        # A unit without [Install]: not started by itself.
        write_unit web <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sleep 1000
UNIT
}
teardown() {
        teardown_supd
}

@test "enable switches autostart on without starting; reload starts it; disable switches it off" {
        start_supd
        run supctl is-active web
        [ "$status" -eq 3 ]
        run supctl enable web
        [ "$status" -eq 0 ]
        [ "$output" = "Wrote $UNITS/web.container.d/50-supctl-enable.conf (autostart on)." ]
        grep -qx 'WantedBy=multi-user.target' "$UNITS/web.container.d/50-supctl-enable.conf"
        # As systemctl enable: no start.
        run supctl is-active web
        [ "$status" -eq 3 ]
        run supctl reload
        [ "$status" -eq 0 ]
        assert_contains "$output" "started web"
        run supctl cat web
        assert_contains "$output" "# $UNITS/web.container.d/50-supctl-enable.conf"
        wait_until 5 state_is web running
        run supctl disable web
        [ "$status" -eq 0 ]
        [ "$output" = "Wrote $UNITS/web.container.d/50-supctl-enable.conf (autostart off)." ]
        # A disabled unit keeps running until stopped; a reload then leaves it stopped.
        run supctl is-active web
        [ "$status" -eq 0 ]
        supctl stop web
        run supctl reload
        [ "$status" -eq 0 ]
        [[ "$output" != *"started web"* ]]
        run supctl is-active web
        [ "$status" -eq 3 ]
}

@test "disable overrides the unit file's own WantedBy=, and survives a restart of supd" {
        simple_unit db
        start_supd_running db
        run supctl disable db
        [ "$status" -eq 0 ]
        stop_supd
        start_supd
        run supctl is-active db
        [ "$status" -eq 3 ]
        [ "$output" = inactive ]
}

@test "--now starts on enable and stops on disable" {
        start_supd
        run supctl enable --now web
        [ "$status" -eq 0 ]
        assert_contains "$output" "started web"
        run supctl is-active web
        [ "$status" -eq 0 ]
        run supctl disable --now web
        [ "$status" -eq 0 ]
        run supctl is-active web
        [ "$status" -eq 3 ]
}

@test "enable of a unit without a file: systemctl's message, exit 1, nothing written" {
        start_supd
        run supctl enable web nosuch
        [ "$status" -eq 1 ]
        [ "$output" = "Unit file nosuch.container does not exist." ]
        [ ! -e "$UNITS/web.container.d" ]
        [ ! -e "$UNITS/nosuch.container.d" ]
        run supctl disable ../web
        [ "$status" -eq 1 ]
        [ "$output" = "supctl: invalid unit name '../web'." ]
        run supctl edit nosuch
        [ "$status" -eq 1 ]
        [ "$output" = "Unit file nosuch.container does not exist." ]
}

@test "edit: the editor's result becomes override.conf and is reloaded; a failing editor changes nothing" {
        simple_unit db
        start_supd_running db
        cat >"$TEST_ROOT/editor" <<'SH'
#!/bin/sh
printf '[Container]\nEnvironment=EDITED=1\n' >> "$1"
SH
        chmod +x "$TEST_ROOT/editor"
        run env -u VISUAL EDITOR="$TEST_ROOT/editor" "$SUPCTL" --root "$TEST_ROOT" edit db
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "Wrote $UNITS/db.container.d/override.conf." ]
        assert_contains "$output" "replaced db"
        [ "$(cat "$UNITS/db.container.d/override.conf")" = $'[Container]\nEnvironment=EDITED=1' ]
        wait_until 5 state_is db running
        run supctl cat db
        assert_contains "$output" "Environment=EDITED=1"
        # An editor that fails: the drop-in stays, no reload, no leftover copy.
        run env -u VISUAL EDITOR=false "$SUPCTL" --root "$TEST_ROOT" edit db
        [ "$status" -eq 1 ]
        [ "$output" = "supctl: the editor failed (exit status 1); $UNITS/db.container.d/override.conf is unchanged." ]
        [ "$(cat "$UNITS/db.container.d/override.conf")" = $'[Container]\nEnvironment=EDITED=1' ]
        [ "$(ls -A "$UNITS/db.container.d")" = override.conf ]
        # An editor that changes nothing: no reload.
        run env -u VISUAL EDITOR=true "$SUPCTL" --root "$TEST_ROOT" edit db
        [ "$status" -eq 0 ]
        [ "$output" = "$UNITS/db.container.d/override.conf: no changes." ]
}

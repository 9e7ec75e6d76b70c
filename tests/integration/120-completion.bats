#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion (contrib/completion/supctl.bash): the script is sourced and its function driven
# with COMP_WORDS/COMP_CWORD, as bash does; names come from a running test supd (--root).

load helpers
bats_require_minimum_version 1.5.0

setup() {
        setup_supd
        simple_unit web
        simple_unit worker
        simple_unit db
        # shellcheck source=../../contrib/completion/supctl.bash
        source "$BATS_TEST_DIRNAME/../../contrib/completion/supctl.bash"
}
teardown() {
        teardown_supd
}

# complete WORD...: the candidates for the last WORD (the one being typed), one per line, sorted.
complete_words() {
        COMP_WORDS=("$SUPCTL" "$@")
        COMP_CWORD=$#
        COMP_LINE="${COMP_WORDS[*]}"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _supctl
        printf '%s\n' "${COMPREPLY[@]}" | sort
}

@test "the script registers _supctl for supctl" {
        run complete -p supctl
        [ "$status" -eq 0 ]
        assert_contains "$output" "-F _supctl supctl"
}

@test "every verb that supctl --help lists is completed; a prefix narrows them" {
        local verbs v
        verbs=$("$SUPCTL" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p')
        # The help really lists verbs (the test must be able to fail if its format changes).
        assert_contains "$verbs" "daemon-reexec"
        [ "$(echo "$verbs" | wc -l)" -ge 19 ]
        run complete_words ""
        [ "$status" -eq 0 ]
        for v in $verbs; do
                grep -qx -- "$v" <<<"$output" || { echo "verb $v not completed: $output" >&2; return 1; }
        done
        run complete_words re
        [ "$output" = $'reload\nreset-failed\nrestart' ]
}

@test "global and per-verb options complete" {
        run complete_words --r
        [ "$output" = "--root" ]
        run complete_words --j
        [ "$output" = "--json" ]
        run complete_words list --
        assert_contains "$output" "--all"
        run complete_words kill --si
        [ "$output" = "--signal" ]
        run complete_words kill -s SIGTE
        [ "$output" = "SIGTERM" ]
        run complete_words show --
        assert_contains "$output" "--property"
        assert_contains "$output" "--value"
        run complete_words run --r
        [ "$output" = $'--rm\n--rootfs' ]
        run complete_words image ""
        [ "$output" = $'history\nimport\nls\nprune\npull\nrm' ]
}

@test "unit names come from the running supd named by --root, inactive ones included" {
        start_supd_running web worker db
        supctl stop db
        run complete_words --root "$TEST_ROOT" start ""
        [ "$output" = $'db\nweb\nworker' ]
        run complete_words --root "$TEST_ROOT" status w
        [ "$output" = $'web\nworker' ]
        # --root=DIR as bash splits it: --root, =, DIR.
        run complete_words --root = "$TEST_ROOT" stop wo
        [ "$output" = worker ]
        run complete_words --root "$TEST_ROOT" exec -t we
        [ "$output" = web ]
        # After exec's container name comes the command: no unit names.
        run complete_words --root "$TEST_ROOT" exec web ""
        [ "$output" = "" ]
        # Another root's supd (none there): nothing to offer, no error.
        run complete_words --root "$TEST_ROOT/nothing" start ""
        [ "$status" -eq 0 ]
        [ "$output" = "" ]
}

@test "image names complete for image rm, image history and run" {
        start_supd
        tar -C "$ROOTFS" -cf "$TEST_ROOT/rootfs.tar" .
        supctl image import "$TEST_ROOT/rootfs.tar" complbox:v1 >/dev/null
        supctl image import "$TEST_ROOT/rootfs.tar" other:latest >/dev/null
        run complete_words --root "$TEST_ROOT" image rm ""
        [ "$output" = $'complbox:v1\nother:latest' ]
        run complete_words --root "$TEST_ROOT" image history comp
        [ "$output" = "complbox:v1" ]
        run complete_words --root "$TEST_ROOT" run --rm o
        [ "$output" = "other:latest" ]
        # NAME:TAG as bash splits it at the colon: only the part after it is completed.
        run complete_words --root "$TEST_ROOT" image rm complbox : ""
        [ "$output" = "v1" ]
        run complete_words --root "$TEST_ROOT" run complbox :
        [ "$output" = "v1" ]
}

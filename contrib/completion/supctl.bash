# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for supctl(1): verbs, options, unit names and image names. Names are asked from
# the running supd (the one "--root DIR" or SUPD_ROOT points at), so only what exists is offered.
# Works with or without the bash-completion package. Installed as
# $(pkg-config --variable=completionsdir bash-completion)/supctl by "meson install".

# The verbs, from "supctl --help" (so a newer supctl's verbs complete too); the list below when
# that binary cannot be run.
_supctl_verbs() {
        local v
        v=$("${_supctl_cmd[@]}" --help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p')
        [ -n "$v" ] || v="list status start stop restart kill is-active is-failed show cat reload
reset-failed inspect verify exec run image diff generate daemon-reexec"
        printf '%s\n' "$v"
}

# Units loaded by supd, inactive ones included: the first column of "list --all" (plain text,
# no jq needed; the table ends at its first empty line).
_supctl_units() {
        "${_supctl_cmd[@]}" list --all 2>/dev/null | awk 'NR == 1 { next } /^$/ { exit } { print $1 }'
}

# Images as NAME:TAG, from "image ls" (columns NAME TAG ID ...).
_supctl_images() {
        "${_supctl_cmd[@]}" image ls 2>/dev/null | awk 'NR == 1 { next } NF >= 2 { print $1 ":" $2 }'
}

_supctl_signals() {
        local s
        for s in $(kill -l 2>/dev/null | tr -s '\t )' '\n  ' | grep -o 'SIG[A-Z0-9+-]*'); do
                printf '%s\n' "$s" "${s#SIG}"
        done
}

_supctl_files() {
        type compopt >/dev/null 2>&1 && compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

_supctl() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=""
        local -a _supctl_cmd=("${COMP_WORDS[0]}")
        local i w verb="" sub="" nonopt=0
        local global_opts="--root --json --all -a --help -h --version"
        ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
        [ "$prev" = "=" ] && ((COMP_CWORD > 1)) && prev=${COMP_WORDS[COMP_CWORD - 2]}

        # Pass --root on to the supctl we ask; find the verb (the first word that is no option
        # and no option's value) and count the arguments after it.
        for ((i = 1; i < COMP_CWORD; i++)); do
                w=${COMP_WORDS[i]}
                case "$w" in
                --root=?*)
                        _supctl_cmd+=(--root "${w#--root=}")
                        continue
                        ;;
                --root)
                        if [ "${COMP_WORDS[i + 1]}" = "=" ]; then
                                ((i += 2))
                        else
                                ((i += 1))
                        fi
                        ((i < COMP_CWORD)) && _supctl_cmd+=(--root "${COMP_WORDS[i]}")
                        continue
                        ;;
                esac
                if [ -z "$verb" ]; then
                        case "$w" in
                        -s | --signal | -n | --lines | -p | --property) ((i++)) ;;
                        -*) ;;
                        *) verb=$w ;;
                        esac
                        continue
                fi
                # exec and run: options only before the name; image: its sub-verb.
                case "$verb:$w" in
                exec:-* | run:-*) ;;
                *:-s | *:--signal | *:-n | *:--lines | *:-p | *:--property) ((i++)) ;;
                *:-*) ;;
                *)
                        [ "$verb" = run ] && { [ "${COMP_WORDS[i - 1]}" = --name ] || [ "${COMP_WORDS[i - 1]}" = --rootfs ]; } && continue
                        [ "$verb" = image ] && [ -z "$sub" ] && { sub=$w; continue; }
                        [ "$verb" = generate ] && [ -z "$sub" ] && { sub=$w; continue; }
                        ((nonopt++))
                        ;;
                esac
        done
        COMPREPLY=()

        case "$prev" in
        --root)
                type compopt >/dev/null 2>&1 && compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -d -- "$cur")
                return 0
                ;;
        -s | --signal)
                mapfile -t COMPREPLY < <(compgen -W "$(_supctl_signals)" -- "$cur")
                return 0
                ;;
        -n | --lines | -p | --property)
                return 0
                ;;
        esac
        [ "$cur" = "=" ] && cur=""

        if [ -z "$verb" ]; then
                if [[ "$cur" == -* ]]; then
                        mapfile -t COMPREPLY < <(compgen -W "$global_opts" -- "$cur")
                else
                        mapfile -t COMPREPLY < <(compgen -W "$(_supctl_verbs)" -- "$cur")
                fi
                return 0
        fi

        local opts="" what=""
        case "$verb" in
        list) opts="--all -a --json" what=units ;;
        status) opts="--lines -n --json" what=units ;;
        start | stop | restart | reset-failed) what=units ;;
        kill) opts="--signal -s" what=units ;;
        is-active | is-failed) opts="--quiet -q" what=units ;;
        show) opts="--property -p --value --json" what=units ;;
        cat | inspect) opts="--json" what=units ;;
        reload) opts="--json" ;;
        verify) opts="--json" what=files ;;
        diff) ((nonopt == 0)) && what=units ;;
        exec)
                opts="-i -t"
                ((nonopt == 0)) && what=units
                ((nonopt > 0)) && return 0
                ;;
        run)
                opts="-t -i --rm --name --rootfs"
                case "$prev" in
                --name) return 0 ;;
                --rootfs)
                        type compopt >/dev/null 2>&1 && compopt -o filenames 2>/dev/null
                        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
                        return 0
                        ;;
                esac
                # The image is the first argument (NAME:TAG may come as NAME, :, TAG).
                ((nonopt > 0)) && [ "$cur" != ":" ] && [ "$prev" != ":" ] && return 0
                what=images
                ;;
        generate)
                if [ -z "$sub" ]; then
                        mapfile -t COMPREPLY < <(compgen -W "kube" -- "$cur")
                        return 0
                fi
                opts="--json" what=units
                ;;
        image)
                case "$sub" in
                "")
                        mapfile -t COMPREPLY < <(compgen -W "import pull ls rm prune history" -- "$cur")
                        return 0
                        ;;
                import) ((nonopt == 0)) && what=files ;;
                ls) opts="--json" ;;
                rm | history) what=images ;;
                esac
                ;;
        esac

        if [[ "$cur" == -* ]]; then
                mapfile -t COMPREPLY < <(compgen -W "$opts --help" -- "$cur")
                return 0
        fi
        case "$what" in
        units) mapfile -t COMPREPLY < <(compgen -W "$(_supctl_units)" -- "$cur") ;;
        images)
                # NAME:TAG holds a colon, which COMP_WORDBREAKS splits on: complete the part after it.
                # bash hands "busy:la" over as three words (busy, :, la); join them again.
                local -a all
                if [ "$cur" = ":" ] && ((COMP_CWORD > 1)); then
                        cur=$prev:
                elif [ "$prev" = ":" ] && ((COMP_CWORD > 2)); then
                        cur=${COMP_WORDS[COMP_CWORD - 2]}:$cur
                fi
                mapfile -t all < <(compgen -W "$(_supctl_images)" -- "$cur")
                if [[ "$cur" == *:* && "${COMP_WORDBREAKS:-:}" == *:* ]]; then
                        COMPREPLY=("${all[@]#"${cur%:*}:"}")
                else
                        COMPREPLY=("${all[@]}")
                fi
                ;;
        files) _supctl_files "$cur" ;;
        esac
        return 0
}
complete -F _supctl supctl

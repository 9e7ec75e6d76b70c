#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# supctl generate kube: Deployments and Services checked offline against the Kubernetes API
# models of python3-kubernetes (tests/helpers/kube-validate.py), then value by value. Needs no
# daemon: the units are read from a --root of the test's own.

bats_require_minimum_version 1.5.0
load helpers

VALIDATE=$BATS_TEST_DIRNAME/../helpers/kube-validate.py

setup_file() {
        for tool in jq /usr/bin/python3; do
                command -v "$tool" >/dev/null || { echo "missing $tool (contrib/install-deps.sh)" >&2; return 1; }
        done
        /usr/bin/python3 -c 'import kubernetes, yaml' ||
                { echo "missing python3-kubernetes or python3-yaml (contrib/install-deps.sh)" >&2; return 1; }
}

setup() {
        ROOT=$BATS_TEST_TMPDIR/root
        UNITS=$ROOT/etc/supd/units
        mkdir -p "$UNITS"
        cat > "$UNITS/web.container" <<'EOF'
[Unit]
Description=Web "front" end
After=db.service
[Container]
Image=docker.io/library/nginx:1.25
Entrypoint=/docker-entrypoint.sh
Exec=nginx -g "daemon off;"
Environment=A=1 "B=two words: #not a comment" C=yes D= E=0123 "F=it's" G=a\\b\"c H=ünï
PublishPort=8080:80
PublishPort=127.0.0.1:5353:53/udp
PublishPort=9000-9001:90-91
Volume=/srv/data:/data:ro
Volume=cache:/cache
Tmpfs=/run
Memory=512M
User=1000
Group=100
WorkingDir=/srv
AddCapability=CAP_NET_ADMIN sys_time
DropCapability=ALL
ReadOnly=yes
NoNewPrivileges=yes
HealthCmd=wget -q -O- http://localhost/ || exit 1
HealthInterval=10s
HealthTimeout=2500ms
HealthRetries=5
HealthStartPeriod=30s
HealthOnFailure=kill
Label=org.example/team=web
Label=yes=on
Notify=healthy
[Service]
CPUQuota=150%
RestartSec=5
Restart=always
TimeoutStopSec=20
[Deploy]
Replicas=3
UpdateOrder=start-first
EOF
}

# Runs supctl, checks the output with kube-validate.py; the objects (a JSON array) in $OBJS.
generate_valid() {
        run --separate-stderr "$SUPCTL" --root "$ROOT" "$@"
        [ "$status" -eq 0 ] || { echo "$stderr" >&2; return 1; }
        GEN_STDERR=$stderr
        local fmt=yaml
        [[ " $* " == *" --json "* ]] && fmt=json
        OBJS=$(printf '%s\n' "$output" | "$VALIDATE" $fmt)
}

@test "generate kube: a rich unit becomes a valid Deployment and Service, field by field" {
        generate_valid generate kube web
        [ "$(jq -r 'map(.kind) | join(",")' <<<"$OBJS")" = Deployment,Service ]
        d=$(jq '.[0]' <<<"$OBJS")
        c=$(jq '.spec.template.spec.containers[0]' <<<"$d")
        [ "$(jq -r .apiVersion <<<"$d")" = apps/v1 ]
        [ "$(jq -r .metadata.name <<<"$d")" = web ]
        [ "$(jq -r .metadata.labels.app <<<"$d")" = web ]
        [ "$(jq -r '.metadata.annotations["kubernetes.io/description"]' <<<"$d")" = 'Web "front" end' ]
        [ "$(jq .spec.replicas <<<"$d")" = 3 ]
        [ "$(jq -c .spec.strategy <<<"$d")" = '{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}' ]
        [ "$(jq -c .spec.template.metadata.annotations <<<"$d")" = '{"org.example/team":"web","yes":"on"}' ]
        [ "$(jq .spec.template.spec.terminationGracePeriodSeconds <<<"$d")" = 20 ]
        [ "$(jq -r .image <<<"$c")" = docker.io/library/nginx:1.25 ]
        [ "$(jq -c .command <<<"$c")" = '["/docker-entrypoint.sh"]' ]
        [ "$(jq -c .args <<<"$c")" = '["nginx","-g","daemon off;"]' ]
        [ "$(jq -r .workingDir <<<"$c")" = /srv ]
        # Every value survives the quoting exactly, as a string (YAML must not read yes/0123 as
        # a boolean or a number).
        [ "$(jq -c '.env | map({(.name): .value}) | add' <<<"$c")" = \
                '{"A":"1","B":"two words: #not a comment","C":"yes","D":"","E":"0123","F":"it'"'"'s","G":"a\\b\"c","H":"ünï"}' ]
        [ "$(jq -c .resources <<<"$c")" = '{"limits":{"cpu":"1500m","memory":"512Mi"}}' ]
        [ "$(jq -c .ports <<<"$c")" = '[{"containerPort":80,"protocol":"TCP"},{"containerPort":53,"protocol":"UDP"},{"containerPort":90,"protocol":"TCP"},{"containerPort":91,"protocol":"TCP"}]' ]
        for probe in readinessProbe livenessProbe; do
                [ "$(jq -c .$probe <<<"$c")" = '{"exec":{"command":["/bin/sh","-c","wget -q -O- http://localhost/ || exit 1"]},"periodSeconds":10,"timeoutSeconds":3,"failureThreshold":5,"initialDelaySeconds":30}' ]
        done
        [ "$(jq -c .securityContext <<<"$c")" = '{"runAsUser":1000,"runAsGroup":100,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"capabilities":{"add":["NET_ADMIN","SYS_TIME"],"drop":["ALL"]}}' ]
        [ "$(jq -c .volumeMounts <<<"$c")" = '[{"name":"volume-0","mountPath":"/data","readOnly":true},{"name":"volume-1","mountPath":"/cache"},{"name":"tmpfs-0","mountPath":"/run"}]' ]
        [ "$(jq -c .spec.template.spec.volumes <<<"$d")" = '[{"name":"volume-0","hostPath":{"path":"/srv/data"}},{"name":"volume-1","persistentVolumeClaim":{"claimName":"cache"}},{"name":"tmpfs-0","emptyDir":{"medium":"Memory"}}]' ]

        s=$(jq '.[1]' <<<"$OBJS")
        [ "$(jq -r .apiVersion <<<"$s")" = v1 ]
        [ "$(jq -c .spec.selector <<<"$s")" = '{"app":"web"}' ]
        [ "$(jq -c .spec.ports <<<"$s")" = '[{"name":"tcp-8080","port":8080,"targetPort":80,"protocol":"TCP"},{"name":"udp-5353","port":5353,"targetPort":53,"protocol":"UDP"},{"name":"tcp-9000","port":9000,"targetPort":90,"protocol":"TCP"},{"name":"tcp-9001","port":9001,"targetPort":91,"protocol":"TCP"}]' ]

        # What has no equivalent is named on stderr.
        for key in After= Notify= RestartSec= "Volume=/srv/data:/data:ro: becomes a hostPath" \
                "PersistentVolumeClaim 'cache'" "127.0.0.1:5353:53/udp: the host address"; do
                [[ "$GEN_STDERR" == *"$UNITS/web.container: warning: "*"$key"* ]] || { echo "no warning for $key" >&2; return 1; }
        done
}

@test "generate kube --json: one v1 List with the same objects as the YAML" {
        generate_valid generate kube web
        yaml=$OBJS
        generate_valid --json generate kube web
        [ "$(jq -c . <<<"$OBJS")" = "$(jq -c . <<<"$yaml")" ]
}

@test "generate kube: defaults, a FILE argument, and no Service without PublishPort=" {
        mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
        printf '[Container]\nImage=busybox\n' > "$BATS_TEST_TMPDIR/elsewhere/My_App.container"
        generate_valid generate kube "$BATS_TEST_TMPDIR/elsewhere/My_App.container"
        [ "$(jq length <<<"$OBJS")" = 1 ]
        [ "$(jq -r '.[0].metadata.name' <<<"$OBJS")" = my-app ]
        [ "$(jq '.[0].spec.replicas' <<<"$OBJS")" = 1 ]
        [ "$(jq -c '.[0].spec.template.spec.containers[0]' <<<"$OBJS")" = '{"name":"my-app","image":"busybox"}' ]
        [[ "$GEN_STDERR" == *"unit name 'My_App' is not a Kubernetes name, using 'my-app'"* ]]
}

@test "generate kube: a unit that fails to load is PATH:LINE: message and exit 1; the others still print" {
        printf '[Container]\nImage=busybox\nMemory=lots\n' > "$UNITS/bad.container"
        run --separate-stderr "$SUPCTL" --root "$ROOT" generate kube bad web
        [ "$status" -eq 1 ]
        [[ "$stderr" == *"$UNITS/bad.container:3: "* ]]
        [ "$(printf '%s\n' "$output" | "$VALIDATE" yaml | jq -r 'map(.metadata.name) | unique | join(",")')" = web ]
}

@test "generate kube: Rootfs= units are refused, unknown units are exit 4" {
        printf '[Container]\nRootfs=/srv/root\n' > "$UNITS/fs.container"
        run --separate-stderr "$SUPCTL" --root "$ROOT" generate kube fs
        [ "$status" -eq 1 ]
        [[ "$stderr" == *"$UNITS/fs.container: Rootfs= has no Kubernetes equivalent"* ]]
        [ -z "$output" ]

        run --separate-stderr "$SUPCTL" --root "$ROOT" generate kube nosuch
        [ "$status" -eq 4 ]
        [[ "$stderr" == *"no such unit 'nosuch'"* ]]

        run --separate-stderr "$SUPCTL" --root "$ROOT" generate swarm web
        [ "$status" -eq 1 ]
}

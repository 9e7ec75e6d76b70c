#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The image store: every import format, dedup, whiteouts, hostile archives, rm/prune, kill -9
# during an import, pull from a local registry (127.0.0.1 only), diff.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
        require_root
        for tool in umoci skopeo zstd docker-registry python3 jq; do
                command -v "$tool" >/dev/null || { echo "missing $tool (contrib/install-deps.sh)" >&2; return 1; }
        done
        FIXTURES=$BATS_FILE_TMPDIR/fixtures
        "$BATS_TEST_DIRNAME/../helpers/make-image-fixtures.sh" "$FIXTURES" >/dev/null
        export FIXTURES
}

setup() {
        setup_supd
        STORE=$TEST_ROOT/var/lib/supd
}

teardown() {
        # A file system a test mounted for the store: supd goes first, then the mount.
        if [ -n "${STORE_MOUNT:-}" ]; then
                stop_supd
                umount "$STORE_MOUNT" || umount -l "$STORE_MOUNT"
                STORE_MOUNT=
        fi
        end_bg "${REGISTRY_PID:-}"
        teardown_supd
}

n_layers() { find "$STORE/layers" -mindepth 1 -maxdepth 1 -type d | wc -l; }
image_id() { supctl image ls --json | jq -r --arg n "$1" --arg t "$2" '.[] | select(.name == $n and .tag == $t) | .id'; }

@test "every format imports: rootfs tarballs (plain, gzip, xz, zstd by magic), OCI layout, oci-archive, docker-archive" {
        start_supd
        for f in rootfs.tar rootfs.tar.gz rootfs.tar.xz rootfs-zstd-misnamed.tar; do
                run supctl image import "$FIXTURES/$f" "plain:$f"
                [ "$status" -eq 0 ]
                assert_contains "$output" "sha256:"
        done
        # The same tar stream, however compressed, is one layer.
        [ "$(n_layers)" -eq 1 ]
        supctl image import "$FIXTURES/oci" oci:dir
        supctl image import "$FIXTURES/oci-archive.tar" oci:archive
        supctl image import "$FIXTURES/skopeo-oci-archive.tar" oci:skopeo
        supctl image import "$FIXTURES/oci-zstd" oci:zstd
        supctl image import "$FIXTURES/docker-archive.tar"
        # docker-archive's own RepoTags (docker.io/library/busybox:test) name it.
        [ -n "$(image_id busybox test)" ]
        # One image, one copy of its three layers, whatever the format.
        id=$(image_id oci dir)
        for t in archive skopeo zstd; do [ "$(image_id oci $t)" = "$id" ]; done
        [ "$(image_id busybox test)" = "$id" ]
        [ "$(n_layers)" -eq 4 ]
        [ -z "$(ls -A "$STORE/tmp")" ]
        run supctl image ls
        assert_contains "$output" "NAME"
        assert_contains "$output" "busybox"
        run supctl image history oci:dir
        [ "$status" -eq 0 ]
        [ "$(echo "$output" | grep -c sha256:)" -eq 3 ]
        assert_contains "$output" "umoci insert"
        # The config gives the defaults.
        jq -e '.config.Cmd == ["/bin/sh"] and .config.WorkingDir == "/var/www"' "$STORE/images/$id.json"
}

@test "every format runs: Image= stacks the layers and takes the config's defaults" {
        start_supd
        supctl image import "$FIXTURES/rootfs.tar.xz" plain:xz
        supctl image import "$FIXTURES/oci" oci:dir
        supctl image import "$FIXTURES/oci-archive.tar" oci:archive
        supctl image import "$FIXTURES/oci-zstd" oci:zstd
        supctl image import "$FIXTURES/docker-archive.tar"
        for img in plain:xz oci:dir oci:archive oci:zstd busybox:test; do
                write_unit "run-${img//[:.]/-}" <<UNIT
[Container]
Image=$img
Exec=/bin/sh -c 'echo ran pwd=\$PWD; test -e /bin/cat && echo cat=present; echo done; sleep 1000'
[Install]
WantedBy=multi-user.target
UNIT
        done
        supctl reload
        for img in plain:xz oci:dir oci:archive oci:zstd busybox:test; do
                log=$TEST_ROOT/var/log/supd/run-${img//[:.]/-}.log
                wait_until 10 grep -q done "$log"
                grep -q "^ran" "$log"
        done
        # The OCI image deletes /bin/cat in a later layer and sets WorkingDir=/var/www.
        grep -q "pwd=/var/www" "$TEST_ROOT/var/log/supd/run-oci-dir.log"
        run ! grep -q "cat=present" "$TEST_ROOT/var/log/supd/run-oci-dir.log"
        grep -q "cat=present" "$TEST_ROOT/var/log/supd/run-plain-xz.log"
        # A running container's image cannot be removed (oci:dir only untags: its id has other tags).
        run supctl image rm plain:xz
        [ "$status" -ne 0 ]
        assert_contains "$output" "used by a running container"
}

@test "device nodes are skipped with a warning" {
        start_supd
        python3 - "$TEST_ROOT/dev.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    d = tarfile.TarInfo("evil-null"); d.type = tarfile.CHRTYPE; d.devmajor = 1; d.devminor = 3; d.mode = 0o666
    t.addfile(d)
    f = tarfile.TarInfo("hello"); f.size = 3
    t.addfile(f, io.BytesIO(b"hi\n"))
PY
        run supctl image import "$TEST_ROOT/dev.tar" dev:1
        [ "$status" -eq 0 ]
        assert_contains "$output" "warning: skipped 1 device node(s)"
        grep -q "skipped 1 device node" "$TEST_ROOT/supd.log"
        [ -z "$(find "$STORE/layers" -name evil-null)" ]
        [ -n "$(find "$STORE/layers" -name hello)" ]
}

@test "whiteouts and opaque directories are applied when the layers are stacked" {
        start_supd
        supctl image import "$FIXTURES/oci-archive.tar" wh:1
        id=$(image_id wh 1)
        lower=$(jq -r '.rootfs.diff_ids | reverse | map(sub("sha256:"; "'"$STORE"'/layers/") + "/diff") | join(":")' \
                "$STORE/images/$id.json")
        mkdir -p "$TEST_ROOT/mnt"
        mount -t overlay overlay -o "ro,lowerdir=$lower" "$TEST_ROOT/mnt"
        run ls "$TEST_ROOT/mnt/bin/cat"
        [ "$status" -ne 0 ]
        [ -e "$TEST_ROOT/mnt/bin/sh" ]
        [ "$(cat "$TEST_ROOT/mnt/var/www/index.html")" = "new page" ]
        run ls "$TEST_ROOT/mnt/var/www/old"
        [ "$status" -ne 0 ]
        # No whiteout marker is visible.
        [ -z "$(find "$TEST_ROOT/mnt" -name '.wh.*')" ]
        umount "$TEST_ROOT/mnt"
}

@test "importing the same image twice stores no second copy" {
        start_supd
        supctl image import "$FIXTURES/docker-archive.tar" twice:1
        before=$(du -s --bytes "$STORE/layers" | cut -f1)
        supctl image import "$FIXTURES/docker-archive.tar" twice:2
        supctl image import "$FIXTURES/rootfs.tar" twice:3
        supctl image import "$FIXTURES/rootfs.tar" twice:3
        [ "$(n_layers)" -eq 4 ]
        [ "$(image_id twice 1)" = "$(image_id twice 2)" ]
        # Two configs, and beside each the record of its tags (what rebuilds tags.json).
        [ "$(ls "$STORE/images" | grep -vc '\.tags\.json$')" -eq 2 ]
        jq -e '. == ["twice:1", "twice:2"]' "$STORE/images/$(image_id twice 1).tags.json"
        after=$(du -s --bytes "$STORE/layers" | cut -f1)
        # Only the plain tarball's layer is new.
        [ "$after" -gt "$before" ]
        [ -z "$(ls -A "$STORE/tmp")" ]
}

@test "hostile archives are refused and nothing outside the layer changes" {
        start_supd
        victim=$TEST_ROOT/victim
        mkdir -p "$victim"
        echo original > "$victim/target"
        chmod 0644 "$victim/target"
        python3 "$BATS_TEST_DIRNAME/../helpers/hostile-tar.py" "$TEST_ROOT/hostile" "$victim"
        for c in dotdot absolute symlink-then-file symlink-relative-then-file symlink-then-hardlink hardlink-outside \
                hardlink-dotdot dir-replaced-by-symlink whiteout-symlink-parent whiteout-malformed whiteout-dotdot \
                whiteout-dot opaque-symlink-parent; do
                run supctl image import "$TEST_ROOT/hostile/$c.tar" "hostile:$c"
                echo "$c: $output"
                [ "$status" -eq 1 ]
                assert_contains "$output" "layer 1/1"
        done
        [ "$(n_layers)" -eq 0 ]
        [ -z "$(ls -A "$STORE/tmp")" ]
        [ "$(supctl image ls --json)" = "[]" ]
        # These unpack, but stay inside their layer.
        for c in metadata-through-symlink hardlink-to-symlink device-nodes trusted-xattr; do
                supctl image import "$TEST_ROOT/hostile/$c.tar" "contained:$c"
        done
        [ "$(cat "$victim/target")" = original ]
        [ "$(stat -c %a "$victim/target")" = 644 ]
        [ "$(ls -A "$victim")" = target ]
        # Device nodes are skipped; a trusted.overlay xattr never reaches the layer.
        [ -z "$(find "$STORE/layers" -type b)" ]
        [ -z "$(find "$STORE/layers" -type c)" ]
        run python3 -c 'import os,sys; print(os.listxattr(sys.argv[1]))' "$(find "$STORE/layers" -name dir -type d)"
        [[ "$output" != *trusted.overlay* ]]
        assert_contains "$output" "user.ok"
}

@test "a corrupt or truncated archive names the bad layer and leaves the store unchanged" {
        start_supd
        mkdir -p "$TEST_ROOT/bad"
        cp -r "$FIXTURES/oci" "$TEST_ROOT/bad/oci"
        # Flip a byte in the biggest layer blob.
        blob=$(ls -S "$TEST_ROOT/bad/oci/blobs/sha256/"* | head -1)
        printf 'X' | dd of="$blob" bs=1 seek=20000 conv=notrunc 2>/dev/null
        run supctl image import "$TEST_ROOT/bad/oci" bad:1
        [ "$status" -eq 1 ]
        assert_contains "$output" "layer 1/3"
        head -c 1500000 "$FIXTURES/docker-archive.tar" > "$TEST_ROOT/bad/truncated.tar"
        run supctl image import "$TEST_ROOT/bad/truncated.tar" bad:2
        [ "$status" -eq 1 ]
        [ "$(n_layers)" -eq 0 ]
        [ -z "$(ls -A "$STORE/tmp")" ]
        [ "$(supctl image ls --json)" = "[]" ]
}

@test "rm and prune free exactly the layers nothing uses" {
        start_supd
        supctl image import "$FIXTURES/docker-archive.tar" keep:1
        supctl image import "$FIXTURES/oci" keep:2
        supctl image import "$FIXTURES/rootfs.tar" other:1
        [ "$(n_layers)" -eq 4 ]
        # Another tag still uses the image: only the name goes.
        supctl image rm keep:1
        [ "$(n_layers)" -eq 4 ]
        [ -z "$(image_id keep 1)" ]
        supctl image rm keep:2
        [ "$(n_layers)" -eq 1 ]
        [ -n "$(image_id other 1)" ]
        supctl image history other:1
        run supctl image rm nosuch:1
        [ "$status" -eq 4 ]
        # A re-tag leaves the old image dangling; prune removes it and its layer, nothing else.
        supctl image import "$FIXTURES/oci" other:1
        [ "$(n_layers)" -eq 4 ]
        run supctl image prune
        [ "$status" -eq 0 ]
        assert_contains "$output" "Deleted: sha256:"
        [ "$(n_layers)" -eq 3 ]
        [ -n "$(image_id other 1)" ]
        run supctl image prune
        assert_contains "$output" "Total reclaimed space: 0B"
}

@test "kill -9 of supd during an import leaves a clean store" {
        start_supd
        mkdir -p "$TEST_ROOT/big/rootfs"
        for i in 1 2 3 4; do head -c 64M /dev/urandom > "$TEST_ROOT/big/rootfs/blob$i"; done
        tar -C "$TEST_ROOT/big/rootfs" -cf "$TEST_ROOT/big/big.tar" .
        rm -rf "$TEST_ROOT/big/rootfs"
        supctl image import "$TEST_ROOT/big/big.tar" big:1 &
        client=$!
        wait_until 20 sh -c "find '$STORE/tmp' -name 'blob*' | grep -q ."
        kill -KILL "$SUPD_PID"
        wait "$SUPD_PID" 2>/dev/null || true
        SUPD_PID=
        wait "$client" || true
        # The worker dies with its supd.
        wait_until 10 sh -c "! pgrep -x supd-image"
        [ "$(n_layers)" -eq 0 ]
        [ ! -e "$STORE/tags.json" ] || [ "$(jq length "$STORE/tags.json")" -eq 0 ]
        start_supd
        [ -z "$(ls -A "$STORE/tmp")" ]
        [ "$(supctl image ls --json)" = "[]" ]
        supctl image import "$FIXTURES/rootfs.tar" after:1
}

start_registry() {
        local port
        # In the test's own network namespace, where supd runs: its loopback and nobody else's.
        ip -n "$NETNS" link set lo up
        port=$(ip netns exec "$NETNS" python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        mkdir -p "$TEST_ROOT/registry"
        # Our own config: loopback only, no auth, storage in the test dir (never the packaged one).
        cat > "$TEST_ROOT/registry/config.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $TEST_ROOT/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
        ip netns exec "$NETNS" docker-registry serve "$TEST_ROOT/registry/config.yml" >"$TEST_ROOT/registry/log" 2>&1 &
        REGISTRY_PID=$!
        REGISTRY=127.0.0.1:$port
        export REGISTRY REGISTRY_PID
        wait_until 10 ip netns exec "$NETNS" python3 -c "import urllib.request; urllib.request.urlopen('http://$REGISTRY/v2/', timeout=1)"
}

push() { # push SRC DEST-REPO:TAG
        ip netns exec "$NETNS" skopeo --policy "$FIXTURES/policy.json" copy -q --dest-tls-verify=false "$1" "docker://$REGISTRY/$2"
}

@test "pull from a local registry; layers already stored are not fetched again; a tampered blob is refused" {
        start_supd
        start_registry
        push oci:"$FIXTURES/oci":test test/busybox:1
        run supctl image pull "$REGISTRY/test/busybox:1"
        echo "$output"
        [ "$status" -eq 0 ]
        [ -n "$(image_id "$REGISTRY/test/busybox" 1)" ]
        [ "$(n_layers)" -eq 3 ]
        supctl image history "$REGISTRY/test/busybox:1"
        # A unit whose image is not stored pulls it on start; supctl start returns once it runs.
        push oci:"$FIXTURES/oci":test test/busybox:unit
        write_unit pulled <<UNIT
[Container]
Image=$REGISTRY/test/busybox:unit
Exec=/bin/sleep 1000
UNIT
        supctl reload
        supctl start pulled
        [ "$(prop pulled ActiveState)" = active ]
        grep -q "pulled: pulling $REGISTRY/test/busybox:unit" "$TEST_ROOT/supd.log"
        supctl stop pulled
        # The docker-archive is recompressed on push: same layers (by uncompressed digest), none new.
        push docker-archive:"$FIXTURES/docker-archive.tar" test/other:2
        supctl image pull "$REGISTRY/test/other:2"
        [ "$(n_layers)" -eq 3 ]
        # Tamper with the big layer blob in the registry's storage, then pull it afresh.
        supctl image rm "$REGISTRY/test/busybox:1" "$REGISTRY/test/other:2" "$REGISTRY/test/busybox:unit"
        [ "$(n_layers)" -eq 0 ]
        n=0
        for data in $(find "$TEST_ROOT/registry/data" -path '*/blobs/sha256/*/data' -size +100k); do
                printf 'TAMPERED-BLOB-%s' "$n" | dd of="$data" bs=1 seek=5000 conv=notrunc 2>/dev/null
                n=$((n + 1))
                echo "tampered $data"
        done
        [ "$n" -ge 1 ]
        run supctl image pull "$REGISTRY/test/busybox:1"
        echo "$output"
        [ "$status" -eq 1 ]
        assert_contains "$output" "digest mismatch"
        [ "$(n_layers)" -eq 0 ]
        [ -z "$(ls -A "$STORE/tmp")" ]
}

@test "diff lists what a container added, changed and deleted" {
        write_unit d <<UNIT
[Container]
Rootfs=$ROOTFS
Exec=/bin/sh -c 'echo x > /new; rm /etc/group; echo more >> /etc/passwd; exec sleep 1000'
UNIT
        start_supd
        supctl start d
        # The command's last change: once it shows, all three are made.
        wait_until 10 sh -c "'$SUPCTL' --root '$TEST_ROOT' diff d | grep -q 'C /etc/passwd'"
        run supctl diff d
        echo "$output"
        assert_contains "$output" "A /new"
        assert_contains "$output" "C /etc/passwd"
        assert_contains "$output" "D /etc/group"
        # The writable layer is the run's: once the unit is down there is none to show.
        supctl stop d
        run supctl diff d
        [ "$status" -ne 0 ]
        assert_contains "$output" "d has no running container"
}

# ---- limits on what an import may write ----

# make_bomb FILE MiB: a .tar.zst of a few KiB that expands to MiB of zeros.
make_bomb() {
        local d
        d=$(mktemp -d "$BATS_TEST_TMPDIR/bomb.XXXXXX")
        head -c "$2M" /dev/zero > "$d/zeros"
        tar --numeric-owner -C "$d" -cf - . | zstd -q -19 -o "$1"
        rm -rf "$d"
}

# store_listing: every path of the store with the size of each file, to compare before/after.
store_listing() {
        (cd "$STORE" && find . \( -type f -printf '%p %s\n' \) -o -printf '%p\n' | sort)
}

tiny_tar() { # tiny_tar FILE: a one-file root filesystem
        local d
        d=$(mktemp -d "$BATS_TEST_TMPDIR/tiny.XXXXXX")
        echo tiny > "$d/hello"
        tar --numeric-owner -C "$d" -cf "$1" .
        rm -rf "$d"
}

@test "MaxImportSize= stops a decompression bomb cleanly and leaves the store as it was" {
        printf '[Images]\nMaxImportSize=1M\n' >> "$TEST_ROOT/etc/supd/supd.conf"
        start_supd
        tiny_tar "$BATS_TEST_TMPDIR/tiny.tar"
        supctl image import "$BATS_TEST_TMPDIR/tiny.tar" tiny:1
        make_bomb "$BATS_TEST_TMPDIR/bomb.tar.zst" 50
        [ "$(stat -c %s "$BATS_TEST_TMPDIR/bomb.tar.zst")" -lt 100000 ]
        before=$(store_listing)
        ls_before=$(supctl image ls)
        run supctl image import "$BATS_TEST_TMPDIR/bomb.tar.zst" bomb:1
        echo "$output"
        [ "$status" -ne 0 ]
        assert_contains "$output" "import stopped: image larger than MaxImportSize=1M"
        # No partial layer, no scratch dir, no tag, no image.
        [ "$(store_listing)" = "$before" ]
        [ "$(supctl image ls)" = "$ls_before" ]
        [ -z "$(image_id bomb 1)" ]
}

@test "MinFreeSpace= stops an import that would fill the store's file system (size and percentage)" {
        mkdir -p "$STORE"
        mount -t tmpfs -o size=64M,mode=0700 supd-test-store "$STORE"
        STORE_MOUNT=$STORE
        printf '[Images]\nMinFreeSpace=40M\n' >> "$TEST_ROOT/etc/supd/supd.conf"
        start_supd
        tiny_tar "$BATS_TEST_TMPDIR/tiny.tar"
        supctl image import "$BATS_TEST_TMPDIR/tiny.tar" tiny:1
        make_bomb "$BATS_TEST_TMPDIR/bomb.tar.zst" 50
        before=$(store_listing)
        ls_before=$(supctl image ls)
        run supctl image import "$BATS_TEST_TMPDIR/bomb.tar.zst" bomb:1
        echo "$output"
        [ "$status" -ne 0 ]
        assert_contains "$output" "import stopped: it would leave less than 40M free on $STORE (MinFreeSpace=40M)"
        [ "$(store_listing)" = "$before" ]
        [ "$(supctl image ls)" = "$ls_before" ]
        # The limit, not the archive, decides: 20M fit above 40M free.
        make_bomb "$BATS_TEST_TMPDIR/twenty.tar.zst" 20
        supctl image import "$BATS_TEST_TMPDIR/twenty.tar.zst" twenty:1
        [ -n "$(image_id twenty 1)" ]
        supctl image rm twenty:1
        # A percentage of the file system: 70% of 64M.
        sed -i 's/^MinFreeSpace=.*/MinFreeSpace=70%/' "$TEST_ROOT/etc/supd/supd.conf"
        supctl reload
        before=$(store_listing)
        run supctl image import "$BATS_TEST_TMPDIR/bomb.tar.zst" bomb:1
        echo "$output"
        [ "$status" -ne 0 ]
        assert_contains "$output" "free on $STORE (MinFreeSpace=70%)"
        [ "$(store_listing)" = "$before" ]
        [ -z "$(image_id bomb 1)" ]
        [ -n "$(image_id tiny 1)" ]
}

@test "invalid [Images] values in supd.conf are PATH:LINE errors" {
        # The helper's supd.conf has 5 lines; these are 6 to 9.
        printf '[Images]\nMaxImportSize=12Q\nMinFreeSpace=150%%\nMinFreeSpace=lots\n' >> "$TEST_ROOT/etc/supd/supd.conf"
        start_supd
        grep -F "$TEST_ROOT/etc/supd/supd.conf:7: invalid size '12Q' for MaxImportSize=" "$TEST_ROOT/supd.log"
        grep -F "$TEST_ROOT/etc/supd/supd.conf:8: invalid percentage '150%' for MinFreeSpace=" "$TEST_ROOT/supd.log"
        grep -F "$TEST_ROOT/etc/supd/supd.conf:9: invalid size 'lots' for MinFreeSpace=" "$TEST_ROOT/supd.log"
}

@test "pull obeys MaxImportSize= and leaves the store as it was" {
        printf '[Images]\nMaxImportSize=1M\n' >> "$TEST_ROOT/etc/supd/supd.conf"
        start_supd
        start_registry
        push oci:"$FIXTURES/oci":test test/busybox:big
        before=$(store_listing)
        run supctl image pull "$REGISTRY/test/busybox:big"
        echo "$output"
        [ "$status" -ne 0 ]
        assert_contains "$output" "import stopped: image larger than MaxImportSize=1M"
        [ "$(store_listing)" = "$before" ]
        [ "$(n_layers)" -eq 0 ]
}

# ---- a damaged tags.json ----

# damage KIND: empty, NUL-filled, truncated or garbage tags.json.
damage() {
        local good
        good=$(cat "$STORE/tags.json")
        case $1 in
        empty) : > "$STORE/tags.json" ;;
        nul) head -c 512 /dev/zero > "$STORE/tags.json" ;;
        truncated) printf '%s' "${good:0:$((${#good} / 2))}" > "$STORE/tags.json" ;;
        garbage) printf 'PK\003\004 this is no index \377\376' > "$STORE/tags.json" ;;
        esac
}

@test "a damaged tags.json is set aside and rebuilt from the per-image records, with a warning naming it" {
        start_supd
        supctl image import "$FIXTURES/rootfs.tar" keep:1
        supctl image import "$FIXTURES/oci" oci:dir
        supctl image import "$FIXTURES/oci-archive.tar" oci:other
        keep=$(image_id keep 1)
        oci=$(image_id oci dir)
        for kind in empty nul truncated garbage; do
                damage "$kind"
                : > "$TEST_ROOT/supd.log"
                run supctl image ls
                echo "$kind: $output"
                [ "$status" -eq 0 ]
                [ "$(image_id keep 1)" = "$keep" ]
                [ "$(image_id oci dir)" = "$oci" ]
                [ "$(image_id oci other)" = "$oci" ]
                grep -F "$STORE/tags.json was damaged" "$TEST_ROOT/supd.log"
                ls "$STORE"/tags.json.corrupt-*
                # Repaired on disk: the next reader has nothing to warn about.
                jq -e --arg k "$keep" '.["keep:1"] == $k' "$STORE/tags.json"
                rm -f "$STORE"/tags.json.corrupt-*
        done
}

@test "with a damaged tags.json, import, rm, prune and an Image= unit all work" {
        start_supd
        supctl image import "$FIXTURES/rootfs.tar" keep:1
        supctl image import "$FIXTURES/rootfs.tar.xz" gone:1
        keep=$(image_id keep 1)

        damage empty
        run supctl image import "$FIXTURES/oci" oci:dir
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$(image_id keep 1)" = "$keep" ]
        [ -n "$(image_id oci dir)" ]

        damage nul
        run supctl image rm gone:1
        echo "$output"
        [ "$status" -eq 0 ]
        [ -z "$(image_id gone 1)" ]
        [ "$(image_id keep 1)" = "$keep" ]

        supctl image import "$FIXTURES/docker-archive.tar"
        supctl image rm busybox:test
        damage truncated
        run supctl image prune
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$(image_id keep 1)" = "$keep" ]
        [ -n "$(image_id oci dir)" ]

        damage garbage
        write_unit fromimage <<UNIT
[Container]
Image=keep:1
Exec=/bin/sleep 1000
UNIT
        supctl reload
        run supctl start fromimage
        echo "$output"
        [ "$status" -eq 0 ]
        wait_until 10 state_is fromimage running
        supctl stop fromimage
        [ "$(grep -c "$STORE/tags.json was damaged" "$TEST_ROOT/supd.log")" -ge 4 ]
        run grep -F "Bad message" "$TEST_ROOT/supd.log"
        [ "$status" -ne 0 ]
}

@test "a store without per-image tag records gets them at startup" {
        start_supd
        supctl image import "$FIXTURES/rootfs.tar" keep:1
        supctl image import "$FIXTURES/rootfs.tar" keep:2
        keep=$(image_id keep 1)
        stop_supd
        rm "$STORE/images/$keep.tags.json"
        start_supd
        jq -e '. == ["keep:1", "keep:2"]' "$STORE/images/$keep.tags.json"
        # ... so that a damaged tags.json can be rebuilt from them.
        : > "$STORE/tags.json"
        [ "$(image_id keep 2)" = "$keep" ]
        supctl image rm keep:1
        jq -e '. == ["keep:2"]' "$STORE/images/$keep.tags.json"
        supctl image rm keep:2
        [ ! -e "$STORE/images/$keep.tags.json" ]
}

# ---- a damaged image configuration, a damaged layer size ----

layers_of() { jq -r '.rootfs.diff_ids[] | sub("^sha256:"; "")' "$STORE/images/$1.json"; }

@test "a damaged image configuration (empty, garbage): its layers survive rm and prune, ls lists it, rm removes it" {
        start_supd
        supctl image import "$FIXTURES/rootfs.tar" keep:1
        keep=$(image_id keep 1)
        for kind in empty garbage; do
                supctl image import "$FIXTURES/oci" "bad:$kind"
                supctl image import "$FIXTURES/rootfs.tar.xz" other:1
                bad=$(image_id bad "$kind")
                layers=$(layers_of "$bad")
                [ "$(echo "$layers" | wc -l)" -eq 3 ]
                case $kind in
                empty) : > "$STORE/images/$bad.json" ;;
                garbage) printf '{"rootfs": {"diff_ids": ["sha256:trunc' > "$STORE/images/$bad.json" ;;
                esac
                : > "$TEST_ROOT/supd.log"

                # ls works, shows it damaged and names the file.
                run --separate-stderr supctl image ls
                echo "$kind ls: $output / $stderr"
                [ "$status" -eq 0 ]
                assert_contains "$output" "keep"
                echo "$output" | grep -E "^bad +$kind +${bad:0:12} +damaged"
                assert_contains "$stderr" "images/$bad.json in the image store, is damaged"
                supctl image ls --json | jq -e --arg id "$bad" '[.[] | select(.id == $id)] | .[0].damaged == true and (.[0] | has("size") | not)'
                grep -F "$STORE/images/$bad.json is damaged" "$TEST_ROOT/supd.log"

                # Removing another image and pruning collect none of its layers (nor anything else
                # while the damaged image might use it), with a warning naming the file.
                supctl image rm other:1
                supctl image prune
                for l in $layers; do [ -d "$STORE/layers/$l/diff" ]; done
                [ -d "$STORE/layers/$(layers_of "$keep")/diff" ]
                [ -e "$STORE/images/$bad.json" ]
                grep -F "$STORE/images/$bad.json is damaged" "$TEST_ROOT/supd.log" | grep -F "no layer is removed"
                # ... and so does a restart of supd (its startup collection).
                stop_supd
                start_supd
                for l in $layers; do [ -d "$STORE/layers/$l/diff" ]; done

                # Using it fails with an error naming the file, not 'Bad message'.
                run supctl image history "bad:$kind"
                echo "$output"
                [ "$status" -ne 0 ]
                assert_contains "$output" "$STORE/images/$bad.json is damaged"

                # rm removes it (by tag, then by id); then its layers are collected.
                if [ "$kind" = empty ]; then supctl image rm "bad:$kind"; else supctl image rm "${bad:0:12}"; fi
                [ ! -e "$STORE/images/$bad.json" ]
                for l in $layers; do [ ! -e "$STORE/layers/$l" ]; done
                [ "$(image_id keep 1)" = "$keep" ]
                [ "$(n_layers)" -eq 1 ]
                run grep -F "Bad message" "$TEST_ROOT/supd.log"
                [ "$status" -ne 0 ]
        done
}

@test "an Image= unit whose configuration is damaged fails naming the file" {
        start_supd
        supctl image import "$FIXTURES/rootfs.tar" keep:1
        keep=$(image_id keep 1)
        printf 'garbage' > "$STORE/images/$keep.json"
        write_unit fromimage <<UNIT
[Container]
Image=keep:1
Exec=/bin/sleep 1000
UNIT
        supctl reload
        run supctl start fromimage
        echo "$output"
        [ "$status" -ne 0 ]
        grep -F "Image=keep:1: $STORE/images/$keep.json is damaged (its content does not match its id)" "$TEST_ROOT/supd.log"
}

@test "a damaged or missing layer size file is recomputed from the layer's files, with a warning naming it" {
        start_supd
        supctl image import "$FIXTURES/oci" oci:dir
        id=$(image_id oci dir)
        good=$(supctl image ls --json | jq '.[0].size')
        [ "$good" -gt 0 ]
        set -- $(layers_of "$id")
        printf 'garbage\n' > "$STORE/layers/$1/size"
        rm "$STORE/layers/$2/size"
        : > "$TEST_ROOT/supd.log"
        size=$(supctl image ls --json | jq '.[0].size')
        echo "size $size of $good"
        # Never read as 0: close to the recorded size (the files without the tar's headers).
        [ "$size" -gt $((good / 2)) ]
        [ "$size" -le "$good" ]
        grep -F "$STORE/layers/$1/size is damaged; the layer's size was recomputed" "$TEST_ROOT/supd.log"
        grep -F "$STORE/layers/$2/size is missing; the layer's size was recomputed" "$TEST_ROOT/supd.log"
        # A restart (which holds the store lock) writes them back; nothing was collected.
        stop_supd
        start_supd
        supctl image ls >/dev/null
        grep -Eq '^[0-9]+$' "$STORE/layers/$1/size"
        grep -Eq '^[0-9]+$' "$STORE/layers/$2/size"
        [ "$(n_layers)" -eq 3 ]
        [ "$(supctl image ls --json | jq '.[0].size')" -eq "$size" ]
        run supctl image rm oci:dir
        echo "$output"
        [ "$status" -eq 0 ]
        run grep -F "(0B freed)" <<<"$output"
        [ "$status" -ne 0 ]
}

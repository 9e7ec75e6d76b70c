#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Import throughput: `supctl image import` of a 100+ MB three-layer docker-archive against `tar -x`
# of the same layers, and the time and new layer bytes of a second import of the same image.
# Target: at least 80% of tar -x speed; the second import adds no layer bytes.
#   tests/bench/image-import.sh [BUILDDIR]      (root; prints a table, then one JSON line)
set -euo pipefail
build=${1:-build}
supd=$(realpath "$build/supervisor/supd")
supctl=$(realpath "$build/supervisor/supctl")
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "image-import.sh: run as root" >&2; exit 1; }
for t in python3 bc; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
work=$(mktemp -d /var/tmp/supd-bench.XXXXXX)
pid=
cleanup() {
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT

# Three layers of many files of mixed sizes (compressible text and random data): ~40 MB each.
python3 - "$work/src" <<'PY'
import os, random, sys
random.seed(1)
for layer in range(3):
    for d in range(40):
        p = os.path.join(sys.argv[1], str(layer), "usr/share/l%d/d%d" % (layer, d))
        os.makedirs(p, exist_ok=True)
        for f in range(50):
            n = random.choice([200, 4096, 30000, 60000])
            data = os.urandom(n // 2) + (b"supd bench %d\n" % f) * (n // 28)
            open(os.path.join(p, "f%d" % f), "wb").write(data)
PY
# A classic docker save layout: <diffid>.tar layers, <config>.json, manifest.json.
mkdir -p "$work/layers"
for l in 0 1 2; do tar --numeric-owner -C "$work/src/$l" -cf "$work/layers/layer$l.tar" .; done
python3 - "$work/layers" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
diff = []
for l in range(3):
    h = hashlib.sha256(open(os.path.join(d, "layer%d.tar" % l), "rb").read()).hexdigest()
    os.rename(os.path.join(d, "layer%d.tar" % l), os.path.join(d, h + ".tar"))
    diff.append(h)
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + h for h in diff]}}).encode()
ch = hashlib.sha256(cfg).hexdigest()
open(os.path.join(d, ch + ".json"), "wb").write(cfg)
json.dump([{"Config": ch + ".json", "RepoTags": ["bench:1"], "Layers": [h + ".tar" for h in diff]}],
          open(os.path.join(d, "manifest.json"), "w"))
PY
tar -C "$work/layers" -cf "$work/bench.tar" .
layers=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$work/layers/manifest.json")
archive_bytes=$(stat -c %s "$work/bench.tar")

now() { date +%s.%N; }
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
cat "$work/bench.tar" > /dev/null # both read from the page cache
t0=$(now)
for l in $layers; do mkdir -p "$work/x/$l" && tar -C "$work/x/$l" -xf "$work/layers/$l"; done
sync -f "$work/x"
t1=$(now)
tar_s=$(echo "$t1 - $t0" | bc)

mkdir -p "$work/root/etc/supd/units"
unshare -n "$supd" --root "$work/root" >"$work/supd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do "$supctl" --root "$work/root" image ls >/dev/null 2>&1 && break; sleep 0.05; done
t0=$(now)
"$supctl" --root "$work/root" image import "$work/bench.tar" bench:1 >/dev/null
t1=$(now)
import_s=$(echo "$t1 - $t0" | bc)
store=$work/root/var/lib/supd/layers
before=$(du -s --bytes "$store" | cut -f1)
t0=$(now)
"$supctl" --root "$work/root" image import "$work/bench.tar" bench:2 >/dev/null
t1=$(now)
second_s=$(echo "$t1 - $t0" | bc)
after=$(du -s --bytes "$store" | cut -f1)
ratio=$(echo "scale=2; $tar_s / $import_s * 100" | bc)

printf '%-28s %12s\n' "archive" "$((archive_bytes / 1000000)) MB, 3 layers"
printf '%-28s %10.2fs\n' "tar -x of the layers" "$tar_s"
printf '%-28s %10.2fs  (%.0f%% of tar -x speed, target 80%%)\n' "supctl image import" "$import_s" "$ratio"
printf '%-28s %10.2fs  (%s new layer bytes)\n' "second import" "$second_s" "$((after - before))"
printf '{"archive_bytes":%s,"tar_x_s":%.3f,"import_s":%.3f,"speed_pct":%.1f,"second_import_s":%.3f,"second_import_new_bytes":%s}\n' \
        "$archive_bytes" "$tar_s" "$import_s" "$ratio" "$second_s" "$((after - before))"

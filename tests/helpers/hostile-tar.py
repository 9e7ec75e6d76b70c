#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes hostile layer tarballs, one per escape class, for the image importer's tests.

  hostile-tar.py OUTDIR VICTIM

VICTIM is an absolute directory outside the layer that every archive tries to reach (create
VICTIM/pwned, change VICTIM/target, follow VICTIM). Each OUTDIR/NAME.tar must be refused (or, for
the classes marked "contained", unpacked without touching anything outside the layer)."""
import io
import os
import sys
import tarfile

out, victim = sys.argv[1], sys.argv[2].rstrip("/")
os.makedirs(out, exist_ok=True)


def entry(name, kind=tarfile.REGTYPE, data=b"", linkname="", mode=0o644, devmajor=0, devminor=0):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.linkname = linkname
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    ti.devmajor, ti.devminor = devmajor, devminor
    return ti, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def write(name, entries):
    with tarfile.open(os.path.join(out, name + ".tar"), "w", format=tarfile.PAX_FORMAT) as t:
        for ti, f in entries:
            t.addfile(ti, f)


up = "../" * 12 + victim.lstrip("/")
# Refused: the importer must fail and name the entry.
write("dotdot", [entry(up + "/pwned", data=b"x")])
write("absolute", [entry(victim + "/pwned", data=b"x")])
write("symlink-then-file", [entry("evil", tarfile.SYMTYPE, linkname=victim), entry("evil/pwned", data=b"x")])
write("symlink-relative-then-file", [entry("evil", tarfile.SYMTYPE, linkname=up), entry("evil/pwned", data=b"x")])
write("symlink-then-hardlink", [entry("evil", tarfile.SYMTYPE, linkname=victim),
                                entry("link", tarfile.LNKTYPE, linkname="evil/target")])
write("hardlink-outside", [entry("link", tarfile.LNKTYPE, linkname=victim + "/target")])
write("hardlink-dotdot", [entry("link", tarfile.LNKTYPE, linkname=up + "/target")])
write("dir-replaced-by-symlink", [entry("d", tarfile.DIRTYPE, mode=0o755), entry("d", tarfile.SYMTYPE, linkname=victim),
                                  entry("d/pwned", data=b"x")])
write("whiteout-symlink-parent", [entry("evil", tarfile.SYMTYPE, linkname=victim), entry("evil/.wh.target")])
write("whiteout-malformed", [entry(".wh.")])
write("whiteout-dotdot", [entry("etc/.wh..."), ])
write("whiteout-dot", [entry("etc/.wh..")])
write("opaque-symlink-parent", [entry("evil", tarfile.SYMTYPE, linkname=victim), entry("evil/.wh..wh..opq")])
# Contained: must unpack, but only inside the layer.
write("metadata-through-symlink", [entry("evil", tarfile.SYMTYPE, linkname=victim + "/target"),
                                   entry("evil", tarfile.REGTYPE, data=b"replaced", mode=0o4777)])
write("hardlink-to-symlink", [entry("evil", tarfile.SYMTYPE, linkname=victim + "/target"),
                              entry("link", tarfile.LNKTYPE, linkname="evil"),
                              entry("link", tarfile.REGTYPE, data=b"x")])
write("device-nodes", [entry("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0),
                       entry("dev/mem", tarfile.CHRTYPE, devmajor=1, devminor=1), entry("ok", data=b"ok")])
write("trusted-xattr", [entry("ok", data=b"ok")])
with tarfile.open(os.path.join(out, "trusted-xattr.tar"), "w", format=tarfile.PAX_FORMAT) as t:
    ti, f = entry("dir", tarfile.DIRTYPE, mode=0o755)
    ti.pax_headers = {"SCHILY.xattr.trusted.overlay.opaque": "y", "SCHILY.xattr.user.ok": "1"}
    t.addfile(ti, f)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks the include layering of DESIGN.md: lower layers never include higher ones.

    basic/  <-  unitfile/, image/, runtime/, netns/  <-  the core (supervisor/*.c)  <-  bus/  <-  the mains

The four libraries in the middle are peers and never include each other. supctl (supctl*.c, or
supervisor/supctl/) may include basic/, unitfile/ and the bus names header only. Every quoted
#include is resolved the way the compiler does (the including file's folder first, then the
include directories of meson.build) and its target's layer compared with the includer's.
Prints one line per violation, PATH:LINE: message, and exits 1 if there is any.
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
LIBS = ("unitfile", "image", "runtime")

# Shown in the order of the layering; a folder's rank is what it may include down to.
def layer_of(rel):
    parts = rel.split("/")
    if parts[0] == "netns":
        return ("lib", "netns")
    if parts[0] != "supervisor":
        return None
    if len(parts) == 2:
        base = parts[1]
        if base in ("supd.c",) or base.startswith("supctl"):
            return ("supctl", None) if base.startswith("supctl") else ("main", None)
        return ("core", None)
    sub = parts[1]
    if sub == "basic":
        return ("basic", None)
    if sub in LIBS:
        return ("lib", sub)
    if sub == "bus":
        return ("bus", None)
    if sub == "supctl":
        return ("supctl", None)
    return ("core", None)

RANK = {"basic": 0, "lib": 1, "core": 2, "bus": 3, "main": 4, "supctl": 4}

# bus/names.h holds only the public D-Bus names (constants): the core's bus objects and supctl share
# it, so any layer above basic/ may include it.
SHARED = ("supervisor/bus/names.h",)


def include_dirs():
    dirs = [os.path.join(ROOT, "supervisor"), os.path.join(ROOT, "netns")]
    for sub in ("basic",) + LIBS + ("bus", "supctl"):
        dirs.append(os.path.join(ROOT, "supervisor", sub))
    return [d for d in dirs if os.path.isdir(d)]


def resolve(src_dir, name, dirs):
    for d in [src_dir] + dirs:
        p = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(p):
            return p
    return None


def main():
    dirs = include_dirs()
    bad = 0
    checked = 0
    for top in ("supervisor", "netns"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, ROOT)
                me = layer_of(rel)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for lineno, line in enumerate(fh, 1):
                        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                        if not m:
                            continue
                        checked += 1
                        target = resolve(dirpath, m.group(1), dirs)
                        if target is None:
                            print(f"{rel}:{lineno}: cannot resolve #include \"{m.group(1)}\"")
                            bad += 1
                            continue
                        trel = os.path.relpath(target, ROOT)
                        it = layer_of(trel)
                        if it is None or me is None:
                            continue
                        why = None
                        if me[0] == "supctl":
                            allowed = it[0] == "basic" or (it[0] == "lib" and it[1] == "unitfile") or \
                                trel.endswith("bus/names.h") or it[0] == "supctl"
                            if not allowed:
                                why = "supctl may include basic/, unitfile/ and bus/names.h only"
                        elif trel in SHARED and me[0] != "basic":
                            pass
                        elif RANK[it[0]] > RANK[me[0]]:
                            why = f"a {me[1] or me[0]} file includes a {it[1] or it[0]} header"
                        elif me[0] == "lib" and it[0] == "lib" and me[1] != it[1]:
                            why = f"{me[1]}/ and {it[1]}/ are peers and never include each other"
                        if why:
                            print(f"{rel}:{lineno}: {why}: {trel}")
                            bad += 1
    print(f"check-layering: {checked} includes checked, {bad} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

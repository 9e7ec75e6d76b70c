/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Assembling a container's root file system inside its new mount namespace: overlay of the
 * layers, /proc, /sys, /sys/fs/cgroup, /dev, masked and read-only paths, bind mounts and tmpfs,
 * then pivot_root. Every path inside the root is resolved with openat2(RESOLVE_IN_ROOT), so a
 * hostile image cannot point a mount target outside with a symlink. Runs in the cloned child. */

typedef struct RootfsBind {
        const char *source; /* host path */
        const char *target; /* inside the container */
        bool read_only;
} RootfsBind;

typedef struct RootfsTmpfs {
        const char *target;
        const char *options; /* mount data ("size=64m,mode=1777"), may be NULL */
} RootfsTmpfs;

typedef struct RootfsConfig {
        char *const *lower_dirs; /* overlay lower layers, topmost first */
        const char *upper_dir;
        const char *work_dir;
        const char *mount_dir; /* host directory the root is assembled on */
        bool read_only;
        const RootfsBind *binds;
        size_t n_binds;
        const RootfsTmpfs *tmpfs;
        size_t n_tmpfs;
        bool cgroup_unified;        /* the host is pure cgroup v2 */
        char *const *cgroup_v1;     /* v1 hierarchies to show ("memory", "cpu,cpuacct", …), hybrid hosts */
        bool cgroup_hybrid_unified; /* hybrid host: also cgroup2 at /sys/fs/cgroup/unified */
} RootfsConfig;

/* On failure returns a negative errno and describes the step in what (e.g. "mount /proc"). */
int rootfs_setup(const RootfsConfig *c, char *what, size_t what_size);

/* Parent side: which cgroup hierarchies the host has (from /proc/self/mountinfo). */
int rootfs_detect_cgroups(bool *ret_unified, char ***ret_v1, bool *ret_hybrid_unified);

/* Paths Docker masks (bind /dev/null or an empty read-only tmpfs) and makes read-only. */
extern const char *const rootfs_masked_paths[];
extern const char *const rootfs_readonly_paths[];

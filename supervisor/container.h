/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "image/image-store.h"
#include "runtime/spawn.h"
#include "unitfile/unit-settings.h"

/* Turns a unit's settings into everything spawn_container_begin() needs: command, environment, root
 * file system layers and mounts, the files supd generates for the container (/etc/hostname,
 * /etc/hosts, /etc/resolv.conf), capabilities and the seccomp filter. Owns what the
 * SpawnParams point to. */
typedef struct ContainerPlan {
        SpawnParams params;
        char **argv;
        char **env;
        char *user; /* User=/Group=, or the image's "user[:group]" */
        char *group;
        char *working_dir;
        char *hostname;
        char **lower_dirs;
        char *mount_dir;
        char *upper_dir;
        char *work_dir;
        char **strings; /* sources and targets the binds and tmpfs mounts point into */
        RootfsBind *binds;
        size_t n_binds;
        RootfsTmpfs *tmpfs;
        size_t n_tmpfs;
        char **cgroup_v1; /* the host's v1 hierarchies the container's cgroup is in */
        int log_fd;
} ContainerPlan;

typedef struct ContainerPaths {
        const char *run_dir;      /* /run/supd */
        const char *state_dir;    /* /var/lib/supd */
        const char *log_dir;      /* /var/log/supd */
        const char *instance_dir; /* /run/supd/instances/RUN_ID: the root file system is mounted at rootfs in it */
        const char *run_id;       /* the writable layer is the run's: state_dir/containers/NAME/RUN_ID */
} ContainerPaths;

/* The writable layer of one run (its overlay upper and work dirs): state_dir/containers/NAME/RUN_ID.
 * Keyed by the run, so that two runs of one unit never share one; anonymous volumes stay per unit
 * (state_dir/containers/NAME/volumes) and outlive runs. */
int container_layer_path(const char *state_dir, const char *name, const char *run_id, char **ret);
/* Removes a run's writable layer (the run is over for good, as podman run --rm does). */
int container_layer_remove(const char *state_dir, const char *name, const char *run_id);

/* name: the instance ("web@2"); template_name: the unit file's name ("web") for replicas.
 * state_dir_fd: /run/supd/instances/RUN_ID (instance_dir). On failure *ret_error says what is wrong in one line. */
/* cgroup_hierarchies: the hierarchies the container's cgroup lives in (cgroup_hierarchies()), which
 * are the ones shown at /sys/fs/cgroup inside; NULL when the container has no cgroup. */
/* image: the unit's Image= from the store (its layers and the defaults its config gives, which the
 * unit's keys override as podman run does), or NULL for Rootfs=. */
int container_plan_build(const ContainerPaths *paths, const char *name, const char *hostname, const UnitSettings *s,
                         const Image *image, char *const *cgroup_hierarchies, int state_dir_fd, ContainerPlan *ret,
                         char **ret_error);
void container_plan_done(ContainerPlan *p);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "basic/time-util.h"

/* Everything the child needs, prepared by the parent before clone3(): after the clone the child
 * only makes syscalls (supd has no threads, so the allocator state is consistent, but we still
 * keep the child's work to mounts, credentials and execve). */
typedef struct SpawnParams {
        const char *name;      /* instance name, for messages */
        const char *rootfs;    /* lower directory */
        const char *mount_dir; /* where the container's root is assembled (host path) */
        const char *upper_dir; /* overlay upper and work dirs (same filesystem) */
        const char *work_dir;
        const char *hostname;
        char *const *argv;
        char *const *envp;
        const char *working_dir; /* inside the container; NULL for "/" */
        bool set_user;
        uid_t uid;
        gid_t gid;
        bool run_init; /* our PID 1 in front of the workload */
        bool no_new_privs;
        int stdout_fd;    /* becomes fd 1 and 2 */
        int state_dir_fd; /* where our init writes the "exit" record */
        usec_t setup_timeout;
} SpawnParams;

/* Exit codes for failures inside the child, as Docker uses them. */
#define SPAWN_EXIT_SETUP 125    /* setting up the container failed */
#define SPAWN_EXIT_NOEXEC 126   /* the command cannot be invoked */
#define SPAWN_EXIT_NOTFOUND 127 /* the command was not found */

/* Clones the container's PID 1 into new pid, mount, uts and ipc namespaces and waits until the
 * workload has been exec'd or the child reported why it could not be. Returns 0 with the pid and
 * a pidfd of the container's PID 1 (the child must be reaped by the caller even when it failed;
 * *ret_error then holds one line such as "exec /app: No such file or directory"), or a negative
 * errno when no child exists. */
int spawn_container(const SpawnParams *p, pid_t *ret_pid, int *ret_pidfd, char **ret_error);

/* The "exit" record our init leaves in the state dir: how the workload ended. */
int spawn_read_exit_record(int state_dir_fd, int *ret_code, int *ret_status);

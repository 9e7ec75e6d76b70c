/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/time-util.h"
#include "rootfs.h"
#include "workload.h"

struct sock_fprog;

/* Everything the child needs, prepared by the parent before clone3(): after the clone the child
 * makes syscalls and reads the container's own /etc/passwd, nothing else. */
typedef struct SpawnParams {
        const char *name; /* instance name, for messages */
        RootfsConfig rootfs;
        const char *hostname;
        WorkloadParams workload;
        bool want_pty;        /* allocate a pty in the container: the workload's stdio, the master to the parent */
        bool run_init;        /* our PID 1 in front of the workload */
        bool private_network; /* a new network namespace with only lo (up) */
        int cgroup_fd;        /* cgroup2 directory for CLONE_INTO_CGROUP, or -1 */
        /* Runs in the parent between clone and the child's setup (cgroup v1 attach, later the
         * network); a failure kills the child. */
        int (*prepare)(pid_t pid, void *userdata);
        void *prepare_userdata;
        /* Runs first thing in the child, with prepare_userdata (joins the cgroup v1 hierarchies). */
        int (*child_prepare)(void *userdata);
        int stdin_fd; /* -1: /dev/null */
        int stdout_fd;
        int stderr_fd;
        int state_dir_fd; /* where the "exit" record is created; our init gets only that file */
        usec_t setup_timeout;
} SpawnParams;

/* Exit codes for failures inside the child, as Docker uses them. */
#define SPAWN_EXIT_SETUP 125    /* setting up the container failed */
#define SPAWN_EXIT_NOEXEC 126   /* the command cannot be invoked */
#define SPAWN_EXIT_NOTFOUND 127 /* the command was not found */

/* Clones the container's PID 1 into new pid, mount, uts, ipc, cgroup (and net) namespaces and
 * waits until the workload has been exec'd or the child reported why it could not be. Returns 0
 * with the pid and a pidfd of the container's PID 1 (the child must be reaped by the caller even
 * when it failed; *ret_error then holds one line such as "exec /app: No such file or
 * directory"), or a negative errno when no child exists. With want_pty, *ret_pty_master is the
 * master of the workload's terminal (or -EBADF if the child failed before making it). */
int spawn_container(const SpawnParams *p, pid_t *ret_pid, int *ret_pidfd, int *ret_pty_master, char **ret_error);

/* The "exit" record our init leaves in the state dir: how the workload ended. -ENODATA while the
 * container runs (the file exists, empty, from its start), -ENOENT when there is none. */
int spawn_read_exit_record(int state_dir_fd, int *ret_code, int *ret_status);

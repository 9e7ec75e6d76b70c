/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/time-util.h"
#include "rootfs.h"

struct sock_fprog;

/* Everything the child needs, prepared by the parent before clone3(): after the clone the child
 * makes syscalls and reads the container's own /etc/passwd, nothing else. */
typedef struct SpawnParams {
        const char *name; /* instance name, for messages */
        RootfsConfig rootfs;
        const char *hostname;
        char *const *argv;
        char *const *envp;
        const char *working_dir; /* inside the container; NULL for the user's home or "/" */
        const char *user;        /* User=/Group= as written: names resolve in the container */
        const char *group;
        uint64_t caps;
        bool no_new_privs;
        const struct sock_fprog *seccomp; /* installed before the uid change, NULL for none */
        bool run_init;                    /* our PID 1 in front of the workload */
        bool private_network;             /* a new network namespace with only lo (up) */
        int cgroup_fd;                    /* cgroup2 directory for CLONE_INTO_CGROUP, or -1 */
        /* Runs in the parent between clone and the child's setup (cgroup v1 attach, later the
         * network); a failure kills the child. */
        int (*prepare)(pid_t pid, void *userdata);
        void *prepare_userdata;
        int stdin_fd; /* -1: /dev/null */
        int stdout_fd;
        int stderr_fd;
        int state_dir_fd; /* where our init writes the "exit" record */
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
 * directory"), or a negative errno when no child exists. */
int spawn_container(const SpawnParams *p, pid_t *ret_pid, int *ret_pidfd, char **ret_error);

/* The "exit" record our init leaves in the state dir: how the workload ended. */
int spawn_read_exit_record(int state_dir_fd, int *ret_code, int *ret_status);

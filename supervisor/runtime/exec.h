/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "spawn.h"
#include "workload.h"

/* supctl exec: a command run inside a running container, with the container's own user,
 * capabilities, seccomp filter and environment. A helper process (non-dumpable before it joins
 * anything, so nothing in the container can reach supd through it) joins the container's cgroup
 * and every namespace of its PID 1, forks the command into the PID namespace, and exits with the
 * command's status (128+N for a signal), which supd waits for. */
typedef struct ExecParams {
        WorkloadParams workload;
        int ns_pidfd;   /* the container's PID 1 */
        pid_t ns_pid;   /* the same, for /proc/PID/root */
        Cgroup *cgroup; /* the container's cgroup, or NULL */
        int stdio[3];   /* the caller's fds; ignored with tty */
        bool tty;       /* a pty from the container's devpts; its master comes back */
} ExecParams;

/* Non-blocking: clones the helper, sends it "go" and returns a handle to drive from the event
 * loop like a container's (spawn.h; there is no network step). SPAWN_FAILED means the command
 * could not be started (spawn_handle_error(); the helper exits 125-127). */
int exec_spawn_begin(const ExecParams *p, SpawnHandle **ret);

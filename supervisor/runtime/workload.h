/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "basic/macro.h"

struct sock_fprog;

/* The last steps before a container's command runs, shared by the container's workload and by
 * supctl exec: user and groups from the container's own passwd/group, environment, working
 * directory, seccomp filter, capabilities, no_new_privs, execve. */
typedef struct WorkloadParams {
        const char *name; /* for messages */
        char *const *argv;
        char *const *envp;
        const char *working_dir; /* NULL: the user's home, else "/" */
        const char *user;        /* as written in User=/Group=; names resolve in the container */
        const char *group;
        uint64_t caps;
        bool no_new_privs;
        const struct sock_fprog *seccomp; /* NULL for none */
} WorkloadParams;

/* Writes "ERRNO what: strerror(error)" to error_fd (a SOCK_SEQPACKET end or pipe the parent reads)
 * and exits with exit_code. */
_noreturn_ _printf_(4, 5) void workload_fail(int error_fd, int error, int exit_code, const char *fmt, ...);

/* Runs in the container (after pivot_root or setns), with fds 0-2 in place, signals reset and
 * every other fd closed but error_fd (O_CLOEXEC). Never returns: exec, or workload_fail() with
 * 125 (setup), 126 (cannot invoke) or 127 (not found). */
_noreturn_ void workload_exec(const WorkloadParams *w, int error_fd);

/* Unblocks and resets every signal, as a freshly exec'd program expects. */
void workload_reset_signals(void);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "macro.h"

/* Processes by pidfd: a pidfd names one process for good (no PID reuse race) and is readable
 * (EPOLLIN) once that process has exited, so an event loop waits for an exit with an io source on
 * it and then reaps with pidfd_reap(), never blocking. */

/* Reaps the process if it has exited (waitid(P_PIDFD, WEXITED|WNOHANG)): 1 with *ret (if not
 * NULL) filled (si_code CLD_EXITED/CLD_KILLED/CLD_DUMPED, si_status), 0 while it runs (*ret
 * untouched), -ECHILD when it is not our child (adopted: only what it left behind tells how it
 * ended), another negative errno on failure. */
int pidfd_reap(int pidfd, siginfo_t *ret);

/* Raises this process's soft RLIMIT_NOFILE to its hard limit (supd holds a few fds per
 * container) and remembers the old soft limit for the processes it starts. */
int rlimit_nofile_raise(void);
/* In a child about to exec a workload: the soft RLIMIT_NOFILE it would have had (1024 where
 * supd was started from a shell: select() cannot handle fds past that). */
void rlimit_nofile_restore(void);

/* pidfd_send_signal(): -ESRCH once the process is gone (reaped). */
int pidfd_signal(int pidfd, int sig);

/* A child we forked and must not leave behind: unless ownership is taken (TAKE_CHILD_GUARD),
 * child_guard_done() SIGKILLs it and reaps it. The reap blocks, but only for a child that has
 * been SIGKILLed: it goes as soon as the kernel has torn it down (a PID namespace's init once its
 * namespace is empty). pidfd may be -EBADF (then kill() by pid, which is safe while the child is
 * unreaped: its PID cannot have been reused). */
typedef struct ChildGuard {
        pid_t pid; /* 0: nothing guarded */
        int pidfd; /* owned: closed by child_guard_done() */
} ChildGuard;

#define CHILD_GUARD_NULL ((ChildGuard){ .pid = 0, .pidfd = -EBADF })

void child_guard_done(ChildGuard *g);

/* Hands the child (pid and pidfd) to the caller, leaving the guard inert. */
#define TAKE_CHILD_GUARD(g)                                                                                           \
        ({                                                                                                            \
                ChildGuard _tg = (g);                                                                                 \
                (g) = CHILD_GUARD_NULL;                                                                               \
                _tg;                                                                                                  \
        })

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "process-util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int pidfd_reap(int pidfd, siginfo_t *ret) {
        siginfo_t si = {};

        if (pidfd < 0)
                return -EBADF;
        if (waitid((idtype_t) P_PIDFD, (id_t) pidfd, &si, WEXITED | WNOHANG) < 0)
                return negative_errno();
        /* WNOHANG leaves si_pid 0 when nothing has changed yet. */
        if (si.si_pid == 0)
                return 0;
        if (ret)
                *ret = si;
        return 1;
}

static struct rlimit saved_nofile;
static bool nofile_raised;

int rlimit_nofile_raise(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return negative_errno();
        if (!nofile_raised) {
                saved_nofile = rl;
                nofile_raised = true;
        }
        if (rl.rlim_cur == rl.rlim_max)
                return 0;
        rl.rlim_cur = rl.rlim_max;
        return RET_NERRNO(setrlimit(RLIMIT_NOFILE, &rl));
}

void rlimit_nofile_restore(void) {
        struct rlimit rl;

        if (!nofile_raised || getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return;
        rl.rlim_cur = MIN(saved_nofile.rlim_cur, rl.rlim_max);
        (void) setrlimit(RLIMIT_NOFILE, &rl);
}

int pidfd_signal(int pidfd, int sig) {
        if (pidfd < 0)
                return -EBADF;
        return RET_NERRNO(syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0));
}

void child_guard_done(ChildGuard *g) {
        int saved = errno;

        if (g->pid > 0) {
                if (g->pidfd >= 0)
                        (void) pidfd_signal(g->pidfd, SIGKILL);
                else
                        (void) kill(g->pid, SIGKILL);
                /* SIGKILLed: this wait is short. ECHILD (reaped elsewhere) ends it too. */
                while (waitpid(g->pid, NULL, __WALL) < 0 && errno == EINTR)
                        ;
        }
        g->pidfd = safe_close(g->pidfd);
        g->pid = 0;
        errno = saved;
}

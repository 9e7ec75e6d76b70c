/* SPDX-License-Identifier: GPL-2.0-or-later */
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

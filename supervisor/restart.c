/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <math.h>
#include <signal.h>
#include <sys/wait.h>

#include "restart.h"

ExitKind exit_kind_classify(int code, int status, const ExitStatusSet *success) {
        if (code == CLD_EXITED)
                return status == 0 || exit_status_set_test_status(success, status) ? EXIT_KIND_CLEAN
                                                                                   : EXIT_KIND_UNCLEAN_CODE;

        /* systemd treats these as a normal way for a daemon to end (service.c, is_clean_exit()). */
        if (status == SIGHUP || status == SIGINT || status == SIGTERM || status == SIGPIPE ||
            exit_status_set_test_signal(success, status))
                return EXIT_KIND_CLEAN;
        if (code == CLD_DUMPED)
                return EXIT_KIND_ABORT;
        switch (status) {
        case SIGABRT:
        case SIGSEGV:
        case SIGBUS:
        case SIGILL:
        case SIGFPE:
        case SIGQUIT:
        case SIGSYS:
        case SIGTRAP:
                return EXIT_KIND_ABORT;
        default:
                return EXIT_KIND_UNCLEAN_SIGNAL;
        }
}

bool restart_policy_allows(RestartPolicy p, ExitKind kind, int code, int status, const ExitStatusSet *prevent) {
        if (prevent) {
                if (code == CLD_EXITED && exit_status_set_test_status(prevent, status))
                        return false;
                if (code != CLD_EXITED && exit_status_set_test_signal(prevent, status))
                        return false;
        }

        switch (p) {
        case RESTART_NO:
                return false;
        case RESTART_ALWAYS:
                return true;
        case RESTART_ON_SUCCESS:
                return kind == EXIT_KIND_CLEAN;
        case RESTART_ON_FAILURE:
                return kind != EXIT_KIND_CLEAN;
        case RESTART_ON_ABNORMAL:
                return kind == EXIT_KIND_UNCLEAN_SIGNAL || kind == EXIT_KIND_ABORT || kind == EXIT_KIND_TIMEOUT ||
                       kind == EXIT_KIND_WATCHDOG || kind == EXIT_KIND_OOM;
        case RESTART_ON_WATCHDOG:
                return kind == EXIT_KIND_WATCHDOG;
        case RESTART_ON_ABORT:
                return kind == EXIT_KIND_UNCLEAN_SIGNAL || kind == EXIT_KIND_ABORT;
        default:
                return false;
        }
}

usec_t restart_delay(usec_t restart_sec, unsigned steps, usec_t max_delay, unsigned n_next) {
        long double r;

        if (n_next <= 1 || steps == 0 || restart_sec == 0 || max_delay == USEC_INFINITY || restart_sec >= max_delay)
                return restart_sec;
        if (n_next > steps)
                return max_delay;

        r = (long double) max_delay / (long double) restart_sec;
        return (usec_t) ((long double) restart_sec * powl(r, (long double) (n_next - 1) / (long double) steps));
}

bool start_limit_test(StartLimit *l, usec_t interval, unsigned burst, usec_t now) {
        if (interval == 0 || burst == 0)
                return true;
        if (l->begin == 0 || now >= l->begin + interval) {
                l->begin = now;
                l->num = 1;
                return true;
        }
        if (l->num < burst) {
                l->num++;
                return true;
        }
        return false;
}

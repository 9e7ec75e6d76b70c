/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "basic/time-util.h"
#include "unitfile/unit-settings.h"

/* How a run of a unit ended, in systemd's terms. */
typedef enum ExitKind {
        EXIT_KIND_CLEAN,          /* exit 0, SIGHUP/INT/TERM/PIPE, or listed in SuccessExitStatus= */
        EXIT_KIND_UNCLEAN_CODE,   /* non-zero exit status */
        EXIT_KIND_UNCLEAN_SIGNAL, /* killed by a signal that is not clean */
        EXIT_KIND_ABORT,          /* killed by a signal that dumps core (SIGABRT, SIGSEGV, …) */
        EXIT_KIND_TIMEOUT,
        EXIT_KIND_WATCHDOG,
        EXIT_KIND_OOM,
        _EXIT_KIND_MAX,
} ExitKind;

/* code is CLD_EXITED, CLD_KILLED or CLD_DUMPED; status the exit status or the signal. */
ExitKind exit_kind_classify(int code, int status, const ExitStatusSet *success);

/* systemd's Restart= table plus RestartPreventExitStatus= (the veto). */
bool restart_policy_allows(RestartPolicy p, ExitKind kind, int code, int status, const ExitStatusSet *prevent);

/* RestartSec= with RestartSteps=/RestartMaxDelaySec= backoff: the delay before restart number
 * n_next (1-based): RestartSec * (Max/RestartSec)^((n_next-1)/Steps), Max after Steps. */
usec_t restart_delay(usec_t restart_sec, unsigned steps, usec_t max_delay, unsigned n_next);

/* Start limit, as systemd's ratelimit: at most burst starts within interval. */
typedef struct StartLimit {
        usec_t begin;
        unsigned num;
} StartLimit;

/* Counts a start at now (CLOCK_MONOTONIC); false when the limit is hit. interval 0 or burst 0
 * disables the limit. */
bool start_limit_test(StartLimit *l, usec_t interval, unsigned burst, usec_t now);
static inline void start_limit_reset(StartLimit *l) {
        *l = (StartLimit){};
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"
#include "instance.h"
#include "job.h"
#include "restart.h"
#include "runtime/cgroup.h"
#include "unitfile/unit-settings.h"

typedef struct Manager Manager;

typedef enum UnitState {
        UNIT_INACTIVE,
        UNIT_STARTING,
        UNIT_RUNNING,
        UNIT_STOPPING,
        UNIT_AUTO_RESTART,
        UNIT_FAILED,
        _UNIT_STATE_MAX,
        _UNIT_STATE_INVALID = -EINVAL,
} UnitState;

typedef enum UnitResult {
        UNIT_RESULT_SUCCESS,
        UNIT_RESULT_EXIT_CODE,
        UNIT_RESULT_SIGNAL,
        UNIT_RESULT_CORE_DUMP,
        UNIT_RESULT_TIMEOUT,
        UNIT_RESULT_WATCHDOG,
        UNIT_RESULT_OOM_KILL,
        UNIT_RESULT_START_LIMIT_HIT,
        UNIT_RESULT_RESOURCES,
        UNIT_RESULT_DEPENDENCY,
        _UNIT_RESULT_MAX,
        _UNIT_RESULT_INVALID = -EINVAL,
} UnitResult;

/* One unit instance: "web", "web@2" (a replica) or "tmpl@inst". Owns its process, timers and the
 * configuration it was (or will be) started with. */
typedef struct Unit {
        Manager *manager;
        char *name;
        char *load_name; /* what unit_file_load() is asked for: "web" for "web@2" replicas */
        char *replica;   /* "2", or NULL */

        UnitFile *file;       /* last good configuration: what runs, or what the next start uses */
        UnitFile *bad;        /* newest load attempt when it failed (shown by status), else NULL */
        uint64_t hash;        /* unit_settings_hash() of the configuration the process runs with */
        bool not_found;       /* the file is gone: stop and drop the unit */
        bool manual_instance; /* "tmpl@inst" started by name, not found by enumeration */

        UnitState state;
        UnitResult result;
        bool stop_requested;   /* a manual stop: the restart policy must not undo it */
        bool stop_queued;      /* waiting for units ordered after it to stop first */
        bool start_queued;     /* waiting for the units it is ordered after to finish starting */
        bool start_manual;     /* that queued start was asked for by a user */
        bool start_after_stop; /* a restart in progress */
        bool sigkill_sent;
        bool stop_during_setup; /* stopped while its container was being set up: killed, and that is fine */
        bool image_pulled;      /* the pull this start waited for is done: go on */
        unsigned visit;         /* graph walk marker */

        Instance *instance;        /* the current run: from a start until the unit is down for good */
        struct SpawnHandle *spawn; /* the container being set up (state starting) */
        sd_event_source *spawn_source;
        sd_event_source *spawn_timer;
        sd_bus_message *run_call; /* supctl run: answered with the pty once the container is set up */
        bool transient;           /* made by supctl run, not by a unit file */
        bool remove_after;        /* supctl run --rm: forget it and its state once it is down */
        bool run_unwaited;        /* supctl run: its client has not called WaitUnit yet; --rm waits for it */
        int run_stdio[3];         /* supctl run without -t: the caller's fds */
        bool run_tty;             /* supctl run -t */
        bool run_detached;        /* supctl run -d: its output goes to the log */
        int run_pty_master;       /* the master of that pty, until handed to the caller */
        CgroupStats last_stats;   /* taken when the last run ended */
        sd_event_source *timer_source;

        struct {
                int code, status;
                bool oom;
        } exit_pending; /* PID 1's end, while the cgroup empties */
        bool have_exit;
        int exit_code; /* CLD_EXITED, CLD_KILLED, CLD_DUMPED */
        int exit_status;
        char *last_error;

        unsigned n_restarts;   /* shown in status; reset by a manual start and reset-failed */
        unsigned restart_step; /* backoff position; reset after RestartResetSec= of uptime */
        StartLimit start_limit;

        usec_t state_change_realtime;
        usec_t active_enter_realtime;
        usec_t running_since_monotonic;
        usec_t inactive_enter_realtime;

        Job **waiters; /* bus calls answered once the unit settles */
        size_t n_waiters;
} Unit;

Unit *unit_new(Manager *m, const char *name, const char *load_name, const char *replica);
Unit *unit_free(Unit *u);

/* The one place that changes u->state: logs, stamps times, answers waiters. */
void unit_set_state(Unit *u, UnitState state);
/* The unit failed: why (NULL: keep the last error), the result, the state; logged once, here. */
void unit_fail(Unit *u, UnitResult result, const char *fmt, ...) _printf_(3, 4);

/* Starts the container (dependencies are the manager's business). Counts against the start limit.
 * manual: a start requested by a user, which resets the restart counters. Returns at once: the
 * unit is then starting (an image pull or the container's setup under way; running or failed
 * follows from the event loop), or failed with *ret_error saying why (also in last_error). */
int unit_start(Unit *u, bool manual, char **ret_error);
/* Takes over a run a previous supd left (adoption at startup): i with its cgroup attached; pidfd
 * of its verified PID 1, or -EBADF when it ended while no supd ran (its exit record then goes
 * through the restart policy). hash: the configuration it was started with. */
int unit_adopt(Unit *u, Instance *i, pid_t pid, int pidfd, uint64_t hash);
/* Starting, stopping, or waiting to do either: a reload or a start waits for it. */
bool unit_is_busy(const Unit *u);
/* Sends StopSignal= and arms the stop timeout; the state becomes inactive/failed on exit. */
int unit_stop(Unit *u);
int unit_kill(Unit *u, int sig);
/* The container's PID 1 is gone: code is CLD_EXITED/CLD_KILLED/CLD_DUMPED. Decides between
 * auto-restart, inactive and failed. */
void unit_process_exited(Unit *u, int code, int status, bool oom);
/* The running container's PID 1, or 0; and its cgroup, or NULL. */
pid_t unit_main_pid(const Unit *u);
Cgroup *unit_cgroup(const Unit *u);
/* Takes the last run's accounting and kills what is left of it; true when the OOM killer struck.
 * The cgroup stays for an automatic restart. */
bool unit_finish_cgroup(Unit *u);
/* Removes the cgroup (the unit is down for good). */
void unit_destroy_cgroup(Unit *u);
void unit_reset_failed(Unit *u);
/* Hold a job until the unit leaves stopping (or is back up after a restart). */
int unit_add_waiter(Unit *u, Job *j);
/* Answers every call waiting for u now: a start fails with "Job for NAME canceled: why.". */
void unit_cancel_waiters(Unit *u, const char *why);

bool unit_is_active(const Unit *u); /* starting, running, stopping, auto-restart */
const UnitSettings *unit_settings(const Unit *u);

const char *unit_state_to_string(UnitState s);
const char *unit_active_state_to_string(UnitState s); /* systemd's ACTIVE column */
const char *unit_sub_state(const Unit *u);
const char *unit_load_state(const Unit *u);
const char *unit_result_to_string(UnitResult r);

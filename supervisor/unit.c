/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/process-util.h"
#include "basic/string-table.h"
#include "basic/strv.h"
#include "container.h"
#include "image-worker.h"
#include "image/image-store.h"
#include "manager.h"
#include "reconcile.h"
#include "runtime/spawn.h"
#include "unit.h"

static const char *const unit_state_table[_UNIT_STATE_MAX] = {
        [UNIT_INACTIVE] = "inactive", [UNIT_STARTING] = "starting",         [UNIT_RUNNING] = "running",
        [UNIT_STOPPING] = "stopping", [UNIT_AUTO_RESTART] = "auto-restart", [UNIT_FAILED] = "failed",
};

static const char *const unit_active_state_table[_UNIT_STATE_MAX] = {
        [UNIT_INACTIVE] = "inactive",     [UNIT_STARTING] = "activating",     [UNIT_RUNNING] = "active",
        [UNIT_STOPPING] = "deactivating", [UNIT_AUTO_RESTART] = "activating", [UNIT_FAILED] = "failed",
};

static const char *const unit_result_table[_UNIT_RESULT_MAX] = {
        [UNIT_RESULT_SUCCESS] = "success",     [UNIT_RESULT_EXIT_CODE] = "exit-code",
        [UNIT_RESULT_SIGNAL] = "signal",       [UNIT_RESULT_CORE_DUMP] = "core-dump",
        [UNIT_RESULT_TIMEOUT] = "timeout",     [UNIT_RESULT_WATCHDOG] = "watchdog",
        [UNIT_RESULT_OOM_KILL] = "oom-kill",   [UNIT_RESULT_START_LIMIT_HIT] = "start-limit-hit",
        [UNIT_RESULT_RESOURCES] = "resources", [UNIT_RESULT_DEPENDENCY] = "dependency",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(unit_state, UnitState);
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(unit_active_state, UnitState);
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(unit_result, UnitResult);

const char *unit_sub_state(const Unit *u) {
        switch (u->state) {
        case UNIT_INACTIVE:
                return "dead";
        case UNIT_STARTING:
                return "start";
        case UNIT_RUNNING:
                return "running";
        case UNIT_STOPPING:
                return u->sigkill_sent ? "stop-sigkill" : "stop-sigterm";
        case UNIT_AUTO_RESTART:
                return "auto-restart";
        case UNIT_FAILED:
                return "failed";
        default:
                return "unknown";
        }
}

const char *unit_load_state(const Unit *u) {
        if (u->not_found)
                return "not-found";
        if (!u->file)
                return "error";
        return "loaded"; /* a newer, broken file shows as errors; the last good one still runs */
}

const UnitSettings *unit_settings(const Unit *u) {
        return u->file ? &u->file->settings : NULL;
}

bool unit_is_busy(const Unit *u) {
        return u->state == UNIT_STARTING || u->state == UNIT_STOPPING || u->stop_queued || u->start_queued ||
               u->start_after_stop;
}

bool unit_is_active(const Unit *u) {
        return u->state == UNIT_STARTING || u->state == UNIT_RUNNING || u->state == UNIT_STOPPING ||
               u->state == UNIT_AUTO_RESTART;
}

Unit *unit_new(Manager *m, const char *name, const char *load_name, const char *replica) {
        Unit *u = new0(Unit, 1);
        if (!u)
                return NULL;
        u->manager = m;
        u->run_stdio[0] = u->run_stdio[1] = u->run_stdio[2] = -EBADF;
        u->run_pty_master = -EBADF;
        u->name = strdup(name);
        u->load_name = strdup(load_name);
        u->replica = replica ? strdup(replica) : NULL;
        if (!u->name || !u->load_name || (replica && !u->replica))
                return unit_free(u);
        return u;
}

/* Settles one waiting call for u, which has reached its state (or is going away: gone says
 * why). A start that is over without the unit running has failed, whatever ended it. */
static void unit_answer_job(Unit *u, Job *j, const char *gone) {
        char buf[512];

        buf[0] = 0;
        if (j->want_running && (gone || u->state != UNIT_RUNNING)) {
                if (gone)
                        snprintf(buf, sizeof(buf), "Job for %s canceled: %s.", u->name, gone);
                else if (u->stop_requested || u->state == UNIT_INACTIVE)
                        snprintf(buf, sizeof(buf), "Job for %s canceled: %s.", u->name,
                                 u->manager->exiting ? "supd is shutting down"
                                 : u->not_found      ? "unit file was removed"
                                                     : "unit was stopped");
                else if (u->state == UNIT_AUTO_RESTART)
                        snprintf(buf, sizeof(buf), "Unit %s failed (%s)%s%s; it will be restarted.", u->name,
                                 unit_result_to_string(u->result), u->last_error ? ": " : "", strempty(u->last_error));
                else
                        snprintf(buf, sizeof(buf), "Unit %s failed (%s)%s%s.", u->name,
                                 unit_result_to_string(u->result), u->last_error ? ": " : "", strempty(u->last_error));
        } else if (u->state == UNIT_FAILED && u->result != UNIT_RESULT_SUCCESS && !u->stop_requested && !gone)
                snprintf(buf, sizeof(buf), "Unit %s failed (%s).", u->name, unit_result_to_string(u->result));
        if (buf[0])
                job_fail(j, buf);
        job_unref(j);
}

static void unit_answer_waiters(Unit *u, const char *gone) {
        Job **waiters = TAKE_PTR(u->waiters);
        size_t n = u->n_waiters;

        /* Answering may run code that looks at u; it sees no waiters half answered. */
        u->n_waiters = 0;
        for (size_t i = 0; i < n; i++)
                unit_answer_job(u, waiters[i], gone);
        free(waiters);
}

void unit_cancel_waiters(Unit *u, const char *why) {
        unit_answer_waiters(u, why);
}

int unit_add_waiter(Unit *u, Job *j) {
        Job **w = realloc(u->waiters, (u->n_waiters + 1) * sizeof(*w));
        if (!w)
                return -ENOMEM;
        w[u->n_waiters++] = job_ref(j);
        u->waiters = w;
        return 0;
}

pid_t unit_main_pid(const Unit *u) {
        return u->instance ? u->instance->pid : 0;
}

Cgroup *unit_cgroup(const Unit *u) {
        return u->instance ? u->instance->cgroup : NULL;
}

/* The run is over for good: its cgroup, writable layer and state dir go. */
static void unit_end_instance(Unit *u) {
        int r;

        if (!u->instance)
                return;
        unit_destroy_cgroup(u);
        /* As podman run --rm (Quadlet's way): the next start begins from the image again. A
         * supctl run without --rm keeps it, like podman run does, until the name is run again. */
        if (!u->transient || u->remove_after) {
                r = container_layer_remove(u->manager->state_dir, u->name, u->instance->id);
                if (r < 0)
                        log_warning_errno(r, "%s: cannot remove the writable layer of run %s: %m", u->name,
                                          u->instance->id);
        }
        instance_release_process(u->instance);
        instance_remove_dir(u->instance);
        u->instance = instance_free(u->instance);
}

static void unit_abandon_spawn(Unit *u);

Unit *unit_free(Unit *u) {
        if (!u)
                return NULL;
        unit_abandon_spawn(u);
        u->run_call = sd_bus_message_unref(u->run_call);
        if (u->instance && u->instance->pid <= 0 &&
            (!u->instance->cgroup || cgroup_is_populated(u->instance->cgroup) == 0))
                unit_end_instance(u);
        /* Still running (LiveRestore=yes): the container, its cgroup and record stay. */
        u->instance = instance_free(u->instance);
        unit_answer_waiters(u, u->manager->exiting ? "supd is shutting down" : "unit was removed");
        u->timer_source = sd_event_source_disable_unref(u->timer_source);
        unit_file_free(u->file);
        unit_file_free(u->bad);
        for (size_t i = 0; i < 3; i++)
                safe_close(u->run_stdio[i]);
        safe_close(u->run_pty_master);
        free(u->last_error);
        free(u->name);
        free(u->load_name);
        free(u->replica);
        free(u);
        return NULL;
}

void unit_set_state(Unit *u, UnitState state) {
        UnitState old = u->state;
        usec_t now = now_usec(CLOCK_REALTIME);

        if (old == state)
                return;
        u->state = state;
        u->state_change_realtime = now;
        if (state == UNIT_RUNNING) {
                u->active_enter_realtime = now;
                u->running_since_monotonic = now_usec(CLOCK_MONOTONIC);
        }
        if (state == UNIT_INACTIVE || state == UNIT_FAILED) {
                u->inactive_enter_realtime = now;
                /* The instance (its cgroup above all: creating one costs more than the restart
                 * itself) is kept across automatic restarts; a unit that is down for good leaves
                 * none behind. */
                unit_end_instance(u);
        }

        if (state == UNIT_FAILED)
                log_warning("%s: %s -> %s (result: %s)", u->name, unit_state_to_string(old),
                            unit_state_to_string(state), unit_result_to_string(u->result));
        else
                log_info("%s: %s -> %s", u->name, unit_state_to_string(old), unit_state_to_string(state));
        if (u->manager && u->manager->hooks.unit_state_changed)
                u->manager->hooks.unit_state_changed(u->manager, u);

        if (state == UNIT_RUNNING || state == UNIT_INACTIVE || state == UNIT_FAILED ||
            (state == UNIT_AUTO_RESTART && !u->start_after_stop))
                unit_answer_waiters(u, NULL);
        if (state == UNIT_INACTIVE || state == UNIT_FAILED || state == UNIT_AUTO_RESTART)
                manager_unit_settled(u->manager, u);
        if (state != UNIT_STARTING && state != UNIT_STOPPING)
                manager_schedule_start_queue(u->manager); /* units ordered after this one may go on */
}

void unit_fail(Unit *u, UnitResult result, const char *fmt, ...) {
        char *msg = NULL;
        va_list ap;

        if (fmt) {
                va_start(ap, fmt);
                if (vasprintf(&msg, fmt, ap) < 0)
                        msg = NULL;
                va_end(ap);
        }
        free(u->last_error);
        u->last_error = msg;
        u->result = result;
        if (msg)
                log_error("%s: %s", u->name, msg);
        unit_set_state(u, UNIT_FAILED);
}

static int unit_ensure_instance(Unit *u) {
        if (u->instance)
                return 0;
        return instance_new(u->manager->run_dir, u->name, &u->instance);
}

static void unit_enter_dead(Unit *u, UnitResult result, bool allow_restart);

static int on_restart_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Unit *u = userdata;
        _cleanup_free_ char *error = NULL;
        int r;

        u->timer_source = sd_event_source_disable_unref(u->timer_source);
        if (u->state != UNIT_AUTO_RESTART)
                return 0;
        u->n_restarts++;
        u->restart_step++;
        r = manager_start_unit(u->manager, u, false, &error);
        if (r < 0 && u->state == UNIT_AUTO_RESTART)
                unit_enter_dead(u, UNIT_RESULT_RESOURCES, false);
        if (r < 0)
                log_warning("%s: automatic restart failed: %s", u->name, error ?: strerror(-r));
        return 0;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Unit *u = userdata;

        u->timer_source = sd_event_source_disable_unref(u->timer_source);
        if (u->state != UNIT_STOPPING || unit_main_pid(u) <= 0)
                return 0;
        log_warning("%s: stop timed out, killing every process of the container.", u->name);
        u->sigkill_sent = true;
        /* Our PID 1 (or the workload as PID 1) dying takes the whole PID namespace with it; the
         * cgroup catches anything that joined the container from outside it. */
        (void) instance_signal(u->instance, SIGKILL);
        if (unit_cgroup(u))
                (void) cgroup_kill(unit_cgroup(u), SIGKILL);
        return 0;
}

static UnitResult result_from_exit(ExitKind kind, int code) {
        switch (kind) {
        case EXIT_KIND_CLEAN:
                return UNIT_RESULT_SUCCESS;
        case EXIT_KIND_UNCLEAN_CODE:
                return UNIT_RESULT_EXIT_CODE;
        case EXIT_KIND_ABORT:
                return code == CLD_DUMPED ? UNIT_RESULT_CORE_DUMP : UNIT_RESULT_SIGNAL;
        case EXIT_KIND_UNCLEAN_SIGNAL:
                return UNIT_RESULT_SIGNAL;
        case EXIT_KIND_TIMEOUT:
                return UNIT_RESULT_TIMEOUT;
        case EXIT_KIND_WATCHDOG:
                return UNIT_RESULT_WATCHDOG;
        case EXIT_KIND_OOM:
                return UNIT_RESULT_OOM_KILL;
        default:
                return UNIT_RESULT_EXIT_CODE;
        }
}

/* The run is over: decide between auto-restart, inactive and failed. */
static void unit_enter_dead(Unit *u, UnitResult result, bool allow_restart) {
        const UnitSettings *s = unit_settings(u);

        u->timer_source = sd_event_source_disable_unref(u->timer_source);
        u->result = result;

        if (allow_restart && s && !u->stop_requested && !u->manager->exiting) {
                ExitKind kind = u->have_exit ? exit_kind_classify(u->exit_code, u->exit_status, &s->success_exit)
                                             : EXIT_KIND_UNCLEAN_CODE;
                if (result == UNIT_RESULT_TIMEOUT)
                        kind = EXIT_KIND_TIMEOUT;
                if (restart_policy_allows(s->restart, kind, u->exit_code, u->exit_status, &s->restart_prevent)) {
                        usec_t delay;
                        int r;

                        /* A run that lasted RestartResetSec= was healthy: start the backoff over. */
                        if (u->running_since_monotonic > 0 &&
                            now_usec(CLOCK_MONOTONIC) - u->running_since_monotonic >= s->restart_reset)
                                u->restart_step = 0;
                        delay = restart_delay(s->restart_sec, s->restart_steps, s->restart_max_delay,
                                              u->restart_step + 1);
                        /* RestartSec=0 restarts at once. Otherwise the timer may fire up to 250 ms
                         * late, sd-event's default accuracy and what systemd uses for the same timer:
                         * coalescing wake-ups is what keeps a crash loop cheap. */
                        r = sd_event_add_time_relative(u->manager->event, &u->timer_source, CLOCK_MONOTONIC, delay,
                                                       delay == 0 ? 1 : 0, on_restart_timer, u);
                        if (r >= 0) {
                                (void) sd_event_source_set_description(u->timer_source, "unit-restart");
                                char buf[FORMAT_TIMESPAN_MAX];
                                log_info("%s: scheduled restart in %s.", u->name,
                                         format_timespan(buf, sizeof(buf), delay, USEC_PER_MSEC));
                                unit_set_state(u, UNIT_AUTO_RESTART);
                                return;
                        }
                        log_error_errno(r, "%s: failed to schedule restart: %m", u->name);
                }
        }

        if (u->start_after_stop) {
                /* A restart: the stop half is done. Whoever asked hears about the start half. */
                _cleanup_free_ char *error = NULL;
                Job **waiters = TAKE_PTR(u->waiters);
                size_t n_waiters = u->n_waiters;
                int r;

                u->n_waiters = 0;
                u->start_after_stop = false;
                u->stop_requested = false;
                unit_set_state(u, UNIT_INACTIVE);
                r = manager_start_unit(u->manager, u, true, &error);
                if (r < 0)
                        log_warning("%s: restart failed: %s", u->name, error ?: strerror(-r));
                for (size_t i = 0; i < n_waiters; i++) {
                        if (r < 0) {
                                char buf[512];
                                snprintf(buf, sizeof(buf), "Failed to start %s: %s", u->name, error ?: strerror(-r));
                                job_fail(waiters[i], buf);
                        } else if (unit_is_busy(u)) {
                                /* Queued or starting: the answer comes when it runs, or does not. */
                                if (unit_add_waiter(u, waiters[i]) >= 0) {
                                        job_unref(waiters[i]);
                                        continue;
                                }
                        } else {
                                unit_answer_job(u, waiters[i], NULL);
                                continue;
                        }
                        job_unref(waiters[i]);
                }
                free(waiters);
                return;
        }

        unit_set_state(u, result == UNIT_RESULT_SUCCESS ? UNIT_INACTIVE : UNIT_FAILED);
}

static void on_instance_empty(Instance *i, void *userdata) {
        Unit *u = userdata;
        unit_process_exited(u, u->exit_pending.code, u->exit_pending.status, u->exit_pending.oom);
}

/* PID 1 is gone; the unit is down once nothing of the container is left in its cgroup (the
 * kernel kills the rest of the PID namespace, and whatever joined from outside is killed now). */
static void on_instance_exit(Instance *i, int code, int status, void *userdata) {
        Unit *u = userdata;
        int r;

        u->exit_pending.code = code;
        u->exit_pending.status = status;
        u->exit_pending.oom = unit_finish_cgroup(u);
        r = instance_wait_empty(i, u->manager->event, on_instance_empty, u);
        if (r < 0)
                log_warning_errno(r, "%s: cannot wait for the cgroup to empty, going on: %m", u->name);
        if (r != 0)
                on_instance_empty(i, u);
}

void unit_process_exited(Unit *u, int code, int status, bool oom) {
        const UnitSettings *st = unit_settings(u);
        const ExitStatusSet none = {};
        ExitKind kind;

        u->have_exit = true;
        u->exit_code = code;
        u->exit_status = status;
        if (u->instance)
                instance_release_process(u->instance);

        if (code == CLD_EXITED)
                log_info("%s: main process exited, status=%d", u->name, status);
        else
                log_info("%s: main process killed, signal=%s", u->name, sigabbrev_np(status) ?: "?");

        kind = exit_kind_classify(code, status, st ? &st->success_exit : &none);
        if (oom) {
                /* The OOM killer took something of the container (with memory.oom.group, all of
                 * it): that is the cause, whatever exit status the init saw. */
                log_warning("%s: killed by the OOM killer.", u->name);
                kind = EXIT_KIND_OOM;
        }
        if (u->state == UNIT_STOPPING) {
                /* An ordered stop: SIGKILL after the timeout is a timeout; the StopSignal or a
                 * clean exit is success. */
                UnitResult result;
                if (u->stop_during_setup)
                        result = UNIT_RESULT_SUCCESS;
                else if (u->sigkill_sent)
                        result = UNIT_RESULT_TIMEOUT;
                else if (kind == EXIT_KIND_CLEAN || (code != CLD_EXITED && st && status == st->stop_signal))
                        result = UNIT_RESULT_SUCCESS;
                else
                        result = result_from_exit(kind, code);
                unit_enter_dead(u, result, false);
                return;
        }
        unit_enter_dead(u, result_from_exit(kind, code), true);
}

bool unit_finish_cgroup(Unit *u) {
        Cgroup *c = unit_cgroup(u);
        bool oom = false;

        if (!c)
                return false;
        if (cgroup_stats(c, &u->last_stats) >= 0)
                oom = u->last_stats.oom_kills != UINT64_MAX && u->last_stats.oom_kills > u->instance->oom_baseline;
        /* Whatever outlived PID 1 (nothing should: the PID namespace died with it) goes now. */
        if (cgroup_is_populated(c) > 0)
                (void) cgroup_kill(c, SIGKILL);
        return oom;
}

void unit_destroy_cgroup(Unit *u) {
        Cgroup *c = unit_cgroup(u);

        if (!c)
                return;
        /* Empty by now (the exit waited for that): removing it takes no waiting, or, for a v1
         * directory the kernel holds a moment longer, a few retries from a timer. */
        u->instance->cgroup = NULL;
        manager_reap_cgroup(u->manager, c);
}

static void on_image_ready(Manager *m, int r, const char *message, void *userdata) {
        _cleanup_free_ char *name = userdata, *error = NULL;
        Unit *u = manager_get_unit(m, name);

        /* The unit may have been stopped, removed or replaced while the pull ran. */
        if (!u || u->state != UNIT_STARTING || unit_main_pid(u) > 0)
                return;
        if (r < 0) {
                unit_fail(u, UNIT_RESULT_RESOURCES, "%s", message ?: strerror(-r));
                return;
        }
        u->image_pulled = true;
        r = unit_start(u, false, &error);
        if (r < 0)
                log_warning("%s: start failed: %s", u->name, error ?: strerror(-r));
}

/* 1 with the image, 0 when a pull was started (the unit waits in "starting"), < 0 on failure
 * (the unit is failed, *ret_error says why). */
static int unit_find_image(Unit *u, const UnitSettings *s, Image **ret, char **ret_error) {
        _cleanup_(image_store_freep) ImageStore *store = NULL;
        int r;

        r = image_store_open(u->manager->state_dir, 0, &store);
        if (r >= 0)
                r = image_store_lookup(store, s->image, ret);
        if (r >= 0)
                return 1;
        if (r == -ENOENT && !u->image_pulled) {
                _cleanup_free_ char *name = strdup(u->name);
                if (!name)
                        return -ENOMEM;
                r = manager_image_ensure(u->manager, s->image, on_image_ready, name);
                if (r == 0) {
                        TAKE_PTR(name);
                        log_info("%s: pulling %s.", u->name, s->image);
                        unit_set_state(u, UNIT_STARTING);
                        return 0;
                }
                if (r > 0) { /* it appeared meanwhile */
                        r = image_store_lookup(store, s->image, ret);
                        if (r >= 0)
                                return 1;
                }
        }
        if (asprintf(ret_error, "Image=%s: %s", s->image,
                     r == -ENOENT                                          ? "not in the image store"
                     : r == -EBADMSG && store && image_store_damage(store) ? image_store_damage(store)
                                                                           : strerror(-r)) < 0)
                return -ENOMEM;
        unit_fail(u, UNIT_RESULT_RESOURCES, "%s", *ret_error);
        return r;
}

static int unit_attach_self_v1(void *userdata) {
        return cgroup_attach_self(userdata, true);
}

static int unit_attach_self_all(void *userdata) {
        return cgroup_attach_self(userdata, false);
}

/* One cgroup per run, with the unit's limits; none when the host gave supd no cgroups. */
static int unit_make_cgroup(Unit *u, const UnitSettings *s, char **ret_error) {
        CgroupRoot *root = u->manager->cgroup_root;
        Instance *i = u->instance;
        CgroupLimits limits = CGROUP_LIMITS_NONE;
        _cleanup_free_ char *cgname = NULL;
        int r;

        limits.memory_max = unit_settings_memory_max(s);
        limits.pids_max = unit_settings_tasks_max(s);
        limits.cpu_quota_per_sec = s->cpu_quota_per_sec;
        limits.cpu_weight = s->cpu_weight;
        if (!root) {
                if (limits.memory_max == UINT64_MAX && limits.pids_max == UINT64_MAX &&
                    limits.cpu_quota_per_sec == USEC_INFINITY && limits.cpu_weight == UINT64_MAX)
                        return 0;
                if (asprintf(ret_error, "resource limits are set, but supd has no cgroups on this host") < 0)
                        return -ENOMEM;
                return -EOPNOTSUPP;
        }
        /* A default task limit contains fork bombs, where the host can enforce one. */
        if (limits.pids_max == UINT64_MAX && (cgroup_root_controllers(root) & CGROUP_MASK_PIDS))
                limits.pids_max = CGROUP_PIDS_MAX_DEFAULT;
        if (i->cgroup && memcmp(&limits, &i->cgroup_limits, sizeof(limits)) == 0 &&
            cgroup_is_populated(i->cgroup) == 0) {
                /* An automatic restart: the same limits, an empty cgroup. */
                i->oom_baseline = u->last_stats.oom_kills == UINT64_MAX ? 0 : u->last_stats.oom_kills;
                return 0;
        }
        unit_destroy_cgroup(u);
        u->last_stats = (CgroupStats){};
        i->oom_baseline = 0;
        i->cgroup_limits = limits;
        r = instance_cgroup_name(u->name, i->id, &cgname);
        if (r < 0)
                return r;
        manager_cgroup_unreap(u->manager, cgname); /* the directory is this run's again */
        r = cgroup_new(root, cgname, &limits, &i->cgroup);
        if (r == -EOPNOTSUPP) {
                if (asprintf(ret_error, "a resource limit needs a cgroup controller this host does not offer") < 0)
                        return -ENOMEM;
                return r;
        }
        if (r < 0 && asprintf(ret_error, "cannot create the cgroup of %s: %s", u->name, strerror(-r)) < 0)
                return -ENOMEM;
        return r;
}

/* ---- The spawn phase: the container is set up by its child while the loop goes on ---- */

static void unit_spawn_done(Unit *u, int result);

static int on_spawn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Unit *u = userdata;
        int r = spawn_handle_process(u->spawn);

        if (r != SPAWN_PENDING)
                unit_spawn_done(u, r);
        return 0;
}

static int on_spawn_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Unit *u = userdata;

        log_warning("%s: the container's setup timed out.", u->name);
        unit_spawn_done(u, spawn_handle_abort(u->spawn, -ETIMEDOUT));
        return 0;
}

/* Stops watching the setup and hands the child to the instance's exit watch (also when the setup
 * failed: the child exits 125-127 by itself, or was killed). Returns the error line, if any. */
static char *unit_spawn_finish(Unit *u) {
        /* Nothing to watch the child with: it must not outlive our knowledge of it. */
        _cleanup_(child_guard_done) ChildGuard child = CHILD_GUARD_NULL;
        char *error = NULL;
        int r;

        u->spawn_source = sd_event_source_disable_unref(u->spawn_source);
        u->spawn_timer = sd_event_source_disable_unref(u->spawn_timer);
        if (spawn_handle_error(u->spawn, NULL))
                error = strdup(spawn_handle_error(u->spawn, NULL));
        r = spawn_handle_take(u->spawn, &child.pid, &child.pidfd, u->transient ? &u->run_pty_master : NULL);
        u->spawn = spawn_handle_free(u->spawn);
        if (r >= 0) {
                r = instance_watch(u->instance, u->manager->event, child.pid, child.pidfd, on_instance_exit, u);
                if (r >= 0)
                        (void) TAKE_CHILD_GUARD(child);
        }
        if (r < 0)
                log_error_errno(r, "%s: cannot watch the container's process: %m", u->name);
        return error;
}

/* A supd going away (LiveRestore=yes) or a unit being freed mid-setup: kill the half-made
 * container; whoever adopts can find nothing half-made. */
static void unit_abandon_spawn(Unit *u) {
        if (!u->spawn)
                return;
        u->spawn_source = sd_event_source_disable_unref(u->spawn_source);
        u->spawn_timer = sd_event_source_disable_unref(u->spawn_timer);
        /* The handle kills and reaps a child it still holds (SIGKILLed: gone at once). */
        u->spawn = spawn_handle_free(u->spawn);
}

static void unit_spawn_done(Unit *u, int result) {
        _cleanup_free_ char *error = unit_spawn_finish(u);
        Instance *i = u->instance;

        if (result < 0 && !error)
                error = strdup(strerror(-result));
        if (result != SPAWN_EXECUTED || i->pid <= 0) {
                /* The container could not run its command: one line for the log and status; the
                 * exit (125-127) reaches the restart engine through on_instance_exit(). */
                if (i->pid <= 0)
                        unit_fail(u, UNIT_RESULT_RESOURCES, "%s", strna(error));
                else {
                        log_error("%s: %s", u->name, strna(error));
                        free(u->last_error);
                        u->last_error = TAKE_PTR(error);
                }
                manager_unit_spawned(u->manager, u);
                return;
        }

        log_info("%s: started, PID %d, run %s.", u->name, (int) i->pid, i->id);
        manager_unit_spawned(u->manager, u);
        unit_set_state(u, UNIT_RUNNING);
}

/* Takes what the plan owns (on success and failure alike). */
static int unit_spawn(Unit *u, ContainerPlan *plan) {
        Instance *i = u->instance;
        usec_t timeout = plan->params.setup_timeout ?: 30 * USEC_PER_SEC;
        int r;

        i->plan = newdup(ContainerPlan, plan, 1);
        if (!i->plan)
                return -ENOMEM;
        *plan = (ContainerPlan){ .log_fd = -EBADF };

        r = spawn_container_begin(&i->plan->params, &u->spawn);
        /* The child has its own copies of the caller's fds now (supctl run). */
        for (size_t k = 0; k < 3; k++)
                u->run_stdio[k] = safe_close(u->run_stdio[k]);
        if (r < 0)
                return r;
        {
                const UnitSettings *s = unit_settings(u);
                r = instance_write_record(i, spawn_handle_pid(u->spawn), u->hash, s && !s->rootfs ? s->image : NULL,
                                          s ? s->rootfs : NULL);
                if (r < 0)
                        log_warning_errno(r, "%s: cannot write the state record of run %s, ignoring: %m", u->name,
                                          i->id);
        }
        r = sd_event_add_io(u->manager->event, &u->spawn_source, spawn_handle_fd(u->spawn), EPOLLIN, on_spawn_io, u);
        if (r >= 0)
                r = sd_event_add_time_relative(u->manager->event, &u->spawn_timer, CLOCK_MONOTONIC, timeout,
                                               USEC_PER_MSEC, on_spawn_timeout, u);
        if (r < 0) {
                unit_abandon_spawn(u);
                return r;
        }
        (void) sd_event_source_set_description(u->spawn_source, "unit-spawn");
        (void) sd_event_source_set_description(u->spawn_timer, "unit-spawn-timeout");
        return 0;
}

/* The container's hostname: HostName=, or NAME-i for replicas, or the unit's name. */
static char *unit_hostname(const Unit *u, const UnitSettings *s) {
        char *h;

        if (u->replica && !s->hostname)
                return asprintf(&h, "%s-%s", u->load_name, u->replica) < 0 ? NULL : h;
        return strdup(s->hostname ?: u->name);
}

/* Everything spawn needs, for the unit's instance (its cgroup made already). */
static int unit_build_plan(Unit *u, const UnitSettings *s, const Image *image, ContainerPlan *ret, char **ret_error) {
        Manager *m = u->manager;
        ContainerPaths paths = { .run_dir = m->run_dir,
                                 .state_dir = m->state_dir,
                                 .log_dir = m->log_dir,
                                 .instance_dir = u->instance->dir,
                                 .run_id = u->instance->id };
        _cleanup_strv_free_ char **hierarchies = unit_cgroup(u) ? cgroup_hierarchies(unit_cgroup(u)) : NULL;
        _cleanup_free_ char *hostname = unit_hostname(u, s);

        if (!hostname)
                return -ENOMEM;
        return container_plan_build(&paths, u->name, hostname, s, image, hierarchies, u->instance->dir_fd, ret,
                                    ret_error);
}

int unit_adopt(Unit *u, Instance *i, pid_t pid, int pidfd, uint64_t hash) {
        const UnitSettings *s = unit_settings(u);
        _cleanup_(container_plan_done) ContainerPlan plan = { .log_fd = -EBADF };
        _cleanup_free_ char *error = NULL;
        int r;

        assert(!u->instance);
        u->instance = i;
        u->hash = hash;
        u->have_exit = false;
        u->sigkill_sent = false;
        u->result = UNIT_RESULT_SUCCESS;
        unit_set_state(u, UNIT_RUNNING);

        if (pidfd < 0) {
                /* It ended while no supd ran: how, its init recorded; then the restart policy. */
                int code = CLD_KILLED, status = SIGKILL;
                (void) spawn_read_exit_record(i->dir_fd, &code, &status);
                log_info("%s: run %s ended while supd was away.", u->name, i->id);
                on_instance_exit(i, code, status, u);
                return 0;
        }
        r = instance_watch(i, u->manager->event, pid, pidfd, on_instance_exit, u);
        if (r < 0) {
                safe_close(pidfd);
                return r;
        }
        log_info("%s: adopted run %s, PID %d.", u->name, i->id, (int) pid);

        /* What supctl exec needs (user, capabilities, seccomp, environment): the plan again, from
         * the unit as it is now. Without it the container runs on, only exec is refused. */
        if (s) {
                _cleanup_(image_store_freep) ImageStore *store = NULL;
                _cleanup_(image_freep) Image *image = NULL;
                r = 0;
                if (s->image && !s->rootfs) {
                        r = image_store_open(u->manager->state_dir, 0, &store);
                        if (r >= 0)
                                r = image_store_lookup(store, s->image, &image);
                }
                if (r >= 0)
                        r = unit_build_plan(u, s, image, &plan, &error);
                if (r >= 0) {
                        i->plan = newdup(ContainerPlan, &plan, 1);
                        if (i->plan)
                                plan = (ContainerPlan){ .log_fd = -EBADF };
                } else
                        log_warning("%s: cannot rebuild the container's plan, supctl exec is unavailable: %s", u->name,
                                    error ?: strerror(-r));
        }
        return 0;
}

int unit_start(Unit *u, bool manual, char **ret_error) {
        const UnitSettings *s = unit_settings(u);
        _cleanup_(container_plan_done) ContainerPlan plan = { .log_fd = -EBADF };
        Instance *i;
        int r;

        _cleanup_(image_freep) Image *image = NULL;
        bool resume = u->image_pulled;

        *ret_error = NULL;
        u->image_pulled = false;
        if (!s) {
                *ret_error = strdup("unit has no valid configuration");
                return -ENOEXEC;
        }
        if ((u->state == UNIT_RUNNING || u->state == UNIT_STARTING) && !resume)
                return 0;
        if (u->state == UNIT_STOPPING)
                return -EBUSY;

        if (manual) {
                u->n_restarts = 0;
                u->restart_step = 0;
        }
        u->stop_requested = false;
        u->timer_source = sd_event_source_disable_unref(u->timer_source);

        /* [Deploy] Replicas=0: the unit is loaded with nothing to run; starting it starts nothing
         * and succeeds. */
        if (reconcile_file_is_scaled_to_zero(u->file)) {
                if (u->state != UNIT_INACTIVE)
                        unit_set_state(u, UNIT_INACTIVE);
                return 0;
        }

        if (!resume && !start_limit_test(&u->start_limit, s->start_limit_interval, s->start_limit_burst,
                                         now_usec(CLOCK_MONOTONIC))) {
                *ret_error = strdup("start request repeated too quickly");
                unit_fail(u, UNIT_RESULT_START_LIMIT_HIT, "start request repeated too quickly");
                return -EAGAIN;
        }

        if (s->image && !s->rootfs) {
                r = unit_find_image(u, s, &image, ret_error);
                if (r <= 0)
                        return r; /* failed, or pulling: the start goes on in on_image_ready() */
        }

        r = unit_ensure_instance(u);
        if (r >= 0)
                r = unit_make_cgroup(u, s, ret_error);
        if (r >= 0) {
                (void) unlinkat(u->instance->dir_fd, "exit", 0);
                r = unit_build_plan(u, s, image, &plan, ret_error);
        }
        if (r < 0) {
                if (!*ret_error && asprintf(ret_error, "cannot prepare the container: %s", strerror(-r)) < 0)
                        return -ENOMEM;
                unit_fail(u, UNIT_RESULT_RESOURCES, "%s", *ret_error);
                return r;
        }

        unit_set_state(u, UNIT_STARTING);
        u->have_exit = false;
        u->sigkill_sent = false;
        u->stop_during_setup = false;
        u->result = UNIT_RESULT_SUCCESS;
        free(u->last_error);
        u->last_error = NULL;

        if (u->transient && !u->run_detached) {
                /* supctl run: the caller's terminal or fds instead of the log. */
                plan.params.want_pty = u->run_tty;
                if (!u->run_tty) {
                        plan.params.stdin_fd = u->run_stdio[0];
                        plan.params.stdout_fd = u->run_stdio[1];
                        plan.params.stderr_fd = u->run_stdio[2];
                }
        }
        i = u->instance;
        if (i->cgroup) {
                plan.params.cgroup_fd = cgroup_clone_fd(i->cgroup);
                if (plan.params.cgroup_fd < 0)
                        plan.params.cgroup_fd = -EBADF;
                /* The child joins what CLONE_INTO_CGROUP did not cover itself (see cgroup_attach_self()). */
                if (plan.params.cgroup_fd < 0 || cgroup_needs_attach(i->cgroup)) {
                        plan.params.child_prepare =
                                plan.params.cgroup_fd >= 0 ? unit_attach_self_v1 : unit_attach_self_all;
                        plan.params.prepare_userdata = i->cgroup;
                }
        }
        u->hash = unit_settings_hash(s);
        r = unit_spawn(u, &plan);
        if (r < 0) {
                if (asprintf(ret_error, "spawn: %s", strerror(-r)) < 0)
                        return -ENOMEM;
                unit_fail(u, UNIT_RESULT_RESOURCES, "%s", *ret_error);
                return r;
        }
        return 0;
}

int unit_stop(Unit *u) {
        const UnitSettings *s = unit_settings(u);
        usec_t timeout;
        int r;

        u->stop_requested = true;
        u->stop_queued = false;
        u->start_queued = false;

        switch (u->state) {
        case UNIT_AUTO_RESTART:
                u->timer_source = sd_event_source_disable_unref(u->timer_source);
                u->start_after_stop = false;
                unit_set_state(u, UNIT_INACTIVE);
                return 0;
        case UNIT_INACTIVE:
        case UNIT_FAILED:
                return 0;
        case UNIT_STOPPING:
                return 0;
        default:
                break;
        }
        if (u->spawn) {
                /* Mid-setup: the half-made container is killed; its exit ends the stop. */
                _cleanup_free_ char *error = NULL;
                (void) spawn_handle_abort(u->spawn, -ECANCELED);
                error = unit_spawn_finish(u);
                manager_unit_spawned(u->manager, u);
                if (unit_main_pid(u) > 0) {
                        u->stop_during_setup = true;
                        unit_set_state(u, UNIT_STOPPING);
                        return 0;
                }
        }
        if (unit_main_pid(u) <= 0) {
                /* Still pulling its image: nothing to signal. A restart comes back up from here. */
                unit_enter_dead(u, UNIT_RESULT_SUCCESS, false);
                return 0;
        }

        unit_set_state(u, UNIT_STOPPING);
        r = instance_signal(u->instance, s ? s->stop_signal : SIGTERM);
        if (r < 0 && r != -ESRCH)
                log_warning_errno(r, "%s: failed to send stop signal: %m", u->name);

        timeout = s ? unit_settings_stop_timeout(s) : 10 * USEC_PER_SEC;
        if (timeout != USEC_INFINITY) {
                u->timer_source = sd_event_source_disable_unref(u->timer_source);
                r = sd_event_add_time_relative(u->manager->event, &u->timer_source, CLOCK_MONOTONIC, timeout,
                                               USEC_PER_MSEC, on_stop_timeout, u);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(u->timer_source, "unit-stop-timeout");
        }
        return 0;
}

int unit_kill(Unit *u, int sig) {
        if (unit_main_pid(u) <= 0)
                return -ESRCH;
        return instance_signal(u->instance, sig);
}

void unit_reset_failed(Unit *u) {
        start_limit_reset(&u->start_limit);
        u->n_restarts = 0;
        u->restart_step = 0;
        if (u->state == UNIT_FAILED) {
                u->result = UNIT_RESULT_SUCCESS;
                unit_set_state(u, UNIT_INACTIVE);
        }
}

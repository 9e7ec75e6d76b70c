/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

#include "adopt.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/process-util.h"
#include "basic/strv.h"
#include "image-worker.h"
#include "manager.h"
#include "reconcile.h"

static const char *const search_dirs[] = { "/etc/supd/units", "/run/supd/units", "/usr/lib/supd/units" };

static char *prefixed(const Manager *m, const char *path) {
        char *r;
        if (asprintf(&r, "%s%s", m->root, path) < 0)
                return NULL;
        return r;
}

int manager_new(const char *root, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        char host[256] = "localhost";
        sd_id128_t id;
        int r;

        m = new0(Manager, 1);
        if (!m)
                return -ENOMEM;
        m->lock_fd = m->listen_fd = -EBADF;
        manager_config_init(&m->config);
        m->unit_index = hashmap_new();
        if (!m->unit_index)
                return -ENOMEM;

        /* "/" and "" both mean the host; strip a trailing slash so paths join cleanly. */
        m->root = strdup(root && !streq(root, "/") ? root : "");
        if (!m->root)
                return -ENOMEM;
        while (strlen(m->root) > 0 && m->root[strlen(m->root) - 1] == '/')
                m->root[strlen(m->root) - 1] = 0;

        m->run_dir = prefixed(m, "/run/supd");
        m->state_dir = prefixed(m, "/var/lib/supd");
        m->log_dir = prefixed(m, "/var/log/supd");
        m->conf_path = prefixed(m, "/etc/supd/supd.conf");
        m->socket_path = prefixed(m, "/run/supd/supd.sock");
        if (!m->run_dir || !m->state_dir || !m->log_dir || !m->conf_path || !m->socket_path)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(search_dirs); i++) {
                r = strv_consume(&m->search_path, prefixed(m, search_dirs[i]));
                if (r < 0)
                        return r;
        }

        (void) gethostname(host, sizeof(host) - 1);
        m->hostname = strdup(host);
        if (sd_id128_get_machine(&id) >= 0) {
                char s[SD_ID128_STRING_MAX];
                m->machine_id = strdup(sd_id128_to_string(id, s));
        } else
                m->machine_id = strdup("00000000000000000000000000000000");
        if (!m->hostname || !m->machine_id)
                return -ENOMEM;
        m->ctx = (UnitLoadContext){
                .search_path = m->search_path,
                .root = m->root,
                .hostname = m->hostname,
                .machine_id = m->machine_id,
        };

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        if (m->hooks.close)
                m->hooks.close(m);
        if (m->hooks.done)
                m->hooks.done(m);
        /* Calls answered as units go must not find the ones already freed. */
        m->unit_index = hashmap_free(m->unit_index);
        for (size_t i = 0; i < m->n_units; i++)
                unit_free(m->units[i]);
        free(m->units);
        unit_diagnostics_free(m->bad_names, m->n_bad_names);
        m->exit_source = sd_event_source_disable_unref(m->exit_source);
        m->gc_source = sd_event_source_disable_unref(m->gc_source);
        m->start_queue_source = sd_event_source_disable_unref(m->start_queue_source);
        m->cgroup_reap_timer = sd_event_source_disable_unref(m->cgroup_reap_timer);
        for (size_t i = 0; i < m->n_cgroup_reaps; i++)
                cgroup_free(m->cgroup_reaps[i].cgroup);
        free(m->cgroup_reaps);
        sd_event_unref(m->event);
        safe_close(m->lock_fd);
        manager_config_done(&m->config);
        cgroup_root_free(m->cgroup_root);
        strv_free(m->search_path);
        free(m->root);
        free(m->run_dir);
        free(m->state_dir);
        free(m->log_dir);
        free(m->conf_path);
        free(m->socket_path);
        free(m->hostname);
        free(m->machine_id);
        free(m);
        return NULL;
}

Unit *manager_get_unit(Manager *m, const char *name) {
        _cleanup_free_ char *plain = unit_name_normalize(name); /* "web.container" is "web" */

        if (!plain)
                return NULL;
        return hashmap_get(m->unit_index, plain);
}

size_t manager_match_units(Manager *m, const char *name, Unit ***ret) {
        _cleanup_free_ char *plain = unit_name_normalize(name);
        Unit **l = NULL;
        size_t n = 0;
        Unit *u;

        *ret = NULL;
        if (!plain)
                return 0;
        u = manager_get_unit(m, plain);

        if (u) {
                l = new0(Unit *, 1);
                if (!l)
                        return 0;
                l[n++] = u;
                *ret = l;
                return n;
        }
        /* A replicated unit: every "name@i" instance loaded from name.container. */
        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i]->replica && streq(m->units[i]->load_name, plain)) {
                        Unit **nl = realloc(l, (n + 1) * sizeof(Unit *));
                        if (!nl) {
                                free(l);
                                return 0;
                        }
                        l = nl;
                        l[n++] = m->units[i];
                }
        *ret = l;
        return n;
}

int manager_add_unit(Manager *m, Unit *u) {
        Unit **l = realloc(m->units, (m->n_units + 1) * sizeof(Unit *));
        int r;

        if (!l)
                return -ENOMEM;
        m->units = l;
        /* The unit's own name is the key: it lives as long as the entry. */
        r = hashmap_put(m->unit_index, u->name, u);
        if (r < 0)
                return r;
        l[m->n_units++] = u;
        return 0;
}

void manager_remove_unit(Manager *m, Unit *u) {
        if (hashmap_get(m->unit_index, u->name) == u)
                (void) hashmap_remove(m->unit_index, u->name);
        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i] == u) {
                        memmove(m->units + i, m->units + i + 1, (m->n_units - i - 1) * sizeof(Unit *));
                        m->n_units--;
                        break;
                }
        unit_free(u);
}

/* ---- Dependencies ---- */

static bool unit_orders_after(const Unit *a, const Unit *b) {
        const UnitSettings *sa = unit_settings(a), *sb = unit_settings(b);
        return (sa && strv_contains(sa->after, b->name)) || (sb && strv_contains(sb->before, a->name));
}

/* Depth-first walk over Requires=/Wants=/BindsTo= collecting what a start pulls in; a missing
 * required unit is an error on the unit that asked for it. */
static int collect_pulled(Manager *m, Unit *u, Unit ***set, size_t *n, char **ret_error) {
        const UnitSettings *s = unit_settings(u);
        char **lists[3];

        for (size_t i = 0; i < *n; i++)
                if ((*set)[i] == u)
                        return 0;
        Unit **ns = realloc(*set, (*n + 1) * sizeof(Unit *));
        if (!ns)
                return -ENOMEM;
        *set = ns;
        (*set)[(*n)++] = u;
        if (!s)
                return 0;

        lists[0] = s->requires;
        lists[1] = s->binds_to;
        lists[2] = s->wants;
        for (size_t k = 0; k < ELEMENTSOF(lists); k++)
                STRV_FOREACH (d, lists[k]) {
                        Unit *dep = manager_get_unit(m, *d);
                        int r;

                        if (!dep || !dep->file) {
                                if (asprintf(ret_error, "%s: dependency %s%s", u->name, *d,
                                             dep ? " failed to load" : " does not exist") < 0)
                                        return -ENOMEM;
                                return -ENOENT;
                        }
                        r = collect_pulled(m, dep, set, n, ret_error);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* Topological order by After=/Before= within set (Kahn's algorithm); a cycle is reported with
 * the units that form it. */
static int order_units(Unit **set, size_t n, Unit ***ret, char **ret_error) {
        _cleanup_free_ Unit **out = new0(Unit *, n);
        _cleanup_free_ bool *done = new0(bool, n);
        size_t k = 0;

        if (!out || !done)
                return -ENOMEM;
        while (k < n) {
                bool progress = false;
                for (size_t i = 0; i < n; i++) {
                        bool ready = true;
                        if (done[i])
                                continue;
                        for (size_t j = 0; j < n && ready; j++)
                                if (!done[j] && j != i && unit_orders_after(set[i], set[j]))
                                        ready = false;
                        if (ready) {
                                done[i] = true;
                                out[k++] = set[i];
                                progress = true;
                        }
                }
                if (!progress) {
                        _cleanup_free_ char *names = NULL;
                        for (size_t i = 0; i < n; i++) {
                                char *t;
                                if (done[i])
                                        continue;
                                if (asprintf(&t, "%s%s%s", strempty(names), names ? " " : "", set[i]->name) < 0)
                                        return -ENOMEM;
                                free(names);
                                names = t;
                        }
                        if (asprintf(ret_error, "ordering cycle between: %s", names) < 0)
                                return -ENOMEM;
                        return -ELOOP;
                }
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static bool unit_requires(const Unit *u, const Unit *dep) {
        const UnitSettings *s = unit_settings(u);
        return s && (strv_contains(s->requires, dep->name) || strv_contains(s->binds_to, dep->name));
}

int manager_start_unit(Manager *m, Unit *u, bool manual, char **ret_error) {
        _cleanup_free_ Unit **set = NULL, **ordered = NULL;
        size_t n = 0;
        int r, ret = 0;

        *ret_error = NULL;
        if (m->exiting)
                return -ESHUTDOWN;
        /* Replicas=0: nothing to run, so nothing to pull in either. */
        if (reconcile_file_is_scaled_to_zero(u->file))
                return unit_start(u, manual, ret_error);

        r = collect_pulled(m, u, &set, &n, ret_error);
        if (r >= 0)
                r = order_units(set, n, &ordered, ret_error);
        if (r < 0) {
                free(u->last_error);
                u->last_error = *ret_error ? strdup(*ret_error) : NULL;
                u->result = UNIT_RESULT_DEPENDENCY;
                if (!unit_is_active(u) || u->state == UNIT_AUTO_RESTART)
                        unit_set_state(u, UNIT_FAILED);
                return r;
        }

        /* Queued in After= order; the queue starts each once what it is ordered after has
         * finished starting. */
        for (size_t i = 0; i < n; i++) {
                Unit *x = ordered[i];

                if (x->state == UNIT_RUNNING || x->state == UNIT_STARTING || x->start_queued)
                        continue;
                if (x->state == UNIT_STOPPING) {
                        /* Let the stop finish, then come back up. */
                        x->start_after_stop = true;
                        continue;
                }
                x->start_queued = true;
                x->start_manual = x == u ? manual : false;
                x->timer_source = sd_event_source_disable_unref(x->timer_source); /* a pending auto-restart */
        }
        manager_schedule_start_queue(m);
        return ret;
}

/* How long one turn of the event loop may spend starting queued units: each start costs a
 * millisecond or more of file system and cgroup work before its child takes over, and the loop
 * must stay responsive (a D-Bus call, a restart timer, the setups already under way) while a
 * reload starts hundreds. At least one start per turn. */
#define START_QUEUE_SLICE_USEC (5 * USEC_PER_MSEC)

static bool unit_start_blocked(Manager *m, Unit *u) {
        for (size_t j = 0; j < m->n_units; j++) {
                Unit *v = m->units[j];
                if (v != u && (v->start_queued || v->state == UNIT_STARTING) && unit_orders_after(u, v))
                        return true;
        }
        return false;
}

/* A unit whose hard dependency is down (failed, or never came up) is not started. One that is
 * still starting or restarting is on its way. */
static Unit *unit_failed_dependency(Manager *m, Unit *u) {
        const UnitSettings *s = unit_settings(u);
        char **lists[] = { s ? s->requires : NULL, s ? s->binds_to : NULL };

        for (size_t k = 0; k < ELEMENTSOF(lists); k++)
                STRV_FOREACH (d, lists[k]) {
                        Unit *v = manager_get_unit(m, *d);
                        if (v && v != u && !v->start_queued && (v->state == UNIT_FAILED || v->state == UNIT_INACTIVE))
                                return v;
                }
        return NULL;
}

static int on_start_queue(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + START_QUEUE_SLICE_USEC;
        bool more = false, started = false;

        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                _cleanup_free_ char *error = NULL;
                Unit *dep;

                if (!u->start_queued)
                        continue;
                if (m->exiting) {
                        u->start_queued = false;
                        unit_cancel_waiters(u, "supd is shutting down");
                        continue;
                }
                if (unit_start_blocked(m, u))
                        continue; /* the state change that unblocks it schedules us again */
                if (started && now_usec(CLOCK_MONOTONIC) >= deadline) {
                        more = true;
                        break;
                }
                u->start_queued = false;
                dep = unit_failed_dependency(m, u);
                if (dep) {
                        unit_fail(u, UNIT_RESULT_DEPENDENCY, "a required dependency, %s, failed to start", dep->name);
                        continue;
                }
                started = true;
                /* A failure is the unit's, logged and shown by it (unit_fail()). */
                (void) unit_start(u, u->start_manual, &error);
                /* A unit that did not get as far as starting answers its callers now. */
                if (!unit_is_busy(u))
                        unit_cancel_waiters(u, NULL);
        }
        if (more)
                manager_schedule_start_queue(m);
        return 0;
}

/* A timer due at once rather than a defer source: a defer source that stays pending keeps
 * sd-event from polling its fds at all, and the point of the budget is that D-Bus calls and
 * the setups already under way are served between two batches. */
void manager_schedule_start_queue(Manager *m) {
        int r;

        if (m->start_queue_source) {
                r = sd_event_source_set_time_relative(m->start_queue_source, 0);
                if (r >= 0)
                        r = sd_event_source_set_enabled(m->start_queue_source, SD_EVENT_ONESHOT);
        } else {
                r = sd_event_add_time_relative(m->event, &m->start_queue_source, CLOCK_MONOTONIC, 0, 1, on_start_queue,
                                               m);
                if (r >= 0)
                        (void) sd_event_source_set_description(m->start_queue_source, "manager-start-queue");
        }
        if (r < 0)
                log_error_errno(r, "Cannot schedule the start queue: %m");
}

/* A queued stop proceeds once nothing still running or stopping is ordered after it (that unit
 * has to go down first), which gives the reverse of the start order. */
static void manager_dispatch_stop_queue(Manager *m) {
        bool again = true;

        while (again) {
                again = false;
                for (size_t i = 0; i < m->n_units; i++) {
                        Unit *u = m->units[i];
                        bool blocked = false;

                        if (!u->stop_queued)
                                continue;
                        for (size_t j = 0; j < m->n_units && !blocked; j++) {
                                Unit *v = m->units[j];
                                if (v != u && (v->stop_queued || v->state == UNIT_STOPPING) && unit_orders_after(v, u))
                                        blocked = true;
                        }
                        if (blocked)
                                continue;
                        u->stop_queued = false;
                        (void) unit_stop(u);
                        again = true;
                }
        }
}

static void queue_stop(Manager *m, Unit *u) {
        if (u->stop_queued || (!unit_is_active(u) && u->state != UNIT_AUTO_RESTART))
                return;
        if (u->state == UNIT_STOPPING)
                return;
        u->stop_queued = true;
        u->stop_requested = true;
        /* Requires= and BindsTo= propagate a stop to the units that depend on us. */
        for (size_t i = 0; i < m->n_units; i++)
                if (unit_requires(m->units[i], u))
                        queue_stop(m, m->units[i]);
}

int manager_stop_unit(Manager *m, Unit *u) {
        u->stop_requested = true;
        if (u->start_queued) {
                u->start_queued = false;
                if (!unit_is_busy(u))
                        unit_cancel_waiters(u, NULL);
        }
        if (u->state == UNIT_AUTO_RESTART) {
                (void) unit_stop(u);
                return 0;
        }
        queue_stop(m, u);
        manager_dispatch_stop_queue(m);
        return 0;
}

static int on_gc(sd_event_source *s, void *userdata) {
        Manager *m = userdata;

        for (size_t i = 0; i < m->n_units;) {
                Unit *u = m->units[i];
                if (u->not_found && !unit_is_active(u) && u->n_waiters == 0) {
                        log_info("%s: unit file removed, forgetting the unit.", u->name);
                        manager_remove_unit(m, u);
                } else
                        i++;
        }
        return 0;
}

void manager_unit_spawned(Manager *m, Unit *u) {
        if (m->hooks.unit_spawned)
                m->hooks.unit_spawned(m, u);
}

void manager_unit_settled(Manager *m, Unit *u) {
        if (m->hooks.unit_settled)
                m->hooks.unit_settled(m, u);
        /* Units are freed from a deferred source, never under the caller's feet. */
        if (u->not_found && !unit_is_active(u)) {
                if (!m->gc_source && sd_event_add_defer(m->event, &m->gc_source, on_gc, m) >= 0) {
                        (void) sd_event_source_set_description(m->gc_source, "manager-gc");
                        (void) sd_event_source_set_enabled(m->gc_source, SD_EVENT_ONESHOT);
                } else if (m->gc_source)
                        (void) sd_event_source_set_enabled(m->gc_source, SD_EVENT_ONESHOT);
        }

        /* BindsTo=: a unit bound to one that went away stops too. */
        if (u->state == UNIT_INACTIVE || u->state == UNIT_FAILED)
                for (size_t i = 0; i < m->n_units; i++) {
                        Unit *v = m->units[i];
                        const UnitSettings *s = unit_settings(v);
                        if (v != u && s && strv_contains(s->binds_to, u->name) && unit_is_active(v) &&
                            v->state != UNIT_STOPPING && !v->stop_queued) {
                                log_info("%s: stopping, because %s is bound and went down.", v->name, u->name);
                                queue_stop(m, v);
                        }
                }
        manager_dispatch_stop_queue(m);

        if (m->exiting) {
                for (size_t i = 0; i < m->n_units; i++)
                        if (unit_is_active(m->units[i]))
                                return;
                (void) sd_event_exit(m->event, 0);
        }
}

void manager_begin_exit(Manager *m) {
        bool any = false;

        if (m->exiting)
                return;
        m->exiting = true;
        log_info("Stopping all containers.");
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping containers");
        for (size_t i = 0; i < m->n_units; i++)
                queue_stop(m, m->units[i]);
        manager_dispatch_stop_queue(m);
        for (size_t i = 0; i < m->n_units; i++)
                if (unit_is_active(m->units[i]))
                        any = true;
        if (!any)
                (void) sd_event_exit(m->event, 0);
}

/* ---- Loading and reconciling ---- */

static int add_action(ReloadAction **a, size_t *n, const char *action, const char *unit, const char *detail) {
        ReloadAction *na;

        if (!a)
                return 0;
        na = realloc(*a, (*n + 1) * sizeof(ReloadAction));
        if (!na)
                return -ENOMEM;
        *a = na;
        na[*n] = (ReloadAction){
                .action = strdup(action),
                .unit = strdup(unit),
                .detail = detail ? strdup(detail) : NULL,
        };
        (*n)++;
        return 0;
}

void reload_actions_free(ReloadAction *a, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(a[i].action);
                free(a[i].unit);
                free(a[i].detail);
        }
        free(a);
}

static void log_diagnostics(int level, const UnitDiagnostic *d, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *s =
                        level == LOG_WARNING ? unit_warning_format(&d[i]) : unit_diagnostic_format(&d[i]);
                log_full(level, "%s", strna(s));
        }
}

static void log_unit_file_diagnostics(const UnitFile *f) {
        log_diagnostics(LOG_ERR, f->errors, f->n_errors);
        log_diagnostics(LOG_WARNING, f->warnings, f->n_warnings);
}

static bool unit_is_desired(const Unit *u) {
        return reconcile_file_wants_start(u->file);
}

/* What the diff needs to know about the units held now. */
static int current_units(Manager *m, ReconcileCurrent **ret) {
        ReconcileCurrent *c = new0(ReconcileCurrent, m->n_units);
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_units; i++) {
                const Unit *u = m->units[i];
                c[i] = (ReconcileCurrent){
                        .name = u->name,
                        .has_file = u->file,
                        .active = unit_is_active(u),
                        .auto_restart = u->state == UNIT_AUTO_RESTART,
                        .pinned = u->manual_instance || u->transient,
                        .hash = u->hash,
                };
        }
        *ret = c;
        return 0;
}

/* Two supervisors with one [Cgroup] Parent= would remove each other's cgroups: the second refuses
 * to start, naming the first. */
static int manager_claim_cgroup_root(Manager *m) {
        _cleanup_free_ char *owner = NULL, *holder = NULL;
        int r;

        if (asprintf(&owner, "pid %d, root %s", (int) getpid(), isempty(m->root) ? "/" : m->root) < 0)
                return -ENOMEM;
        r = cgroup_root_lock(m->cgroup_root, owner, &holder);
        if (r == -EBUSY)
                log_error("The cgroup subtree %s ([Cgroup] Parent=%s) is in use by another supd (%s); "
                          "give each supd a Parent= of its own.",
                          strna(cgroup_root_path(m->cgroup_root, "unified")
                                        ?: cgroup_root_path(m->cgroup_root, "memory")),
                          m->config.cgroup_parent, holder ?: "its pid and root are unknown");
        else if (r < 0) {
                log_warning_errno(r, "Cannot lock the cgroup subtree, ignoring: %m");
                r = 0;
        }
        return r;
}

int manager_reload(Manager *m, ReloadAction **ret, size_t *ret_n) {
        _cleanup_(desired_set_done) DesiredSet d = {};
        _cleanup_free_ ReconcileCurrent *cur = NULL;
        _cleanup_free_ ReconcileOp *ops = NULL;
        _cleanup_free_ ReconcileGone *gone = NULL;
        _cleanup_free_ Unit **old = NULL;
        UnitDiagnostic *conf_errors = NULL;
        size_t n_conf_errors = 0, n_actions = 0, n_old;
        ReloadAction *actions = NULL;
        int r;

        r = manager_config_load(&m->config, m->conf_path, &conf_errors, &n_conf_errors);
        manager_image_set_insecure_registries(m->config.insecure_registries);
        log_diagnostics(LOG_ERR, conf_errors, n_conf_errors);
        unit_diagnostics_free(conf_errors, n_conf_errors);
        if (r < 0 && r != -EINVAL)
                log_warning_errno(r, "Failed to read %s, keeping the previous configuration: %m", m->conf_path);

        /* The first load names the cgroup subtree; it stays for supd's lifetime. */
        if (!m->cgroup_root_tried) {
                m->cgroup_root_tried = true;
                r = cgroup_root_new(m->config.cgroup_parent, &m->cgroup_root);
                if (r >= 0)
                        r = manager_claim_cgroup_root(m);
                if (r == -EBUSY)
                        return r; /* another supd's subtree: refuse to start, said above */
                if (r < 0)
                        log_warning_errno(
                                r, "Cannot set up the cgroup subtree '%s', running containers without limits: %m",
                                m->config.cgroup_parent);
                else
                        log_info("cgroups: %s layout, subtree %s%s.",
                                 cgroup_layout_to_string(cgroup_root_layout(m->cgroup_root)),
                                 strna(cgroup_root_path(m->cgroup_root, "unified")
                                               ?: cgroup_root_path(m->cgroup_root, "memory")),
                                 cgroup_root_delegated(m->cgroup_root) ? " (delegated by systemd)" : "");
        }

        /* First the pure part: what the files ask for, and how it differs from what we hold. */
        /* One snapshot of the search directories for the whole load (see unit-settings.h). */
        r = unit_load_context_cache(&m->ctx);
        if (r < 0)
                return log_oom();
        r = reconcile_desired_set(&m->ctx, &d);
        unit_load_context_uncache(&m->ctx);
        if (r < 0)
                return log_error_errno(r, "Failed to load units: %m");
        unit_diagnostics_free(m->bad_names, m->n_bad_names);
        m->bad_names = TAKE_PTR(d.bad_names);
        m->n_bad_names = d.n_bad_names;
        d.n_bad_names = 0;
        for (size_t i = 0; i < m->n_bad_names; i++)
                log_error("%s: %s", m->bad_names[i].path, m->bad_names[i].message);
        for (size_t i = 0; i < d.n_failures; i++)
                log_error_errno(d.failures[i].error, "%s: failed to load: %m", d.failures[i].name);

        r = current_units(m, &cur);
        if (r < 0)
                return log_oom();
        n_old = m->n_units;
        old = new0(Unit *, n_old);
        ops = new0(ReconcileOp, d.n_instances);
        gone = new0(ReconcileGone, n_old);
        if (!old || !ops || !gone)
                return log_oom();
        memcpy(old, m->units, n_old * sizeof(Unit *));
        r = reconcile_plan(&d, cur, n_old, ops, gone);
        if (r < 0)
                return log_oom();

        /* Then act on the difference. */
        for (size_t i = 0; i < d.n_instances; i++) {
                DesiredInstance *di = &d.instances[i];
                Unit *u = manager_get_unit(m, di->name);

                if (ops[i] == RECONCILE_KEEP)
                        continue;
                /* Replicas share one file: report its problems once. */
                if (!di->replica || streq(di->replica, "1"))
                        log_unit_file_diagnostics(di->file);
                if (!u) {
                        u = unit_new(m, di->name, di->load_name, di->replica);
                        if (!u || manager_add_unit(m, u) < 0) {
                                unit_free(u);
                                return log_oom();
                        }
                }
                u->not_found = false;

                switch (ops[i]) {
                case RECONCILE_KEEP_BAD:
                        /* Keep running the last good version; show the new errors. */
                        unit_file_free(u->bad);
                        u->bad = TAKE_PTR(di->file);
                        if (u->file)
                                log_warning("%s: new configuration is invalid, keeping the running one.", u->name);
                        (void) add_action(&actions, &n_actions, "failed", u->name, u->bad->errors[0].message);
                        break;
                case RECONCILE_REPLACE:
                        u->bad = unit_file_free(u->bad);
                        unit_file_free(u->file);
                        u->file = TAKE_PTR(di->file);
                        u->start_after_stop = !reconcile_file_is_scaled_to_zero(u->file);
                        (void) manager_stop_unit(m, u);
                        (void) add_action(&actions, &n_actions, u->start_after_stop ? "replaced" : "stopped", u->name,
                                          u->start_after_stop ? NULL : "scaled to zero");
                        break;
                default:
                        u->bad = unit_file_free(u->bad);
                        unit_file_free(u->file);
                        u->file = TAKE_PTR(di->file);
                        break;
                }
        }

        /* Units whose file is gone (or that scaled away) are stopped and forgotten. */
        for (size_t j = 0; j < n_old; j++) {
                Unit *u = old[j];
                if (gone[j] == RECONCILE_STAYS)
                        continue;
                u->not_found = true;
                if (gone[j] == RECONCILE_STOP) {
                        bool scaled = false;
                        for (size_t i = 0; u->replica && i < d.n_instances && !scaled; i++)
                                scaled = streq(d.instances[i].load_name, u->load_name);
                        (void) manager_stop_unit(m, u);
                        (void) add_action(&actions, &n_actions, "stopped", u->name,
                                          scaled ? "scaled down" : "unit file removed");
                } else
                        manager_remove_unit(m, u);
        }

        /* Before anything starts, once: the containers a previous supd left. */
        if (!m->adopted) {
                m->adopted = true;
                (void) manager_adopt(m);
        }

        /* Start what is desired and not running. */
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                _cleanup_free_ char *error = NULL;

                if (!unit_is_desired(u) || unit_is_active(u) || u->state == UNIT_FAILED || u->not_found)
                        continue;
                r = manager_start_unit(m, u, false, &error);
                (void) add_action(&actions, &n_actions, r < 0 ? "failed" : "started", u->name, error);
        }

        if (ret) {
                *ret = actions;
                *ret_n = n_actions;
        } else
                reload_actions_free(actions, n_actions);
        return 0;
}

/* ---- Cgroups that are slow to go ---- */

#define CGROUP_REAP_INTERVAL_USEC (20 * USEC_PER_MSEC)
#define CGROUP_REAP_TIMEOUT_USEC (5 * USEC_PER_SEC)

static void cgroup_reap_drop(Manager *m, size_t i) {
        cgroup_free(m->cgroup_reaps[i].cgroup);
        m->cgroup_reaps[i] = m->cgroup_reaps[--m->n_cgroup_reaps];
}

static int on_cgroup_reap(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        for (size_t i = 0; i < m->n_cgroup_reaps;) {
                CgroupReap *c = &m->cgroup_reaps[i];
                int r = cgroup_try_destroy(c->cgroup);
                if (r == -EBUSY && usec < c->deadline) {
                        i++;
                        continue;
                }
                if (r < 0)
                        log_warning_errno(r, "Cannot remove the cgroup %s, leaving it: %m", cgroup_name(c->cgroup));
                cgroup_reap_drop(m, i);
        }
        if (m->n_cgroup_reaps > 0) {
                (void) sd_event_source_set_time_relative(s, CGROUP_REAP_INTERVAL_USEC);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        return 0;
}

void manager_reap_cgroup(Manager *m, Cgroup *c) {
        CgroupReap *l;
        int r;

        if (!c)
                return;
        r = cgroup_try_destroy(c);
        if (r != -EBUSY) {
                if (r < 0)
                        log_warning_errno(r, "Cannot remove the cgroup %s, leaving it: %m", cgroup_name(c));
                cgroup_free(c);
                return;
        }
        l = realloc(m->cgroup_reaps, (m->n_cgroup_reaps + 1) * sizeof(CgroupReap));
        if (!l) {
                cgroup_free(c);
                return;
        }
        m->cgroup_reaps = l;
        l[m->n_cgroup_reaps++] =
                (CgroupReap){ .cgroup = c, .deadline = now_usec(CLOCK_MONOTONIC) + CGROUP_REAP_TIMEOUT_USEC };
        if (!m->cgroup_reap_timer) {
                r = sd_event_add_time_relative(m->event, &m->cgroup_reap_timer, CLOCK_MONOTONIC,
                                               CGROUP_REAP_INTERVAL_USEC, USEC_PER_MSEC, on_cgroup_reap, m);
                if (r < 0)
                        return (void) log_warning_errno(r, "Cannot schedule the cgroup removal: %m");
                (void) sd_event_source_set_description(m->cgroup_reap_timer, "manager-cgroup-reap");
        } else {
                (void) sd_event_source_set_time_relative(m->cgroup_reap_timer, CGROUP_REAP_INTERVAL_USEC);
                (void) sd_event_source_set_enabled(m->cgroup_reap_timer, SD_EVENT_ONESHOT);
        }
}

void manager_cgroup_unreap(Manager *m, const char *name) {
        _cleanup_free_ char *escaped = NULL;

        if (cgroup_name_escape(name, &escaped) < 0)
                return;
        for (size_t i = 0; i < m->n_cgroup_reaps;)
                if (streq(cgroup_name(m->cgroup_reaps[i].cgroup), escaped))
                        cgroup_reap_drop(m, i);
                else
                        i++;
}

/* ---- Startup and the loop ---- */

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        switch (si->ssi_signo) {
        case SIGHUP:
                log_info("SIGHUP: reloading.");
                (void) sd_notify(false, "RELOADING=1\nSTATUS=Reloading");
                (void) manager_reload(m, NULL, NULL);
                (void) sd_notify(false, "READY=1\nSTATUS=Running");
                break;
        case SIGTERM:
        case SIGINT:
                if (m->config.live_restore) {
                        /* LiveRestore=yes: containers outlive us (adoption is the survival issue). */
                        log_info("Exiting, leaving containers running (LiveRestore=yes).");
                        (void) sd_event_exit(m->event, 0);
                } else
                        manager_begin_exit(m);
                break;
        }
        return 0;
}

static int manager_lock(Manager *m) {
        _cleanup_free_ char *p = NULL;
        int fd;

        if (asprintf(&p, "%s/supd.lock", m->run_dir) < 0)
                return -ENOMEM;
        fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", p);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno;
                safe_close(fd);
                if (r == EWOULDBLOCK)
                        return log_error_errno(EBUSY, "Another supd is already running with root '%s' (%s is locked).",
                                               isempty(m->root) ? "/" : m->root, p);
                return log_error_errno(r, "Failed to lock %s: %m", p);
        }
        m->lock_fd = fd;
        return 0;
}

int manager_startup(Manager *m) {
        const char *dirs[] = { m->run_dir, m->state_dir, m->log_dir };
        sigset_t mask;
        int r;

        /* Signals become event sources; block them before any source exists. Children are reaped
         * through their pidfds (io sources), never through SIGCHLD, which stays blocked and
         * unread: the children a container's setup forks inherit an unblocked mask from the
         * spawn code, not this one. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        /* A client that hangs up mid-write must not kill the daemon. */
        (void) signal(SIGPIPE, SIG_IGN);
        /* A few fds per container: from a shell's 1024, supd would run out near 125 of them. */
        r = rlimit_nofile_raise();
        if (r < 0)
                log_warning_errno(r, "Cannot raise the open file limit, ignoring: %m");

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = mkdir_p(dirs[i], 0755);
                if (r < 0)
                        return log_error_errno(r, "Failed to create %s: %m", dirs[i]);
        }
        r = manager_lock(m);
        if (r < 0)
                return r;

        for (int sig = SIGHUP; sig <= SIGTERM; sig++) {
                if (sig != SIGHUP && sig != SIGINT && sig != SIGTERM)
                        continue;
                r = sd_event_add_signal(m->event, NULL, sig, on_signal, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch signal %d: %m", sig);
        }
        (void) sd_event_set_watchdog(m->event, true);

        r = manager_image_startup(m);
        if (r < 0)
                return r;

        r = m->hooks.listen ? m->hooks.listen(m) : 0;
        if (r < 0)
                return r;

        r = manager_reload(m, NULL, NULL);
        if (r < 0)
                return r;

        {
                size_t running = 0;
                for (size_t i = 0; i < m->n_units; i++)
                        running += m->units[i]->state == UNIT_RUNNING;
                (void) sd_notifyf(false, "READY=1\nSTATUS=%zu units, %zu running", m->n_units, running);
                log_info("supd ready: %zu units, %zu running, listening on %s.", m->n_units, running, m->socket_path);
        }
        return 0;
}

int manager_run(Manager *m) {
        int r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        /* Everything stopped in order: leave no empty subtree behind (with LiveRestore=yes the
         * containers, and so the subtree, stay). */
        if (m->exiting && m->cgroup_root) {
                /* The loop is over: what the kernel still holds may be waited for now. */
                for (size_t i = 0; i < m->n_cgroup_reaps; i++)
                        (void) cgroup_destroy(m->cgroup_reaps[i].cgroup);
                r = cgroup_root_destroy(m->cgroup_root);
                if (r < 0 && r != -EBUSY)
                        log_warning_errno(r, "Cannot remove the cgroup subtree, ignoring: %m");
        }
        return 0;
}

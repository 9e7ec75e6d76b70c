/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "bus-internal.h"
#include "bus.h"
#include "image-worker.h"
#include "manager.h"

/* The control API: D-Bus peer to peer on a private socket, like systemd's /run/systemd/private.
 * Every method checks the caller's credentials (SO_PEERCRED): root, or a member of group "supd". */

static bool peer_in_group(pid_t pid, gid_t gid, gid_t want) {
        _cleanup_free_ char *status = NULL;
        char path[64];
        const char *p;

        if (gid == want)
                return true;
        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        if (read_file_at(AT_FDCWD, path, 1 << 16, &status, NULL) < 0)
                return false;
        p = strstr(status, "\nGroups:");
        if (!p)
                return false;
        p += 8;
        while (*p && *p != '\n') {
                char *end;
                unsigned long g = strtoul(p, &end, 10);
                if (end == p)
                        break;
                if ((gid_t) g == want)
                        return true;
                p = end;
        }
        return false;
}

/* Root, or a member of group "supd" (by its effective or supplementary groups). */
static bool peer_authorised(uid_t uid, gid_t gid, pid_t pid) {
        struct group *g;

        if (uid == 0)
                return true;
        g = getgrnam("supd");
        return g && pid > 0 && peer_in_group(pid, gid, g->gr_gid);
}

int bus_read_unit(sd_bus_message *msg, Manager *m, sd_bus_error *error, Unit **ret) {
        const char *name;
        Unit *u;
        int r;

        r = bus_check_access(msg, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        u = manager_get_unit(m, name);
        if (!u)
                return sd_bus_error_setf(error, "io.supd.Error.NoSuchUnit", "Unit %s not found.", name);
        *ret = u;
        return 0;
}

int bus_check_access(sd_bus_message *msg, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        gid_t gid = (gid_t) -1;
        pid_t pid = 0;
        int r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID | SD_BUS_CREDS_PID, &creds);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot determine caller credentials: %s", strerror(-r));
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot determine caller uid: %s", strerror(-r));
        (void) sd_bus_creds_get_egid(creds, &gid);
        (void) sd_bus_creds_get_pid(creds, &pid);
        if (peer_authorised(uid, gid, pid))
                return 0;
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "Permission denied: only root or members of group 'supd' may use supd.");
}

static int method_hello(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        /* busctl always behaves as a bus client and says Hello first; answer like a bus would. */
        return sd_bus_reply_method_return(msg, "s", ":1.1");
}

static int method_ping(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        CHECK_ACCESS(msg, error);
        return sd_bus_reply_method_return(msg, "s", PACKAGE_VERSION);
}

static char *unit_ports(const Unit *u) {
        const UnitSettings *s = unit_settings(u);
        return s ? strv_join(s->publish_port, ",") : strdup("");
}

static int method_list_units(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int all, r;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "b", &all);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sssssss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                const UnitSettings *s = unit_settings(u);
                _cleanup_free_ char *ports = unit_ports(u);

                if (!all && u->state == UNIT_INACTIVE && !u->bad && u->file)
                        continue;
                r = sd_bus_message_append(reply, "(sssssss)", u->name, unit_load_state(u),
                                          unit_active_state_to_string(u->state), unit_sub_state(u),
                                          s ? (s->image ?: strempty(s->rootfs)) : "", strempty(ports),
                                          s ? strempty(s->description) : "");
                if (r < 0)
                        return r;
        }
        /* Files that could not even be named are units too, as far as the admin is concerned. */
        for (size_t i = 0; i < m->n_bad_names; i++) {
                const char *base = strrchr(m->bad_names[i].path, '/');
                r = sd_bus_message_append(reply, "(sssssss)", base ? base + 1 : m->bad_names[i].path, "error",
                                          "inactive", "dead", "", "", m->bad_names[i].message);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int append_kv_s(sd_bus_message *r, const char *k, const char *v) {
        return sd_bus_message_append(r, "{sv}", k, "s", strempty(v));
}
static int append_kv_u(sd_bus_message *r, const char *k, uint32_t v) {
        return sd_bus_message_append(r, "{sv}", k, "u", v);
}
static int append_kv_i(sd_bus_message *r, const char *k, int32_t v) {
        return sd_bus_message_append(r, "{sv}", k, "i", v);
}
static int append_kv_t(sd_bus_message *r, const char *k, uint64_t v) {
        return sd_bus_message_append(r, "{sv}", k, "t", v);
}
static int append_kv_b(sd_bus_message *r, const char *k, bool v) {
        return sd_bus_message_append(r, "{sv}", k, "b", (int) v);
}
static int append_kv_as(sd_bus_message *r, const char *k, char **l) {
        int q;
        if ((q = sd_bus_message_open_container(r, 'e', "sv")) < 0 || (q = sd_bus_message_append(r, "s", k)) < 0 ||
            (q = sd_bus_message_open_container(r, 'v', "as")) < 0 || (q = sd_bus_message_append_strv(r, l)) < 0 ||
            (q = sd_bus_message_close_container(r)) < 0)
                return q;
        return sd_bus_message_close_container(r);
}

static char **diagnostics_strv(const UnitDiagnostic *d, size_t n, bool warnings) {
        char **l = NULL;
        for (size_t i = 0; i < n; i++) {
                if (strv_consume(&l, warnings ? unit_warning_format(&d[i]) : unit_diagnostic_format(&d[i])) < 0)
                        return strv_free(l);
        }
        return l;
}

static int append_unit_properties(sd_bus_message *reply, Manager *m, Unit *u) {
        const UnitSettings *s = unit_settings(u);
        const UnitFile *f = u->file ?: u->bad;
        _cleanup_strv_free_ char **errors = NULL, **warnings = NULL;
        _cleanup_free_ char *log_path = NULL;
        CgroupStats stats = {};
        char hash[32];
        int r;

        if (u->bad) {
                errors = diagnostics_strv(u->bad->errors, u->bad->n_errors, false);
                warnings = diagnostics_strv(u->bad->warnings, u->bad->n_warnings, true);
        } else if (u->file)
                warnings = diagnostics_strv(u->file->warnings, u->file->n_warnings, true);
        if (asprintf(&log_path, "%s/%s.log", m->log_dir, u->name) < 0)
                return -ENOMEM;
        snprintf(hash, sizeof(hash), "%016llx", (unsigned long long) (s ? unit_settings_hash(s) : 0));
        /* Live accounting while it runs, the last run's afterwards. */
        if (!unit_cgroup(u) || cgroup_stats(unit_cgroup(u), &stats) < 0)
                stats = u->last_stats;

        if ((r = sd_bus_message_open_container(reply, 'a', "{sv}")) < 0 ||
            (r = append_kv_s(reply, "Name", u->name)) < 0 ||
            (r = append_kv_s(reply, "Description", s ? s->description : NULL)) < 0 ||
            (r = append_kv_s(reply, "LoadState", unit_load_state(u))) < 0 ||
            (r = append_kv_s(reply, "ActiveState", unit_active_state_to_string(u->state))) < 0 ||
            (r = append_kv_s(reply, "SubState", unit_sub_state(u))) < 0 ||
            (r = append_kv_s(reply, "State", unit_state_to_string(u->state))) < 0 ||
            (r = append_kv_s(reply, "Result", unit_result_to_string(u->result))) < 0 ||
            (r = append_kv_s(reply, "FragmentPath", f ? f->path : NULL)) < 0 ||
            (r = append_kv_as(reply, "DropInPaths", f ? f->dropin_paths : NULL)) < 0 ||
            (r = append_kv_b(reply, "Autostart", s && unit_settings_autostart(s))) < 0 ||
            (r = append_kv_s(reply, "Replica", u->replica)) < 0 ||
            (r = append_kv_u(reply, "MainPID", (uint32_t) unit_main_pid(u))) < 0 ||
            (r = append_kv_s(reply, "RunID", u->instance ? u->instance->id : NULL)) < 0 ||
            (r = append_kv_u(reply, "NRestarts", u->n_restarts)) < 0 ||
            (r = append_kv_t(reply, "StateChangeTimestamp", u->state_change_realtime)) < 0 ||
            (r = append_kv_t(reply, "ActiveEnterTimestamp", u->active_enter_realtime)) < 0 ||
            (r = append_kv_t(reply, "InactiveEnterTimestamp", u->inactive_enter_realtime)) < 0 ||
            (r = append_kv_s(reply, "ExitCode",
                             !u->have_exit                ? ""
                             : u->exit_code == CLD_EXITED ? "exited"
                             : u->exit_code == CLD_DUMPED ? "dumped"
                                                          : "killed")) < 0 ||
            (r = append_kv_i(reply, "ExitStatus", u->have_exit ? u->exit_status : 0)) < 0 ||
            (r = append_kv_s(reply, "LastError", u->last_error)) < 0 ||
            (r = append_kv_as(reply, "LoadErrors", errors)) < 0 ||
            (r = append_kv_as(reply, "LoadWarnings", warnings)) < 0 ||
            (r = append_kv_s(reply, "ConfigHash", hash)) < 0 ||
            (r = append_kv_t(reply, "MemoryCurrent", stats.memory_current)) < 0 ||
            (r = append_kv_t(reply, "TasksCurrent", stats.tasks)) < 0 ||
            (r = append_kv_t(reply, "CPUUsageUSec", stats.cpu_usage)) < 0 ||
            (r = append_kv_t(reply, "OOMKills", stats.oom_kills)) < 0 ||
            (r = append_kv_s(reply, "ControlGroup", unit_cgroup(u) ? cgroup_path(unit_cgroup(u), "unified") : NULL)) <
                    0 ||
            (r = append_kv_s(reply, "LogPath", log_path)) < 0)
                return r;
        if (s) {
                if ((r = append_kv_s(reply, "Image", s->image)) < 0 ||
                    (r = append_kv_s(reply, "Rootfs", s->rootfs)) < 0 ||
                    (r = append_kv_as(reply, "Entrypoint", s->entrypoint)) < 0 ||
                    (r = append_kv_as(reply, "Exec", s->exec)) < 0 ||
                    (r = append_kv_as(reply, "PublishPort", s->publish_port)) < 0 ||
                    (r = append_kv_s(reply, "HostName", s->hostname ?: u->name)) < 0 ||
                    (r = append_kv_s(reply, "Restart", restart_policy_to_string(s->restart))) < 0 ||
                    (r = append_kv_t(reply, "RestartUSec", s->restart_sec)) < 0 ||
                    (r = append_kv_t(reply, "StopTimeoutUSec", unit_settings_stop_timeout(s))) < 0 ||
                    (r = append_kv_i(reply, "StopSignal", s->stop_signal)) < 0 ||
                    (r = append_kv_t(reply, "MemoryMax", unit_settings_memory_max(s))) < 0 ||
                    (r = append_kv_t(reply, "TasksMax", unit_settings_tasks_max(s))) < 0 ||
                    (r = append_kv_as(reply, "Requires", s->requires)) < 0 ||
                    (r = append_kv_as(reply, "Wants", s->wants)) < 0 ||
                    (r = append_kv_as(reply, "BindsTo", s->binds_to)) < 0 ||
                    (r = append_kv_as(reply, "After", s->after)) < 0 ||
                    (r = append_kv_as(reply, "Before", s->before)) < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int method_get_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Unit *u;
        int r;

        r = bus_read_unit(msg, m, error, &u);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = append_unit_properties(reply, m, u);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Units are named by the client as "web", "web.container", "web@2", or a template instance
 * "tmpl@inst" that is loaded on first use. */
static int resolve_units(Manager *m, const char *arg, Unit ***ret, sd_bus_error *error) {
        size_t n = manager_match_units(m, arg, ret);
        _cleanup_(unit_file_freep) UnitFile *f = NULL;
        _cleanup_free_ char *name = NULL;
        const char *at;
        Unit *u;
        int r;

        if (n > 0)
                return (int) n;
        free(*ret);
        *ret = NULL;
        /* A new instance is named without the suffix, so that stop and status find it. */
        name = unit_name_normalize(arg);
        if (!name)
                return -ENOMEM;
        at = strchr(name, '@');
        if (!at || !at[1] || !unit_name_is_valid(name))
                return sd_bus_error_setf(error, "io.supd.Error.NoSuchUnit", "Unit %s not found.", name);

        r = unit_file_load(&m->ctx, name, NULL, &f);
        if (r < 0)
                return sd_bus_error_setf(error, "io.supd.Error.NoSuchUnit", "Unit %s not found.", name);
        if (f->n_errors > 0) {
                _cleanup_free_ char *e = unit_diagnostic_format(&f->errors[0]);
                return sd_bus_error_setf(error, "io.supd.Error.LoadFailed", "%s", strna(e));
        }
        u = unit_new(m, name, name, NULL);
        if (!u)
                return -ENOMEM;
        u->file = TAKE_PTR(f);
        u->manual_instance = true;
        r = manager_add_unit(m, u);
        if (r < 0) {
                unit_free(u);
                return r;
        }
        *ret = new0(Unit *, 1);
        if (!*ret)
                return -ENOMEM;
        (*ret)[0] = u;
        return 1;
}

static int wait_for_units(sd_bus_message *msg, Unit **units, int n, bool want_running);

/* The common start of StartUnit and RestartUnit: access, the name, the units it means. */
static int read_units(sd_bus_message *msg, Manager *m, Unit ***ret, sd_bus_error *error) {
        const char *name;
        int r;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        return resolve_units(m, name, ret, error);
}

static int method_start(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ Unit **units = NULL;
        int n, r;

        n = read_units(msg, m, &units, error);
        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *err = NULL;
                if (!units[i]->file)
                        return sd_bus_error_setf(
                                error, "io.supd.Error.LoadFailed", "Unit %s failed to load: %s", units[i]->name,
                                units[i]->bad && units[i]->bad->n_errors > 0 ? units[i]->bad->errors[0].message
                                                                             : "unknown error");
                r = manager_start_unit(m, units[i], true, &err);
                if (r < 0)
                        return sd_bus_error_setf(error, "io.supd.Error.StartFailed", "Failed to start %s: %s",
                                                 units[i]->name, err ?: strerror(-r));
        }
        /* Like systemctl start: the answer comes once the unit runs (an image pull may be under way),
         * and is an error if it stops, fails or goes away first. */
        return wait_for_units(msg, units, n, true);
}

/* Replies once every unit in the list has settled; with want_running, a unit that settles
 * anywhere but running makes it an error. */
static int wait_for_units(sd_bus_message *msg, Unit **units, int n, bool want_running) {
        Job *job = job_new(msg);
        if (!job)
                return -ENOMEM;
        job->want_running = want_running;
        for (int i = 0; i < n; i++)
                if (unit_is_busy(units[i])) {
                        int r = unit_add_waiter(units[i], job);
                        if (r < 0)
                                return r;
                }
        job_unref(job);
        return 1;
}

static int method_stop(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ Unit **units = NULL;
        const char *name;
        int n, r;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        n = manager_match_units(m, name, &units);
        if (n == 0)
                return sd_bus_error_setf(error, "io.supd.Error.NoSuchUnit", "Unit %s not found.", name);
        for (int i = 0; i < n; i++)
                (void) manager_stop_unit(m, units[i]);
        return wait_for_units(msg, units, n, false);
}

static int method_restart(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ Unit **units = NULL;
        int n, r;

        n = read_units(msg, m, &units, error);
        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                Unit *u = units[i];
                if (!u->file)
                        return sd_bus_error_setf(error, "io.supd.Error.LoadFailed", "Unit %s failed to load.",
                                                 u->name);
                if (unit_is_active(u) && u->state != UNIT_AUTO_RESTART) {
                        u->start_after_stop = true;
                        (void) manager_stop_unit(m, u);
                } else {
                        _cleanup_free_ char *err = NULL;
                        (void) unit_stop(u);
                        r = manager_start_unit(m, u, true, &err);
                        if (r < 0)
                                return sd_bus_error_setf(error, "io.supd.Error.StartFailed", "Failed to start %s: %s",
                                                         u->name, err ?: strerror(-r));
                }
        }
        return wait_for_units(msg, units, n, true);
}

static int method_kill(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ Unit **units = NULL;
        const char *name;
        int32_t sig;
        int n, r, sent = 0;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "si", &name, &sig);
        if (r < 0)
                return r;
        if (sig <= 0 || sig >= _NSIG)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid signal %d.", sig);
        n = manager_match_units(m, name, &units);
        if (n == 0)
                return sd_bus_error_setf(error, "io.supd.Error.NoSuchUnit", "Unit %s not found.", name);
        for (int i = 0; i < n; i++)
                if (unit_kill(units[i], sig) >= 0)
                        sent++;
        if (sent == 0)
                return sd_bus_error_setf(error, "io.supd.Error.NotRunning", "Unit %s has no running process.", name);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_reset_failed(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read_strv(msg, &names);
        if (r < 0)
                return r;
        if (strv_length(names) == 0)
                for (size_t i = 0; i < m->n_units; i++)
                        unit_reset_failed(m->units[i]);
        STRV_FOREACH (name, names) {
                _cleanup_free_ Unit **units = NULL;
                size_t n = manager_match_units(m, *name, &units);
                if (n == 0)
                        return sd_bus_error_setf(error, "io.supd.Error.NoSuchUnit", "Unit %s not found.", *name);
                for (size_t i = 0; i < n; i++)
                        unit_reset_failed(units[i]);
        }
        return sd_bus_reply_method_return(msg, NULL);
}

typedef struct ReloadReply {
        Manager *manager;
        ReloadAction *actions;
        size_t n_actions;
} ReloadReply;

static void reload_reply_free(void *userdata) {
        ReloadReply *rr = userdata;
        reload_actions_free(rr->actions, rr->n_actions);
        free(rr);
}

/* The reply of a reload, once its starts and stops are done: a start that failed meanwhile says
 * so, with why. */
static int reload_build_reply(Job *j, sd_bus_message **ret) {
        ReloadReply *rr = j->userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(j->call, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sss)");
        for (size_t i = 0; r >= 0 && i < rr->n_actions; i++) {
                const ReloadAction *a = &rr->actions[i];
                Unit *u = manager_get_unit(rr->manager, a->unit);
                bool failed = u && (streq(a->action, "started") || streq(a->action, "replaced")) &&
                              (u->state == UNIT_FAILED || u->state == UNIT_AUTO_RESTART);

                r = sd_bus_message_append(reply, "(sss)", failed ? "failed" : a->action, a->unit,
                                          failed ? strempty(u->last_error) : strempty(a->detail));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(reply);
        return 0;
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ReloadReply *rr;
        ReloadAction *a = NULL;
        size_t n = 0;
        Job *job;
        int r;

        CHECK_ACCESS(msg, error);
        (void) sd_notify(false, "RELOADING=1\nSTATUS=Reloading");
        r = manager_reload(m, &a, &n);
        (void) sd_notify(false, "READY=1\nSTATUS=Running");
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Reload failed: %s", strerror(-r));

        /* "reload blocks until done": the reply goes out once started and replaced units are up
         * (or failed), and removed ones are down. The loop runs on meanwhile. */
        rr = new0(ReloadReply, 1);
        job = rr ? job_new(msg) : NULL;
        if (!job) {
                free(rr);
                reload_actions_free(a, n);
                return -ENOMEM;
        }
        *rr = (ReloadReply){ .manager = m, .actions = a, .n_actions = n };
        job->build_reply = reload_build_reply;
        job->userdata = rr;
        job->free_userdata = reload_reply_free;
        for (size_t i = 0; i < n; i++) {
                Unit *u = manager_get_unit(m, a[i].unit);
                if (u && unit_is_busy(u))
                        (void) unit_add_waiter(u, job);
        }
        job_unref(job);
        return 1;
}

/* supctl daemon-reexec: answer, then leave the loop as LiveRestore=yes does (containers keep
 * running); main() closes everything and execs the binary again, which adopts them. An image
 * worker would be orphaned by the exec (its PR_SET_PDEATHSIG does not fire), so wait for it. */
static int method_reexecute(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        CHECK_ACCESS(msg, error);
        if (m->exiting || m->reexecute)
                return sd_bus_error_setf(error, "io.supd.Error.ShuttingDown", "supd is already shutting down.");
        if (image_worker_busy())
                return sd_bus_error_setf(error, "io.supd.Error.Busy",
                                         "An image import, pull, removal or prune is running; "
                                         "re-execute once it is done.");
        r = sd_bus_reply_method_return(msg, NULL);
        if (r < 0)
                return r;
        log_info("Re-executing, leaving containers running.");
        (void) sd_notify(false, "RELOADING=1\nSTATUS=Re-executing");
        m->reexecute = true;
        return sd_event_exit(m->event, 0);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("Ping", "", , "s", SD_BUS_PARAM(version), method_ping, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListUnits", "b", SD_BUS_PARAM(all), "a(sssssss)", SD_BUS_PARAM(units),
                                 method_list_units, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetUnit", "s", SD_BUS_PARAM(name), "a{sv}", SD_BUS_PARAM(properties),
                                 method_get_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("StartUnit", "s", SD_BUS_PARAM(name), "", , method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("StopUnit", "s", SD_BUS_PARAM(name), "", , method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RestartUnit", "s", SD_BUS_PARAM(name), "", , method_restart,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("KillUnit", "si", SD_BUS_PARAM(name) SD_BUS_PARAM(signal), "", , method_kill,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ResetFailed", "as", SD_BUS_PARAM(names), "", , method_reset_failed,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Reload", "", , "a(sss)", SD_BUS_PARAM(actions), method_reload,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reexecute", "", "", method_reexecute, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES(
                "UnitStateChanged", "ssss",
                SD_BUS_PARAM(name) SD_BUS_PARAM(active_state) SD_BUS_PARAM(sub_state) SD_BUS_PARAM(result), 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable hello_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Hello", "", "s", method_hello, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* One control connection. Until its first message it is "pending": it has a deadline
 * (SUPD_AUTH_TIMEOUT_USEC) and counts against its user's pending budget, so that clients that
 * connect and say nothing cannot use up the connection table. */
typedef struct BusConnection {
        Manager *manager;
        sd_bus *bus;
        uid_t uid;
        bool authorised;  /* root or group supd, by SO_PEERCRED */
        bool established; /* sent its first call (an unauthorised peer never is) */
        usec_t accepted;
        sd_event_source *timer;
} BusConnection;

/* sd_bus_flush() waits for a handshake to complete and for a peer to read: never on a
 * connection we drop for not talking (flush is for shutdown, where replies are owed). */
static void connection_free(BusConnection *c, bool flush) {
        Manager *m = c->manager;

        for (size_t i = 0; i < m->n_connections; i++)
                if (m->connections[i] == c) {
                        m->connections[i] = m->connections[--m->n_connections];
                        break;
                }
        c->timer = sd_event_source_disable_unref(c->timer);
        if (flush && sd_bus_is_ready(c->bus) > 0)
                (void) sd_bus_flush(c->bus);
        sd_bus_close_unref(c->bus);
        free(c);
}

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        connection_free(userdata, false);
        return 0;
}

static int on_connection_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        BusConnection *c = userdata;

        if (!c->established)
                log_debug("Dropping a control connection of UID %u: %s.", (unsigned) c->uid,
                          c->authorised ? "no request within the handshake timeout" : "not authorised");
        connection_free(c, false);
        return 0;
}

/* Runs before every incoming message is dispatched. */
static int on_message(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        BusConnection *c = userdata;

        if (c->established || !sd_bus_message_is_method_call(msg, NULL, NULL))
                return 0;
        if (c->authorised) {
                c->established = true;
                c->timer = sd_event_source_disable_unref(c->timer);
                return 0;
        }
        /* An unauthorised peer gets its AccessDenied answer (from the method), then is dropped
         * on the next turn of the loop; Hello() is answered so that busctl gets that far. */
        if (!sd_bus_message_is_method_call(msg, "org.freedesktop.DBus", "Hello") &&
            sd_event_source_set_time_relative(c->timer, 0) >= 0)
                (void) sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
        return 0;
}

/* The oldest connection still in its handshake, of uid (or of anyone, for UID_INVALID). */
static BusConnection *oldest_pending(Manager *m, uid_t uid) {
        BusConnection *best = NULL;

        for (size_t i = 0; i < m->n_connections; i++) {
                BusConnection *c = m->connections[i];
                if (!c->established && (uid == (uid_t) -1 || c->uid == uid) && (!best || c->accepted < best->accepted))
                        best = c;
        }
        return best;
}

static void log_refused(uid_t uid, const char *why) {
        static usec_t last = 0;
        usec_t now = now_usec(CLOCK_MONOTONIC);

        /* A flood must not flood the log too. */
        if (last != 0 && now - last < 10 * USEC_PER_SEC)
                return;
        last = now;
        log_warning("Refusing control connections of UID %u: %s.", (unsigned) uid, why);
}

/* Makes room for a new connection of uid, or says why there is none. The limits keep one user
 * from locking out the others, and anyone from locking out root: silent clients are dropped
 * oldest first, and the last SUPD_CONNECTIONS_RESERVED_ROOT slots are root's. */
static bool connection_admit(Manager *m, uid_t uid) {
        size_t pending = 0, total = 0;
        BusConnection *victim = NULL;

        for (size_t i = 0; i < m->n_connections; i++)
                if (m->connections[i]->uid == uid) {
                        total++;
                        pending += !m->connections[i]->established;
                }
        if (pending >= SUPD_MAX_PENDING_PER_USER) {
                victim = oldest_pending(m, uid);
                total--;
        } else if (uid != 0 && total >= SUPD_MAX_CONNECTIONS_PER_USER) {
                log_refused(uid, "too many connections of this user");
                return false;
        } else if (m->n_connections >= SUPD_MAX_CONNECTIONS - (uid == 0 ? 0 : SUPD_CONNECTIONS_RESERVED_ROOT)) {
                victim = uid == 0 ? oldest_pending(m, (uid_t) -1) : NULL;
                if (!victim) {
                        log_refused(uid, "too many connections");
                        return false;
                }
        }
        if (victim) {
                log_debug("Dropping a control connection of UID %u that has not sent a request, to make room.",
                          (unsigned) victim->uid);
                connection_free(victim, false);
        }
        return true;
}

static int on_listen_resume(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        (void) sd_event_source_set_enabled(m->listen_source, SD_EVENT_ON);
        return 0;
}

/* Out of file descriptors: a level-triggered listener would spin; make room or pause a moment. */
static void connection_out_of_fds(Manager *m, int error) {
        BusConnection *victim = oldest_pending(m, (uid_t) -1);

        if (victim) {
                connection_free(victim, false);
                return;
        }
        log_warning_errno(error, "Failed to accept a control connection, pausing for a second: %m");
        if (sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC, USEC_PER_SEC, 0, on_listen_resume, m) >= 0)
                (void) sd_event_source_set_enabled(m->listen_source, SD_EVENT_OFF);
}

/* Takes fd, also on failure. */
static int connection_new(Manager *m, int fd, const struct ucred *ucred) {
        _cleanup_close_ int owned_fd = fd;
        _cleanup_free_ BusConnection *c = NULL;
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        BusConnection **l;
        sd_id128_t id;
        int r;

        c = new0(BusConnection, 1);
        if (!c)
                return -ENOMEM;
        if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_fd(bus, fd, fd)) < 0)
                return r;
        TAKE_FD(owned_fd);
        (void) sd_id128_randomize(&id);
        if ((r = sd_bus_set_server(bus, 1, id)) < 0 || (r = sd_bus_negotiate_fds(bus, true)) < 0 ||
            (r = sd_bus_set_sender(bus, "io.supd")) < 0 ||
            (r = sd_bus_add_object_vtable(bus, NULL, SUPD_BUS_PATH, SUPD_BUS_INTERFACE, manager_vtable, m)) < 0 ||
            (r = bus_image_register(bus, m)) < 0 || (r = bus_exec_register(bus, m)) < 0 ||
            (r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus", hello_vtable,
                                          m)) < 0 ||
            (r = sd_bus_add_filter(bus, NULL, on_message, c)) < 0 ||
            (r = sd_bus_add_match(bus, NULL,
                                  "type='signal',path='/org/freedesktop/DBus/Local',"
                                  "interface='org.freedesktop.DBus.Local',member='Disconnected'",
                                  on_disconnected, c)) < 0 ||
            (r = sd_bus_start(bus)) < 0 || (r = sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL)) < 0)
                return r;
        r = sd_event_add_time_relative(m->event, &c->timer, CLOCK_MONOTONIC, SUPD_AUTH_TIMEOUT_USEC, USEC_PER_MSEC,
                                       on_connection_timer, c);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(c->timer, "control-handshake");

        l = realloc(m->connections, (m->n_connections + 1) * sizeof(*l));
        if (!l) {
                c->timer = sd_event_source_disable_unref(c->timer);
                return -ENOMEM;
        }
        m->connections = l;
        c->manager = m;
        c->uid = ucred->uid;
        c->authorised = peer_authorised(ucred->uid, ucred->gid, ucred->pid);
        c->accepted = now_usec(CLOCK_MONOTONIC);
        c->bus = TAKE_PTR(bus);
        l[m->n_connections++] = TAKE_PTR(c);
        return 0;
}

static int on_connection(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;

        /* Drain a burst, but give the rest of the loop a turn now and then. */
        for (unsigned n = 0; n < 64; n++) {
                _cleanup_close_ int nfd = -EBADF;
                struct ucred ucred = {};
                socklen_t len = sizeof(ucred);
                int r;

                nfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (nfd < 0) {
                        if (errno == EMFILE || errno == ENFILE)
                                connection_out_of_fds(m, errno);
                        else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(errno, "Failed to accept a control connection: %m");
                        return 0;
                }
                if (getsockopt(nfd, SOL_SOCKET, SO_PEERCRED, &ucred, &len) < 0) {
                        log_warning_errno(errno, "Failed to read the credentials of a control connection: %m");
                        continue;
                }
                if (!connection_admit(m, ucred.uid))
                        continue;
                r = connection_new(m, TAKE_FD(nfd), &ucred);
                if (r < 0)
                        log_warning_errno(r, "Failed to set up a control connection: %m");
        }
        return 0;
}

/* Binds the control socket ourselves (started by hand, not by units/supd.socket). */
static int bind_control_socket(Manager *m, int *ret_fd) {
        union {
                struct sockaddr sa;
                struct sockaddr_un un;
        } sa = { .un.sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        struct group *g;

        if (strlen(m->socket_path) >= sizeof(sa.un.sun_path))
                return log_error_errno(ENAMETOOLONG, "Socket path %s is too long.", m->socket_path);
        strcpy(sa.un.sun_path, m->socket_path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create control socket: %m");
        /* We hold the root's lock, so a socket file left here is a stale one from a crash. */
        (void) unlink(m->socket_path);
        if (bind(fd, &sa.sa, sizeof(sa)) < 0)
                return log_error_errno(errno, "Failed to bind %s: %m", m->socket_path);
        m->listen_bound = true;
        g = getgrnam("supd");
        if (g && chown(m->socket_path, 0, g->gr_gid) < 0)
                log_warning_errno(errno, "Failed to give %s to group supd, ignoring: %m", m->socket_path);
        if (chmod(m->socket_path, g ? 0660 : 0600) < 0)
                return log_error_errno(errno, "Failed to set the mode of %s: %m", m->socket_path);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "Failed to listen on %s: %m", m->socket_path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int bus_listen(Manager *m) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        /* Socket activation (units/supd.socket): systemd hands us the listening socket. */
        r = sd_listen_fds(true);
        if (r < 0)
                return log_error_errno(r, "Failed to get sockets from systemd: %m");
        if (r > 1)
                return log_error_errno(EINVAL, "Expected at most one socket from systemd, got %d.", r);
        if (r == 1) {
                fd = SD_LISTEN_FDS_START;
                if (sd_is_socket_unix(fd, SOCK_STREAM, 1, m->socket_path, 0) <= 0)
                        return log_error_errno(EINVAL, "The socket passed by systemd is not %s.", m->socket_path);
                if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
                        return log_error_errno(errno, "Failed to set up the passed socket: %m");
        } else {
                r = bind_control_socket(m, &fd);
                if (r < 0)
                        return r;
        }

        r = sd_event_add_io(m->event, &m->listen_source, fd, EPOLLIN, on_connection, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the control socket: %m");
        (void) sd_event_source_set_description(m->listen_source, "control-socket");
        m->listen_fd = TAKE_FD(fd);
        return 0;
}

static void bus_close(Manager *m) {
        /* Calls still waiting for a unit get their answer while it can still be sent. */
        for (size_t i = 0; i < m->n_units; i++)
                unit_cancel_waiters(m->units[i], "supd is shutting down");
        while (m->n_connections > 0)
                connection_free(m->connections[m->n_connections - 1], true);
        free(m->connections);
        m->connections = NULL;
        m->n_connections = 0;
        m->listen_source = sd_event_source_disable_unref(m->listen_source);
        /* A socket file we bound goes with us (we hold the root's lock, so it is ours): a client
         * then reads "no such file", not "connection refused". One systemd passed stays its
         * (units/supd.socket starts us again); on re-exec main() took the fd to pass it on. */
        if (m->listen_fd >= 0 && m->listen_bound && unlink(m->socket_path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove %s, ignoring: %m", m->socket_path);
        m->listen_fd = safe_close(m->listen_fd);
}

/* Every authorised client that has made a call hears of every change (supctl events). One that
 * stops reading only misses changes once sd-bus's queue for it is full (-ENOBUFS): supd goes on. */
static void bus_unit_state_changed(Manager *m, Unit *u) {
        for (size_t i = 0; i < m->n_connections; i++) {
                BusConnection *c = m->connections[i];
                int r;

                if (!c->established || !c->authorised)
                        continue;
                r = sd_bus_emit_signal(c->bus, SUPD_BUS_PATH, SUPD_BUS_INTERFACE, "UnitStateChanged", "ssss", u->name,
                                       unit_active_state_to_string(u->state), unit_sub_state(u),
                                       unit_result_to_string(u->result));
                if (r < 0)
                        log_debug_errno(r, "Failed to send UnitStateChanged for %s, ignoring: %m", u->name);
        }
}

int bus_attach(Manager *m) {
        m->hooks = (ManagerHooks){
                .listen = bus_listen,
                .close = bus_close,
                .done = bus_exec_done,
                .unit_settled = bus_exec_unit_settled,
                .unit_spawned = bus_exec_unit_spawned,
                .unit_state_changed = bus_unit_state_changed,
        };
        return 0;
}

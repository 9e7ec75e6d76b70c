/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-id128.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/process-util.h"
#include "basic/strv.h"
#include "bus-internal.h"
#include "container.h"
#include "manager.h"
#include "runtime/exec.h"

/* The bound on an exec's setup (joining the container, the exec of the command), as a timer. */
#define EXEC_SETUP_TIMEOUT_USEC (30 * USEC_PER_SEC)

/* One supctl exec: its setup (the Exec/ExecTTY call is answered once the command runs or could
 * not), then the helper process and the Wait call that wants its status. */
typedef struct ExecSession {
        Manager *manager;
        uint32_t id;
        char *unit;
        bool tty;
        /* The setup: a handshake driven from the loop, never waited for. */
        SpawnHandle *spawn;
        sd_event_source *spawn_source;
        sd_event_source *spawn_timer;
        sd_bus_message *call;
        /* Then the helper: its exit status is the command's. */
        pid_t pid;
        int pidfd;
        sd_event_source *source; /* io on the pidfd: readable once the helper exited */
        bool exited;
        bool orphan; /* its call got an error, so nobody will Wait: removed once reaped */
        int status;
        sd_bus_message *waiter;
} ExecSession;

/* A WaitUnit call: answered when the unit is down. */
typedef struct UnitWait {
        char *unit;
        sd_bus_message *call;
} UnitWait;

typedef struct ExecState {
        ExecSession **sessions;
        size_t n_sessions;
        uint32_t next_id;
        UnitWait *waits;
        size_t n_waits;
} ExecState;

/* The manager owns one ExecState; kept here so manager.h need not know the details. */
static ExecState *state_of(Manager *m) {
        if (!m->exec_state)
                m->exec_state = new0(ExecState, 1);
        return m->exec_state;
}

static void session_free(ExecSession *s) {
        if (!s)
                return;
        s->spawn_source = sd_event_source_disable_unref(s->spawn_source);
        s->spawn_timer = sd_event_source_disable_unref(s->spawn_timer);
        /* Only at exit, or when no source could be made: a half-set-up helper is killed and
         * reaped by the handle (SIGKILLed, so that is brief). */
        s->spawn = spawn_handle_free(s->spawn);
        if (s->call)
                (void) sd_bus_reply_method_errorf(s->call, "io.supd.Error.ExecFailed",
                                                  "Cannot start the command in %s: supd is stopping.", s->unit);
        s->call = sd_bus_message_unref(s->call);
        s->source = sd_event_source_disable_unref(s->source);
        /* A command that runs is left running, as a container is: only its session ends. */
        safe_close(s->pidfd);
        sd_bus_message_unref(s->waiter);
        free(s->unit);
        free(s);
}

static void session_remove(Manager *m, ExecSession *s) {
        ExecState *st = state_of(m);
        for (size_t i = 0; st && i < st->n_sessions; i++)
                if (st->sessions[i] == s) {
                        st->sessions[i] = st->sessions[--st->n_sessions];
                        break;
                }
        session_free(s);
}

void bus_exec_done(Manager *m) {
        ExecState *st = m->exec_state;
        if (!st)
                return;
        for (size_t i = 0; i < st->n_sessions; i++)
                session_free(st->sessions[i]);
        for (size_t i = 0; i < st->n_waits; i++) {
                free(st->waits[i].unit);
                sd_bus_message_unref(st->waits[i].call);
        }
        free(st->sessions);
        free(st->waits);
        m->exec_state = mfree(st);
}

static int on_session_exit(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        ExecSession *s = userdata;
        siginfo_t si = {};
        int r;

        r = pidfd_reap(s->pidfd, &si);
        if (r == 0)
                return 0; /* not yet: a spurious wake-up */
        if (r < 0) {
                /* Our own fork, so this does not happen; end the session rather than spin. */
                log_warning_errno(r, "%s: cannot reap exec session %u: %m", s->unit, s->id);
                si = (siginfo_t){ .si_code = CLD_KILLED, .si_status = SIGKILL };
        }
        s->exited = true;
        s->status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        s->source = sd_event_source_disable_unref(s->source);
        s->pidfd = safe_close(s->pidfd);
        if (s->orphan)
                session_remove(s->manager, s);
        else if (s->waiter) {
                (void) sd_bus_reply_method_return(s->waiter, "i", (int32_t) s->status);
                session_remove(s->manager, s);
        }
        return 0;
}

/* The setup ended: answer the Exec/ExecTTY call, and watch the helper until it exits (also after
 * a failure: it exits 125-127 by itself). unit_stopped: the setup was cut short as the unit went
 * down. */
static void session_setup_done(ExecSession *s, bool unit_stopped) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = TAKE_PTR(s->call);
        _cleanup_(child_guard_done) ChildGuard helper = CHILD_GUARD_NULL;
        _cleanup_close_ int master = -EBADF;
        _cleanup_free_ char *err = NULL;
        const char *e;
        int exec_errno = 0, r;

        s->spawn_source = sd_event_source_disable_unref(s->spawn_source);
        s->spawn_timer = sd_event_source_disable_unref(s->spawn_timer);
        e = spawn_handle_error(s->spawn, &exec_errno);
        if (e && !(err = strdup(e)))
                exec_errno = -ENOMEM;
        r = spawn_handle_take(s->spawn, &helper.pid, &helper.pidfd, s->tty ? &master : NULL);
        s->spawn = spawn_handle_free(s->spawn);
        if (r >= 0)
                r = sd_event_add_io(s->manager->event, &s->source, helper.pidfd, EPOLLIN, on_session_exit, s);
        if (r < 0) {
                /* Nothing to watch the helper with: the guard kills and reaps it. */
                (void) sd_bus_reply_method_errnof(call, r, "Cannot start the command in %s: %s", s->unit,
                                                  strerror(-r));
                session_remove(s->manager, s);
                return;
        }
        (void) sd_event_source_set_description(s->source, "exec-session");
        s->pid = helper.pid;
        s->pidfd = TAKE_CHILD_GUARD(helper).pidfd;

        if (exec_errno < 0) {
                s->orphan = true;
                if (unit_stopped)
                        (void) sd_bus_reply_method_errorf(call, "io.supd.Error.NotRunning",
                                                          "Unit %s stopped while the command was being set up.",
                                                          s->unit);
                else
                        /* The helper exits 125-127 on its own; the error says why, its name which. */
                        (void) sd_bus_reply_method_errorf(call,
                                                          exec_errno == -ENOENT ? "io.supd.Error.CommandNotFound"
                                                                                : "io.supd.Error.ExecFailed",
                                                          "%s", err ?: strerror(-exec_errno));
                return;
        }
        log_info("%s: exec session %u: running", s->unit, s->id);
        if (s->tty)
                (void) sd_bus_reply_method_return(call, "uh", s->id, master);
        else
                (void) sd_bus_reply_method_return(call, "u", s->id);
}

static int on_session_spawn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        ExecSession *s = userdata;

        if (spawn_handle_process(s->spawn) == SPAWN_PENDING)
                return 0;
        session_setup_done(s, false);
        return 0;
}

static int on_session_spawn_timeout(sd_event_source *src, uint64_t usec, void *userdata) {
        ExecSession *s = userdata;

        (void) spawn_handle_abort(s->spawn, -ETIMEDOUT);
        session_setup_done(s, false);
        return 0;
}

/* The caller's fds become the stdio of a process inside the container: a directory (or an O_PATH
 * handle) there would be a path back into the host's tree, through /proc/self/fd/N/.. */
static int check_stdio(const int fds[3], sd_bus_error *error) {
        static const char *const names[] = { "stdin", "stdout", "stderr" };

        for (size_t i = 0; i < 3; i++) {
                struct stat st;
                int flags = fcntl(fds[i], F_GETFL);

                if (flags < 0 || fstat(fds[i], &st) < 0)
                        return sd_bus_error_set_errnof(error, errno, "Cannot use the %s given: %m", names[i]);
                if (S_ISDIR(st.st_mode) || (flags & O_PATH))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "The %s given is a directory or a path handle, not a file, pipe "
                                                 "or terminal.",
                                                 names[i]);
        }
        return 0;
}

static Unit *running_unit(Manager *m, const char *name, sd_bus_error *error) {
        Unit *u = manager_get_unit(m, name);
        if (!u) {
                sd_bus_error_setf(error, "io.supd.Error.NoSuchUnit", "Unit %s not found.", name);
                return NULL;
        }
        if (u->state != UNIT_RUNNING || !u->instance || !u->instance->plan || u->instance->pidfd < 0) {
                sd_bus_error_setf(error, "io.supd.Error.NotRunning", "Unit %s is not running.", name);
                return NULL;
        }
        return u;
}

static int start_exec(sd_bus_message *msg, Manager *m, bool tty, sd_bus_error *error) {
        _cleanup_strv_free_ char **argv = NULL;
        ExecState *st = state_of(m);
        const char *name;
        int fds[3] = { -EBADF, -EBADF, -EBADF }, r;
        ExecParams p;
        ExecSession *s;
        Unit *u;

        r = bus_check_access(msg, error);
        if (r < 0)
                return r;
        if (!st)
                return -ENOMEM;
        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = sd_bus_message_read_strv(msg, &argv);
        if (r >= 0 && !tty)
                r = sd_bus_message_read(msg, "hhh", &fds[0], &fds[1], &fds[2]);
        if (r < 0)
                return r;
        if (strv_length(argv) == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No command given.");
        if (!tty && (r = check_stdio(fds, error)) < 0)
                return r;
        u = running_unit(m, name, error);
        if (!u)
                return -ESRCH;

        /* The same user, capabilities, seccomp filter and environment as the container's command. */
        p = (ExecParams){
                .workload = u->instance->plan->params.workload,
                .ns_pidfd = u->instance->pidfd,
                .ns_pid = u->instance->pid,
                .cgroup = u->instance->cgroup,
                .stdio = { fds[0], fds[1], fds[2] },
                .tty = tty,
        };
        p.workload.argv = argv;

        s = new0(ExecSession, 1);
        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->pidfd = -EBADF;
        s->tty = tty;
        s->unit = strdup(name);
        if (!s->unit) {
                session_free(s);
                return -ENOMEM;
        }
        r = exec_spawn_begin(&p, &s->spawn);
        if (r < 0) {
                session_free(s);
                return sd_bus_error_set_errnof(error, r, "Cannot start the command in %s: %s", name, strerror(-r));
        }
        /* The rest of the setup happens in the helper; the call is answered once it is done. */
        r = sd_event_add_io(m->event, &s->spawn_source, spawn_handle_fd(s->spawn), EPOLLIN, on_session_spawn_io, s);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &s->spawn_timer, CLOCK_MONOTONIC, EXEC_SETUP_TIMEOUT_USEC, 0,
                                               on_session_spawn_timeout, s);
        if (r < 0) {
                session_free(s);
                return r;
        }
        (void) sd_event_source_set_description(s->spawn_source, "exec-setup");
        (void) sd_event_source_set_description(s->spawn_timer, "exec-setup-timeout");
        {
                ExecSession **l = realloc(st->sessions, (st->n_sessions + 1) * sizeof(ExecSession *));
                if (!l) {
                        session_free(s);
                        return -ENOMEM;
                }
                st->sessions = l;
                l[st->n_sessions++] = s;
        }
        s->id = ++st->next_id;
        s->call = sd_bus_message_ref(msg);
        log_info("%s: exec session %u: %s", name, s->id, argv[0]);
        return 1;
}

static int method_exec(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return start_exec(msg, userdata, false, error);
}

static int method_exec_tty(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return start_exec(msg, userdata, true, error);
}

static int method_wait(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ExecState *st = state_of(m);
        uint32_t id;
        int r;

        r = bus_check_access(msg, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "u", &id);
        if (r < 0)
                return r;
        for (size_t i = 0; st && i < st->n_sessions; i++) {
                ExecSession *s = st->sessions[i];
                /* One whose Exec call is not answered yet, or was answered with an error, is no
                 * session anyone was told of. */
                if (s->id != id || s->call || s->orphan)
                        continue;
                if (s->exited) {
                        int status = s->status;
                        session_remove(m, s);
                        return sd_bus_reply_method_return(msg, "i", (int32_t) status);
                }
                if (s->waiter)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Session %u is already waited for.",
                                                 id);
                s->waiter = sd_bus_message_ref(msg);
                return 1;
        }
        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No exec session %u.", id);
}

/* The workload's status as a shell reports it. */
static int unit_exit_status(const Unit *u) {
        if (!u->have_exit)
                return u->state == UNIT_FAILED ? 125 : 0;
        return u->exit_code == CLD_EXITED ? u->exit_status : 128 + u->exit_status;
}

static void remove_transient_state(Manager *m, Unit *u) {
        _cleanup_free_ char *c = NULL, *l = NULL;

        /* The instance's state dir and writable layer went when the unit came down; a transient
         * unit has no volumes, so nothing of containers/NAME is left to keep. */
        if (asprintf(&c, "%s/containers/%s", m->state_dir, u->name) >= 0)
                (void) rm_rf_at(AT_FDCWD, c);
        if (asprintf(&l, "%s/%s.log", m->log_dir, u->name) >= 0)
                (void) unlink(l);
        /* The unit goes with the next garbage collection. */
        u->not_found = true;
}

/* supctl run's Run call: the container's terminal (or /dev/null) once it is set up. */
static void reply_run(Unit *u) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = TAKE_PTR(u->run_call);
        _cleanup_close_ int fd = -EBADF;

        if (!call)
                return;
        if (unit_main_pid(u) <= 0) {
                (void) sd_bus_reply_method_errorf(call, "io.supd.Error.StartFailed", "Cannot run %s: %s", u->name,
                                                  u->last_error ?: "it did not start");
                return;
        }
        if (u->last_error)
                /* The command could not be exec'd; WaitUnit reports its 125-127. */
                log_warning("%s: %s", u->name, u->last_error);
        log_info("%s: transient container started.", u->name);
        fd = u->run_pty_master >= 0 ? TAKE_FD(u->run_pty_master) : open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                (void) sd_bus_reply_method_errnof(call, errno, "Cannot open /dev/null: %m");
        else if (sd_bus_reply_method_return(call, "sh", u->name, fd) >= 0 && !u->run_detached)
                /* The client asks for LastError and the status next: with --rm, the unit stays
                 * until it has (the container may be gone before WaitUnit comes). */
                u->run_unwaited = true;
}

void bus_exec_unit_spawned(Manager *m, Unit *u) {
        reply_run(u);
}

void bus_exec_unit_settled(Manager *m, Unit *u) {
        ExecState *st = m->exec_state;

        if (u->state != UNIT_INACTIVE && u->state != UNIT_FAILED)
                return;
        reply_run(u); /* it never got as far as its container */
        /* An exec still joining a container that is gone would fail or hang: cut it short. */
        for (size_t i = 0; st && i < st->n_sessions;) {
                ExecSession *s = st->sessions[i];
                if (s->spawn && streq(s->unit, u->name)) {
                        (void) spawn_handle_abort(s->spawn, -ESRCH);
                        /* May remove s, moving the last session to i; a kept s has no setup any
                         * more, so the next turn steps past it. */
                        session_setup_done(s, true);
                        continue;
                }
                i++;
        }
        for (size_t i = 0; st && i < st->n_waits;) {
                if (!streq(st->waits[i].unit, u->name)) {
                        i++;
                        continue;
                }
                (void) sd_bus_reply_method_return(st->waits[i].call, "i", (int32_t) unit_exit_status(u));
                sd_bus_message_unref(st->waits[i].call);
                free(st->waits[i].unit);
                st->waits[i] = st->waits[--st->n_waits];
        }
        if (u->transient && u->remove_after && !u->run_unwaited)
                remove_transient_state(m, u);
}

static int method_wait_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ExecState *st = state_of(m);
        UnitWait *w;
        Unit *u;
        int r;

        r = bus_read_unit(msg, m, error, &u);
        if (r < 0)
                return r;
        if (!st)
                return -ENOMEM;
        u->run_unwaited = false;
        if (!unit_is_active(u)) {
                r = sd_bus_reply_method_return(msg, "i", (int32_t) unit_exit_status(u));
                if (u->transient && u->remove_after) {
                        remove_transient_state(m, u);
                        manager_unit_settled(m, u); /* schedules the removal */
                }
                return r;
        }
        w = realloc(st->waits, (st->n_waits + 1) * sizeof(UnitWait));
        if (!w)
                return -ENOMEM;
        st->waits = w;
        w[st->n_waits] = (UnitWait){ .unit = strdup(u->name), .call = sd_bus_message_ref(msg) };
        if (!w[st->n_waits].unit) {
                sd_bus_message_unref(msg);
                return -ENOMEM;
        }
        st->n_waits++;
        return 1;
}

/* supctl run: a transient unit made from the call, attached to the caller's terminal or fds. */
static int method_run(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *generated = NULL, *err = NULL;
        _cleanup_(unit_file_freep) UnitFile *f = NULL;
        _cleanup_strv_free_ char **settings = NULL;
        const char *name, *image, *rootfs;
        bool with_settings = sd_bus_message_is_method_call(msg, NULL, "RunWithSettings") > 0;
        int tty, rm, detach = false, fds[3], r;
        Unit *u;

        r = bus_check_access(msg, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "sss", &name, &image, &rootfs);
        if (r >= 0)
                r = sd_bus_message_read_strv(msg, &argv);
        if (r >= 0)
                r = sd_bus_message_read(msg, "bbhhh", &tty, &rm, &fds[0], &fds[1], &fds[2]);
        if (r >= 0 && with_settings) {
                const char *sec, *key, *value;
                r = sd_bus_message_enter_container(msg, 'a', "(sss)");
                while (r >= 0 && (r = sd_bus_message_read(msg, "(sss)", &sec, &key, &value)) > 0)
                        if (strv_extend(&settings, sec) < 0 || strv_extend(&settings, key) < 0 ||
                            strv_extend(&settings, value) < 0)
                                return -ENOMEM;
                if (r >= 0)
                        r = sd_bus_message_exit_container(msg);
                if (r >= 0)
                        r = sd_bus_message_read(msg, "b", &detach);
        }
        if (r < 0)
                return r;
        if (detach && tty)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "A detached container has no terminal.");
        if (!tty && !detach && (r = check_stdio(fds, error)) < 0)
                return r;
        if (isempty(image) == isempty(rootfs))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Give either an image or a root directory.");
        if (!isempty(rootfs) && rootfs[0] != '/')
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "The root directory must be absolute.");
        if (!isempty(rootfs)) {
                /* Said here, by name, rather than as a bind mount failing in the container's setup. */
                _cleanup_close_ int rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (rfd < 0)
                        return sd_bus_error_setf(error, "io.supd.Error.StartFailed", "rootfs %s: %s", rootfs,
                                                 strerror(errno));
        }
        if (isempty(name)) {
                sd_id128_t id;
                char s[SD_ID128_STRING_MAX];
                (void) sd_id128_randomize(&id);
                if (asprintf(&generated, "run-%.12s", sd_id128_to_string(id, s)) < 0)
                        return -ENOMEM;
                name = generated;
        }
        if (!unit_name_is_valid(name) || strchr(name, '@'))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid container name '%s'.", name);
        u = manager_get_unit(m, name);
        if (u && (!u->transient || unit_is_active(u) || u->n_waiters > 0))
                return sd_bus_error_setf(error, "io.supd.Error.Exists", "A unit named %s exists already.", name);
        if (u) { /* an old, stopped transient one: replaced, and the writable layer it kept with it */
                _cleanup_free_ char *c = NULL;
                if (asprintf(&c, "%s/containers/%s", m->state_dir, u->name) >= 0)
                        (void) rm_rf_at(AT_FDCWD, c);
                manager_remove_unit(m, u);
        }

        f = new0(UnitFile, 1);
        if (!f)
                return -ENOMEM;
        unit_settings_init(&f->settings);
        f->name = strdup(name);
        f->path = strdup("(transient)");
        f->settings.image = isempty(image) ? NULL : strdup(image);
        f->settings.rootfs = isempty(rootfs) ? NULL : strdup(rootfs);
        f->settings.exec = strv_length(argv) > 0 ? TAKE_PTR(argv) : NULL;
        if (!f->name || !f->path || (!isempty(image) && !f->settings.image) ||
            (!isempty(rootfs) && !f->settings.rootfs))
                return -ENOMEM;
        /* No restarts and no start limit: it runs once, in the caller's foreground. */
        f->settings.start_limit_burst = 0;
        if (with_settings) {
                /* Checked as a unit file's lines are: the same keys, values and messages. */
                r = unit_file_assign_settings(&m->ctx, f, settings);
                if (r < 0)
                        return r;
                if (f->n_errors > 0) {
                        _cleanup_free_ char *why = unit_diagnostic_format(&f->errors[0]);
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid setting: %s",
                                                 why ?: "out of memory");
                }
        }

        u = unit_new(m, name, name, NULL);
        if (!u)
                return -ENOMEM;
        u->file = TAKE_PTR(f);
        u->transient = true;
        u->remove_after = rm;
        u->run_tty = tty;
        u->run_detached = detach;
        for (size_t i = 0; i < 3 && !tty && !detach; i++) {
                u->run_stdio[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
                if (u->run_stdio[i] < 0) {
                        unit_free(u);
                        return negative_errno();
                }
        }
        r = manager_add_unit(m, u);
        if (r < 0) {
                unit_free(u);
                return r;
        }

        /* The reply (with the terminal) goes out once the container is set up: reply_run(). */
        u->run_call = sd_bus_message_ref(msg);
        r = manager_start_unit(m, u, true, &err);
        if (r < 0) {
                u->not_found = true;
                if (!u->run_call)
                        return 1; /* answered already, as it failed */
                u->run_call = sd_bus_message_unref(u->run_call);
                return sd_bus_error_setf(error, "io.supd.Error.StartFailed", "Cannot run %s: %s", name,
                                         err ?: strerror(-r));
        }
        return 1;
}

static const sd_bus_vtable container_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("Exec", "sashhh",
                                 SD_BUS_PARAM(unit) SD_BUS_PARAM(argv) SD_BUS_PARAM(stdin) SD_BUS_PARAM(stdout)
                                         SD_BUS_PARAM(stderr),
                                 "u", SD_BUS_PARAM(session), method_exec, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ExecTTY", "sas", SD_BUS_PARAM(unit) SD_BUS_PARAM(argv), "uh",
                                 SD_BUS_PARAM(session) SD_BUS_PARAM(pty), method_exec_tty, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Wait", "u", SD_BUS_PARAM(session), "i", SD_BUS_PARAM(status), method_wait,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Run", "sssasbbhhh",
                                 SD_BUS_PARAM(name) SD_BUS_PARAM(image) SD_BUS_PARAM(rootfs) SD_BUS_PARAM(argv)
                                         SD_BUS_PARAM(tty) SD_BUS_PARAM(remove) SD_BUS_PARAM(stdin)
                                                 SD_BUS_PARAM(stdout) SD_BUS_PARAM(stderr),
                                 "sh", SD_BUS_PARAM(unit) SD_BUS_PARAM(pty), method_run, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RunWithSettings", "sssasbbhhha(sss)b",
                                 SD_BUS_PARAM(name) SD_BUS_PARAM(image) SD_BUS_PARAM(rootfs) SD_BUS_PARAM(argv)
                                         SD_BUS_PARAM(tty) SD_BUS_PARAM(remove) SD_BUS_PARAM(stdin)
                                                 SD_BUS_PARAM(stdout) SD_BUS_PARAM(stderr) SD_BUS_PARAM(settings)
                                                         SD_BUS_PARAM(detach),
                                 "sh", SD_BUS_PARAM(unit) SD_BUS_PARAM(pty), method_run, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("WaitUnit", "s", SD_BUS_PARAM(unit), "i", SD_BUS_PARAM(status), method_wait_unit,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_exec_register(sd_bus *bus, Manager *m) {
        return sd_bus_add_object_vtable(bus, NULL, SUPD_BUS_PATH, SUPD_CONTAINER_INTERFACE, container_vtable, m);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/process-util.h"
#include "basic/strv.h"
#include "image/image-import.h"
#include "image/image-pull.h"
#include "image/image-store.h"
#include "manager-image.h"
#include "manager.h"

#define RESULT_MAX (4u << 20)

static char **insecure_registries = NULL;

void manager_image_set_insecure_registries(char **registries) {
        insecure_registries = registries;
}

/* Same rule as the Manager1 interface: root, or a member of group "supd". */
#define CHECK_ACCESS(msg, error)                                                                                      \
        do {                                                                                                          \
                int _r = manager_bus_check_access(msg, error);                                                        \
                if (_r < 0)                                                                                           \
                        return _r;                                                                                    \
        } while (0)

static int open_store(Manager *m, ImageStore **ret, sd_bus_error *error) {
        int r = image_store_open(m->state_dir, 0, ret);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot open the image store: %s", strerror(-r));
        return 0;
}

static int reply_store_error(sd_bus_error *error, int r, const char *what) {
        if (r == -ENOENT)
                return sd_bus_error_setf(error, "io.supd.Error.NoSuchImage", "No such image: %s", what);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, "io.supd.Error.ImageInUse", "Image %s is used by a running container.",
                                         what);
        if (r == -ENOTUNIQ)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Image id prefix %s is ambiguous.", what);
        return sd_bus_error_set_errnof(error, r, "%s: %s", what, strerror(-r));
}

/* ---- which images running containers use ---- */

static char **images_in_use(Manager *m, ImageStore *s) {
        char **ids = NULL;
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                const UnitSettings *st = unit_settings(u);
                char id[DIGEST_HEX_LEN + 1];
                if (u->state == UNIT_INACTIVE || u->state == UNIT_FAILED || !st || isempty(st->image))
                        continue;
                /* By id alone: an image whose configuration is damaged is still in use. */
                if (image_store_resolve(s, st->image, id) >= 0 && !strv_contains(ids, id))
                        (void) strv_extend(&ids, id);
        }
        return ids;
}

static bool in_use_cb(const char *id, void *userdata) {
        return strv_contains(userdata, id);
}

/* ---- workers ---- */

typedef enum JobKind { JOB_IMPORT, JOB_PULL, JOB_REMOVE, JOB_PRUNE } JobKind;

typedef struct ImageJob {
        Manager *m;
        JobKind kind;
        sd_bus_message *msg; /* answered on exit, or: */
        ManagerImageDone done;
        void *userdata;
        char *what;
        ChildGuard worker;       /* killed and reaped if the job goes before it exits */
        sd_event_source *source; /* io on the worker's pidfd: readable once it exited */
        int result_fd;           /* memfd: "0 RESULT" or "-ERRNO MESSAGE" */
} ImageJob;

static ImageJob *image_job_free(ImageJob *j) {
        if (!j)
                return NULL;
        sd_bus_message_unref(j->msg);
        sd_event_source_disable_unref(j->source);
        child_guard_done(&j->worker);
        safe_close(j->result_fd);
        free(j->what);
        free(j);
        return NULL;
}

typedef struct WorkerArgs {
        const char *state_dir;
        ImportLimits limits; /* from supd.conf [Images] */
        const char *path;    /* import: file; pull/rm: ref */
        const char *name;
        char **in_use;
        int progress_fd;
} WorkerArgs;

static void worker_progress(void *userdata, uint64_t done, uint64_t total, unsigned ld, unsigned lt) {
        int fd = *(int *) userdata;
        char line[128];
        int n;
        if (fd < 0)
                return;
        n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 " %u %u\n", done, total, ld, lt);
        /* Non-blocking: a client that stops reading loses progress lines, nothing else. */
        (void) !write(fd, line, (size_t) n);
}

static void store_warn_log(const char *message, void *userdata) {
        log_warning("%s", message);
}

/* In a worker, what the store repaired is also told to the client that asked. */
static void store_warn_worker(const char *message, void *userdata) {
        int fd = *(int *) userdata;
        log_warning("%s", message);
        if (fd >= 0)
                (void) !dprintf(fd, "warning: %s\n", message);
}

static int worker_run(JobKind kind, WorkerArgs *a, char **ret_result, char **ret_error) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        int r;

        image_store_set_warn(store_warn_worker, &a->progress_fd);
        r = image_store_open(a->state_dir, 0, &s);
        if (r < 0)
                return r;
        switch (kind) {
        case JOB_IMPORT: {
                unsigned skipped = 0;
                r = image_import(s, a->path, a->name, &a->limits, worker_progress, &a->progress_fd, ret_result,
                                 &skipped, ret_error);
                if (r >= 0 && skipped > 0) {
                        /* Containers get a fixed /dev; an image's device nodes would be a way around it. */
                        log_warning("Import of %s: skipped %u device node(s).", a->path, skipped);
                        if (a->progress_fd >= 0)
                                (void) !dprintf(a->progress_fd, "warning: skipped %u device node(s) in the archive\n",
                                                skipped);
                }
                return r;
        }
        case JOB_PULL: {
                ImagePullOptions o = { .insecure = insecure_registries, .limits = &a->limits };
                return image_pull(s, a->path, &o, worker_progress, &a->progress_fd, ret_result, ret_error);
        }
        case JOB_REMOVE: {
                uint64_t freed = 0;
                r = image_store_remove(s, a->path, in_use_cb, a->in_use, &freed);
                if (r >= 0 && asprintf(ret_result, "%" PRIu64, freed) < 0)
                        return -ENOMEM;
                return r;
        }
        case JOB_PRUNE: {
                _cleanup_strv_free_ char **removed = NULL;
                _cleanup_free_ char *l = NULL;
                uint64_t freed = 0;
                r = image_store_prune(s, in_use_cb, a->in_use, &removed, &freed);
                if (r < 0)
                        return r;
                l = strv_join(removed, "\n");
                if (asprintf(ret_result, "%" PRIu64 "\n%s", freed, strempty(l)) < 0)
                        return -ENOMEM;
                return 0;
        }
        }
        return -EINVAL;
}

_noreturn_ static void worker_main(JobKind kind, WorkerArgs *a, int result_fd) {
        _cleanup_free_ char *result = NULL, *error = NULL;
        sigset_t all;
        FILE *f;
        int r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void) prctl(PR_SET_NAME, "supd-image");
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        if (a->progress_fd >= 0)
                (void) fcntl(a->progress_fd, F_SETFL, O_WRONLY | O_NONBLOCK);
        umask(0022);

        r = worker_run(kind, a, &result, &error);
        f = fdopen(result_fd, "w");
        if (f) {
                if (r < 0)
                        fprintf(f, "%d %s", r, error ?: strerror(-r));
                else
                        fprintf(f, "0 %s", strempty(result));
                fclose(f);
        }
        _exit(r < 0 ? 1 : 0);
}

static int job_finish(ImageJob *j, int r, const char *text) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int q;

        if (j->done) {
                j->done(j->m, r, text, j->userdata);
                return 0;
        }
        if (r < 0) {
                if (r == -ENOENT && j->kind == JOB_REMOVE)
                        (void) reply_store_error(&error, r, j->what);
                else if (r == -EBUSY)
                        (void) reply_store_error(&error, r, j->what);
                else
                        (void) sd_bus_error_set_errnof(&error, r, "%s", text);
                return sd_bus_reply_method_error(j->msg, &error);
        }
        q = sd_bus_message_new_method_return(j->msg, &reply);
        if (q < 0)
                return q;
        switch (j->kind) {
        case JOB_IMPORT:
        case JOB_PULL:
                q = sd_bus_message_append(reply, "s", text);
                break;
        case JOB_REMOVE:
                q = sd_bus_message_append(reply, "t", (uint64_t) strtoull(text, NULL, 10));
                break;
        case JOB_PRUNE: {
                _cleanup_free_ char *copy = strdup(text);
                char *p = copy, *line;
                uint64_t freed = strtoull(text, NULL, 10);
                if (!copy)
                        return -ENOMEM;
                q = sd_bus_message_open_container(reply, 'a', "s");
                (void) strsep(&p, "\n");
                while (q >= 0 && (line = strsep(&p, "\n")))
                        if (!isempty(line))
                                q = sd_bus_message_append(reply, "s", line);
                if (q >= 0)
                        q = sd_bus_message_close_container(reply);
                if (q >= 0)
                        q = sd_bus_message_append(reply, "t", freed);
                break;
        }
        }
        if (q < 0)
                return q;
        return sd_bus_send(NULL, reply, NULL);
}

static int on_worker_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ImageJob *j = userdata;
        _cleanup_free_ char *out = NULL;
        siginfo_t si = {};
        char p[64];
        int r = -EIO, q;
        const char *text = "the image worker failed";

        q = pidfd_reap(j->worker.pidfd, &si);
        if (q == 0)
                return 0; /* not yet: a spurious wake-up */
        if (q < 0) {
                /* Our own fork, so this does not happen; answer rather than spin on the fd. */
                log_warning_errno(q, "Cannot reap the image worker for %s: %m", j->what);
                si = (siginfo_t){ .si_code = CLD_KILLED, .si_status = SIGKILL };
        } else
                j->worker.pid = 0; /* reaped: nothing for the guard to do */

        snprintf(p, sizeof(p), "/proc/self/fd/%d", j->result_fd);
        if (read_file_at(AT_FDCWD, p, RESULT_MAX, &out, NULL) >= 0 && out) {
                char *sp = strchr(out, ' ');
                if (sp) {
                        *sp = 0;
                        r = atoi(out);
                        text = sp + 1;
                        if (r > 0)
                                r = -r;
                }
        }
        if (si.si_code != CLD_EXITED && r == 0)
                r = -EIO;
        if (si.si_code != CLD_EXITED)
                log_warning("Image worker for %s was killed by signal %d.", j->what, si.si_status);
        else if (r < 0)
                log_warning("Image %s: %s", j->what, text);
        (void) job_finish(j, r, text);
        image_job_free(j);
        return 0;
}

static int job_start(Manager *m, JobKind kind, sd_bus_message *msg, const char *path, const char *name,
                     int progress_fd, char **in_use, ImageJob **ret) {
        _cleanup_close_ int result_fd = -EBADF;
        _cleanup_(child_guard_done) ChildGuard worker = CHILD_GUARD_NULL;
        ImageJob *j;
        pid_t pid;
        int r;

        result_fd = memfd_create("supd-image-result", MFD_CLOEXEC);
        if (result_fd < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                WorkerArgs a = {
                        .state_dir = m->state_dir,
                        .limits = {
                                .max_bytes = m->config.image_max_import_size,
                                .max_entries = IMPORT_LIMITS_DEFAULT.max_entries,
                                .min_free_bytes = m->config.image_min_free_bytes,
                                .min_free_percent = m->config.image_min_free_percent,
                        },
                        .path = path,
                        .name = name,
                        .in_use = in_use,
                        .progress_fd = progress_fd,
                };
                worker_main(kind, &a, result_fd);
        }
        worker.pid = pid;
        worker.pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (worker.pidfd < 0)
                return negative_errno(); /* the guard kills the worker by pid and reaps it */
        j = new0(ImageJob, 1);
        if (!j)
                return -ENOMEM;
        *j = (ImageJob){ .m = m,
                         .kind = kind,
                         .msg = sd_bus_message_ref(msg),
                         .result_fd = TAKE_FD(result_fd),
                         .worker = CHILD_GUARD_NULL };
        j->what = strdup(path);
        r = sd_event_add_io(m->event, &j->source, worker.pidfd, EPOLLIN, on_worker_exit, j);
        if (r < 0) {
                image_job_free(j);
                return r;
        }
        j->worker = TAKE_CHILD_GUARD(worker);
        (void) sd_event_source_set_description(j->source, "image-worker");
        *ret = j;
        return 0;
}

/* ---- methods ---- */

static int method_import(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_close_ int pfd = -EBADF;
        const char *path, *name;
        ImageJob *j;
        int fd, r;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "ssh", &path, &name, &fd);
        if (r < 0)
                return r;
        if (path[0] != '/')
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Path %s is not absolute.", path);
        if (!isempty(name)) {
                _cleanup_free_ char *norm = NULL;
                if (image_ref_normalize(name, &norm) < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid image name %s.", name);
        }
        pfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        r = job_start(m, JOB_IMPORT, msg, path, isempty(name) ? NULL : name, pfd, NULL, &j);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot start the import: %s", strerror(-r));
        log_info("Importing image from %s.", path);
        return 1;
}

static int method_pull(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_close_ int pfd = -EBADF;
        _cleanup_free_ char *norm = NULL;
        const char *ref;
        ImageJob *j;
        int fd, r;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "sh", &ref, &fd);
        if (r < 0)
                return r;
        if (image_ref_normalize(ref, &norm) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid image reference %s.", ref);
        pfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        r = job_start(m, JOB_PULL, msg, ref, NULL, pfd, NULL, &j);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot start the pull: %s", strerror(-r));
        log_info("Pulling image %s.", ref);
        return 1;
}

static int method_remove_or_prune(sd_bus_message *msg, Manager *m, JobKind kind, const char *ref,
                                  sd_bus_error *error) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        _cleanup_strv_free_ char **in_use = NULL;
        ImageJob *j;
        int r;

        r = open_store(m, &s, error);
        if (r < 0)
                return r;
        in_use = images_in_use(m, s);
        if (kind == JOB_REMOVE) {
                char id[DIGEST_HEX_LEN + 1];
                /* Not a full lookup: an image whose configuration is damaged can be removed. */
                r = image_store_resolve(s, ref, id);
                if (r < 0)
                        return reply_store_error(error, r, ref);
        }
        r = job_start(m, kind, msg, ref, NULL, -EBADF, in_use, &j);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot start the worker: %s", strerror(-r));
        return 1;
}

static int method_remove(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *ref;
        int r;
        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "s", &ref);
        if (r < 0)
                return r;
        return method_remove_or_prune(msg, userdata, JOB_REMOVE, ref, error);
}

static int method_prune(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        CHECK_ACCESS(msg, error);
        return method_remove_or_prune(msg, userdata, JOB_PRUNE, "prune", error);
}

static int method_list(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ImageListEntry *l = NULL;
        size_t n = 0;
        int r;

        CHECK_ACCESS(msg, error);
        r = open_store(userdata, &s, error);
        if (r < 0)
                return r;
        r = image_store_list(s, &l, &n);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot list images: %s", strerror(-r));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssstt)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(ssstt)", l[i].name, l[i].tag, l[i].id, l[i].size, l[i].created);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        image_list_free(l, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_history(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ImageHistoryEntry *h = NULL;
        const char *ref;
        size_t n = 0;
        int r;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "s", &ref);
        if (r < 0)
                return r;
        r = open_store(userdata, &s, error);
        if (r < 0)
                return r;
        r = image_store_history(s, ref, &h, &n);
        if (r == -EBADMSG && image_store_damage(s))
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s: %s", ref, image_store_damage(s));
        if (r < 0)
                return reply_store_error(error, r, ref);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(stts)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(stts)", h[i].digest, h[i].size, h[i].created, h[i].created_by);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        image_history_free(h, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int diff_append(char kind, const char *path, void *userdata) {
        char k[2] = { kind, 0 };
        return sd_bus_message_append(userdata, "(ss)", k, path);
}

static int method_diff(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_strv_free_ char **lower = NULL;
        _cleanup_free_ char *upper = NULL;
        const UnitSettings *st;
        const char *name;
        Unit *u;
        int r;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        u = manager_get_unit(m, name);
        if (!u)
                return sd_bus_error_setf(error, "io.supd.Error.NoSuchUnit", "Unit %s not found.", name);
        st = unit_settings(u);
        if (st && !isempty(st->image)) {
                r = open_store(m, &s, error);
                if (r < 0)
                        return r;
                if (image_store_lookup(s, st->image, &img) >= 0)
                        lower = strv_copy(img->layer_dirs);
        } else if (st && !isempty(st->rootfs))
                (void) strv_extend(&lower, st->rootfs);
        if (asprintf(&upper, "%s/containers/%s/upper", m->state_dir, u->name) < 0)
                return -ENOMEM;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        if (r >= 0) {
                r = image_diff(upper, lower, diff_append, reply);
                if (r == -ENOENT)
                        return sd_bus_error_setf(error, "io.supd.Error.NotRunning",
                                                 "Unit %s has no writable layer (never started?).", name);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Cannot read %s: %s", upper, strerror(-r));
                r = sd_bus_message_close_container(reply);
        }
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("Import", "ssh", SD_BUS_PARAM(path) SD_BUS_PARAM(name) SD_BUS_PARAM(progress), "s",
                                 SD_BUS_PARAM(id), method_import, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Pull", "sh", SD_BUS_PARAM(reference) SD_BUS_PARAM(progress), "s", SD_BUS_PARAM(id),
                                 method_pull, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("List", "", , "a(ssstt)", SD_BUS_PARAM(images), method_list,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Remove", "s", SD_BUS_PARAM(reference), "t", SD_BUS_PARAM(freed), method_remove,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Prune", "", , "ast", SD_BUS_PARAM(removed) SD_BUS_PARAM(freed), method_prune,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("History", "s", SD_BUS_PARAM(reference), "a(stts)", SD_BUS_PARAM(layers),
                                 method_history, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Diff", "s", SD_BUS_PARAM(unit), "a(ss)", SD_BUS_PARAM(changes), method_diff,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int manager_image_register(sd_bus *bus, Manager *m) {
        return sd_bus_add_object_vtable(bus, NULL, SUPD_BUS_PATH, SUPD_IMAGE_INTERFACE, image_vtable, m);
}

int manager_image_startup(Manager *m) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        int r;

        image_store_set_warn(store_warn_log, NULL);
        r = image_store_open(m->state_dir, IMAGE_STORE_CLEANUP, &s);
        if (r < 0)
                return log_error_errno(r, "Failed to open the image store in %s: %m", m->state_dir);
        return 0;
}

int manager_image_ensure(Manager *m, const char *ref, ManagerImageDone done, void *userdata) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        _cleanup_(image_freep) Image *img = NULL;
        ImageJob *j;
        int r;

        r = image_store_open(m->state_dir, 0, &s);
        if (r < 0)
                return r;
        r = image_store_lookup(s, ref, &img);
        if (r >= 0)
                return 1;
        if (r != -ENOENT)
                return r;
        r = job_start(m, JOB_PULL, NULL, ref, NULL, -EBADF, NULL, &j);
        if (r < 0)
                return r;
        j->done = done;
        j->userdata = userdata;
        return 0;
}

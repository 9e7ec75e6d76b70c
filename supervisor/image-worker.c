/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
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
#include "image-worker.h"
#include "image/image-import.h"
#include "image/image-pull.h"
#include "image/image-store.h"
#include "manager.h"

#define RESULT_MAX (4u << 20)

static char **insecure_registries = NULL;

void manager_image_set_insecure_registries(char **registries) {
        insecure_registries = registries;
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

typedef struct JobWaiter {
        ImageWorkerDone done;
        void *userdata;
} JobWaiter;

typedef struct ImageJob ImageJob;
struct ImageJob {
        Manager *m;
        JobKind kind;
        char *what;
        char *pull_ref; /* a pull: the normalised reference, while on the list of running pulls */
        ImageJob *pull_next;
        JobWaiter *waiters; /* each is told the result, in order */
        size_t n_waiters;
        ChildGuard worker;       /* killed and reaped if the job goes before it exits */
        sd_event_source *source; /* io on the worker's pidfd: readable once it exited */
        int result_fd;           /* memfd: "0 RESULT" or "-ERRNO MESSAGE" */
};

/* The pulls whose worker runs: a second pull of the same image joins the first rather than
 * downloading the same layers again beside it. One manager per process, as for
 * insecure_registries. */
static ImageJob *running_pulls = NULL;
/* Workers running (a job has its source while its worker runs): daemon-reexec waits for none. */
static unsigned n_running_jobs = 0;

bool image_worker_busy(void) {
        return n_running_jobs > 0;
}

static void pull_forget(ImageJob *j) {
        for (ImageJob **p = &running_pulls; *p; p = &(*p)->pull_next)
                if (*p == j) {
                        *p = j->pull_next;
                        break;
                }
        j->pull_next = NULL;
        j->pull_ref = mfree(j->pull_ref);
}

static ImageJob *pull_find(const char *norm) {
        for (ImageJob *j = running_pulls; j; j = j->pull_next)
                if (streq(j->pull_ref, norm))
                        return j;
        return NULL;
}

static ImageJob *image_job_free(ImageJob *j) {
        if (!j)
                return NULL;
        pull_forget(j);
        if (j->source)
                n_running_jobs--;
        sd_event_source_disable_unref(j->source);
        child_guard_done(&j->worker);
        safe_close(j->result_fd);
        free(j->waiters);
        free(j->what);
        free(j);
        return NULL;
}

static int image_job_add_waiter(ImageJob *j, ImageWorkerDone done, void *userdata) {
        JobWaiter *w = reallocarray(j->waiters, j->n_waiters + 1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        j->waiters = w;
        w[j->n_waiters++] = (JobWaiter){ .done = done, .userdata = userdata };
        return 0;
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
        /* A pull asked for from a callback is a new one: this worker is done. */
        pull_forget(j);
        for (size_t i = 0; i < j->n_waiters; i++)
                j->waiters[i].done(j->m, r, text, j->waiters[i].userdata);
        image_job_free(j);
        return 0;
}

static int job_start(Manager *m, JobKind kind, const char *path, const char *name, int progress_fd, char **in_use,
                     ImageWorkerDone done, void *userdata, ImageJob **ret) {
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
        *j = (ImageJob){ .m = m, .kind = kind, .result_fd = TAKE_FD(result_fd), .worker = CHILD_GUARD_NULL };
        j->what = strdup(path);
        if (!j->what || image_job_add_waiter(j, done, userdata) < 0) {
                image_job_free(j);
                return -ENOMEM;
        }
        r = sd_event_add_io(m->event, &j->source, worker.pidfd, EPOLLIN, on_worker_exit, j);
        if (r < 0) {
                image_job_free(j);
                return r;
        }
        j->worker = TAKE_CHILD_GUARD(worker);
        n_running_jobs++;
        (void) sd_event_source_set_description(j->source, "image-worker");
        if (ret)
                *ret = j;
        return 0;
}

int image_worker_import(Manager *m, const char *path, const char *name, int progress_fd, ImageWorkerDone done,
                        void *userdata) {
        return job_start(m, JOB_IMPORT, path, name, progress_fd, NULL, done, userdata, NULL);
}

int image_worker_pull(Manager *m, const char *ref, int progress_fd, ImageWorkerDone done, void *userdata) {
        _cleanup_free_ char *norm = NULL;
        ImageJob *j;
        int r;

        /* "busybox" and "docker.io/library/busybox:latest" are one image. */
        r = image_ref_normalize(ref, &norm);
        if (r < 0)
                return r;
        j = pull_find(norm);
        if (j)
                return image_job_add_waiter(j, done, userdata);
        r = job_start(m, JOB_PULL, ref, NULL, progress_fd, NULL, done, userdata, &j);
        if (r < 0)
                return r;
        j->pull_ref = TAKE_PTR(norm);
        j->pull_next = running_pulls;
        running_pulls = j;
        return 0;
}

static int remove_or_prune(Manager *m, JobKind kind, const char *ref, ImageWorkerDone done, void *userdata) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        _cleanup_strv_free_ char **in_use = NULL;
        int r;

        r = image_store_open(m->state_dir, 0, &s);
        if (r < 0)
                return r;
        in_use = images_in_use(m, s);
        if (kind == JOB_REMOVE) {
                char id[DIGEST_HEX_LEN + 1];
                /* Not a full lookup: an image whose configuration is damaged can be removed. */
                r = image_store_resolve(s, ref, id);
                if (r < 0)
                        return r;
        }
        return job_start(m, kind, ref, NULL, -EBADF, in_use, done, userdata, NULL);
}

int image_worker_remove(Manager *m, const char *ref, ImageWorkerDone done, void *userdata) {
        return remove_or_prune(m, JOB_REMOVE, ref, done, userdata);
}

int image_worker_prune(Manager *m, ImageWorkerDone done, void *userdata) {
        return remove_or_prune(m, JOB_PRUNE, "prune", done, userdata);
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

int manager_image_ensure(Manager *m, const char *ref, ImageWorkerDone done, void *userdata) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        _cleanup_(image_freep) Image *img = NULL;
        int r;

        r = image_store_open(m->state_dir, 0, &s);
        if (r < 0)
                return r;
        r = image_store_lookup(s, ref, &img);
        if (r >= 0)
                return 1;
        if (r != -ENOENT)
                return r;
        return image_worker_pull(m, ref, -EBADF, done, userdata);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/process-util.h"
#include "basic/time-util.h"
#include "container.h"
#include "instance.h"
#include "runtime/spawn.h"

int instance_cgroup_name(const char *name, const char *id, char **ret) {
        char *s;

        if (run_id_valid(id) < 0)
                return -EINVAL;
        if (asprintf(&s, "%s.%s", name, id) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int instance_new(const char *run_dir, const char *name, Instance **ret) {
        _cleanup_(instance_freep) Instance *i = NULL;
        int r;

        i = new0(Instance, 1);
        if (!i)
                return -ENOMEM;
        i->dir_fd = i->pidfd = -EBADF;
        i->name = strdup(name);
        if (!i->name)
                return -ENOMEM;
        r = run_id_new(i->id);
        if (r < 0)
                return r;
        if (asprintf(&i->dir, "%s/instances/%s", run_dir, i->id) < 0) {
                i->dir = NULL;
                return -ENOMEM;
        }
        r = mkdir_p(i->dir, 0700);
        if (r < 0)
                return r;
        i->dir_fd = open(i->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (i->dir_fd < 0)
                return negative_errno();
        *ret = TAKE_PTR(i);
        return 0;
}

void instance_release_process(Instance *i) {
        if (i->plan) {
                container_plan_done(i->plan);
                i->plan = mfree(i->plan);
        }
        i->exit_source = sd_event_source_disable_unref(i->exit_source);
        i->pidfd = safe_close(i->pidfd);
        i->pid = 0;
        i->start_time = 0;
}

static void instance_stop_waiting(Instance *i) {
        i->empty_source = sd_event_source_disable_unref(i->empty_source);
        i->empty_timer = sd_event_source_disable_unref(i->empty_timer);
        i->on_empty = NULL;
}

int instance_open(const char *run_dir, const char *id, const char *name, Instance **ret) {
        _cleanup_(instance_freep) Instance *i = NULL;

        if (run_id_valid(id) < 0)
                return -EINVAL;
        i = new0(Instance, 1);
        if (!i)
                return -ENOMEM;
        i->dir_fd = i->pidfd = -EBADF;
        memcpy(i->id, id, RUN_ID_LEN + 1);
        i->name = strdup(name);
        if (!i->name || asprintf(&i->dir, "%s/instances/%s", run_dir, id) < 0) {
                i->dir = NULL;
                return -ENOMEM;
        }
        i->dir_fd = open(i->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (i->dir_fd < 0)
                return negative_errno();
        *ret = TAKE_PTR(i);
        return 0;
}

Instance *instance_free(Instance *i) {
        if (!i)
                return NULL;
        instance_stop_waiting(i);
        instance_release_process(i);
        i->cgroup = cgroup_free(i->cgroup);
        safe_close(i->dir_fd);
        free(i->dir);
        free(i->name);
        free(i);
        return NULL;
}

void instance_remove_dir(Instance *i) {
        if (!i->dir)
                return;
        /* Nothing in it is mounted in our namespace: the rootfs mount lives in the container's. */
        (void) rm_rf_at(AT_FDCWD, i->dir);
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Instance *i = userdata;
        siginfo_t si = {};
        int code, status, rc, rs, r;

        r = pidfd_reap(i->pidfd, &si);
        if (r == 0)
                return 0; /* not yet: a spurious wake-up */
        if (r > 0) {
                code = si.si_code;
                status = si.si_status;
        } else {
                /* Not our child (adopted; -ECHILD), or it cannot be asked (and the pidfd would
                 * stay readable): only its exit record can tell. */
                code = CLD_KILLED;
                status = SIGKILL;
        }

        /* Our init records how the workload ended; without it (RunInit=no, or init itself was
         * SIGKILLed) the PID 1 status is the truth. */
        if (spawn_read_exit_record(i->dir_fd, &rc, &rs) >= 0) {
                code = rc;
                status = rs;
        }
        (void) unlinkat(i->dir_fd, "exit", 0);
        (void) unlinkat(i->dir_fd, "pid", 0);
        (void) unlinkat(i->dir_fd, STATE_RECORD_FILE, 0);
        i->exit_source = sd_event_source_disable_unref(i->exit_source);
        i->on_exit(i, code, status, i->userdata);
        return 0;
}

int instance_watch(Instance *i, sd_event *e, pid_t pid, int pidfd, InstanceExitHandler on_exit, void *userdata) {
        int r;

        assert(i->pidfd < 0);
        i->pid = pid;
        i->pidfd = pidfd;
        i->on_exit = on_exit;
        i->userdata = userdata;
        (void) proc_start_time(pid, &i->start_time);
        r = sd_event_add_io(e, &i->exit_source, pidfd, EPOLLIN, on_pidfd, i);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(i->exit_source, "instance-exit");
        return 0;
}

#define EMPTY_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define EMPTY_POLL_USEC (10 * USEC_PER_MSEC)

static void instance_empty_check(Instance *i, bool deadline) {
        InstanceEmptyHandler cb = i->on_empty;
        void *userdata = i->empty_userdata;

        if (i->empty_source)
                cgroup_populated_fd_drain(sd_event_source_get_io_fd(i->empty_source));
        if (!deadline && i->cgroup && cgroup_is_populated(i->cgroup) > 0) {
                /* Still going: on v1 nothing tells us, look again shortly. */
                if (!i->empty_source && i->empty_timer) {
                        usec_t next = now_usec(CLOCK_MONOTONIC) + EMPTY_POLL_USEC;
                        (void) sd_event_source_set_time(i->empty_timer, MIN(next, i->empty_deadline));
                        (void) sd_event_source_set_enabled(i->empty_timer, SD_EVENT_ONESHOT);
                }
                return;
        }
        instance_stop_waiting(i);
        cb(i, userdata);
}

static int on_empty_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        instance_empty_check(userdata, false);
        return 0;
}

static int on_empty_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Instance *i = userdata;
        instance_empty_check(i, usec >= i->empty_deadline);
        return 0;
}

int instance_wait_empty(Instance *i, sd_event *e, InstanceEmptyHandler on_empty, void *userdata) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!i->cgroup)
                return 1;
        /* Usually empty already: the kernel took the PID namespace down with its init. */
        if (cgroup_is_populated(i->cgroup) <= 0)
                return 1;
        /* Otherwise the fd first, then another look: no change can fall between them. */
        r = cgroup_populated_fd(i->cgroup, &fd);
        if (r < 0 && r != -EOPNOTSUPP)
                return r;
        if (cgroup_is_populated(i->cgroup) <= 0)
                return 1;

        i->empty_deadline = now_usec(CLOCK_MONOTONIC) + EMPTY_TIMEOUT_USEC;
        if (fd >= 0) {
                r = sd_event_add_io(e, &i->empty_source, fd, EPOLLPRI, on_empty_io, i);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_io_fd_own(i->empty_source, true);
                TAKE_FD(fd);
                (void) sd_event_source_set_description(i->empty_source, "instance-cgroup-empty");
        }
        r = sd_event_add_time(e, &i->empty_timer, CLOCK_MONOTONIC,
                              i->empty_source ? i->empty_deadline : now_usec(CLOCK_MONOTONIC) + EMPTY_POLL_USEC,
                              USEC_PER_MSEC, on_empty_timer, i);
        if (r < 0) {
                instance_stop_waiting(i);
                return r;
        }
        (void) sd_event_source_set_description(i->empty_timer, "instance-cgroup-empty-timer");
        i->on_empty = on_empty;
        i->empty_userdata = userdata;
        return 0;
}

int instance_signal(Instance *i, int sig) {
        if (i->pidfd < 0)
                return -ESRCH;
        return pidfd_signal(i->pidfd, sig);
}

int instance_write_record(Instance *i, pid_t pid, uint64_t config_hash, const char *image, const char *rootfs) {
        StateRecord rec = {
                .unit = i->name,
                .pid = pid,
                .cgroup = i->cgroup ? (char *) (cgroup_path(i->cgroup, "unified") ?: cgroup_path(i->cgroup, "memory"))
                                    : NULL,
                .config_hash = config_hash,
                .image = (char *) image,
                .rootfs = (char *) rootfs,
        };
        char pidbuf[32];
        int r;

        r = proc_start_time(pid, &rec.start_time);
        if (r < 0)
                return r;
        memcpy(rec.run_id, i->id, sizeof(rec.run_id));
        r = state_record_write(i->dir_fd, &rec);
        if (r < 0)
                return r;
        /* Who runs the container, for tools and for whoever cleans up after a crash. */
        snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int) pid);
        return write_file_replace(i->dir_fd, "pid", pidbuf, strlen(pidbuf), 0644);
}

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
#include "container.h"
#include "instance.h"
#include "runtime/spawn.h"

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

Instance *instance_free(Instance *i) {
        if (!i)
                return NULL;
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
        } else if (r == -ECHILD) {
                /* Not our child (adopted): only its exit record can tell. */
                code = CLD_KILLED;
                status = SIGKILL;
        } else
                return 0;

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

int instance_signal(Instance *i, int sig) {
        if (i->pidfd < 0)
                return -ESRCH;
        return pidfd_signal(i->pidfd, sig);
}

int instance_write_record(Instance *i, uint64_t config_hash, const char *image, const char *rootfs) {
        StateRecord rec = {
                .unit = i->name,
                .pid = i->pid,
                .start_time = i->start_time,
                .cgroup = i->cgroup ? (char *) (cgroup_path(i->cgroup, "unified") ?: cgroup_path(i->cgroup, "memory"))
                                    : NULL,
                .config_hash = config_hash,
                .image = (char *) image,
                .rootfs = (char *) rootfs,
        };
        char pidbuf[32];
        int r;

        memcpy(rec.run_id, i->id, sizeof(rec.run_id));
        r = state_record_write(i->dir_fd, &rec);
        if (r < 0)
                return r;
        /* Who runs the container, for tools and for whoever cleans up after a crash. */
        snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int) i->pid);
        return write_file_replace(i->dir_fd, "pid", pidbuf, strlen(pidbuf), 0644);
}

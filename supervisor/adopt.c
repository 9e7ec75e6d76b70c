/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "adopt.h"
#include "basic/dirent-util.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/process-util.h"
#include "container.h"
#include "instance.h"
#include "state.h"

/* A pidfd for the record's process if it is that very process: opened first (it pins the pid),
 * then the start time compared, so a pid reused by another process is never adopted or
 * signalled. -ESRCH when the process is gone or another one has its pid. */
static int open_recorded_process(const StateRecord *rec, int *ret) {
        _cleanup_close_ int fd = -EBADF;
        uint64_t start;
        int r;

        fd = (int) syscall(SYS_pidfd_open, rec->pid, 0);
        if (fd < 0)
                return errno == ESRCH ? -ESRCH : negative_errno();
        r = proc_start_time(rec->pid, &start);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        if (start != rec->start_time)
                return -ESRCH;
        if (pidfd_signal(fd, 0) < 0)
                return -ESRCH; /* exited (a zombie left for its new parent to reap) */
        *ret = TAKE_FD(fd);
        return 0;
}

/* Stops and removes a run no unit takes: its unit is gone, or already has a run. */
static void drop_run(Manager *m, const char *id, const StateRecord *rec, const char *why) {
        _cleanup_close_ int pidfd = -EBADF;
        _cleanup_free_ char *dir = NULL, *cgname = NULL;
        int r;

        if (open_recorded_process(rec, &pidfd) >= 0) {
                log_warning("%s: run %s (PID %d) is still running, but %s: stopping it.", rec->unit, id,
                            (int) rec->pid, why);
                (void) pidfd_signal(pidfd, SIGKILL);
        } else
                log_info("%s: run %s is gone and %s: cleaning up.", rec->unit, id, why);
        /* The run's own cgroup ("NAME.RUN_ID"): whatever other run the unit has keeps its own. */
        if (m->cgroup_root && instance_cgroup_name(rec->unit, id, &cgname) >= 0) {
                _cleanup_(cgroup_freep) Cgroup *c = NULL;
                if (cgroup_open(m->cgroup_root, cgname, &c) >= 0) {
                        (void) cgroup_kill(c, SIGKILL);
                        /* Removed once the SIGKILLed processes are gone. */
                        manager_reap_cgroup(m, TAKE_PTR(c));
                }
        }
        /* Its writable layer too: a run that no unit takes is over for good. The name makes a
         * path: only a valid unit name is used as one. */
        r = unit_name_is_valid(rec->unit) ? container_layer_remove(m->state_dir, rec->unit, id) : 0;
        if (r < 0)
                log_warning_errno(r, "%s: cannot remove the writable layer of run %s: %m", rec->unit, id);
        if (asprintf(&dir, "%s/instances/%s", m->run_dir, id) >= 0)
                (void) rm_rf_at(AT_FDCWD, dir);
}

static void set_aside(Manager *m, int dir_fd, const char *id, int error) {
        _cleanup_free_ char *to = NULL;

        if (asprintf(&to, "%s.damaged", id) < 0)
                return;
        log_error_errno(error, "Run %s/instances/%s has a damaged state record, set aside as %s: %m", m->run_dir, id,
                        to);
        (void) renameat(dir_fd, id, dir_fd, to);
}

static int adopt_one(Manager *m, int dir_fd, const char *id) {
        _cleanup_(instance_freep) Instance *i = NULL;
        _cleanup_close_ int run_fd = -EBADF, pidfd = -EBADF;
        _cleanup_(state_record_done) StateRecord rec = {};
        Unit *u;
        int r;

        run_fd = openat(dir_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (run_fd < 0)
                return 0;
        r = state_record_read(run_fd, &rec);
        if (r == -ENOENT) {
                /* supd died between making the run's directory and cloning its container. */
                log_info("Run %s has no state record (its container never started): removing it.", id);
                (void) rm_rf_at(dir_fd, id);
                return 0;
        }
        if (r < 0 || !streq(rec.run_id, id)) {
                set_aside(m, dir_fd, id, r < 0 ? r : -EBADMSG);
                return 0;
        }

        u = manager_get_unit(m, rec.unit);
        if (!u || !u->file) {
                drop_run(m, id, &rec, "its unit file is gone");
                return 0;
        }
        if (u->instance) {
                drop_run(m, id, &rec, "the unit has another run");
                return 0;
        }

        r = open_recorded_process(&rec, &pidfd);
        if (r < 0 && r != -ESRCH)
                log_warning_errno(r, "%s: cannot check run %s's process, taking it as ended: %m", u->name, id);
        r = instance_open(m->run_dir, id, u->name, &i);
        if (r < 0)
                return log_error_errno(r, "%s: cannot open run %s: %m", u->name, id);
        if (m->cgroup_root) {
                /* The run's own cgroup, not one by the unit's name: that could be another run's. */
                _cleanup_free_ char *cgname = NULL;
                r = instance_cgroup_name(u->name, id, &cgname);
                if (r >= 0)
                        r = cgroup_open(m->cgroup_root, cgname, &i->cgroup);
                if (r < 0 && r != -ENOENT)
                        log_warning_errno(r, "%s: cannot open the cgroup of run %s: %m", u->name, id);
        }
        r = unit_adopt(u, TAKE_PTR(i), rec.pid, pidfd, rec.config_hash);
        if (r < 0)
                return log_error_errno(r, "%s: cannot adopt run %s: %m", u->name, id);
        TAKE_FD(pidfd);
        if (unit_main_pid(u) <= 0)
                return 0; /* it had ended: the restart policy has it now */

        /* Changed while no supd ran: the new configuration, as a reload would do it. */
        if (unit_settings(u) && unit_settings_hash(unit_settings(u)) != rec.config_hash) {
                log_info("%s: its unit file changed while supd was away: restarting it.", u->name);
                u->start_after_stop = true;
                (void) manager_stop_unit(m, u);
        }
        return 1;
}

/* Writable layers of runs that are over: their run dirs went with a reboot (/run is a tmpfs) or
 * with a supd that died before it could remove them. Anonymous volumes (containers/NAME/volumes)
 * are not runs and stay. */
static void remove_stale_layers(Manager *m) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/containers", m->state_dir) < 0 || opendir_at(AT_FDCWD, path, 0, &d) < 0)
                return;
        FOREACH_DIRENT (de, d) {
                _cleanup_closedir_ DIR *runs = NULL;
                Unit *u;

                if (opendir_at(dirfd(d), de->d_name, O_NOFOLLOW, &runs) < 0)
                        continue;
                u = manager_get_unit(m, de->d_name);
                FOREACH_DIRENT (run, runs) {
                        int r;
                        if (run_id_valid(run->d_name) < 0 || (u && u->instance && streq(u->instance->id, run->d_name)))
                                continue;
                        log_info("%s: removing the writable layer of run %s, which is over.", de->d_name, run->d_name);
                        r = rm_rf_at(dirfd(runs), run->d_name);
                        if (r < 0)
                                log_warning_errno(r, "%s: cannot remove %s/%s/%s: %m", de->d_name, path, de->d_name,
                                                  run->d_name);
                }
        }
}

static int adopt_runs(Manager *m) {
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *path = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        int n = 0, r;

        if (asprintf(&path, "%s/instances", m->run_dir) < 0)
                return log_oom();
        dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dir_fd < 0)
                return errno == ENOENT ? 0 : log_error_errno(errno, "Cannot open %s: %m", path);
        r = opendir_at(dir_fd, ".", 0, &d);
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %m", path);
        FOREACH_DIRENT (de, d) {
                if (run_id_valid(de->d_name) < 0)
                        continue; /* set aside, or not ours */
                r = adopt_one(m, dir_fd, de->d_name);
                if (r > 0)
                        n++;
        }
        if (n > 0)
                log_info("Adopted %d running container%s.", n, n == 1 ? "" : "s");
        return n;
}

int manager_adopt(Manager *m) {
        int n = adopt_runs(m);

        /* Also when there was nothing to adopt: after a reboot, every layer is stale. */
        remove_stale_layers(m);
        return n;
}

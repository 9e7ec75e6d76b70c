/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "basic/process-util.h"
#include "capability.h"
#include "seccomp-policy.h"
#include "spawn.h"
#include "user-lookup.h"
#include "workload.h"

void workload_fail(int error_fd, int error, int exit_code, const char *fmt, ...) {
        char buf[512];
        va_list ap;
        int n;

        n = snprintf(buf, sizeof(buf), "%d ", error);
        va_start(ap, fmt);
        if (n > 0 && (size_t) n < sizeof(buf))
                n += vsnprintf(buf + n, sizeof(buf) - (size_t) n, fmt, ap);
        va_end(ap);
        if (n > 0 && (size_t) n < sizeof(buf))
                snprintf(buf + n, sizeof(buf) - (size_t) n, ": %s", strerror(error));
        (void) !write(error_fd, buf, strlen(buf));
        _exit(exit_code);
}

void workload_reset_signals(void) {
        sigset_t empty;

        sigemptyset(&empty);
        sigprocmask(SIG_SETMASK, &empty, NULL);
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void) signal(s, SIG_DFL);
}

/* execvp() without its fallback: a file the kernel refuses with ENOEXEC (no "#!", another
 * architecture) is an error, not a script for /bin/sh, so a broken command fails its start with
 * "Exec format error" (126) instead of running and then exiting 127. The PATH search is
 * execvp()'s: skip what is missing, remember a permission problem, stop at any other error.
 * Returns the failure as a negative errno. */
static int exec_search_path(char *const *argv) {
        const char *path = getenv("PATH") ?: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        const char *name = argv[0];
        size_t len = strlen(name);
        bool eacces = false;

        if (len == 0)
                return -ENOENT;
        if (strchr(name, '/')) {
                execve(name, argv, environ);
                return negative_errno();
        }
        if (len >= PATH_MAX)
                return -ENAMETOOLONG;
        for (const char *p = path;; p++) {
                const char *end = strchrnul(p, ':');
                size_t dlen = (size_t) (end - p);
                char full[PATH_MAX];

                /* An empty entry is the working directory, as POSIX has it. */
                if (dlen + 1 + len < sizeof(full)) {
                        if (dlen > 0) {
                                memcpy(full, p, dlen);
                                full[dlen++] = '/';
                        }
                        memcpy(full + dlen, name, len + 1);
                        execve(full, argv, environ);
                        switch (errno) {
                        case EACCES:
                                eacces = true;
                                break;
                        case ENOENT:
                        case ENOTDIR:
                        case ESTALE:
                        case ENODEV:
                        case ETIMEDOUT:
                                break;
                        default:
                                return negative_errno();
                        }
                }
                if (*end == 0)
                        break;
                p = end;
        }
        return eacces ? -EACCES : -ENOENT;
}

void workload_exec(const WorkloadParams *w, int error_fd) {
        ContainerUser user = {};
        _cleanup_free_ char *error = NULL;
        int r;

        r = container_user_resolve(AT_FDCWD, w->user, w->group, &user, &error);
        if (r < 0) {
                if (error)
                        workload_fail(error_fd, -r, SPAWN_EXIT_SETUP, "%s", error);
                workload_fail(error_fd, -r, SPAWN_EXIT_SETUP, "look up user %s", w->user ?: "0");
        }

        /* supd raised its own fd limit; the workload gets the one supd was started with. */
        rlimit_nofile_restore();

        /* Environment: what the unit says, plus HOME and USER from the image's passwd. */
        clearenv();
        for (char *const *e = w->envp; e && *e; e++)
                (void) putenv(*e);
        (void) setenv("HOME", user.home, 0);
        if (user.name)
                (void) setenv("USER", user.name, 0);

        if (w->working_dir) {
                if (chdir(w->working_dir) < 0)
                        workload_fail(error_fd, errno, SPAWN_EXIT_SETUP, "chdir %s", w->working_dir);
        } else if (chdir(user.home) < 0)
                (void) chdir("/");

        /* The seccomp filter goes on while we still hold CAP_SYS_ADMIN (so it needs no
         * no_new_privs), and allows everything still to come: setgroups … execve. */
        if (w->seccomp) {
                r = seccomp_policy_install(w->seccomp);
                if (r < 0)
                        workload_fail(error_fd, -r, SPAWN_EXIT_SETUP, "load the seccomp filter of %s", w->name);
        }
        r = capability_drop_bounding(w->caps);
        if (r < 0)
                workload_fail(error_fd, -r, SPAWN_EXIT_SETUP, "drop capabilities of %s", w->name);
        if (setgroups(user.n_groups, user.groups) < 0 || setresgid(user.gid, user.gid, user.gid) < 0 ||
            setresuid(user.uid, user.uid, user.uid) < 0)
                workload_fail(error_fd, errno, SPAWN_EXIT_SETUP, "set user %u:%u", (unsigned) user.uid,
                              (unsigned) user.gid);
        r = capability_apply(w->caps, user.uid);
        if (r < 0)
                workload_fail(error_fd, -r, SPAWN_EXIT_SETUP, "set capabilities of %s", w->name);
        if (w->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                workload_fail(error_fd, errno, SPAWN_EXIT_SETUP, "set no_new_privs for %s", w->name);

        r = exec_search_path(w->argv);
        workload_fail(error_fd, -r, r == -ENOENT ? SPAWN_EXIT_NOTFOUND : SPAWN_EXIT_NOEXEC, "exec %s", w->argv[0]);
}

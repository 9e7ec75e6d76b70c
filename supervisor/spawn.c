/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "capability.h"
#include "seccomp-policy.h"
#include "spawn.h"
#include "user-lookup.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Well-known fd numbers in the child after rearrange_fds(). */
enum {
        CHILD_FD_SYNC = 3,
        CHILD_FD_STATE = 4,
        CHILD_FD_STDIN = 5,
        CHILD_FD_STDOUT = 6,
        CHILD_FD_STDERR = 7,
        _CHILD_FD_MAX,
};

/* The handshake over a SOCK_SEQPACKET pair, numbered as both ends refer to it:
 *   1. parent: clone3() into a new PID namespace (and the container's cgroup2 directory)
 *   2. parent: prepare() (cgroup v1 attach, …), then sends one byte "go"
 *   3. child:  waits for "go" (EOF means the parent gave up: exit), then sets up the container
 *   4. child:  on failure sends one line "ERRNO what: strerror" and exits 125/126/127
 *   5. parent: EOF without a line means every holder of the child's end has exec'd: success */

static pid_t clone3_pidfd(uint64_t flags, int cgroup_fd, int *ret_pidfd) {
        struct clone_args args = {
                .flags = flags | CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgroup_fd >= 0 ? (uint64_t) cgroup_fd : 0,
        };
        return (pid_t) syscall(SYS_clone3, &args, sizeof(args));
}

/* Step 4, child side. Never returns. */
_noreturn_ _printf_(3, 4) static void child_fail(int error, int exit_code, const char *fmt, ...) {
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
        (void) !write(CHILD_FD_SYNC, buf, strlen(buf));
        _exit(exit_code);
}

/* Moves the fds the child keeps to fixed numbers and closes every other one: the clone shares
 * nothing of supd's event loop, sockets or lock file with the container. */
static void rearrange_fds(const int *src, size_t n) {
        int tmp[_CHILD_FD_MAX];

        for (size_t i = 0; i < n; i++) {
                tmp[i] = src[i] >= 0 ? fcntl(src[i], F_DUPFD_CLOEXEC, 64) : open("/dev/null", O_RDWR | O_CLOEXEC);
                if (tmp[i] < 0)
                        _exit(SPAWN_EXIT_SETUP);
        }
        for (size_t i = 0; i < n; i++)
                if (dup3(tmp[i], CHILD_FD_SYNC + (int) i, O_CLOEXEC) < 0)
                        _exit(SPAWN_EXIT_SETUP);
        if (syscall(SYS_close_range, CHILD_FD_SYNC + (int) n, ~0U, 0) < 0)
                _exit(SPAWN_EXIT_SETUP);
}

static int loopback_up(void) {
        struct ifreq ifr = { .ifr_name = "lo" };
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return negative_errno();
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return negative_errno();
        ifr.ifr_flags |= IFF_UP;
        return RET_NERRNO(ioctl(fd, SIOCSIFFLAGS, &ifr));
}

/* The workload's last steps; on failure tells the parent why. Never returns. */
_noreturn_ static void exec_workload(const SpawnParams *p) {
        ContainerUser user = {};
        _cleanup_free_ char *error = NULL;
        sigset_t empty;
        int r;

        sigemptyset(&empty);
        sigprocmask(SIG_SETMASK, &empty, NULL);
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void) signal(s, SIG_DFL);

        if (dup2(CHILD_FD_STDIN, 0) < 0 || dup2(CHILD_FD_STDOUT, 1) < 0 || dup2(CHILD_FD_STDERR, 2) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "set up stdio of %s", p->name);
        if (p->stdin_fd >= 0 && isatty(0)) {
                /* A terminal: the workload leads a session with it as controlling tty. */
                (void) setsid();
                (void) ioctl(0, TIOCSCTTY, 0);
        }

        r = container_user_resolve(AT_FDCWD, p->user, p->group, &user, &error);
        if (r < 0) {
                if (error)
                        child_fail(-r, SPAWN_EXIT_SETUP, "%s", error);
                child_fail(-r, SPAWN_EXIT_SETUP, "look up user %s", p->user ?: "0");
        }

        /* Environment: what the unit says, plus HOME and USER from the image's passwd. */
        clearenv();
        for (char *const *e = p->envp; e && *e; e++)
                (void) putenv(*e);
        (void) setenv("HOME", user.home, 0);
        if (user.name)
                (void) setenv("USER", user.name, 0);

        if (p->working_dir) {
                if (chdir(p->working_dir) < 0)
                        child_fail(errno, SPAWN_EXIT_SETUP, "chdir %s", p->working_dir);
        } else if (chdir(user.home) < 0)
                (void) chdir("/");

        /* The seccomp filter goes on while we still hold CAP_SYS_ADMIN (so it needs no
         * no_new_privs), and allows everything still to come: setgroups … execve. */
        if (p->seccomp) {
                r = seccomp_policy_install(p->seccomp);
                if (r < 0)
                        child_fail(-r, SPAWN_EXIT_SETUP, "load the seccomp filter of %s", p->name);
        }
        r = capability_drop_bounding(p->caps);
        if (r < 0)
                child_fail(-r, SPAWN_EXIT_SETUP, "drop capabilities of %s", p->name);
        if (setgroups(user.n_groups, user.groups) < 0 || setresgid(user.gid, user.gid, user.gid) < 0 ||
            setresuid(user.uid, user.uid, user.uid) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "set user %u:%u", (unsigned) user.uid, (unsigned) user.gid);
        r = capability_apply(p->caps, user.uid);
        if (r < 0)
                child_fail(-r, SPAWN_EXIT_SETUP, "set capabilities of %s", p->name);
        if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "set no_new_privs for %s", p->name);

        /* fds 0-2 and the CLOEXEC sync socket are all the workload gets. */
        for (int fd = CHILD_FD_STATE; fd < _CHILD_FD_MAX; fd++)
                (void) close(fd);

        execvp(p->argv[0], p->argv);
        child_fail(errno, errno == ENOENT ? SPAWN_EXIT_NOTFOUND : SPAWN_EXIT_NOEXEC, "exec %s", p->argv[0]);
}

static void write_exit_record(int code, int status) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%s %d\n",
                 code == CLD_EXITED   ? "exited"
                 : code == CLD_DUMPED ? "dumped"
                                      : "killed",
                 status);
        (void) write_file_atomic(CHILD_FD_STATE, "exit", buf, strlen(buf), 0644);
}

/* Overwrites the argv area in place (its bounds are fields 48 and 49 of /proc/self/stat), the way
 * setproctitle() does; the kernel's view of /proc/PID/cmdline follows the memory. */
static void set_process_title(const char *title) {
        _cleanup_free_ char *stat = NULL;
        unsigned long start = 0, end = 0;
        const char *p;

        if (read_file_at(AT_FDCWD, "/proc/self/stat", 4096, &stat, NULL) < 0)
                return;
        p = strrchr(stat, ')'); /* comm may contain spaces */
        if (!p)
                return;
        /* After ")": field 3 onwards; arg_start is field 48. */
        p++;
        for (int field = 3; field < 48 && p; field++)
                p = strchr(p + 1, ' ');
        if (!p || sscanf(p, " %lu %lu", &start, &end) != 2 || end <= start)
                return;
        memset((void *) start, 0, end - start);
        strncpy((char *) start, title, end - start - 1);
}

/* The container's PID 1: reaps every orphan, forwards signals to the workload, and exits with the
 * workload's status after recording it in the state dir (so a supd that was away meanwhile can
 * still learn how the container ended). */
_noreturn_ static void run_init(const SpawnParams *p) {
        static const char title[] = "supd-init";
        sigset_t all;
        pid_t workload;

        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        /* Processes in the container must not reach our host fds or binary through /proc/1. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        (void) prctl(PR_SET_NAME, title, 0, 0, 0);
        /* Our command line is supd's, host paths included; show a neutral one instead. */
        set_process_title(title);

        workload = fork();
        if (workload < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "fork the workload of %s", p->name);
        if (workload == 0)
                exec_workload(p);

        /* The parent sees EOF on the sync socket once the workload has exec'd and we let go. */
        for (int fd = 0; fd < _CHILD_FD_MAX; fd++)
                if (fd != CHILD_FD_STATE)
                        (void) close(fd);

        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);

                if (sig < 0)
                        continue;
                if (sig == SIGCHLD) {
                        int st;
                        pid_t pid;
                        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
                                if (pid != workload)
                                        continue;
                                if (WIFEXITED(st)) {
                                        write_exit_record(CLD_EXITED, WEXITSTATUS(st));
                                        _exit(WEXITSTATUS(st));
                                }
                                write_exit_record(WCOREDUMP(st) ? CLD_DUMPED : CLD_KILLED, WTERMSIG(st));
                                _exit(128 + WTERMSIG(st));
                        }
                        continue;
                }
                if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
                        continue;
                (void) kill(workload, sig);
        }
}

_noreturn_ static void child_main(const SpawnParams *p, int sync_fd) {
        const int fds[] = { sync_fd, p->state_dir_fd, p->stdin_fd, p->stdout_fd, p->stderr_fd };
        char what[256] = "set up the container";
        char go;
        int r;

        rearrange_fds(fds, ELEMENTSOF(fds));

        /* Step 3. */
        if (read(CHILD_FD_SYNC, &go, 1) != 1)
                _exit(SPAWN_EXIT_SETUP);

        /* Now in the container's cgroups everywhere: that becomes the root of its cgroup view.
         * The other namespaces are made here too rather than by clone3() in supd: creating a
         * network namespace is expensive, and this way the child pays for it, not supd (only the
         * PID namespace has to come with the clone, for us to be its PID 1). */
        if (unshare(CLONE_NEWCGROUP | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                    (p->private_network ? CLONE_NEWNET : 0)) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "unshare the namespaces of %s", p->name);
        if (p->private_network && (r = loopback_up()) < 0)
                child_fail(-r, SPAWN_EXIT_SETUP, "bring up lo in %s", p->name);

        r = rootfs_setup(&p->rootfs, what, sizeof(what));
        if (r < 0)
                child_fail(-r, SPAWN_EXIT_SETUP, "%s", what);
        if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "sethostname %s", p->hostname);

        if (p->run_init)
                run_init(p);
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        exec_workload(p);
}

int spawn_container(const SpawnParams *p, pid_t *ret_pid, int *ret_pidfd, char **ret_error) {
        _cleanup_close_ int parent_fd = -EBADF, child_fd = -EBADF;
        uint64_t flags = CLONE_NEWPID;
        int pidfd = -EBADF, sv[2], r;
        char buf[600];
        size_t n = 0;
        pid_t pid;
        usec_t deadline;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return negative_errno();
        parent_fd = sv[0];
        child_fd = sv[1];

        /* Step 1. */
        pid = clone3_pidfd(flags, p->cgroup_fd, &pidfd);
        if (pid < 0 && errno == EBUSY && p->cgroup_fd >= 0)
                return -EBUSY; /* the target cgroup has controllers in subtree_control */
        if (pid < 0)
                return negative_errno();
        if (pid == 0)
                child_main(p, child_fd);
        child_fd = safe_close(child_fd);

        /* Step 2. */
        r = p->prepare ? p->prepare(pid, p->prepare_userdata) : 0;
        if (r < 0 || write(parent_fd, "g", 1) != 1) {
                if (r >= 0)
                        r = negative_errno();
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                (void) waitpid(pid, NULL, 0);
                safe_close(pidfd);
                return r;
        }

        /* Step 5, bounded so a child stuck in setup cannot wedge the event loop. */
        deadline = now_usec(CLOCK_MONOTONIC) + (p->setup_timeout ?: 30 * USEC_PER_SEC);
        for (;;) {
                struct pollfd pfd = { .fd = parent_fd, .events = POLLIN };
                usec_t now = now_usec(CLOCK_MONOTONIC);
                ssize_t k;

                if (now >= deadline) {
                        (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                        snprintf(buf, sizeof(buf), "%d setup of %s timed out", ETIMEDOUT, p->name);
                        n = strlen(buf);
                        break;
                }
                r = poll(&pfd, 1, (int) ((deadline - now + 999) / 1000));
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (r == 0)
                        continue;
                k = read(parent_fd, buf, sizeof(buf) - 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k > 0)
                        n = (size_t) k;
                break;
        }

        *ret_pid = pid;
        *ret_pidfd = pidfd;
        *ret_error = NULL;
        if (n > 0) {
                char *msg;
                buf[n] = 0;
                msg = strchr(buf, ' ');
                *ret_error = strdup(msg ? msg + 1 : buf);
        }
        return 0;
}

int spawn_read_exit_record(int state_dir_fd, int *ret_code, int *ret_status) {
        _cleanup_free_ char *s = NULL;
        char what[16];
        int status, r;

        r = read_file_at(state_dir_fd, "exit", 256, &s, NULL);
        if (r < 0)
                return r;
        if (sscanf(s, "%15s %d", what, &status) != 2)
                return -EBADMSG;
        if (streq(what, "exited"))
                *ret_code = CLD_EXITED;
        else if (streq(what, "killed"))
                *ret_code = CLD_KILLED;
        else if (streq(what, "dumped"))
                *ret_code = CLD_DUMPED;
        else
                return -EBADMSG;
        *ret_status = status;
        return 0;
}

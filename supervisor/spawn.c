/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "spawn.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Well-known fd numbers in the child after rearrange_fds(). */
enum {
        CHILD_FD_SYNC = 3,
        CHILD_FD_STATE = 4,
        CHILD_FD_LOG = 5,
        _CHILD_FD_MAX,
};

static pid_t clone3_pidfd(uint64_t flags, int *ret_pidfd) {
        struct clone_args args = {
                .flags = flags | CLONE_PIDFD,
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
        };
        return (pid_t) syscall(SYS_clone3, &args, sizeof(args));
}

/* Child side of the handshake: one line, "ERRNO what: strerror", then _exit. Never returns. */
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

#define CHILD_CHECK(expr, what, arg)                                                                                  \
        do {                                                                                                          \
                if ((expr) < 0)                                                                                       \
                        child_fail(errno, SPAWN_EXIT_SETUP, what, arg);                                               \
        } while (0)

/* Moves the fds the child keeps to fixed numbers and closes every other one: the clone shares
 * nothing of supd's event loop, sockets or lock file with the container. */
static void rearrange_fds(int sync_fd, int state_fd, int log_fd) {
        int src[] = { sync_fd, state_fd, log_fd };
        int tmp[ELEMENTSOF(src)];

        for (size_t i = 0; i < ELEMENTSOF(src); i++) {
                tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64);
                if (tmp[i] < 0)
                        _exit(SPAWN_EXIT_SETUP);
        }
        for (size_t i = 0; i < ELEMENTSOF(src); i++)
                if (dup3(tmp[i], CHILD_FD_SYNC + (int) i, O_CLOEXEC) < 0)
                        _exit(SPAWN_EXIT_SETUP);
        if (syscall(SYS_close_range, _CHILD_FD_MAX, ~0U, 0) < 0)
                _exit(SPAWN_EXIT_SETUP);
}

static int mkdir_in(const char *root, const char *rel, mode_t mode, char *buf, size_t size) {
        snprintf(buf, size, "%s/%s", root, rel);
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -1;
        return 0;
}

static void bind_device(const char *root, const char *dev) {
        char target[4096], source[64];
        int fd;

        snprintf(target, sizeof(target), "%s/dev/%s", root, dev);
        snprintf(source, sizeof(source), "/dev/%s", dev);
        fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "create %s", target);
        close(fd);
        CHILD_CHECK(mount(source, target, NULL, MS_BIND, NULL), "bind %s", source);
}

static void setup_rootfs(const SpawnParams *p) {
        const char *root = p->mount_dir;
        char path[4096], opts[8192];
        static const struct {
                const char *link, *target;
        } links[] = {
                { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
                { "stderr", "/proc/self/fd/2" }, { "ptmx", "pts/ptmx" },         { "core", "/proc/kcore" },
        };

        /* Nothing we mount may propagate back to the host. */
        CHILD_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "make / private%s", "");

        snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", p->rootfs, p->upper_dir, p->work_dir);
        if (mount("overlay", root, "overlay", MS_NODEV, opts) < 0) {
                /* No overlayfs (or a lower dir on a filesystem it cannot stack on): fall back to a
                 * read-only bind of the rootfs, so the image is never written to. */
                CHILD_CHECK(mount(p->rootfs, root, NULL, MS_BIND | MS_REC, NULL), "bind %s", p->rootfs);
                CHILD_CHECK(mount(NULL, root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), "remount %s", root);
        }

        CHILD_CHECK(mkdir_in(root, "proc", 0555, path, sizeof(path)), "mkdir %s", path);
        CHILD_CHECK(mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), "mount %s", path);

        CHILD_CHECK(mkdir_in(root, "sys", 0555, path, sizeof(path)), "mkdir %s", path);
        CHILD_CHECK(mount("sysfs", path, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL), "mount %s",
                    path);

        CHILD_CHECK(mkdir_in(root, "dev", 0755, path, sizeof(path)), "mkdir %s", path);
        CHILD_CHECK(mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k"), "mount %s", path);
        bind_device(root, "null");
        bind_device(root, "zero");
        bind_device(root, "full");
        bind_device(root, "random");
        bind_device(root, "urandom");
        bind_device(root, "tty");
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                snprintf(path, sizeof(path), "%s/dev/%s", root, links[i].link);
                CHILD_CHECK(symlink(links[i].target, path), "symlink %s", path);
        }
        CHILD_CHECK(mkdir_in(root, "dev/pts", 0755, path, sizeof(path)), "mkdir %s", path);
        CHILD_CHECK(mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"),
                    "mount %s", path);
        CHILD_CHECK(mkdir_in(root, "dev/shm", 01777, path, sizeof(path)), "mkdir %s", path);
        CHILD_CHECK(mount("shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k"), "mount %s",
                    path);
        CHILD_CHECK(mkdir_in(root, "dev/mqueue", 0755, path, sizeof(path)), "mkdir %s", path);
        CHILD_CHECK(mount("mqueue", path, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), "mount %s", path);

        /* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves the
         * container with no path back to the host's tree. */
        CHILD_CHECK(chdir(root), "chdir %s", root);
        CHILD_CHECK(syscall(SYS_pivot_root, ".", "."), "pivot_root %s", root);
        CHILD_CHECK(umount2(".", MNT_DETACH), "detach old root%s", "");
        CHILD_CHECK(chdir("/"), "chdir /%s", "");
}

/* The workload's last steps; on failure tells the parent why. Never returns. */
_noreturn_ static void exec_workload(const SpawnParams *p) {
        sigset_t empty;
        int fd;

        sigemptyset(&empty);
        sigprocmask(SIG_SETMASK, &empty, NULL);
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void) signal(s, SIG_DFL);

        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || dup2(fd, 0) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "open %s", "/dev/null");
        if (dup2(CHILD_FD_LOG, 1) < 0 || dup2(CHILD_FD_LOG, 2) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "dup %s", "stdout");

        if (p->set_user) {
                if (setgroups(0, NULL) < 0 || setresgid(p->gid, p->gid, p->gid) < 0 ||
                    setresuid(p->uid, p->uid, p->uid) < 0)
                        child_fail(errno, SPAWN_EXIT_SETUP, "set user %s", p->name);
        }
        if (p->working_dir && chdir(p->working_dir) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "chdir %s", p->working_dir);
        if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "no_new_privs %s", p->name);

        /* fds 0-2 and the CLOEXEC sync socket are all the workload gets; state and log fds go. */
        (void) close(CHILD_FD_STATE);
        (void) close(CHILD_FD_LOG);

        /* execvpe() searches the caller's PATH, not envp's: give it the container's. */
        for (char *const *e = p->envp; e && *e; e++)
                if (strneq(*e, "PATH=", 5))
                        (void) setenv("PATH", *e + 5, 1);
        execvpe(p->argv[0], p->argv, p->envp);
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

/* The container's PID 1: reaps every orphan, forwards signals to the workload, and exits with the
 * workload's status after recording it in the state dir (so a supd that was away meanwhile can
 * still learn how the container ended). */
_noreturn_ static void run_init(const SpawnParams *p) {
        sigset_t all;
        pid_t workload;

        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        /* Processes in the container must not reach our host fds through /proc/1/fd. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        (void) prctl(PR_SET_NAME, "supd-init", 0, 0, 0);

        workload = fork();
        if (workload < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "fork %s", p->name);
        if (workload == 0)
                exec_workload(p);

        /* The parent sees EOF on the sync socket once the workload has exec'd and we let go. */
        (void) close(CHILD_FD_SYNC);
        (void) close(CHILD_FD_LOG);
        {
                int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (fd >= 0) {
                        dup2(fd, 0);
                        dup2(fd, 1);
                        dup2(fd, 2);
                        close(fd);
                }
        }

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
        rearrange_fds(sync_fd, p->state_dir_fd, p->stdout_fd);

        setup_rootfs(p);
        if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "sethostname %s", p->hostname);

        if (p->run_init)
                run_init(p);
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        exec_workload(p);
}

int spawn_container(const SpawnParams *p, pid_t *ret_pid, int *ret_pidfd, char **ret_error) {
        _cleanup_close_ int parent_fd = -EBADF, child_fd = -EBADF;
        int pidfd = -EBADF, sv[2];
        char buf[600];
        size_t n = 0;
        pid_t pid;
        usec_t deadline;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return negative_errno();
        parent_fd = sv[0];
        child_fd = sv[1];

        pid = clone3_pidfd(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC, &pidfd);
        if (pid < 0)
                return negative_errno();
        if (pid == 0)
                child_main(p, child_fd);

        child_fd = safe_close(child_fd);

        /* Wait for EOF (success: every holder of the child end has exec'd or closed it) or one error
         * line, bounded so a child stuck in setup cannot wedge the event loop. */
        deadline = now_usec(CLOCK_MONOTONIC) + (p->setup_timeout ?: 30 * USEC_PER_SEC);
        for (;;) {
                struct pollfd pfd = { .fd = parent_fd, .events = POLLIN };
                usec_t now = now_usec(CLOCK_MONOTONIC);
                ssize_t k;
                int r;

                if (now >= deadline) {
                        (void) kill(pid, SIGKILL);
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

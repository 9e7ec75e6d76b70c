/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "basic/macro.h"
#include "basic/time-util.h"
#include "exec.h"
#include "spawn.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

enum {
        EXEC_FD_SYNC = 3,
        EXEC_FD_STDIN,
        EXEC_FD_STDOUT,
        EXEC_FD_STDERR,
        EXEC_FD_NS,
        _EXEC_FD_MAX,
};

#define exec_fail(error, code, ...) workload_fail(EXEC_FD_SYNC, error, code, __VA_ARGS__)

/* The handshake, as in spawn.c: 1. clone3 into the container's cgroup2 directory, 2. the parent
 * attaches the v1 hierarchies and sends "go", 3. the helper joins the namespaces and forks the
 * command, which may send a pty master, 4. one error line or EOF once the command is exec'd. */

static void send_fd(int sock, int fd) {
        char tag = 'P';
        struct iovec iov = { .iov_base = &tag, .iov_len = 1 };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
                exec_fail(errno, SPAWN_EXIT_SETUP, "pass the pty master%s", "");
}

_noreturn_ static void exec_command(const ExecParams *p) {
        workload_reset_signals();
        if (p->tty) {
                _cleanup_close_ int master = -EBADF;
                int n, unlock = 0, slave;
                char path[64];

                master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
                        exec_fail(errno, SPAWN_EXIT_SETUP, "allocate a pty%s", "");
                snprintf(path, sizeof(path), "/dev/pts/%d", n);
                (void) setsid();
                slave = open(path, O_RDWR | O_CLOEXEC);
                if (slave < 0)
                        exec_fail(errno, SPAWN_EXIT_SETUP, "open %s", path);
                (void) ioctl(slave, TIOCSCTTY, 0);
                if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
                        exec_fail(errno, SPAWN_EXIT_SETUP, "set up %s as stdio", path);
                send_fd(EXEC_FD_SYNC, master);
        } else if (dup2(EXEC_FD_STDIN, 0) < 0 || dup2(EXEC_FD_STDOUT, 1) < 0 || dup2(EXEC_FD_STDERR, 2) < 0)
                exec_fail(errno, SPAWN_EXIT_SETUP, "set up stdio%s", "");
        for (int fd = EXEC_FD_STDIN; fd < _EXEC_FD_MAX; fd++)
                (void) close(fd);
        if (syscall(SYS_close_range, _EXEC_FD_MAX, ~0U, 0) < 0)
                exec_fail(errno, SPAWN_EXIT_SETUP, "close fds%s", "");
        workload_exec(&p->workload, EXEC_FD_SYNC);
}

_noreturn_ static void helper_main(const ExecParams *p, int sync_fd) {
        const int src[] = { sync_fd, p->stdio[0], p->stdio[1], p->stdio[2], p->ns_pidfd };
        int tmp[ELEMENTSOF(src)], st;
        pid_t pid;
        char go;

        /* Before anything of the container can see us. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        for (size_t i = 0; i < ELEMENTSOF(src); i++) {
                /* Everything above the target range first, so no dup3() below clobbers a source. */
                int fd = src[i] >= 0 ? src[i] : open("/dev/null", O_RDWR | O_CLOEXEC);
                tmp[i] = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 64) : -1;
                if (tmp[i] < 0)
                        _exit(SPAWN_EXIT_SETUP);
        }
        for (size_t i = 0; i < ELEMENTSOF(src); i++)
                if (dup3(tmp[i], EXEC_FD_SYNC + (int) i, O_CLOEXEC) < 0)
                        _exit(SPAWN_EXIT_SETUP);
        if (syscall(SYS_close_range, _EXEC_FD_MAX, ~0U, 0) < 0)
                _exit(SPAWN_EXIT_SETUP);

        if (read(EXEC_FD_SYNC, &go, 1) != 1)
                _exit(SPAWN_EXIT_SETUP);
        if (setns(EXEC_FD_NS,
                  CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP) < 0)
                exec_fail(errno, SPAWN_EXIT_SETUP, "join the container's namespaces%s", "");

        pid = fork();
        if (pid < 0)
                exec_fail(errno, SPAWN_EXIT_SETUP, "fork%s", "");
        if (pid == 0)
                exec_command(p);

        for (int fd = 0; fd < _EXEC_FD_MAX; fd++)
                (void) close(fd);
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        _exit(SPAWN_EXIT_SETUP);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

int exec_spawn(const ExecParams *p, pid_t *ret_pid, int *ret_pidfd, int *ret_pty_master, char **ret_error) {
        _cleanup_close_ int parent_fd = -EBADF, child_fd = -EBADF, pty_master = -EBADF;
        int pidfd = -EBADF, cgroup_fd = p->cgroup ? cgroup_clone_fd(p->cgroup) : -EBADF, sv[2], r;
        struct clone_args args = {
                .flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgroup_fd >= 0 ? (uint64_t) cgroup_fd : 0,
        };
        usec_t deadline;
        char buf[600];
        size_t n = 0;
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return negative_errno();
        parent_fd = sv[0];
        child_fd = sv[1];

        pid = (pid_t) syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0)
                return negative_errno();
        if (pid == 0)
                helper_main(p, child_fd);
        child_fd = safe_close(child_fd);

        r = p->cgroup && (cgroup_fd < 0 || cgroup_needs_attach(p->cgroup)) ? cgroup_attach(p->cgroup, pid) : 0;
        if (r < 0 || write(parent_fd, "g", 1) != 1) {
                if (r >= 0)
                        r = negative_errno();
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                (void) waitpid(pid, NULL, 0);
                safe_close(pidfd);
                return r;
        }

        deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        for (;;) {
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int))];
                } control = {};
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
                struct msghdr mh = {
                        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)
                };
                struct pollfd pfd = { .fd = parent_fd, .events = POLLIN };
                usec_t now = now_usec(CLOCK_MONOTONIC);
                struct cmsghdr *c;
                ssize_t k;

                if (now >= deadline) {
                        (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                        snprintf(buf, sizeof(buf), "%d exec timed out", ETIMEDOUT);
                        n = strlen(buf);
                        break;
                }
                r = poll(&pfd, 1, (int) ((deadline - now + 999) / 1000));
                if (r <= 0) {
                        if (r < 0 && errno != EINTR)
                                break;
                        continue;
                }
                k = recvmsg(parent_fd, &mh, MSG_CMSG_CLOEXEC);
                if (k < 0 && errno == EINTR)
                        continue;
                c = k > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
                if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        safe_close(pty_master);
                        memcpy(&pty_master, CMSG_DATA(c), sizeof(int));
                        continue;
                }
                if (k > 0)
                        n = (size_t) k;
                break;
        }

        *ret_pid = pid;
        *ret_pidfd = pidfd;
        *ret_error = NULL;
        if (ret_pty_master)
                *ret_pty_master = TAKE_FD(pty_master);
        if (n > 0) {
                char *msg;
                buf[n] = 0;
                msg = strchr(buf, ' ');
                *ret_error = strdup(msg ? msg + 1 : buf);
                /* The line starts with the errno: the caller tells "not found" from the rest. */
                return -abs(atoi(buf) ?: EIO);
        }
        return 0;
}

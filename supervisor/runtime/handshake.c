/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "basic/macro.h"
#include "handshake.h"
#include "spawn.h"

void handshake_rearrange_fds(const int *src, size_t n, int first) {
        int tmp[16];

        if (n > ELEMENTSOF(tmp))
                _exit(SPAWN_EXIT_SETUP);
        for (size_t i = 0; i < n; i++) {
                /* Everything above the target range first, so no dup3() below clobbers a source. */
                int fd = src[i] >= 0 ? src[i] : open("/dev/null", O_RDWR | O_CLOEXEC);
                tmp[i] = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 64) : -1;
                if (tmp[i] < 0)
                        _exit(SPAWN_EXIT_SETUP);
        }
        for (size_t i = 0; i < n; i++)
                if (dup3(tmp[i], first + (int) i, O_CLOEXEC) < 0)
                        _exit(SPAWN_EXIT_SETUP);
        if (syscall(SYS_close_range, first + (int) n, ~0U, 0) < 0)
                _exit(SPAWN_EXIT_SETUP);
}

void handshake_wait_go(int sock) {
        char go;
        if (read(sock, &go, 1) != 1)
                _exit(SPAWN_EXIT_SETUP);
}

int handshake_send_fd(int sock, int fd) {
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
        return RET_NERRNO(sendmsg(sock, &mh, MSG_NOSIGNAL));
}

int handshake_open_pty(int *ret_master, int *ret_slave, char *ret_path, size_t path_size) {
        _cleanup_close_ int master = -EBADF;
        int n, unlock = 0, slave;

        master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
                return negative_errno();
        snprintf(ret_path, path_size, "/dev/pts/%d", n);
        slave = open(ret_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return negative_errno();
        *ret_master = TAKE_FD(master);
        *ret_slave = slave;
        return 0;
}

int handshake_go(int sock, pid_t pid, int pidfd, int prepare_result) {
        int r = prepare_result;

        if (r >= 0 && write(sock, "g", 1) != 1)
                r = negative_errno();
        if (r < 0) {
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                (void) waitpid(pid, NULL, 0);
        }
        return r;
}

int handshake_wait_exec(int sock, int pidfd, usec_t timeout, const char *what, int *ret_fd, char **ret_error) {
        _cleanup_close_ int fd = -EBADF;
        usec_t deadline = now_usec(CLOCK_MONOTONIC) + timeout;
        char buf[600];
        ssize_t k = 0;

        *ret_error = NULL;
        for (;;) {
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int))];
                } control = {};
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
                struct msghdr mh = {
                        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)
                };
                struct pollfd pfd = { .fd = sock, .events = POLLIN };
                usec_t now = now_usec(CLOCK_MONOTONIC);
                struct cmsghdr *c;
                int r;

                /* Bounded, so that a child stuck in setup cannot wedge the event loop. */
                if (now >= deadline) {
                        (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                        if (asprintf(ret_error, "%s timed out", what) < 0)
                                *ret_error = NULL;
                        return -ETIMEDOUT;
                }
                r = poll(&pfd, 1, (int) ((deadline - now + 999) / 1000));
                if (r < 0 && errno != EINTR)
                        return negative_errno();
                if (r <= 0)
                        continue;
                k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
                if (k < 0 && errno == EINTR)
                        continue;
                c = k > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
                if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        safe_close(fd);
                        memcpy(&fd, CMSG_DATA(c), sizeof(int));
                        continue;
                }
                break;
        }

        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        if (k > 0) {
                char *msg;
                buf[k] = 0;
                msg = strchr(buf, ' ');
                *ret_error = strdup(msg ? msg + 1 : buf);
                /* The line starts with the errno: callers tell "not found" from the rest. */
                return -abs(atoi(buf) ?: EIO);
        }
        return 0;
}

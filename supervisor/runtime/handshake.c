/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "basic/macro.h"
#include "basic/process-util.h"
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

void handshake_step(int sock, char tag) {
        if (write(sock, &tag, 1) != 1)
                _exit(SPAWN_EXIT_SETUP);
        handshake_wait_go(sock);
}

int handshake_send_fd(int sock, int fd) {
        char tag = HANDSHAKE_FD;
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

int handshake_go(int sock, int prepare_result) {
        if (prepare_result < 0)
                return prepare_result;
        if (write(sock, (char[]){ HANDSHAKE_GO }, 1) != 1)
                return negative_errno();
        return 0;
}

typedef enum HandshakeState {
        STATE_SETUP,   /* waiting for the child's next message */
        STATE_NETWORK, /* the child waits in the network step; the hook has not answered yet */
        STATE_EXECUTED,
        STATE_FAILED,
} HandshakeState;

struct SpawnHandle {
        ChildGuard child; /* until spawn_handle_take(): killed and reaped with the handle */
        int sock;
        int pty_master;
        int netns_fd;
        HandshakeState state;
        bool expect_network; /* EOF before the 'N' step means the child died, not that it exec'd */
        char *name;
        int (*network)(pid_t pid, int netns_fd, void *userdata);
        void *network_userdata;
        int error_errno;
        char *error;
};

static void kill_child(SpawnHandle *h) {
        (void) pidfd_signal(h->child.pidfd, SIGKILL);
}

/* Ends the handshake. A child still waiting for an answer reads EOF and exits 125 by itself. The
 * fd stays open until spawn_handle_free(), for the caller to remove its watch first. */
static int handle_finish(SpawnHandle *h, HandshakeState state) {
        h->state = state;
        (void) shutdown(h->sock, SHUT_RDWR);
        h->netns_fd = safe_close(h->netns_fd);
        return state == STATE_EXECUTED ? SPAWN_EXECUTED : SPAWN_FAILED;
}

_printf_(3, 4) static int handle_fail(SpawnHandle *h, int error, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(h->error);
        h->error = s; /* NULL on OOM: callers fall back to strerror(error_errno) */
        h->error_errno = -abs(error ?: EIO);
        return handle_finish(h, STATE_FAILED);
}

int spawn_handle_new(ChildGuard child, int sock, const char *name,
                     int (*network)(pid_t pid, int netns_fd, void *userdata), void *network_userdata,
                     SpawnHandle **ret) {
        SpawnHandle *h = calloc(1, sizeof(SpawnHandle));

        if (h)
                h->name = strdup(name ?: "container");
        if (!h || !h->name) {
                free(h);
                child_guard_done(&child);
                safe_close(sock);
                return -ENOMEM;
        }
        h->child = child;
        h->sock = sock;
        h->pty_master = -EBADF;
        h->netns_fd = -EBADF;
        h->state = STATE_SETUP;
        h->expect_network = network;
        h->network = network;
        h->network_userdata = network_userdata;
        *ret = h;
        return 0;
}

/* The 'N' step: the child sits in its new network namespace and waits for us. */
static int handle_network_step(SpawnHandle *h) {
        char path[64];
        int r;

        h->expect_network = false;
        h->state = STATE_NETWORK;
        /* The child is ours and not reaped, so its pid cannot have been reused. */
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) h->child.pid);
        h->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (h->netns_fd < 0)
                return spawn_handle_network_done(h, negative_errno());
        r = h->network(h->child.pid, h->netns_fd, h->network_userdata);
        if (r == SPAWN_NETWORK_PENDING)
                return SPAWN_PENDING;
        return spawn_handle_network_done(h, r);
}

int spawn_handle_network_done(SpawnHandle *h, int r) {
        if (h->state != STATE_NETWORK)
                return -EBUSY;
        h->netns_fd = safe_close(h->netns_fd);
        if (r < 0)
                return handle_fail(h, r, "configure the network of %s: %s", h->name, strerror(-r));
        h->state = STATE_SETUP;
        if (write(h->sock, (char[]){ HANDSHAKE_NETNS_DONE }, 1) != 1) {
                r = negative_errno();
                kill_child(h);
                return handle_fail(h, r, "continue the setup of %s: %s", h->name, strerror(-r));
        }
        return SPAWN_PENDING;
}

int spawn_handle_process(SpawnHandle *h) {
        if (h->state == STATE_EXECUTED)
                return SPAWN_EXECUTED;
        if (h->state == STATE_FAILED)
                return SPAWN_FAILED;

        for (;;) {
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(int))];
                } control = {};
                char buf[600];
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
                struct msghdr mh = {
                        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)
                };
                struct cmsghdr *c;
                ssize_t k;
                int r;

                k = recvmsg(h->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return SPAWN_PENDING;
                if (k < 0) {
                        r = negative_errno();
                        kill_child(h);
                        (void) handle_fail(h, r, "setup of %s: %s", h->name, strerror(-r));
                        return r;
                }
                if (k == 0) {
                        /* EOF: every holder of the child's end has exec'd or died. Only while
                         * the child waits for us (or before it reached a step it must reach)
                         * does that tell a death. */
                        if (h->state == STATE_NETWORK || h->expect_network)
                                return handle_fail(h, EIO, "setup of %s: the container exited during setup", h->name);
                        return handle_finish(h, STATE_EXECUTED);
                }

                c = CMSG_FIRSTHDR(&mh);
                if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        safe_close(h->pty_master);
                        memcpy(&h->pty_master, CMSG_DATA(c), sizeof(int));
                        continue;
                }
                if (k == 1 && buf[0] == HANDSHAKE_NETNS_READY && h->state == STATE_SETUP && h->network) {
                        r = handle_network_step(h);
                        if (r != SPAWN_PENDING || h->state != STATE_SETUP)
                                return r;
                        continue;
                }
                if (k == 1 && buf[0] == HANDSHAKE_FD)
                        continue; /* its fd went missing (MSG_CTRUNC): the child fails or goes on */

                /* The child's failure line, "ERRNO what: strerror"; it exits by itself. */
                buf[k] = 0;
                {
                        char *msg = strchr(buf, ' ');
                        /* Not killed: its exit status (125-127) is how the caller tells the cases. */
                        return handle_fail(h, atoi(buf), "%s", msg ? msg + 1 : buf);
                }
        }
}

int spawn_handle_abort(SpawnHandle *h, int error) {
        if (h->state == STATE_EXECUTED || h->state == STATE_FAILED)
                return spawn_handle_process(h);
        kill_child(h);
        return handle_fail(h, error, "setup of %s: %s", h->name, strerror(abs(error ?: ECANCELED)));
}

int spawn_handle_fd(const SpawnHandle *h) {
        return h->sock;
}

pid_t spawn_handle_pid(const SpawnHandle *h) {
        return h->child.pid;
}

const char *spawn_handle_error(const SpawnHandle *h, int *ret_errno) {
        if (h->state != STATE_FAILED)
                return NULL;
        if (ret_errno)
                *ret_errno = h->error_errno;
        return h->error ?: strerror(-h->error_errno);
}

int spawn_handle_take(SpawnHandle *h, pid_t *ret_pid, int *ret_pidfd, int *ret_pty_master) {
        ChildGuard child;

        if (h->state != STATE_EXECUTED && h->state != STATE_FAILED)
                return -EBUSY;
        if (h->child.pid <= 0)
                return -ESRCH; /* taken already */
        child = TAKE_CHILD_GUARD(h->child);
        *ret_pid = child.pid;
        *ret_pidfd = child.pidfd;
        if (ret_pty_master)
                *ret_pty_master = TAKE_FD(h->pty_master);
        return 0;
}

SpawnHandle *spawn_handle_free(SpawnHandle *h) {
        if (!h)
                return NULL;
        /* Nobody took the child: it must not outlive the handle, nor stay a zombie. */
        child_guard_done(&h->child);
        safe_close(h->sock);
        safe_close(h->pty_master);
        safe_close(h->netns_fd);
        free(h->name);
        free(h->error);
        free(h);
        return NULL;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <linux/sched.h>
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
#include "basic/process-util.h"
#include "basic/time-util.h"
#include "exec.h"
#include "handshake.h"
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
        EXEC_FD_ROOT,
        _EXEC_FD_MAX,
};

#define exec_fail(error, code, ...) workload_fail(EXEC_FD_SYNC, error, code, __VA_ARGS__)

/* The handshake, as in spawn.c: 1. clone3 into the container's cgroup2 directory, 2. the parent
 * attaches the v1 hierarchies and sends "go", 3. the helper joins the namespaces and forks the
 * command, which may send a pty master, 4. one error line or EOF once the command is exec'd. */

_noreturn_ static void exec_command(const ExecParams *p) {
        workload_reset_signals();
        if (p->tty) {
                _cleanup_close_ int master = -EBADF, slave = -EBADF;
                char path[64];
                int r;

                r = handshake_open_pty(&master, &slave, path, sizeof(path));
                if (r < 0)
                        exec_fail(-r, SPAWN_EXIT_SETUP, "allocate a pty%s", "");
                (void) setsid();
                (void) ioctl(slave, TIOCSCTTY, 0);
                if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
                        exec_fail(errno, SPAWN_EXIT_SETUP, "set up %s as stdio", path);
                r = handshake_send_fd(EXEC_FD_SYNC, master);
                if (r < 0)
                        exec_fail(-r, SPAWN_EXIT_SETUP, "pass the pty master%s", "");
        } else if (dup2(EXEC_FD_STDIN, 0) < 0 || dup2(EXEC_FD_STDOUT, 1) < 0 || dup2(EXEC_FD_STDERR, 2) < 0)
                exec_fail(errno, SPAWN_EXIT_SETUP, "set up stdio%s", "");
        for (int fd = EXEC_FD_STDIN; fd < _EXEC_FD_MAX; fd++)
                (void) close(fd);
        if (syscall(SYS_close_range, _EXEC_FD_MAX, ~0U, 0) < 0)
                exec_fail(errno, SPAWN_EXIT_SETUP, "close fds%s", "");
        workload_exec(&p->workload, EXEC_FD_SYNC);
}

_noreturn_ static void helper_main(const ExecParams *p, int sync_fd) {
        char root_path[64];
        int root_fd, st, r;
        pid_t pid;

        /* The container's root directory, taken now: setns() alone does not move our root and
         * working directory into it on every kernel (6.1 leaves both), so we chroot there. */
        snprintf(root_path, sizeof(root_path), "/proc/%d/root", (int) p->ns_pid);
        root_fd = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        const int src[] = { sync_fd, p->stdio[0], p->stdio[1], p->stdio[2], p->ns_pidfd, root_fd };

        /* Before anything of the container can see us. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        /* Moving ourselves into the v1 hierarchies is cheap, the parent writing our PID is not;
         * done while the cgroup's fds are still open, reported once the sync socket is in place. */
        r = p->cgroup && (cgroup_clone_fd(p->cgroup) < 0 || cgroup_needs_attach(p->cgroup))
                    ? cgroup_attach_self(p->cgroup, cgroup_clone_fd(p->cgroup) >= 0)
                    : 0;
        handshake_rearrange_fds(src, ELEMENTSOF(src), EXEC_FD_SYNC);
        if (r < 0)
                exec_fail(-r, SPAWN_EXIT_SETUP, "join the container's cgroup%s", "");
        handshake_wait_go(EXEC_FD_SYNC);
        if (setns(EXEC_FD_NS,
                  CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP) < 0)
                exec_fail(errno, SPAWN_EXIT_SETUP, "join the container's namespaces%s", "");
        if (root_fd < 0)
                exec_fail(ENOENT, SPAWN_EXIT_SETUP, "open %s", root_path);
        if (fchdir(EXEC_FD_ROOT) < 0 || chroot(".") < 0 || chdir("/") < 0)
                exec_fail(errno, SPAWN_EXIT_SETUP, "enter the container's root%s", "");

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

int exec_spawn_begin(const ExecParams *p, SpawnHandle **ret) {
        _cleanup_close_ int parent_fd = -EBADF, child_fd = -EBADF;
        _cleanup_(child_guard_done) ChildGuard child = CHILD_GUARD_NULL;
        int pidfd = -EBADF, cgroup_fd = p->cgroup ? cgroup_clone_fd(p->cgroup) : -EBADF, sv[2], r;
        struct clone_args args = {
                .flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgroup_fd >= 0 ? (uint64_t) cgroup_fd : 0,
        };
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
        child = (ChildGuard){ .pid = pid, .pidfd = pidfd };
        child_fd = safe_close(child_fd);

        r = handshake_go(parent_fd, 0);
        if (r < 0)
                return r;
        return spawn_handle_new(TAKE_CHILD_GUARD(child), TAKE_FD(parent_fd), "exec", NULL, NULL, ret);
}

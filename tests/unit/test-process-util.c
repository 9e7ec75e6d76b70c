/* SPDX-License-Identifier: GPL-2.0-or-later */
/* basic/process-util: reaping through a pidfd without blocking, signalling through it, and the
 * guard that kills and reaps a forked child unless it is taken. Forks its own children only. */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "basic/process-util.h"

/* A child that waits (for a signal, or for the pipe to close) and exits with code. */
static pid_t fork_child(int code, int *ret_pidfd, int *ret_pipe) {
        int p[2];
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char c;
                close(p[1]);
                (void) read(p[0], &c, 1);
                _exit(code);
        }
        close(p[0]);
        *ret_pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        assert_true(*ret_pidfd >= 0);
        *ret_pipe = p[1];
        return pid;
}

/* Bounded: the exit of a child that was told to go, seen as the pidfd turning readable. */
static void wait_readable(int pidfd) {
        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
        assert_int_equal(poll(&pfd, 1, 10000), 1);
}

static void test_pidfd_reap(void **state) {
        siginfo_t si = {};
        int pidfd, pipe_fd;
        pid_t pid = fork_child(7, &pidfd, &pipe_fd);

        /* Still running: nothing to reap, and nothing blocks. */
        assert_int_equal(pidfd_reap(pidfd, &si), 0);
        close(pipe_fd);
        wait_readable(pidfd);
        assert_int_equal(pidfd_reap(pidfd, &si), 1);
        assert_int_equal(si.si_pid, pid);
        assert_int_equal(si.si_code, CLD_EXITED);
        assert_int_equal(si.si_status, 7);
        /* Reaped: it is nobody's child any more. */
        assert_int_equal(pidfd_reap(pidfd, &si), -ECHILD);
        assert_int_equal(pidfd_signal(pidfd, SIGTERM), -ESRCH);
        close(pidfd);
        assert_int_equal(pidfd_reap(-EBADF, NULL), -EBADF);
}

static void test_pidfd_signal(void **state) {
        siginfo_t si = {};
        int pidfd, pipe_fd;

        (void) fork_child(0, &pidfd, &pipe_fd);
        assert_int_equal(pidfd_signal(pidfd, SIGTERM), 0);
        wait_readable(pidfd);
        assert_int_equal(pidfd_reap(pidfd, &si), 1);
        assert_int_equal(si.si_code, CLD_KILLED);
        assert_int_equal(si.si_status, SIGTERM);
        close(pidfd);
        close(pipe_fd);
}

/* A process that is not our child (our parent) cannot be reaped by us. */
static void test_pidfd_not_ours(void **state) {
        int pidfd = (int) syscall(SYS_pidfd_open, getppid(), 0);

        assert_true(pidfd >= 0);
        assert_int_equal(pidfd_reap(pidfd, NULL), -ECHILD);
        close(pidfd);
}

static void test_child_guard(void **state) {
        int pidfd, pipe_fd, status;
        pid_t pid;

        /* Going out of scope: the child is SIGKILLed and reaped (no zombie left to wait for). */
        pid = fork_child(0, &pidfd, &pipe_fd);
        { _unused_ _cleanup_(child_guard_done) ChildGuard g = { .pid = pid, .pidfd = pidfd }; }
        assert_int_equal(waitpid(pid, &status, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
        close(pipe_fd);

        /* Without a pidfd, by pid. */
        pid = fork_child(0, &pidfd, &pipe_fd);
        close(pidfd);
        { _unused_ _cleanup_(child_guard_done) ChildGuard g = { .pid = pid, .pidfd = -EBADF }; }
        assert_int_equal(waitpid(pid, &status, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
        close(pipe_fd);

        /* Taken: the child lives on and is the new owner's to reap. */
        pid = fork_child(3, &pidfd, &pipe_fd);
        {
                _cleanup_(child_guard_done) ChildGuard g = { .pid = pid, .pidfd = pidfd };
                ChildGuard taken = TAKE_CHILD_GUARD(g);
                assert_int_equal(taken.pid, pid);
                assert_int_equal(taken.pidfd, pidfd);
                assert_int_equal(g.pid, 0);
                assert_true(g.pidfd < 0);
        }
        assert_int_equal(pidfd_signal(pidfd, 0), 0);
        close(pipe_fd);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 3);
        close(pidfd);

        /* An inert guard does nothing. */
        { _unused_ _cleanup_(child_guard_done) ChildGuard g = CHILD_GUARD_NULL; }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pidfd_reap),
                cmocka_unit_test(test_pidfd_signal),
                cmocka_unit_test(test_pidfd_not_ours),
                cmocka_unit_test(test_child_guard),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

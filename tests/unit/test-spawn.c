/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The non-blocking spawn API (runtime/spawn.h) driven from an sd-event loop, against the real
 * kernel: needs root, and never skips. The rootfs is contrib/make-rootfs.sh's, built into
 * /tmp/supd-test-spawn-<pid>, which is removed at the end. The whole test runs in a network
 * namespace of its own, so the veths it makes never appear on the host; it deletes them anyway. */
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "runtime/capability.h"
#include "runtime/spawn.h"

static char tmp_dir[64], rootfs[128];

/* ---- helpers independent of the code under test ---- */

/* Runs argv (PATH lookup), optionally in the network namespace netns_fd; returns its exit status. */
static int run(int netns_fd, const char *const *argv) {
        pid_t pid = fork();
        int st;

        assert_true(pid >= 0);
        if (pid == 0) {
                if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
                        _exit(120);
                execvp(argv[0], (char *const *) argv);
                _exit(121);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void make_dir(const char *path) {
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                fail_msg("mkdir %s: %m", path);
}

/* Reads what the workload wrote until EOF (every writer gone), bounded. */
static char *read_all(int fd) {
        char *s = calloc(1, 4096);
        size_t n = 0;

        assert_non_null(s);
        while (n < 4095) {
                ssize_t k;
                if (poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 10000) != 1)
                        fail_msg("no output from the workload within 10 s");
                k = read(fd, s + n, 4095 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        return s;
}

/* ---- one container run, driven by the loop ---- */

typedef struct Run {
        sd_event *event;
        SpawnHandle *handle;
        sd_event_source *sync_source, *child_source, *deadline;
        char dirs[4][160]; /* mount, upper, work */
        char *argv[4];
        char *envp[2];
        SpawnParams params;
        int out[2]; /* the workload's stdout and stderr */
        /* what happened, in order */
        char events[16];
        size_t n_events;
        int result;
        char *error;
        int error_errno;
        int exit_status;
        /* the network step */
        int network_mode; /* 0: none, 1: answer later from a timer, 2: fail, 3: veth, 4: never answer */
        pid_t network_pid;
        char veth_host[IFNAMSIZ], veth_peer[IFNAMSIZ];
} Run;

static void note(Run *r, char what) {
        assert_true(r->n_events < sizeof(r->events) - 1);
        r->events[r->n_events++] = what;
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Run *r = userdata;

        note(r, 'x');
        r->exit_status = si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
        return sd_event_exit(r->event, 0);
}

static void finish(Run *r, int result) {
        pid_t pid;
        int pidfd;

        note(r, result == SPAWN_EXECUTED ? 'E' : 'F');
        r->result = result;
        if (result == SPAWN_FAILED) {
                const char *e = spawn_handle_error(r->handle, &r->error_errno);
                r->error = strdup(e);
        }
        r->sync_source = sd_event_source_disable_unref(r->sync_source);
        assert_int_equal(spawn_handle_take(r->handle, &pid, &pidfd, NULL), 0);
        assert_int_equal(sd_event_add_child_pidfd(r->event, &r->child_source, pidfd, WEXITED, on_child_exit, r), 0);
        assert_int_equal(sd_event_source_set_child_pidfd_own(r->child_source, true), 0);
}

static int on_sync(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Run *r = userdata;
        int k = spawn_handle_process(r->handle);

        assert_true(k >= 0);
        if (k != SPAWN_PENDING)
                finish(r, k);
        return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Run *r = userdata;

        note(r, 'T');
        finish(r, spawn_handle_abort(r->handle, -ETIMEDOUT));
        return 0;
}

/* Fires while the child waits in the network step: the loop runs, the setup is not done. */
static int on_answer(sd_event_source *s, uint64_t usec, void *userdata) {
        Run *r = userdata;
        int k;

        note(r, 't');
        assert_int_equal(spawn_handle_process(r->handle), SPAWN_PENDING);
        k = spawn_handle_network_done(r->handle, 0);
        assert_int_equal(k, SPAWN_PENDING);
        return 0;
}

static int network_hook(pid_t pid, int netns_fd, void *userdata) {
        Run *r = userdata;
        char pidstr[16];

        note(r, 'N');
        r->network_pid = pid;
        assert_true(netns_fd >= 0);
        switch (r->network_mode) {
        case 1:
                assert_int_equal(sd_event_add_time_relative(r->event, NULL, CLOCK_MONOTONIC, 1000, 0, on_answer, r),
                                 0);
                return SPAWN_NETWORK_PENDING;
        case 2:
                return -EADDRNOTAVAIL;
        case 4:
                return SPAWN_NETWORK_PENDING;
        case 3:
                /* What netns/ will do: a veth pair here, one end moved into the container and
                 * renamed eth0 there (a name that would collide on the host side). */
                snprintf(pidstr, sizeof(pidstr), "%d", (int) pid);
                assert_int_equal(run(-1, (const char *const[]){ "ip", "link", "add", r->veth_host, "type", "veth",
                                                                "peer", "name", r->veth_peer, NULL }),
                                 0);
                assert_int_equal(run(-1, (const char *const[]){ "ip", "link", "set", "dev", r->veth_peer, "address",
                                                                "02:73:75:70:64:01", NULL }),
                                 0);
                assert_int_equal(run(-1, (const char *const[]){ "ip", "link", "set", "dev", r->veth_peer, "netns",
                                                                pidstr, NULL }),
                                 0);
                assert_int_equal(run(netns_fd, (const char *const[]){ "ip", "link", "set", "dev", r->veth_peer, "name",
                                                                      "eth0", NULL }),
                                 0);
                return 0;
        }
        return 0;
}

static void run_container(Run *r, const char *tag, const char *command, int network_mode, uint64_t deadline) {
        static unsigned counter;
        _cleanup_close_ int out_read = -EBADF;
        int k;

        *r = (Run){ .network_mode = network_mode, .exit_status = -1, .result = -1 };
        for (size_t i = 0; i < 3; i++) {
                snprintf(r->dirs[i], sizeof(r->dirs[i]), "%s/%s-%u-%s", tmp_dir, tag, counter,
                         (const char *[]){ "mount", "upper", "work" }[i]);
                make_dir(r->dirs[i]);
        }
        counter++;
        snprintf(r->veth_host, sizeof(r->veth_host), "sth%d", (int) getpid() % 1000000);
        snprintf(r->veth_peer, sizeof(r->veth_peer), "stc%d", (int) getpid() % 1000000);
        r->argv[0] = (char *) "/bin/sh";
        r->argv[1] = (char *) "-c";
        r->argv[2] = (char *) command;
        r->envp[0] = (char *) "PATH=/bin:/sbin:/usr/bin";
        assert_int_equal(pipe2(r->out, O_CLOEXEC), 0);
        out_read = r->out[0];

        static char *lower[2];
        lower[0] = rootfs;
        r->params = (SpawnParams){
                .name = tag,
                .rootfs = { .lower_dirs = lower,
                            .upper_dir = r->dirs[1],
                            .work_dir = r->dirs[2],
                            .mount_dir = r->dirs[0] },
                .hostname = "spawn-test",
                .workload = { .name = tag, .argv = r->argv, .envp = r->envp, .caps = capability_default_set() },
                .run_init = true,
                .private_network = true,
                .cgroup_fd = -EBADF,
                .network = network_mode ? network_hook : NULL,
                .network_userdata = r,
                .stdin_fd = -EBADF,
                .stdout_fd = r->out[1],
                .stderr_fd = r->out[1],
                .state_dir_fd = -EBADF,
        };
        if (command[0] == '!') {
                /* not a shell command: a path that does not exist */
                r->argv[0] = (char *) command + 1;
                r->argv[1] = NULL;
        }

        assert_int_equal(sd_event_new(&r->event), 0);
        assert_int_equal(spawn_container_begin(&r->params, &r->handle), 0);
        note(r, 'b');
        r->out[1] = safe_close(r->out[1]); /* the workload holds the only writer now */
        assert_int_equal(sd_event_add_io(r->event, &r->sync_source, spawn_handle_fd(r->handle), EPOLLIN, on_sync, r),
                         0);
        assert_int_equal(
                sd_event_add_time_relative(r->event, &r->deadline, CLOCK_MONOTONIC, deadline, 0, on_deadline, r), 0);
        k = sd_event_loop(r->event);
        assert_int_equal(k, 0);
        r->events[r->n_events] = 0;

        /* The output is read after the loop: the workloads are short. */
        {
                _cleanup_free_ char *s = read_all(out_read);
                fprintf(stderr, "# %s: events %s, result %d, exit %d, error %s, output %s", tag, r->events, r->result,
                        r->exit_status, strna(r->error), s);
                if (!strchr(s, '\n'))
                        fputc('\n', stderr);
                free(r->envp[1]);
                r->envp[1] = TAKE_PTR(s); /* keep for the caller; freed in run_free() */
        }
}

static void run_free(Run *r) {
        r->sync_source = sd_event_source_disable_unref(r->sync_source);
        r->child_source = sd_event_source_disable_unref(r->child_source);
        r->deadline = sd_event_source_disable_unref(r->deadline);
        r->handle = spawn_handle_free(r->handle);
        r->event = sd_event_unref(r->event);
        free(r->error);
        free(r->envp[1]);
        r->envp[1] = NULL;
}

#define OUTPUT(r) ((r)->envp[1])

/* ---- tests ---- */

static void test_loop_runs_during_setup(void **state) {
        Run r;

        /* The hook answers from a timer: the child waits in the network step meanwhile. */
        run_container(&r, "async", "echo hello from $(hostname)", 1, 30 * USEC_PER_SEC);
        assert_string_equal(r.events, "bNtEx");
        assert_int_equal(r.result, SPAWN_EXECUTED);
        assert_null(r.error);
        assert_int_equal(r.exit_status, 0);
        assert_string_equal(OUTPUT(&r), "hello from spawn-test\n");
        run_free(&r);
}

static void test_failed_exec(void **state) {
        Run r;

        run_container(&r, "noexec", "!/nonexistent", 0, 30 * USEC_PER_SEC);
        assert_string_equal(r.events, "bFx");
        assert_int_equal(r.result, SPAWN_FAILED);
        assert_string_equal(r.error, "exec /nonexistent: No such file or directory");
        assert_int_equal(r.error_errno, -ENOENT);
        assert_int_equal(r.exit_status, SPAWN_EXIT_NOTFOUND);
        run_free(&r);
}

static void test_failed_network(void **state) {
        Run r;

        run_container(&r, "nonet", "echo must not run", 2, 30 * USEC_PER_SEC);
        assert_string_equal(r.events, "bNFx");
        assert_int_equal(r.result, SPAWN_FAILED);
        assert_string_equal(r.error, "configure the network of nonet: Cannot assign requested address");
        assert_int_equal(r.error_errno, -EADDRNOTAVAIL);
        assert_int_equal(r.exit_status, SPAWN_EXIT_SETUP);
        assert_string_equal(OUTPUT(&r), "");
        run_free(&r);
}

static void test_abort(void **state) {
        Run r;

        /* The hook never answers; the caller's deadline ends the start. */
        run_container(&r, "stuck", "echo must not run", 4, 100 * USEC_PER_MSEC);
        assert_string_equal(r.events, "bNTFx");
        assert_int_equal(r.result, SPAWN_FAILED);
        assert_string_equal(r.error, "setup of stuck: Connection timed out");
        assert_int_equal(r.error_errno, -ETIMEDOUT);
        assert_int_equal(r.exit_status, 128 + SIGKILL);
        assert_string_equal(OUTPUT(&r), "");
        run_free(&r);
}

static void test_veth(void **state) {
        Run r;

        run_container(&r, "veth", "cat /sys/class/net/eth0/address", 3, 30 * USEC_PER_SEC);
        assert_string_equal(r.events, "bNEx");
        assert_int_equal(r.result, SPAWN_EXECUTED);
        assert_int_equal(r.exit_status, 0);
        /* eth0 inside is the end we moved in */
        assert_true(strneq(OUTPUT(&r), "02:73:75:70:64:01\n", 18));
        /* The namespace died with the container and took its end; ours goes with it, but delete
         * it anyway if it is still there (only ours: its unique name). */
        (void) run(-1, (const char *const[]){ "ip", "link", "del", "dev", r.veth_host, NULL });
        assert_int_not_equal(run(-1, (const char *const[]){ "ip", "link", "show", "dev", r.veth_host, NULL }), 0);
        run_free(&r);
}

static int setup(void **state) {
        char script[512];
        const char *src = getenv("SUPD_SOURCE_ROOT");

        if (!src)
                fail_msg("SUPD_SOURCE_ROOT is not set (meson sets it)");
        snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/supd-test-spawn-%d", (int) getpid());
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmp_dir);
        snprintf(script, sizeof(script), "%s/contrib/make-rootfs.sh", src);
        make_dir(tmp_dir);
        if (run(-1, (const char *const[]){ script, rootfs, NULL }) != 0)
                fail_msg("%s %s failed", script, rootfs);
        return 0;
}

static int teardown(void **state) {
        if (tmp_dir[0])
                (void) run(-1, (const char *const[]){ "rm", "-rf", "--one-file-system", tmp_dir, NULL });
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_loop_runs_during_setup),
                cmocka_unit_test(test_failed_exec),
                cmocka_unit_test(test_failed_network),
                cmocka_unit_test(test_abort),
                cmocka_unit_test(test_veth),
        };

        if (geteuid() != 0) {
                /* never a silent skip: containers need root */
                printf("Bail out! test-spawn must run as root (it makes containers)\n");
                return 1;
        }
        /* sd-event's child sources want SIGCHLD blocked, as supd has it. */
        {
                sigset_t ss;
                sigemptyset(&ss);
                sigaddset(&ss, SIGCHLD);
                sigprocmask(SIG_BLOCK, &ss, NULL);
        }
        /* Our own network namespace: nothing we make is ever seen on the host. */
        if (unshare(CLONE_NEWNET) < 0) {
                printf("Bail out! unshare(CLONE_NEWNET): %m\n");
                return 1;
        }
        return cmocka_run_group_tests(tests, setup, teardown);
}

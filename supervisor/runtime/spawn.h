/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/time-util.h"
#include "rootfs.h"
#include "workload.h"

struct sock_fprog;

/* Everything the child needs, prepared by the parent before clone3(): after the clone the child
 * makes syscalls and reads the container's own /etc/passwd, nothing else. */
typedef struct SpawnParams {
        const char *name; /* instance name, for messages */
        RootfsConfig rootfs;
        const char *hostname;
        WorkloadParams workload;
        bool want_pty;        /* allocate a pty in the container: the workload's stdio, the master to the parent */
        bool run_init;        /* our PID 1 in front of the workload */
        bool private_network; /* a new network namespace with only lo (up) */
        int cgroup_fd;        /* cgroup2 directory for CLONE_INTO_CGROUP, or -1 */
        /* Runs in the parent between clone and the child's setup (cgroup v1 attach); a failure
         * kills the child. */
        int (*prepare)(pid_t pid, void *userdata);
        void *prepare_userdata;
        /* With private_network: runs in the parent once the child has its new network namespace
         * (lo is up) and before anything else of the container is set up, with netns_fd open on
         * it (O_RDONLY, owned by the handle, valid until the step is answered: dup it to keep
         * it). Returns 0 when done, a negative errno to fail the start (the child then exits 125
         * and the handle reports "configure the network of NAME: …"), or SPAWN_NETWORK_PENDING
         * to answer later with spawn_handle_network_done(). runtime/ knows nothing of what the
         * hook does (veths, addresses, routes are netns/'s). */
        int (*network)(pid_t pid, int netns_fd, void *userdata);
        void *network_userdata;
        /* Runs first thing in the child, with prepare_userdata (joins the cgroup v1 hierarchies). */
        int (*child_prepare)(void *userdata);
        int stdin_fd; /* -1: /dev/null */
        int stdout_fd;
        int stderr_fd;
        int state_dir_fd; /* where the "exit" record is created; our init gets only that file */
        usec_t setup_timeout;
} SpawnParams;

/* Exit codes for failures inside the child, as Docker uses them. */
#define SPAWN_EXIT_SETUP 125    /* setting up the container failed */
#define SPAWN_EXIT_NOEXEC 126   /* the command cannot be invoked */
#define SPAWN_EXIT_NOTFOUND 127 /* the command was not found */

#define SPAWN_NETWORK_PENDING 1

/* Non-blocking spawn, for an event loop. spawn_container_begin() clones the child and sends it
 * "go" (steps 1-2 of the handshake in spawn.c), then returns at once. The caller watches
 * spawn_handle_fd() for input (EPOLLIN; EOF counts) and calls spawn_handle_process(), which takes
 * what has arrived without blocking: SPAWN_PENDING while steps are left, SPAWN_EXECUTED once the
 * workload has exec'd, SPAWN_FAILED when the child said why it could not (spawn_handle_error();
 * the child exits 125-127 by itself). The deadline is the caller's timer: spawn_handle_abort().
 * After EXECUTED or FAILED, take the pid and pidfd with spawn_handle_take() and reap the child
 * from the caller's own pidfd source; a handle freed before that kills and reaps it (a guard
 * that blocks until the SIGKILLed child is gone). */
typedef struct SpawnHandle SpawnHandle;

typedef enum SpawnResult {
        SPAWN_PENDING = 0,  /* steps left: wait for spawn_handle_fd() (or answer the network step) */
        SPAWN_EXECUTED = 1, /* the workload (our init's child, or PID 1 itself) has exec'd */
        SPAWN_FAILED = 2,   /* the start failed: spawn_handle_error() says why */
} SpawnResult;

/* The handle copies what it needs from p (name, hooks): p may go once this returns. Negative errno
 * when no child exists (prepare() failures included: that child is killed and reaped). */
int spawn_container_begin(const SpawnParams *p, SpawnHandle **ret);
/* SpawnResult, or a negative errno when the socket broke (the child is then killed: FAILED). */
int spawn_handle_process(SpawnHandle *h);
/* Answers a network step the hook left pending: r >= 0 lets the child go on, r < 0 fails the
 * start. Returns the new SpawnResult; -EBUSY when no network step is waiting (e.g. the child died
 * meanwhile: spawn_handle_process() then reports FAILED). */
int spawn_handle_network_done(SpawnHandle *h, int r);
/* Kills the child (SIGKILL through the pidfd) unless it has exec'd or failed already; the result
 * becomes FAILED with "setup of NAME: strerror(error)" (e.g. -ETIMEDOUT). Reap as after any
 * failure. Returns the SpawnResult. */
int spawn_handle_abort(SpawnHandle *h, int error);
/* The sync socket to watch, valid until spawn_handle_free(); stop watching it once a call
 * returned EXECUTED or FAILED (it then stays readable). */
int spawn_handle_fd(const SpawnHandle *h);
pid_t spawn_handle_pid(const SpawnHandle *h);
/* FAILED: one line such as "exec /app: No such file or directory", and its errno (negative) in
 * *ret_errno if not NULL. NULL otherwise. Owned by the handle. */
const char *spawn_handle_error(const SpawnHandle *h, int *ret_errno);
/* Hands over the pid, the pidfd and (with want_pty) the pty master (-EBADF if the child failed
 * before making one; closed if ret_pty_master is NULL). -EBUSY while steps are pending. */
int spawn_handle_take(SpawnHandle *h, pid_t *ret_pid, int *ret_pidfd, int *ret_pty_master);
SpawnHandle *spawn_handle_free(SpawnHandle *h);
static inline void spawn_handle_freep(SpawnHandle **h) {
        spawn_handle_free(*h);
}
/* The "exit" record our init leaves in the state dir: how the workload ended. -ENODATA while the
 * container runs (the file exists, empty, from its start), -ENOENT when there is none. */
int spawn_read_exit_record(int state_dir_fd, int *ret_code, int *ret_status);

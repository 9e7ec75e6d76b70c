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
#include <sys/uio.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/process-util.h"
#include "handshake.h"
#include "spawn.h"
#include "user-lookup.h"
#include "workload.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Well-known fd numbers in the child after rearrange_fds(). */
enum {
        CHILD_FD_SYNC = 3,
        CHILD_FD_EXIT = 4,
        CHILD_FD_STDIN = 5,
        CHILD_FD_STDOUT = 6,
        CHILD_FD_STDERR = 7,
        _CHILD_FD_MAX,
};

/* The handshake over a SOCK_SEQPACKET pair (tags in handshake.h), numbered as both ends refer to
 * it. The parent never blocks in it: spawn_container_begin() does steps 1-2 and returns, the
 * caller's event loop calls spawn_handle_process() whenever the socket is readable.
 *   1. parent: clone3() into a new PID namespace (and the container's cgroup2 directory)
 *   2. parent: prepare() (cgroup v1 attach, …), then sends one byte "go"
 *  2b. child:  child_prepare(): moving ourselves into the v1 hierarchies is far cheaper than the
 *              parent writing our PID (no global threadgroup lock, no RCU grace period)
 *   3. child:  waits for "go" (EOF means the parent gave up: exit), unshares the namespaces,
 *              brings lo up
 *   4. network (private network with a hook only): the child sends 'N' and waits; the parent
 *              opens /proc/PID/ns/net and runs the hook (move a veth in, rename, address it),
 *              which may answer later (spawn_handle_network_done()); then sends 'n', or shuts
 *              the socket down on failure, which the child takes as "exit 125". A handshake
 *              step rather than a namespace made beforehand and joined with setns(): the
 *              namespace costs the child, not supd's loop, its lifetime is the container's with
 *              nothing to clean up when supd dies, and crun moves devices in the same way.
 *   5. child:  sets up the rest (rootfs, hostname, pty: its master is sent with SCM_RIGHTS)
 *   6. child:  on failure sends one line "ERRNO what: strerror" and exits 125/126/127
 *   7. parent: EOF without a line means every holder of the child's end has exec'd: success
 *              (but EOF before an awaited step 4 means the child died) */

static pid_t clone3_pidfd(uint64_t flags, int cgroup_fd, int *ret_pidfd) {
        struct clone_args args = {
                .flags = flags | CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgroup_fd >= 0 ? (uint64_t) cgroup_fd : 0,
        };
        return (pid_t) syscall(SYS_clone3, &args, sizeof(args));
}

/* Step 6, child side. */
#define child_fail(error, exit_code, ...) workload_fail(CHILD_FD_SYNC, error, exit_code, __VA_ARGS__)

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
        workload_reset_signals();
        if (dup2(CHILD_FD_STDIN, 0) < 0 || dup2(CHILD_FD_STDOUT, 1) < 0 || dup2(CHILD_FD_STDERR, 2) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "set up stdio of %s", p->name);
        if (isatty(0)) {
                /* A terminal: the workload leads a session with it as controlling tty. */
                (void) setsid();
                (void) ioctl(0, TIOCSCTTY, 0);
        }
        /* fds 0-2 and the CLOEXEC sync socket are all the workload gets. */
        for (int fd = CHILD_FD_EXIT; fd < _CHILD_FD_MAX; fd++)
                (void) close(fd);
        workload_exec(&p->workload, CHILD_FD_SYNC);
}

/* The exit record. Our init lives inside the container, and every fd it holds is reachable from
 * there through /proc/1/fd (given CAP_SYS_PTRACE): a directory fd on the host would be a door out
 * (walk "..", as in CVE-2024-21626). So the parent creates (and empties) the file "exit" in the
 * instance's state dir and hands us only that regular file, opened O_WRONLY, through which no
 * path can be walked. We write one line with one pwrite(); the reader takes an empty file, or one
 * without its newline, as "no record yet". The file outlives both us and supd, so a supd that
 * comes back later still learns how the container ended. Not durable: it lives in /run, and a
 * host that loses power loses the container with it. */
static void write_exit_record(int code, int status) {
        char buf[64];
        int n = snprintf(buf, sizeof(buf), "%s %d\n",
                         code == CLD_EXITED   ? "exited"
                         : code == CLD_DUMPED ? "dumped"
                                              : "killed",
                         status);
        (void) !pwrite(CHILD_FD_EXIT, buf, (size_t) n, 0);
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
                if (fd != CHILD_FD_EXIT)
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

/* Step 5: a pty from the container's own devpts (so the workload sees /dev/pts/N inside), its
 * slave as the workload's stdio, its master sent to the parent over the sync socket. */
static void setup_pty(void) {
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        char path[64];
        int r;

        r = handshake_open_pty(&master, &slave, path, sizeof(path));
        if (r < 0)
                child_fail(-r, SPAWN_EXIT_SETUP, "allocate a pty%s", "");
        for (int fd = CHILD_FD_STDIN; fd <= CHILD_FD_STDERR; fd++)
                if (dup3(slave, fd, O_CLOEXEC) < 0)
                        child_fail(errno, SPAWN_EXIT_SETUP, "set up %s as stdio", path);
        r = handshake_send_fd(CHILD_FD_SYNC, master);
        if (r < 0)
                child_fail(-r, SPAWN_EXIT_SETUP, "pass the pty master%s", "");
}

_noreturn_ static void child_main(const SpawnParams *p, int sync_fd, int exit_fd) {
        const int fds[] = { sync_fd, exit_fd, p->stdin_fd, p->stdout_fd, p->stderr_fd };
        char what[256] = "set up the container";
        int r;

        /* Step 2b: join the rest of our cgroups ourselves, before we allocate anything, and while
         * the cgroup's directory fds are still open (the rearrangement closes them); a failure is
         * reported once the sync socket is in place. */
        r = p->child_prepare ? p->child_prepare(p->prepare_userdata) : 0;
        handshake_rearrange_fds(fds, ELEMENTSOF(fds), CHILD_FD_SYNC);
        if (r < 0)
                child_fail(-r, SPAWN_EXIT_SETUP, "join the cgroup of %s", p->name);

        /* Step 3. */
        handshake_wait_go(CHILD_FD_SYNC);

        /* Now in the container's cgroups everywhere: that becomes the root of its cgroup view.
         * The other namespaces are made here too rather than by clone3() in supd: creating a
         * network namespace is expensive, and this way the child pays for it, not supd (only the
         * PID namespace has to come with the clone, for us to be its PID 1). */
        if (unshare(CLONE_NEWCGROUP | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                    (p->private_network ? CLONE_NEWNET : 0)) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "unshare the namespaces of %s", p->name);
        if (p->private_network && (r = loopback_up()) < 0)
                child_fail(-r, SPAWN_EXIT_SETUP, "bring up lo in %s", p->name);
        /* Step 4: the parent configures the network before anything of the container runs. */
        if (p->private_network && p->network)
                handshake_step(CHILD_FD_SYNC, HANDSHAKE_NETNS_READY);

        /* Step 5. */

        r = rootfs_setup(&p->rootfs, what, sizeof(what));
        if (r < 0)
                child_fail(-r, SPAWN_EXIT_SETUP, "%s", what);
        if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
                child_fail(errno, SPAWN_EXIT_SETUP, "sethostname %s", p->hostname);
        if (p->want_pty)
                setup_pty();

        if (p->run_init)
                run_init(p);
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        exec_workload(p);
}

int spawn_container_begin(const SpawnParams *p, SpawnHandle **ret) {
        _cleanup_close_ int parent_fd = -EBADF, child_fd = -EBADF, exit_fd = -EBADF;
        _cleanup_(child_guard_done) ChildGuard child = CHILD_GUARD_NULL;
        uint64_t flags = CLONE_NEWPID;
        int pidfd = -EBADF, sv[2], r;
        pid_t pid;

        /* A fresh, empty record for this run (see write_exit_record()). */
        if (p->state_dir_fd >= 0) {
                exit_fd = openat(p->state_dir_fd, "exit", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (exit_fd < 0)
                        return negative_errno();
        }
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
                child_main(p, child_fd, exit_fd);
        child = (ChildGuard){ .pid = pid, .pidfd = pidfd };
        child_fd = safe_close(child_fd);
        exit_fd = safe_close(exit_fd);

        /* Step 2. */
        r = handshake_go(parent_fd, p->prepare ? p->prepare(pid, p->prepare_userdata) : 0);
        if (r < 0)
                return r;

        /* Steps 4 and 7 are the handle's. */
        return spawn_handle_new(TAKE_CHILD_GUARD(child), TAKE_FD(parent_fd), p->name,
                                p->private_network ? p->network : NULL, p->network_userdata, ret);
}

int spawn_read_exit_record(int state_dir_fd, int *ret_code, int *ret_status) {
        _cleanup_free_ char *s = NULL;
        char what[16];
        int status, r;

        r = read_file_at(state_dir_fd, "exit", 256, &s, NULL);
        if (r < 0)
                return r;
        /* Created empty before the container starts; complete once it holds its line. */
        if (!strchr(s, '\n'))
                return -ENODATA;
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

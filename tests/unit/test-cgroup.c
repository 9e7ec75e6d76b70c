/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup.c against the real kernel: needs root, and never skips. Everything lives under a parent
 * named after our pid ("supd-test-cgroup-<pid>", plus "…-deleg" for the delegation test); the
 * teardown kills and removes whatever is under those names in every hierarchy root with code of
 * its own, so that a failed assertion leaves nothing behind. Run here (hybrid) and under
 * /work/shared/tools/vm-run (pure cgroup v2). */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "runtime/cgroup.h"

#define MiB (UINT64_C(1024) * 1024)

static char parent[64], parent_deleg[80];

static const char *const fs_roots[] = {
        "/sys/fs/cgroup",         "/sys/fs/cgroup/unified",     "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup/memory",  "/sys/fs/cgroup/cpu",         "/sys/fs/cgroup/cpuacct",
        "/sys/fs/cgroup/freezer", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/systemd",
};

/* ---- helpers independent of the code under test ---- */

static char *attr(const char *dir, const char *name) {
        _cleanup_free_ char *p = path_join(dir, name);
        char *s = NULL;

        assert_non_null(p);
        if (read_file_at(AT_FDCWD, p, 1 << 20, &s, NULL) < 0)
                return NULL;
        s[strcspn(s, "\n")] = 0;
        return s;
}

static void assert_attr(const char *dir, const char *name, const char *want) {
        _cleanup_free_ char *v = attr(dir, name);
        if (!v || !streq(v, want))
                fail_msg("%s/%s: expected \"%s\", got \"%s\"", dir, name, want, strna(v));
}

static bool exists(const char *p) {
        struct stat st;
        return lstat(p, &st) >= 0;
}

static void reap_all(void) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

static void nap_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
        (void) nanosleep(&ts, NULL);
}

static void write_str(const char *dir, const char *name, const char *v) {
        _cleanup_free_ char *p = path_join(dir, name);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd >= 0)
                (void) !write(fd, v, strlen(v));
}

/* Kill everything below path and rmdir it depth first. */
static void nuke_dir(const char *path) {
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        _cleanup_free_ char *sub = path_join(path, de->d_name);
                        nuke_dir(sub);
                }
        for (int k = 0; k < 1000; k++) {
                _cleanup_free_ char *procs = NULL;

                write_str(path, "cgroup.freeze", "0");
                write_str(path, "freezer.state", "THAWED");
                procs = attr(path, "cgroup.procs");
                for (char *p = procs; p && *p; p += strcspn(p, "\n"), p += !!*p)
                        (void) kill((pid_t) atoi(p), SIGKILL);
                reap_all();
                if (rmdir(path) >= 0 || errno == ENOENT)
                        return;
                nap_ms(2);
        }
        fprintf(stderr, "# could not remove %s: %m\n", path);
}

static void nuke_all(void) {
        for (size_t i = 0; i < ELEMENTSOF(fs_roots); i++) {
                _cleanup_free_ char *a = path_join(fs_roots[i], parent), *b = path_join(fs_roots[i], parent_deleg);
                nuke_dir(a);
                nuke_dir(b);
        }
}

static int teardown(void **state) {
        nuke_all();
        reap_all();
        return 0;
}

static void assert_nothing_left(void) {
        for (size_t i = 0; i < ELEMENTSOF(fs_roots); i++) {
                _cleanup_free_ char *a = path_join(fs_roots[i], parent), *b = path_join(fs_roots[i], parent_deleg);
                if (exists(a) || exists(b))
                        fail_msg("left behind: %s or %s", a, b);
        }
}

/* What /proc/self/mountinfo says about the layout. */
static CgroupLayout layout_from_mountinfo(void) {
        _cleanup_free_ char *mi = NULL;
        const char *top = NULL, *unified = NULL;

        assert_int_equal(read_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 22, &mi, NULL), 0);
        for (char *line = strtok(mi, "\n"); line; line = strtok(NULL, "\n")) {
                char mnt[256], *sep = strstr(line, " - ");
                if (!sep || sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1)
                        continue;
                /* the last mount on a path wins */
                if (streq(mnt, "/sys/fs/cgroup"))
                        top = strneq(sep + 3, "cgroup2 ", 8) ? "cgroup2"
                              : strneq(sep + 3, "tmpfs ", 6) ? "tmpfs"
                                                             : "?";
                else if (streq(mnt, "/sys/fs/cgroup/unified"))
                        unified = strneq(sep + 3, "cgroup2 ", 8) ? "cgroup2" : "?";
        }
        assert_non_null(top);
        if (streq(top, "cgroup2"))
                return CGROUP_LAYOUT_UNIFIED;
        assert_string_equal(top, "tmpfs");
        return unified && streq(unified, "cgroup2") ? CGROUP_LAYOUT_HYBRID : CGROUP_LAYOUT_LEGACY;
}

/* A forked child that waits on a gate until it was attached, then runs fn. */
typedef struct Child {
        pid_t pid;
        int gate;
} Child;

static Child child_fork(int (*fn)(void)) {
        int p[2];
        Child c;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        c.pid = fork();
        assert_true(c.pid >= 0);
        if (c.pid == 0) {
                char b;
                close(p[1]);
                if (read(p[0], &b, 1) != 1)
                        _exit(100);
                _exit(fn());
        }
        close(p[0]);
        c.gate = p[1];
        return c;
}

static void child_go(Child *c) {
        assert_int_equal(write(c->gate, "x", 1), 1);
        c->gate = safe_close(c->gate);
}

static int wait_status(pid_t pid) {
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        return st;
}

static int do_pause(void) {
        for (;;)
                pause();
        return 0;
}

static int do_spin_then_pause(void) {
        /* memory charged after the move: v1 does not move old charges along */
        size_t n = 4 * MiB;
        char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        struct timespec a, b;

        if (p == MAP_FAILED)
                return 2;
        for (size_t i = 0; i < n; i += 4096)
                p[i] = 1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
        do
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
        while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 80000000L);
        return do_pause();
}

static int do_eat_memory(void) {
        size_t n = 64 * MiB;
        /* mmap, not malloc: the sanitizer's allocator would get in the way */
        char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return 2;
        for (size_t i = 0; i < n; i += 4096)
                p[i] = 1;
        return 0;
}

static int do_fork_bomb(void) {
        int n = 0;
        for (int i = 0; i < 64; i++) {
                pid_t p = fork();
                if (p < 0)
                        return errno == EAGAIN ? n : 200;
                if (p == 0)
                        do_pause();
                n++;
        }
        return 201;
}

/* The "0::" line of /proc/PID/cgroup, or the v1 line for ctl. */
static char *proc_cgroup_of(pid_t pid, const char *ctl) {
        char p[64], *s = NULL, *ret = NULL;

        snprintf(p, sizeof(p), "/proc/%d/cgroup", (int) pid);
        assert_int_equal(read_file_at(AT_FDCWD, p, 1 << 16, &s, NULL), 0);
        for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = 0;
                bool match = !ctl && streq(c1 + 1, "");
                for (char *w = c1 + 1, *save = NULL, *t; ctl && !match && (t = strtok_r(w, ",", &save)); w = NULL)
                        match = streq(t, ctl);
                if (match) {
                        ret = strdup(c2 + 1);
                        break;
                }
        }
        free(s);
        return ret;
}

/* The host path must end with the cgroup path the kernel reports for pid. */
static void assert_member(const Cgroup *c, const char *hierarchy, pid_t pid) {
        const char *path = cgroup_path(c, hierarchy);
        _cleanup_free_ char *cg = NULL;

        assert_non_null(path);
        cg = proc_cgroup_of(pid, streq(hierarchy, "unified") ? NULL : hierarchy);
        assert_non_null(cg);
        if (strlen(path) < strlen(cg) || !streq(path + strlen(path) - strlen(cg), cg))
                fail_msg("pid %d is in %s:%s, not in %s", (int) pid, hierarchy, cg, path);
}

static void assert_gone(const Cgroup *c) {
        _cleanup_strv_free_ char **hs = cgroup_hierarchies(c);
        assert_non_null(hs);
        STRV_FOREACH (h, hs)
                if (exists(cgroup_path(c, *h)))
                        fail_msg("%s still exists", cgroup_path(c, *h));
}

static void wait_unpopulated(Cgroup *c) {
        for (int k = 0; k < 1000 && cgroup_is_populated(c) > 0; k++) {
                reap_all();
                nap_ms(2);
        }
        assert_int_equal(cgroup_is_populated(c), 0);
}

/* ---- tests ---- */

static void test_names(void **state) {
        static const struct {
                const char *in, *out;
        } ok[] = {
                { "web", "web" },
                { "web.1", "web.1" },
                { "web@2", "web@2" },
                { "cgroup.procs", "_cgroup.procs" },
                { "memory.max", "_memory.max" },
                { "memory.swap.max", "_memory.swap.max" },
                { "cpu.weight", "_cpu.weight" },
                { "tasks", "_tasks" },
                { "release_agent", "_release_agent" },
                { "_x", "__x" },
                { ".hidden", "_.hidden" },
                { "a..b", "a..b" },
        };
        static const char *const bad[] = { "", ".", "..", "a/b", "/", "a\nb", "tab\t" };
        char long_name[202];

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_free_ char *s = NULL;
                assert_int_equal(cgroup_name_escape(ok[i].in, &s), 0);
                assert_string_equal(s, ok[i].out);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *s = (char *) 0x1;
                assert_int_equal(cgroup_name_escape(bad[i], &s), -EINVAL);
                assert_ptr_equal(s, (char *) 0x1); /* untouched on failure */
        }
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = 0;
        assert_int_equal(cgroup_name_escape(long_name, &(char *){ NULL }), -EINVAL);

        for (int l = 0; l < _CGROUP_LAYOUT_MAX; l++)
                assert_int_equal(cgroup_layout_from_string(cgroup_layout_to_string((CgroupLayout) l)), l);
        assert_int_equal(cgroup_layout_from_string("v3"), -EINVAL);
        assert_null(cgroup_layout_to_string(_CGROUP_LAYOUT_MAX));

        /* parents are validated too */
        assert_int_equal(cgroup_root_new("/abs", &(CgroupRoot *){ NULL }), -EINVAL);
        assert_int_equal(cgroup_root_new("a/../b", &(CgroupRoot *){ NULL }), -EINVAL);
        assert_int_equal(cgroup_root_new("", &(CgroupRoot *){ NULL }), -EINVAL);
}

static void test_root(void **state) {
        _cleanup_(cgroup_root_freep) CgroupRoot *r = NULL;
        CgroupLayout l = layout_from_mountinfo();
        _cleanup_free_ char *sub = NULL;

        assert_int_equal(cgroup_root_new(parent, &r), 0);
        assert_int_equal(cgroup_root_layout(r), l);
        fprintf(stderr, "# layout %s, controllers 0x%x\n", cgroup_layout_to_string(l), cgroup_root_controllers(r));
        assert_false(cgroup_root_delegated(r));
        assert_int_equal(cgroup_root_controllers(r) & (CGROUP_MASK_MEMORY | CGROUP_MASK_PIDS | CGROUP_MASK_CPU),
                         CGROUP_MASK_MEMORY | CGROUP_MASK_PIDS | CGROUP_MASK_CPU);

        if (l == CGROUP_LAYOUT_UNIFIED) {
                _cleanup_free_ char *p = path_join("/sys/fs/cgroup", parent);
                assert_string_equal(cgroup_root_path(r, "unified"), p);
                assert_null(cgroup_root_path(r, "memory"));
                sub = attr(p, "cgroup.subtree_control");
                assert_non_null(sub);
                assert_non_null(strstr(sub, "memory"));
                assert_non_null(strstr(sub, "pids"));
                assert_non_null(strstr(sub, "cpu"));
        } else {
                static const char *const v1[] = { "memory", "pids", "cpu", "cpuacct" };
                for (size_t i = 0; i < ELEMENTSOF(v1); i++) {
                        const char *p = cgroup_root_path(r, v1[i]);
                        assert_non_null(p);
                        assert_true(exists(p));
                }
        }
        if (l != CGROUP_LAYOUT_LEGACY)
                assert_true(exists(cgroup_root_path(r, "unified")));
        if (l == CGROUP_LAYOUT_HYBRID) {
                _cleanup_free_ char *p = path_join("/sys/fs/cgroup/unified", parent);
                assert_string_equal(cgroup_root_path(r, "unified"), p);
                /* cgroup.freeze on cgroup2 is used, not the v1 freezer */
                assert_null(cgroup_root_path(r, "freezer"));
        }

        /* a second supd (restart) reuses the subtree */
        {
                _cleanup_(cgroup_root_freep) CgroupRoot *r2 = NULL;
                assert_int_equal(cgroup_root_new(parent, &r2), 0);
        }
        assert_int_equal(cgroup_root_destroy(r), 0);
        assert_nothing_left();
}

static void test_limits(void **state) {
        _cleanup_(cgroup_root_freep) CgroupRoot *r = NULL;
        _cleanup_(cgroup_freep) Cgroup *c = NULL, *c2 = NULL;
        _cleanup_strv_free_ char **hs = NULL;
        CgroupLimits lim = {
                .memory_max = 16 * MiB, .pids_max = 8, .cpu_quota_per_sec = 500 * USEC_PER_MSEC, .cpu_weight = 200
        };
        CgroupLimits bad = CGROUP_LIMITS_NONE;
        const char *p;

        assert_int_equal(cgroup_root_new(parent, &r), 0);
        bad.cpu_weight = 0;
        assert_int_equal(cgroup_new(r, "x", &bad, &c), -EINVAL);
        bad.cpu_weight = 10001;
        assert_int_equal(cgroup_new(r, "x", &bad, &c), -EINVAL);
        assert_int_equal(cgroup_new(r, "a/b", NULL, &c), -EINVAL);
        assert_int_equal(cgroup_new(r, "..", NULL, &c), -EINVAL);
        assert_null(c);

        assert_int_equal(cgroup_new(r, "web", &lim, &c), 0);
        assert_string_equal(cgroup_name(c), "web");
        hs = cgroup_hierarchies(c);
        assert_non_null(hs);
        STRV_FOREACH (h, hs)
                assert_true(exists(cgroup_path(c, *h)));

        if (cgroup_root_layout(r) == CGROUP_LAYOUT_UNIFIED) {
                p = cgroup_path(c, "unified");
                assert_attr(p, "memory.max", "16777216");
                _cleanup_free_ char *swap = attr(p, "memory.swap.max");
                if (swap) /* absent without swap accounting */
                        assert_string_equal(swap, "0");
                assert_attr(p, "memory.oom.group", "1");
                assert_attr(p, "pids.max", "8");
                assert_attr(p, "cpu.max", "50000 100000");
                assert_attr(p, "cpu.weight", "200");
                assert_true(strv_length(hs) == 1);
                assert_false(cgroup_needs_attach(c));
        } else {
                _cleanup_free_ char *memsw = NULL;
                p = cgroup_path(c, "memory");
                assert_attr(p, "memory.limit_in_bytes", "16777216");
                memsw = attr(p, "memory.memsw.limit_in_bytes");
                if (memsw)
                        assert_string_equal(memsw, "16777216");
                assert_attr(cgroup_path(c, "pids"), "pids.max", "8");
                assert_attr(cgroup_path(c, "cpu"), "cpu.cfs_period_us", "100000");
                assert_attr(cgroup_path(c, "cpu"), "cpu.cfs_quota_us", "50000");
                assert_attr(cgroup_path(c, "cpu"), "cpu.shares", "2048");
                assert_true(cgroup_needs_attach(c));
                assert_non_null(cgroup_path(c, "cpuacct"));
        }

        /* a leftover directory is reused, and every limit is rewritten */
        c = cgroup_free(c);
        assert_int_equal(cgroup_new(r, "web", NULL, &c), 0);
        if (cgroup_root_layout(r) == CGROUP_LAYOUT_UNIFIED) {
                p = cgroup_path(c, "unified");
                assert_attr(p, "memory.max", "max");
                assert_attr(p, "pids.max", "max");
                assert_attr(p, "cpu.max", "max 100000");
                assert_attr(p, "cpu.weight", "100");
        } else {
                _cleanup_free_ char *m = attr(cgroup_path(c, "memory"), "memory.limit_in_bytes");
                assert_non_null(m);
                assert_true(strtoull(m, NULL, 10) > (UINT64_C(1) << 60));
                assert_attr(cgroup_path(c, "pids"), "pids.max", "max");
                assert_attr(cgroup_path(c, "cpu"), "cpu.cfs_quota_us", "-1");
                assert_attr(cgroup_path(c, "cpu"), "cpu.shares", "1024");
        }

        /* adopting */
        assert_int_equal(cgroup_open(r, "web", &c2), 0);
        assert_string_equal(cgroup_path(c2, "unified") ?: "", cgroup_path(c, "unified") ?: "");
        c2 = cgroup_free(c2);
        assert_int_equal(cgroup_open(r, "nope", &c2), -ENOENT);

        /* the root cannot go while a container cgroup is in it */
        assert_int_equal(cgroup_root_destroy(r), -EBUSY);

        /* escaped names */
        assert_int_equal(cgroup_new(r, "cgroup.procs", NULL, &c2), 0);
        assert_string_equal(cgroup_name(c2), "_cgroup.procs");
        assert_true(exists(cgroup_path(c2, hs[0])));
        assert_int_equal(cgroup_destroy(c2), 0);
        assert_gone(c2);

        assert_int_equal(cgroup_destroy(c), 0);
        assert_gone(c);
        assert_int_equal(cgroup_destroy(c), 0); /* idempotent */
        assert_int_equal(cgroup_root_destroy(r), 0);
        assert_nothing_left();
}

struct clone_args_v2 {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
                cgroup;
};

static void test_attach_stats_kill(void **state) {
        _cleanup_(cgroup_root_freep) CgroupRoot *r = NULL;
        _cleanup_(cgroup_freep) Cgroup *c = NULL;
        _cleanup_strv_free_ char **hs = NULL;
        CgroupStats s;
        Child a, b;
        pid_t cl = 0;
        int st;

        assert_int_equal(cgroup_root_new(parent, &r), 0);
        assert_int_equal(cgroup_new(r, "attach", NULL, &c), 0);
        assert_int_equal(cgroup_is_populated(c), 0);

        a = child_fork(do_spin_then_pause);
        assert_int_equal(cgroup_attach(c, a.pid), 0);
        child_go(&a);
        hs = cgroup_hierarchies(c);
        STRV_FOREACH (h, hs)
                assert_member(c, *h, a.pid);

        if (cgroup_root_layout(r) != CGROUP_LAYOUT_LEGACY) {
                /* born in the cgroup: CLONE_INTO_CGROUP */
                struct clone_args_v2 args = { .flags = 0x200000000ULL /* CLONE_INTO_CGROUP */,
                                              .exit_signal = SIGCHLD };
                int fd = cgroup_clone_fd(c);
                assert_true(fd >= 0);
                args.cgroup = (uint64_t) fd;
                cl = (pid_t) syscall(SYS_clone3, &args, sizeof(args));
                if (cl == 0)
                        _exit(do_pause());
                assert_true(cl > 0);
                assert_member(c, "unified", cl);
                if (cgroup_needs_attach(c))
                        assert_int_equal(cgroup_attach(c, cl), 0);
                STRV_FOREACH (h, hs)
                        assert_member(c, *h, cl);
        } else
                assert_int_equal(cgroup_clone_fd(c), -EOPNOTSUPP);

        /* a process in a sub-cgroup the container made itself */
        b = child_fork(do_pause);
        {
                _cleanup_free_ char *inner = path_join(cgroup_path(c, hs[0]), "inner");
                char pid[16];
                assert_int_equal(mkdir(inner, 0755), 0);
                snprintf(pid, sizeof(pid), "%d", (int) b.pid);
                assert_int_equal(cgroup_attach(c, b.pid), 0);
                write_str(inner, "cgroup.procs", pid);
                _cleanup_free_ char *cg = proc_cgroup_of(b.pid, streq(hs[0], "unified") ? NULL : hs[0]);
                assert_non_null(cg);
                assert_non_null(strstr(cg, "/attach/inner"));
        }
        child_go(&b);

        assert_int_equal(cgroup_is_populated(c), 1);
        nap_ms(150); /* let a spin: on a loaded machine it may get little of that */
        assert_int_equal(cgroup_stats(c, &s), 0);
        fprintf(stderr, "# memory %" PRIu64 " tasks %" PRIu64 " cpu %" PRIu64 "us oom %" PRIu64 "\n", s.memory_current,
                s.tasks, s.cpu_usage, s.oom_kills);
        assert_true(s.tasks >= 2 && s.tasks != UINT64_MAX);
        assert_true(s.memory_current >= 2 * MiB && s.memory_current != UINT64_MAX);
        /* That CPU time is counted at all, not how much of it a busy machine gave: amounts are for
         * the benchmarks. */
        assert_true(s.cpu_usage > 0 && s.cpu_usage != USEC_INFINITY);
        assert_int_equal(s.oom_kills, 0);

        /* other signals go to every process, the sub-cgroup's too */
        assert_int_equal(cgroup_kill(c, SIGTERM), 0);
        st = wait_status(a.pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
        st = wait_status(b.pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
        if (cl > 0) {
                st = wait_status(cl);
                assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
        }
        wait_unpopulated(c);

        /* SIGKILL */
        a = child_fork(do_pause);
        assert_int_equal(cgroup_attach(c, a.pid), 0);
        child_go(&a);
        assert_int_equal(cgroup_is_populated(c), 1);
        assert_int_equal(cgroup_kill(c, SIGKILL), 0);
        st = wait_status(a.pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        wait_unpopulated(c);

        /* destroy kills what is left and removes the sub-cgroup too */
        a = child_fork(do_pause);
        assert_int_equal(cgroup_attach(c, a.pid), 0);
        child_go(&a);
        assert_int_equal(cgroup_destroy(c), 0);
        st = wait_status(a.pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        assert_gone(c);
        assert_int_equal(cgroup_root_destroy(r), 0);
        assert_nothing_left();
}

/* Removal for an event loop: no call waits; the fd says when to try again. */
static void test_destroy_without_waiting(void **state) {
        _cleanup_(cgroup_root_freep) CgroupRoot *r = NULL;
        _cleanup_(cgroup_freep) Cgroup *c = NULL;
        _cleanup_close_ int fd = -EBADF;
        Child a;
        int st, k;

        assert_int_equal(cgroup_root_new(parent, &r), 0);
        assert_int_equal(cgroup_new(r, "nowait", NULL, &c), 0);
        k = cgroup_populated_fd(c, &fd);
        if (cgroup_root_layout(r) == CGROUP_LAYOUT_LEGACY)
                assert_int_equal(k, -EOPNOTSUPP);
        else
                assert_int_equal(k, 0);

        a = child_fork(do_pause);
        assert_int_equal(cgroup_attach(c, a.pid), 0);
        child_go(&a);
        if (fd >= 0) {
                /* populated 0 -> 1 was announced */
                assert_int_equal(poll(&(struct pollfd){ .fd = fd, .events = POLLPRI }, 1, 10000), 1);
                cgroup_populated_fd_drain(fd);
                assert_int_equal(poll(&(struct pollfd){ .fd = fd, .events = POLLPRI }, 1, 0), 0);
        }
        assert_int_equal(cgroup_is_populated(c), 1);

        /* kills, does not wait */
        assert_int_equal(cgroup_try_destroy(c), -EBUSY);
        st = wait_status(a.pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        if (fd >= 0) {
                /* ... and 1 -> 0 too */
                assert_int_equal(poll(&(struct pollfd){ .fd = fd, .events = POLLPRI }, 1, 10000), 1);
                cgroup_populated_fd_drain(fd);
        }
        assert_int_equal(cgroup_is_populated(c), 0);
        /* A v1 directory may stay busy for a moment after its last process: the caller's timer. */
        for (int i = 0; i < 5000 && (k = cgroup_try_destroy(c)) == -EBUSY; i++)
                nap_ms(2);
        assert_int_equal(k, 0);
        assert_gone(c);
        assert_int_equal(cgroup_try_destroy(c), 0); /* idempotent */
        assert_int_equal(cgroup_root_destroy(r), 0);
        assert_nothing_left();
}

static void test_oom(void **state) {
        _cleanup_(cgroup_root_freep) CgroupRoot *r = NULL;
        _cleanup_(cgroup_freep) Cgroup *c = NULL;
        CgroupLimits lim = CGROUP_LIMITS_NONE;
        CgroupStats s;
        Child a;
        int st;

        lim.memory_max = 16 * MiB;
        assert_int_equal(cgroup_root_new(parent, &r), 0);
        assert_int_equal(cgroup_new(r, "oom", &lim, &c), 0);
        assert_int_equal(cgroup_stats(c, &s), 0);
        assert_int_equal(s.oom_kills, 0);

        a = child_fork(do_eat_memory);
        assert_int_equal(cgroup_attach(c, a.pid), 0);
        child_go(&a);
        st = wait_status(a.pid);
        if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
                fail_msg("the memory eater was not OOM-killed: status 0x%x", st);
        assert_int_equal(cgroup_stats(c, &s), 0);
        assert_true(s.oom_kills >= 1 && s.oom_kills != UINT64_MAX);
        assert_int_equal(cgroup_destroy(c), 0);
        assert_int_equal(cgroup_root_destroy(r), 0);
}

static void test_pids(void **state) {
        _cleanup_(cgroup_root_freep) CgroupRoot *r = NULL;
        _cleanup_(cgroup_freep) Cgroup *c = NULL;
        CgroupLimits lim = CGROUP_LIMITS_NONE;
        CgroupStats s;
        Child a;
        int st;

        lim.pids_max = 8;
        assert_int_equal(cgroup_root_new(parent, &r), 0);
        assert_int_equal(cgroup_new(r, "bomb", &lim, &c), 0);
        a = child_fork(do_fork_bomb);
        assert_int_equal(cgroup_attach(c, a.pid), 0);
        child_go(&a);
        st = wait_status(a.pid);
        assert_true(WIFEXITED(st));
        fprintf(stderr, "# fork bomb got %d children\n", WEXITSTATUS(st));
        assert_true(WEXITSTATUS(st) >= 1 && WEXITSTATUS(st) <= 7);
        assert_int_equal(cgroup_stats(c, &s), 0);
        assert_true(s.tasks <= 8 && s.tasks >= 1);
        assert_int_equal(cgroup_is_populated(c), 1);
        /* the orphans came to us (subreaper); kill them all */
        assert_int_equal(cgroup_kill(c, SIGKILL), 0);
        wait_unpopulated(c);
        assert_int_equal(cgroup_destroy(c), 0);
        assert_gone(c);
        assert_int_equal(cgroup_root_destroy(r), 0);
}

/* Runs in a child: pretend systemd delegated "/<parent_deleg>" to us (xattr, and the process
 * moved there in every hierarchy), then check that cgroup_root_new() moves itself into
 * supervisor/ and builds the subtree inside. Returns a line number on failure. */
static int delegated_child(CgroupLayout l) {
        static const char *const v1[] = { "/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu",
                                          "/sys/fs/cgroup/cpuacct" };
        const char *v2 = l == CGROUP_LAYOUT_UNIFIED ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
        _cleanup_free_ char *d = path_join(v2, parent_deleg), *own = NULL, *want = NULL, *sub = NULL;
        _cleanup_(cgroup_root_freep) CgroupRoot *r = NULL;
        _cleanup_(cgroup_freep) Cgroup *c = NULL;
        CgroupLimits lim = CGROUP_LIMITS_NONE;

        if (mkdir(d, 0755) < 0)
                return __LINE__ - 600;
        write_str(d, "cgroup.procs", "0");
        /* systemd 252 marks the delegated cgroup on the cgroup2 hierarchy, on hybrid hosts on the
         * name=systemd one */
        if (l == CGROUP_LAYOUT_HYBRID) {
                _cleanup_free_ char *p = path_join("/sys/fs/cgroup/systemd", parent_deleg);
                if (mkdir(p, 0755) < 0 || setxattr(p, "trusted.delegate", "1", 1, 0) < 0)
                        return __LINE__ - 600;
                write_str(p, "cgroup.procs", "0");
        } else if (setxattr(d, "trusted.delegate", "1", 1, 0) < 0)
                return __LINE__ - 600;
        for (size_t i = 0; l == CGROUP_LAYOUT_HYBRID && i < ELEMENTSOF(v1); i++) {
                _cleanup_free_ char *p = path_join(v1[i], parent_deleg);
                if (mkdir(p, 0755) < 0)
                        return __LINE__ - 600;
                write_str(p, "cgroup.procs", "0");
        }
        if (cgroup_root_new("payload", &r) < 0 || !cgroup_root_delegated(r))
                return __LINE__ - 600;
        own = proc_cgroup_of(getpid(), NULL);
        if (asprintf(&want, "/%s/supervisor", parent_deleg) < 0 || !own || !streq(own, want))
                return __LINE__ - 600;
        free(want);
        if (asprintf(&want, "%s/%s/payload", v2, parent_deleg) < 0 || !streq(cgroup_root_path(r, "unified"), want))
                return __LINE__ - 600;
        if (l == CGROUP_LAYOUT_HYBRID) {
                free(want);
                if (asprintf(&want, "/sys/fs/cgroup/memory/%s/payload", parent_deleg) < 0 ||
                    !streq(strempty(cgroup_root_path(r, "memory")), want))
                        return __LINE__ - 600;
        } else {
                sub = attr(d, "cgroup.subtree_control");
                if (!sub || !strstr(sub, "memory") || !strstr(sub, "pids"))
                        return __LINE__ - 600;
        }
        lim.memory_max = 32 * MiB;
        if (cgroup_new(r, "web", &lim, &c) < 0 || cgroup_destroy(c) < 0)
                return __LINE__ - 600;
        /* again, from inside supervisor/ (a reload): the same subtree */
        {
                _cleanup_(cgroup_root_freep) CgroupRoot *r2 = NULL;
                if (cgroup_root_new("payload", &r2) < 0 || !cgroup_root_delegated(r2) ||
                    !streq(cgroup_root_path(r2, "unified"), cgroup_root_path(r, "unified")))
                        return __LINE__ - 600;
        }
        /* "supervisor" is taken in a delegated cgroup (checked before anything is created) */
        if (cgroup_root_new("supervisor", &(CgroupRoot *){ NULL }) != -EINVAL)
                return __LINE__ - 600;
        if (cgroup_root_destroy(r) < 0)
                return __LINE__ - 600;
        return 0;
}

static void test_delegated(void **state) {
        CgroupLayout l = layout_from_mountinfo();
        pid_t pid;
        int st;

        if (l == CGROUP_LAYOUT_LEGACY)
                fail_msg("no cgroup2 hierarchy to test delegation on");
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(delegated_child(l));
        st = wait_status(pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("delegated child failed at test-cgroup.c:%d (status 0x%x)", WEXITSTATUS(st) + 600, st);
}

static void test_nothing_left(void **state) {
        nuke_all();
        assert_nothing_left();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_names, teardown),
                cmocka_unit_test_teardown(test_root, teardown),
                cmocka_unit_test_teardown(test_limits, teardown),
                cmocka_unit_test_teardown(test_attach_stats_kill, teardown),
                cmocka_unit_test_teardown(test_destroy_without_waiting, teardown),
                cmocka_unit_test_teardown(test_oom, teardown),
                cmocka_unit_test_teardown(test_pids, teardown),
                cmocka_unit_test_teardown(test_delegated, teardown),
                cmocka_unit_test(test_nothing_left),
        };

        if (geteuid() != 0) {
                /* never a silent skip: this suite is about what the kernel does for root */
                printf("Bail out! test-cgroup must run as root (it creates real cgroups)\n");
                return 1;
        }
        snprintf(parent, sizeof(parent), "supd-test-cgroup-%d", (int) getpid());
        snprintf(parent_deleg, sizeof(parent_deleg), "%s-deleg", parent);
        /* orphans of the fork bomb must come back to us to be reaped */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}

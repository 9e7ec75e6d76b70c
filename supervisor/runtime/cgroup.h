/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The cgroup subtree supd owns, and one cgroup per container instance inside it.
 *
 * Works on pure cgroup v2 ("unified"), on hybrid hosts (v1 controllers under /sys/fs/cgroup/<ctrl>
 * plus cgroup2 at /sys/fs/cgroup/unified) and on legacy v1-only hosts. On hybrid, the cgroup2
 * hierarchy carries no controllers but is still used for what it does best: CLONE_INTO_CGROUP,
 * cgroup.events populated=, cgroup.kill, cgroup.freeze; memory, pids and cpu limits go to v1.
 *
 * Rules kept throughout: no cgroup that supd did not create is ever removed, moved or given
 * attributes, except the subtree_control (and the supd process itself) of a cgroup that systemd
 * delegated to us. Nothing here logs; every function returns a negative errno on failure and sets
 * its ret_* out-parameters only on success. No threads, no global state. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/time-util.h"

typedef enum CgroupLayout {
        CGROUP_LAYOUT_UNIFIED, /* cgroup2 at /sys/fs/cgroup */
        CGROUP_LAYOUT_HYBRID,  /* v1 controllers, cgroup2 (no controllers) at /sys/fs/cgroup/unified */
        CGROUP_LAYOUT_LEGACY,  /* v1 only */
        _CGROUP_LAYOUT_MAX,
        _CGROUP_LAYOUT_INVALID = -EINVAL,
} CgroupLayout;

/* Controllers a CgroupRoot can use, wherever they live (v2 or a v1 hierarchy). CPUACCT and FREEZER
 * are always "available" when a cgroup2 hierarchy is in use (cpu.stat and cgroup.freeze are core
 * files there). */
typedef enum CgroupMask {
        CGROUP_MASK_MEMORY = 1 << 0,
        CGROUP_MASK_PIDS = 1 << 1,
        CGROUP_MASK_CPU = 1 << 2,
        CGROUP_MASK_CPUACCT = 1 << 3,
        CGROUP_MASK_FREEZER = 1 << 4,
} CgroupMask;

/* Podman's default pids_limit (containers.conf); applied by the caller when TasksMax= is unset. */
#define CGROUP_PIDS_MAX_DEFAULT UINT64_C(2048)
#define CGROUP_CPU_WEIGHT_MIN UINT64_C(1)
#define CGROUP_CPU_WEIGHT_DEFAULT UINT64_C(100)
#define CGROUP_CPU_WEIGHT_MAX UINT64_C(10000)
/* The CFS period used for CPUQuota=, as systemd does. */
#define CGROUP_CPU_PERIOD_USEC (100 * USEC_PER_MSEC)

/* UINT64_MAX / USEC_INFINITY = no limit (the kernel's "max"). Every attribute is written on every
 * cgroup_new(), including "no limit", so that a cgroup reused after a crash carries no stale value.
 *
 * memory_max also sets the swap limit so that the container gets no swap at all (v2
 * memory.swap.max=0; v1 memory.memsw.limit_in_bytes = memory_max, where swap accounting exists).
 * Docker's default (swap = memory) makes MemoryMax= a soft promise on hosts with swap and delays
 * the OOM kill by however long swapping takes; we prefer "Memory=16M means 16M", like Kubernetes.
 *
 * cpu_quota_per_sec: CPU time per second of wall time (CPUQuota=150% → 1.5 s), at least 1 ms.
 * cpu_weight: 1..10000, UINT64_MAX = the default (100); v1 cpu.shares = weight * 1024 / 100. */
typedef struct CgroupLimits {
        uint64_t memory_max;
        uint64_t pids_max;
        usec_t cpu_quota_per_sec;
        uint64_t cpu_weight;
} CgroupLimits;

#define CGROUP_LIMITS_NONE                                                                                            \
        ((CgroupLimits){ .memory_max = UINT64_MAX,                                                                    \
                         .pids_max = UINT64_MAX,                                                                      \
                         .cpu_quota_per_sec = USEC_INFINITY,                                                          \
                         .cpu_weight = UINT64_MAX })

/* UINT64_MAX / USEC_INFINITY where the host cannot tell (controller missing). memory_current
 * includes page cache, as memory.current and memory.usage_in_bytes do. tasks counts threads
 * (pids.current). oom_kills counts processes the OOM killer chose in this cgroup and below. */
typedef struct CgroupStats {
        uint64_t memory_current;
        uint64_t tasks;
        usec_t cpu_usage;
        uint64_t oom_kills;
} CgroupStats;

typedef struct CgroupRoot CgroupRoot;
typedef struct Cgroup Cgroup;

/* Sets up the subtree supd owns. parent is a relative path ("supd", "supd-test-123", "a/b"); each
 * component is validated and escaped like a container name (cgroup_name_escape()).
 *
 * The layout comes from statfs() of /sys/fs/cgroup and /sys/fs/cgroup/unified (as systemd does);
 * supd's own cgroups from /proc/self/cgroup. If supd's own cgroup2 cgroup is not "/" and systemd
 * marked it delegated (xattr trusted.delegate=1 or user.delegate=1, systemd >= 251; on hybrid and
 * legacy also looked for on the name=systemd hierarchy), supd moves itself into
 * "<own>/supervisor" (no processes in inner nodes), enables memory/pids/cpu in <own>'s
 * cgroup.subtree_control, and the subtree is "<own>/<parent>"; v1 hierarchies use supd's own v1
 * cgroup the same way. Called again from inside "<own>/supervisor" (a reload), it finds the same
 * subtree; parent "supervisor" is then -EINVAL. Otherwise — including a root shell in a login
 * session, whose scope is writable but not ours — the subtree is "/<parent>" under each hierarchy
 * root, and only the controllers the host already enabled at that level can be used (we never
 * write the root's subtree_control). Writable is not enough to call a cgroup delegated: root can
 * write them all.
 *
 * The subtree directories are created (existing ones are reused; they are supd's by
 * configuration), and memory/pids/cpu are enabled in the subtree's cgroup.subtree_control where
 * listed in its cgroup.controllers. On hybrid and legacy hosts the v1 hierarchies used are pids,
 * memory, cpu (plus cpuacct, co-mounted or not) and, on legacy only, freezer; others (cpuset,
 * which needs cpus/mems copied, devices, blkio, name=systemd) are left alone.
 * Errors: -ENOMEDIUM when no cgroup file system is mounted, -EINVAL for a bad parent. */
int cgroup_root_new(const char *parent, CgroupRoot **ret);
/* Frees the struct and closes its fds; the directories stay. Returns NULL. */
CgroupRoot *cgroup_root_free(CgroupRoot *r);
static inline void cgroup_root_freep(CgroupRoot **r) {
        cgroup_root_free(*r);
}
/* Claims the subtree for this process: an flock() on its directory, held until cgroup_root_free()
 * (or the process's death: a supd killed with SIGKILL leaves no stale claim). owner, e.g. "pid 42,
 * root /", is stored where a second claimant can read it. -EBUSY when another process holds the
 * subtree; *ret_holder is then its owner string or NULL if it could not be read. Two supervisors
 * sharing a subtree would remove each other's cgroups. */
int cgroup_root_lock(CgroupRoot *r, const char *owner, char **ret_holder);
CgroupLayout cgroup_root_layout(const CgroupRoot *r);
/* The controllers limits can be set for; cgroup_new() fails with -EOPNOTSUPP when a limit needs
 * one that is missing, so callers drop defaults (like CGROUP_PIDS_MAX_DEFAULT) the host can't do. */
CgroupMask cgroup_root_controllers(const CgroupRoot *r);
/* Whether supd found a delegated cgroup and moved itself into "<own>/supervisor". */
bool cgroup_root_delegated(const CgroupRoot *r);
/* Host path of the subtree in a hierarchy ("unified", "memory", …), or NULL. */
const char *cgroup_root_path(const CgroupRoot *r, const char *hierarchy);
/* rmdir the subtree in every hierarchy (and parent components this CgroupRoot created), if no
 * container cgroups are left in it; -EBUSY otherwise. For tests and a clean shutdown. The struct
 * stays valid for cgroup_root_free(). */
int cgroup_root_destroy(CgroupRoot *r);

/* The host's layout, from statfs() of /sys/fs/cgroup and /sys/fs/cgroup/unified (as systemd
 * does): the one place that decides it. -ENOMEDIUM when no cgroup file system is mounted. */
int cgroup_detect_layout(CgroupLayout *ret);
const char *cgroup_layout_to_string(CgroupLayout l);
CgroupLayout cgroup_layout_from_string(const char *s);

/* A container name as a cgroup directory name. Refuses "", ".", "..", names with '/' or control
 * characters and names longer than 200 bytes (-EINVAL); prefixes '_' like systemd's cg_escape()
 * when the name starts with '_' or '.', or could be taken for a kernel attribute ("tasks",
 * "cgroup.procs", "memory.max", "cpu.foo", …). */
int cgroup_name_escape(const char *name, char **ret);

/* Creates "<subtree>/<name>" (name escaped) in every hierarchy in use and applies limits there
 * (NULL = CGROUP_LIMITS_NONE): v2 memory.max, memory.swap.max, memory.oom.group=1 (an OOM kills
 * the whole container, not one random process of it), pids.max, cpu.max, cpu.weight; v1
 * memory.limit_in_bytes, memory.memsw.limit_in_bytes, pids.max, cpu.cfs_period_us/cfs_quota_us,
 * cpu.shares. An existing directory (left by a crash) is reused only when no process is in it
 * (-EBUSY otherwise). On failure, whatever this call created is removed again. The Cgroup borrows r,
 * which must outlive it. */
int cgroup_new(CgroupRoot *r, const char *name, const CgroupLimits *limits, Cgroup **ret);
/* Opens an existing container cgroup (adopting after a supd restart); -ENOENT if missing in any
 * hierarchy in use. Limits are left as they are. */
int cgroup_open(CgroupRoot *r, const char *name, Cgroup **ret);
/* Frees the struct and closes its fds only; the cgroup and its processes stay. Returns NULL. */
Cgroup *cgroup_free(Cgroup *c);
static inline void cgroup_freep(Cgroup **c) {
        cgroup_free(*c);
}

/* The container's cgroup2 directory (O_PATH|O_DIRECTORY|O_CLOEXEC, owned by c) for clone3()'s
 * CLONE_INTO_CGROUP, or -EOPNOTSUPP on legacy hosts. Also returned on hybrid hosts: the child is
 * then born in the cgroup2 cgroup and cgroup_needs_attach() says the v1 ones must follow. */
int cgroup_clone_fd(const Cgroup *c);
/* True when the pid must still be written to v1 hierarchies after a CLONE_INTO_CGROUP (hybrid and
 * legacy); the child must not fork or exec before cgroup_attach() returned. */
bool cgroup_needs_attach(const Cgroup *c);
/* Moves pid (its whole thread group) into the cgroup in every hierarchy. Idempotent: hierarchies
 * it is already in (through CLONE_INTO_CGROUP) are written again harmlessly. */
int cgroup_attach(Cgroup *c, pid_t pid);
/* The same for the calling process, which must be single-threaded (a freshly cloned child): it
 * writes "0" to "tasks" in the v1 hierarchies, which moving oneself makes cheap (no global
 * threadgroup lock and its RCU grace period, 10-20 ms per write otherwise). skip_v2: already in
 * the cgroup2 one through CLONE_INTO_CGROUP. */
int cgroup_attach_self(Cgroup *c, bool skip_v2);

/* Host path of the container cgroup in a hierarchy: "unified" (the cgroup2 one, on every layout
 * that has it), or a v1 controller's: "memory", "pids", "cpu", "cpuacct", "freezer" (co-mounted
 * controllers share a path). NULL when that hierarchy is not in use — on a pure v2 host every v1
 * name gives NULL. Owned by c. */
const char *cgroup_path(const Cgroup *c, const char *hierarchy);
/* Names of the hierarchies in use (each path once), for bind-mounting them into the container;
 * a new strv the caller frees, or NULL on OOM. */
char **cgroup_hierarchies(const Cgroup *c);
/* The escaped directory name. */
const char *cgroup_name(const Cgroup *c);

/* Sends sig to every process of the cgroup and its sub-cgroups. SIGKILL uses cgroup.kill (Linux
 * 5.14+) where it exists; otherwise, and for other signals, the cgroup is frozen (cgroup.freeze or
 * the v1 freezer) while cgroup.procs is read and signalled, so that forks cannot race us, then
 * thawed; SIGKILL is repeated until no process is listed (bounded: -EBUSY if processes stay, e.g.
 * in D state). Returns 0; processes may still be exiting. */
int cgroup_kill(Cgroup *c, int sig);
/* 1 if any process is in the cgroup or below (cgroup.events populated= on v2, cgroup.procs on
 * v1), 0 if none. Zombies do not count. */
int cgroup_is_populated(Cgroup *c);
/* Accounting: memory.current / memory.usage_in_bytes, pids.current, cpu.stat usage_usec /
 * cpuacct.usage, oom_kill of memory.events / memory.oom_control (kernel 4.13+). */
int cgroup_stats(Cgroup *c, CgroupStats *ret);
/* Kills what is left, waits (bounded, ~2 s) for it to go, and removes the directory and any
 * sub-cgroups the container made, in every hierarchy. Missing directories are fine. -EBUSY when
 * something could not be removed. */
int cgroup_destroy(Cgroup *c);
/* The same without waiting, for an event loop: kills what is left (one cgroup.kill, or one round
 * of SIGKILL on v1) and returns -EBUSY while processes remain; once none do, removes the
 * directories once and returns 0 (-EBUSY when one is still busy, as a v1 cgroup can be for a
 * moment after its last process left). Call it again when cgroup_populated_fd() fires, or on a
 * short timer where there is no such fd (or after an -EBUSY that followed an unpopulated state). */
int cgroup_try_destroy(Cgroup *c);
/* An fd (cgroup.events, O_NONBLOCK|O_CLOEXEC, the caller's) that polls with EPOLLPRI whenever
 * cgroup.events changes, i.e. when the cgroup becomes populated or empty: drain it with
 * cgroup_populated_fd_drain(), then ask cgroup_is_populated(). Take it before the check it is
 * to guard, so no change falls between them. -EOPNOTSUPP on legacy (v1-only) hosts: use a timer. */
int cgroup_populated_fd(Cgroup *c, int *ret_fd);
void cgroup_populated_fd_drain(int fd);

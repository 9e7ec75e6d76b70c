/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One run of a unit (or of one replica): a container with its own run id, state dir
 * (/run/supd/instances/RUN_ID), cgroup (PARENT/NAME.RUN_ID), writable layer
 * (/var/lib/supd/containers/NAME/RUN_ID), process and state record. The log is the one thing
 * kept per unit (/var/log/supd/NAME.log, as SPEC.md has it): it tells the unit's story across
 * runs. A unit owns its current
 * instance; an automatic restart reuses it (the cgroup and state dir stay, only the process is
 * new), anything else that starts the unit afresh makes a new one. Per-run paths are keyed by the
 * run id, so that two runs of one unit can coexist (a start-first update).
 *
 * The process is watched through its pidfd as an io source and signalled with
 * pidfd_send_signal(): the same code serves a container supd forked and one it adopts. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "runtime/cgroup.h"
#include "state.h"

struct ContainerPlan;
typedef struct Instance Instance;

typedef void (*InstanceEmptyHandler)(Instance *i, void *userdata);

/* The container's PID 1 is gone. code: CLD_EXITED, CLD_KILLED or CLD_DUMPED, from our init's exit
 * record when there is one, else from waitid(); a process supd did not fork and that left no
 * record reads as killed by SIGKILL. */
typedef void (*InstanceExitHandler)(Instance *i, int code, int status, void *userdata);

struct Instance {
        char id[RUN_ID_LEN + 1];
        char *name; /* the unit's, for messages and the record */
        char *dir;  /* /run/supd/instances/RUN_ID */
        int dir_fd;

        Cgroup *cgroup;             /* for the instance's lifetime, across automatic restarts */
        CgroupLimits cgroup_limits; /* what it was created with */
        uint64_t oom_baseline;      /* oom_kills when the current process started */

        struct ContainerPlan *plan; /* what the process was started with (supctl exec uses it) */
        pid_t pid;
        int pidfd;
        uint64_t start_time; /* of pid, /proc/PID/stat field 22 */
        sd_event_source *exit_source;
        InstanceExitHandler on_exit;
        void *userdata;

        /* instance_wait_empty() */
        sd_event_source *empty_source; /* cgroup.events changed (cgroup2) */
        sd_event_source *empty_timer;  /* the next look (v1), or the deadline */
        usec_t empty_deadline;
        InstanceEmptyHandler on_empty;
        void *empty_userdata;
};

/* The name of a run's cgroup below [Cgroup] Parent=, "NAME.RUN_ID" (unescaped): a sibling of the
 * unit's other runs, not a child of a per-unit node, which on cgroup2 could hold no processes and
 * would need its controllers enabled. */
int instance_cgroup_name(const char *name, const char *id, char **ret);

/* A new run id and its state dir below run_dir/instances. */
int instance_new(const char *run_dir, const char *name, Instance **ret);
/* An existing run's state dir (adoption); its cgroup and process are the caller's to attach. */
int instance_open(const char *run_dir, const char *id, const char *name, Instance **ret);
/* Closes what the struct holds; the process, cgroup and directories stay. Returns NULL. */
Instance *instance_free(Instance *i);
static inline void instance_freep(Instance **i) {
        instance_free(*i);
}
/* The instance is over for good: removes its state dir (and with it the record). */
void instance_remove_dir(Instance *i);

/* Takes pidfd and watches it. The handler runs once, after the process has been reaped (when it
 * is our child) and its exit record read. */
int instance_watch(Instance *i, sd_event *e, pid_t pid, int pidfd, InstanceExitHandler on_exit, void *userdata);
/* Forgets the process (after its exit, or when it is left running): source, pidfd, plan. */
void instance_release_process(Instance *i);
/* pidfd_send_signal() to the container's PID 1; -ESRCH without a live process. */
int instance_signal(Instance *i, int sig);

/* After the exit: whatever was left in the cgroup was killed; waits, from the event loop, until
 * the cgroup is empty (or 5 s have passed: processes stuck in the kernel must not hold the unit
 * forever) and then calls on_empty. Returns 1 without calling it when there is nothing to wait
 * for, 0 when it will, or a negative errno (then nothing waits). */
int instance_wait_empty(Instance *i, sd_event *e, InstanceEmptyHandler on_empty, void *userdata);

/* Writes the state record for the container's PID 1 (and the "pid" file tools read), with its
 * start time read now: right after the clone, so that a supd killed at any later moment leaves
 * a record of every container it made. */
int instance_write_record(Instance *i, pid_t pid, uint64_t config_hash, const char *image, const char *rootfs);

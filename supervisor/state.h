/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The state record of one container instance: what a supd needs to find, recognise and adopt a
 * container it did not start (after its predecessor died), written into the instance's state
 * dir (/run/supd/instances/RUN_ID/state) atomically, temp file + rename, every time it changes.
 *
 * The format is KEY=VALUE lines, like systemd's /run/systemd/units files: a reader skips keys it
 * does not know, so newer supd versions can add keys (the netns and the address lease come with
 * networking) and an older one still adopts. A process is identified by pid AND start time (field
 * 22 of /proc/PID/stat, in clock ticks since boot): a pid alone may have been reused. */

#include <stdint.h>
#include <sys/types.h>

#define STATE_RECORD_FILE "state"
#define RUN_ID_LEN 16 /* hex digits */

typedef struct StateRecord {
        char run_id[RUN_ID_LEN + 1];
        char *unit;           /* "web", "web@2" */
        pid_t pid;            /* the container's PID 1 */
        uint64_t start_time;  /* of that pid, /proc/PID/stat field 22 */
        char *cgroup;         /* the cgroup2 (or first v1) path, or NULL */
        uint64_t config_hash; /* unit_settings_hash() it was started with */
        char *image;          /* Image= as written, or NULL */
        char *rootfs;         /* Rootfs=, or NULL */
} StateRecord;

void state_record_done(StateRecord *r);

/* A new random run id (RUN_ID_LEN lowercase hex digits). */
int run_id_new(char ret[static RUN_ID_LEN + 1]);
/* Checks that s is RUN_ID_LEN lowercase hex digits: a run id also names a directory. */
int run_id_valid(const char *s);

int state_record_write(int dir_fd, const StateRecord *r);
/* -ENOENT without a record, -EBADMSG for a damaged one (a missing or malformed required key:
 * RUN_ID, UNIT, PID, START_TIME). */
int state_record_read(int dir_fd, StateRecord *ret);

/* The start time of pid (field 22 of /proc/PID/stat). */
int proc_start_time(pid_t pid, uint64_t *ret);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "basic/time-util.h"

/* The parsed, validated content of one *.container unit (after drop-ins, specifiers and resets).
 * This header is the contract between the unit-file parser (unit-file.c, unit-settings.c) and the
 * manager; it includes nothing of the manager. */

typedef enum RestartPolicy {
        RESTART_NO,
        RESTART_ON_SUCCESS,
        RESTART_ON_FAILURE,
        RESTART_ON_ABNORMAL,
        RESTART_ON_WATCHDOG,
        RESTART_ON_ABORT,
        RESTART_ALWAYS,
        _RESTART_POLICY_MAX,
        _RESTART_POLICY_INVALID = -EINVAL,
} RestartPolicy;

typedef enum HealthOnFailure {
        HEALTH_ON_FAILURE_NONE,
        HEALTH_ON_FAILURE_KILL,
        HEALTH_ON_FAILURE_RESTART,
        HEALTH_ON_FAILURE_STOP,
        _HEALTH_ON_FAILURE_MAX,
        _HEALTH_ON_FAILURE_INVALID = -EINVAL,
} HealthOnFailure;

typedef enum NotifyMode {
        NOTIFY_NO,      /* "false": started as soon as the workload runs */
        NOTIFY_YES,     /* "true": the workload sends READY=1 */
        NOTIFY_HEALTHY, /* after the first passing health check */
        _NOTIFY_MODE_MAX,
        _NOTIFY_MODE_INVALID = -EINVAL,
} NotifyMode;

typedef enum UpdateOrder {
        UPDATE_ORDER_STOP_FIRST,
        UPDATE_ORDER_START_FIRST,
        _UPDATE_ORDER_MAX,
        _UPDATE_ORDER_INVALID = -EINVAL,
} UpdateOrder;

/* Exit statuses 0..255 and signals 1..64 (SuccessExitStatus=, RestartPreventExitStatus=). */
typedef struct ExitStatusSet {
        uint64_t status[4];
        uint64_t signal;
} ExitStatusSet;

static inline bool exit_status_set_test_status(const ExitStatusSet *s, int code) {
        return code >= 0 && code < 256 && (s->status[code / 64] & (UINT64_C(1) << (code % 64)));
}
static inline bool exit_status_set_test_signal(const ExitStatusSet *s, int sig) {
        return sig >= 1 && sig <= 64 && (s->signal & (UINT64_C(1) << (sig - 1)));
}
static inline bool exit_status_set_is_empty(const ExitStatusSet *s) {
        return !(s->status[0] | s->status[1] | s->status[2] | s->status[3] | s->signal);
}

typedef struct UnitSettings {
        /* [Unit] */
        char *description;
        char **documentation;
        /* Dependency names are normalised to unit names without suffix: "db.container",
         * "db.service" and "db" all become "db"; "t@i.container" becomes "t@i". */
        char **after;
        char **before;
        char **wants;
        char **requires;
        char **binds_to;
        usec_t start_limit_interval; /* default 10s */
        unsigned start_limit_burst;  /* default 5 */

        /* [Container] */
        char *image;
        char *rootfs; /* absolute; a relative value is resolved against the unit file's directory */
        char *container_name;
        char **exec;             /* split with systemd quoting rules; NULL when unset */
        char **entrypoint;       /* NULL when unset; empty strv when set to "" (clears the image's) */
        char **environment;      /* "K=V" in first-assignment order, later assignments of K win */
        char **environment_file; /* absolute paths; a leading '-' (ignore missing) is kept */
        char **publish_port;
        char *network;
        char *ip;
        char *hostname;
        char **volume;
        char **tmpfs;
        int read_only; /* -1 unset, else bool */
        char *user;
        char *group;
        char *working_dir;
        char **add_capability;
        char **drop_capability;
        int no_new_privileges; /* -1 unset, else bool */
        uint64_t memory;       /* bytes, UINT64_MAX unset */
        uint64_t pids_limit;   /* UINT64_MAX unset */
        int stop_signal;       /* default SIGTERM */
        usec_t stop_timeout;   /* USEC_INFINITY unset: TimeoutStopSec= or 10s then apply */
        int run_init;          /* -1 unset (means yes) */
        char *health_cmd;
        usec_t health_interval;            /* 30s */
        usec_t health_timeout;             /* 30s */
        usec_t health_start_period;        /* 0 */
        unsigned health_retries;           /* 3 */
        HealthOnFailure health_on_failure; /* none */
        char **label;                      /* "K=V" */
        NotifyMode notify;

        /* [Service] */
        RestartPolicy restart;    /* no */
        usec_t restart_sec;       /* 100ms */
        unsigned restart_steps;   /* 0 */
        usec_t restart_max_delay; /* USEC_INFINITY unset */
        ExitStatusSet restart_prevent;
        ExitStatusSet success_exit;
        usec_t timeout_start;     /* 90s */
        usec_t timeout_stop;      /* USEC_INFINITY unset */
        uint64_t memory_max;      /* UINT64_MAX unset */
        usec_t cpu_quota_per_sec; /* CPUQuota=50% -> 500000; USEC_INFINITY unset */
        uint64_t cpu_weight;      /* UINT64_MAX unset, else 1..10000 */
        uint64_t tasks_max;       /* UINT64_MAX unset */

        /* [Install] */
        char **wanted_by;
        char **required_by;
        char *default_instance;

        /* [Deploy] */
        unsigned replicas; /* 1 */
        UpdateOrder update_order;
        unsigned update_parallelism; /* 1 */
        usec_t update_delay;         /* 0 */
        usec_t restart_reset;        /* 10s: uptime after which the backoff step count resets */

        /* Bookkeeping filled by the loader. */
        uint64_t set_mask[2]; /* bit i set when key table entry i was assigned (for verify --json) */
} UnitSettings;

void unit_settings_init(UnitSettings *s); /* all defaults */
void unit_settings_done(UnitSettings *s); /* frees members, leaves *s reusable after init */

/* Effective values after combining keys that mean the same thing. */
usec_t unit_settings_stop_timeout(const UnitSettings *s); /* StopTimeout= else TimeoutStopSec= else 10s */
uint64_t unit_settings_memory_max(const UnitSettings *s); /* Memory= else MemoryMax= */
uint64_t unit_settings_tasks_max(const UnitSettings *s);  /* PidsLimit= else TasksMax= */
bool unit_settings_autostart(const UnitSettings *s);      /* WantedBy= multi-user.target or default.target */

/* A stable 64-bit hash of every setting that affects a running instance (everything except
 * [Install], Description/Documentation and [Deploy] Replicas/Update*), so that reload restarts
 * only instances whose effective configuration changed. */
uint64_t unit_settings_hash(const UnitSettings *s);

/* verify --json: writes the "sections" object (every key that is set, by section and key name). */
struct JsonWriter;
void unit_settings_to_json(const UnitSettings *s, struct JsonWriter *w);

const char *restart_policy_to_string(RestartPolicy p);
RestartPolicy restart_policy_from_string(const char *s);
const char *health_on_failure_to_string(HealthOnFailure h);
HealthOnFailure health_on_failure_from_string(const char *s);
const char *notify_mode_to_string(NotifyMode n);
const char *update_order_to_string(UpdateOrder o);
UpdateOrder update_order_from_string(const char *s);

/* True when Section/Key (e.g. "Service", "TimeoutStopSec") was assigned and not reset. */
bool unit_settings_key_is_set(const UnitSettings *s, const char *section, const char *key);

/* ---- Loading ---- */

typedef struct UnitDiagnostic {
        char *path;
        unsigned line; /* 0 when the problem is not tied to a line */
        char *message;
} UnitDiagnostic;

/* The result of loading one unit name. Errors make the unit not loadable; warnings do not. */
typedef struct UnitFile {
        char *name;          /* "web", "tmpl@", "tmpl@inst" (no ".container") */
        char *path;          /* the main file that was used */
        char **dropin_paths; /* in application order */
        bool is_template;    /* "name@" */
        char *template_name; /* for "tmpl@inst": "tmpl" */
        char *instance;      /* for "tmpl@inst": "inst" */
        UnitSettings settings;
        UnitDiagnostic *errors;
        size_t n_errors;
        UnitDiagnostic *warnings;
        size_t n_warnings;
        usec_t mtime_max; /* newest mtime of the file and its drop-ins, to detect changes on disk */
} UnitFile;

UnitFile *unit_file_free(UnitFile *u);
static inline void unit_file_freep(UnitFile **u) {
        if (*u)
                unit_file_free(*u);
}
#define _cleanup_unit_file_free_ _cleanup_(unit_file_freep)

/* Everything the loader needs to know about the host; filled by the caller so tests can fake it. */
typedef struct UnitLoadContext {
        char **search_path;         /* highest precedence first, already prefixed by --root */
        const char *root;           /* the --root prefix ("" or NULL for the host): symlinks resolve in it */
        const char *hostname;       /* %H */
        const char *machine_id;     /* %m */
        struct UnitDirCache *cache; /* unit_load_context_cache(), or NULL */
} UnitLoadContext;

/* A snapshot of what the search directories hold, for one reload: loading thousands of units
 * then probes only names that exist (a missing file or drop-in directory costs nothing), instead
 * of a failed lookup per unit per directory. Entries made after the snapshot are seen by the next
 * one. Without a snapshot every name is looked up. */
int unit_load_context_cache(UnitLoadContext *ctx);
void unit_load_context_uncache(UnitLoadContext *ctx);

/* Loads "name" ("web", "tmpl@inst", "tmpl@"): finds the main file on the search path (for an
 * instance, "tmpl@inst.container" if present, else "tmpl@.container"), applies drop-ins from every
 * search directory (for instances "tmpl@inst.container.d" and "tmpl@.container.d"), expands
 * specifiers, validates. Returns 0 with *ret set even when the unit has errors (then
 * (*ret)->n_errors > 0); returns -ENOENT when no file exists, other negative errno on OOM.
 * replica: NULL, or the replica index ("1".."N") of a [Deploy] Replicas= unit, which %i and %I
 * then expand to (the unit itself is still "name.container"). */
int unit_file_load(const UnitLoadContext *ctx, const char *name, const char *replica, UnitFile **ret);

/* Loads one file given by path (for verify): its drop-ins are taken from "PATH.d/" next to it. */
int unit_file_load_path(const UnitLoadContext *ctx, const char *path, UnitFile **ret);
/* Applies triples (section, key, value, section, key, value, …, NULL) to u, a unit built in
 * memory (supctl run), as if they were lines of its file, then validates the whole unit. Problems
 * become u's errors and warnings (path u->path, line: the triple's number). Returns 0 or -ENOMEM. */
int unit_file_assign_settings(const UnitLoadContext *ctx, UnitFile *u, char *const *triples);

/* True when the unit explicitly set [Deploy] Replicas= (its instances are then NAME@1..NAME@N even
 * for N=1; otherwise the single instance is NAME). */
bool unit_settings_has_replicas(const UnitSettings *s);

/* Lists unit names found on the search path ("web", "tmpl@", "tmpl@inst"), sorted, deduplicated,
 * highest precedence first; invalid file names are reported through ret_bad as diagnostics
 * (path plus message) instead of being silently skipped. */
int unit_file_enumerate(const UnitLoadContext *ctx, char ***ret_names, UnitDiagnostic **ret_bad, size_t *ret_n_bad);

/* Checks a unit name ("web", "tmpl@", "tmpl@inst"): 1..64 bytes of [A-Za-z0-9:_.-], at most one
 * '@', not "." or "..". */
bool unit_name_is_valid(const char *name);

/* The one place where "web.container" becomes "web" (systemd accepts "foo.service" and "foo"):
 * a new string without the suffix, or NULL on OOM. */
char *unit_name_normalize(const char *name);

void unit_diagnostics_free(UnitDiagnostic *d, size_t n);

/* "PATH:LINE: message", or "PATH: message" when line is 0; a new string, NULL on OOM. */
char *unit_diagnostic_format(const UnitDiagnostic *d);
/* "PATH:LINE: warning: message" (or "PATH: warning: message"): how a warning is shown everywhere,
 * in verify's output, the daemon's log and status. */
char *unit_warning_format(const UnitDiagnostic *d);

/* Writes a verify --json object for u. */
void unit_file_to_json(const UnitFile *u, struct JsonWriter *w);

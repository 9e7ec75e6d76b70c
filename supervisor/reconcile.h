/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The pure half of a reload: which instances the unit files ask for, and how that differs from
 * what the manager holds. Reads files, never starts or stops anything, so that the fuzzer and the
 * unit tests can run exactly what manager_reload() runs. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/hashmap.h"
#include "unitfile/unit-settings.h"

typedef struct DesiredInstance {
        char *name;      /* "web", "web@2" (a replica), "tmpl@inst" */
        char *load_name; /* the unit it is loaded from: "web" for "web@2" */
        char *replica;   /* "2", or NULL */
        UnitFile *file;  /* the load result (n_errors > 0: invalid); NULL: a replica that could not be
                          * loaded at all, which leaves the instance as it is */
} DesiredInstance;

typedef struct DesiredLoadFailure {
        char *name;
        int error; /* negative errno from unit_file_load() */
} DesiredLoadFailure;

typedef struct DesiredSet {
        DesiredInstance *instances;
        size_t n_instances;
        Hashmap *index;            /* name -> position in instances + 1 */
        UnitDiagnostic *bad_names; /* files on the search path with invalid names */
        size_t n_bad_names;
        DesiredLoadFailure *failures; /* units whose file could not be loaded at all */
        size_t n_failures;
} DesiredSet;

void desired_set_done(DesiredSet *s);

/* Enumerates the search path and loads every unit: a template only through DefaultInstance=,
 * [Deploy] Replicas=N as NAME@1..NAME@N, Replicas=0 as the unit alone with nothing to run.
 * Fails only with -ENOMEM (or an enumeration error); problems in files are diagnostics. */
int reconcile_desired_set(const UnitLoadContext *ctx, DesiredSet *ret);

/* True when the file's unit should run without being asked: autostart, and not scaled to zero. */
bool reconcile_file_wants_start(const UnitFile *f);
/* True when the file means "loaded, nothing running": [Deploy] Replicas=0. */
bool reconcile_file_is_scaled_to_zero(const UnitFile *f);

/* What the manager holds for one unit, as far as the diff is concerned. */
typedef struct ReconcileCurrent {
        const char *name;
        bool has_file;     /* a last good configuration */
        bool active;       /* starting, running, stopping */
        bool auto_restart; /* waiting to restart */
        bool pinned;       /* a manual template instance or a transient container: not from a file */
        uint64_t hash;     /* of the configuration it runs with */
} ReconcileCurrent;

typedef enum ReconcileOp {
        RECONCILE_KEEP,     /* the file could not be read: leave the unit as it is */
        RECONCILE_ADD,      /* a new unit with this file */
        RECONCILE_UPDATE,   /* take the new file (nothing runs, or nothing changed) */
        RECONCILE_REPLACE,  /* running with another configuration: stop, then start the new one */
        RECONCILE_KEEP_BAD, /* the new file is invalid: keep the last good one, show the errors */
        _RECONCILE_OP_MAX,
        _RECONCILE_OP_INVALID = -EINVAL,
} ReconcileOp;

typedef enum ReconcileGone {
        RECONCILE_STAYS,  /* still desired, or pinned */
        RECONCILE_STOP,   /* its file is gone (or scaled away) and it runs: stop it, then forget it */
        RECONCILE_REMOVE, /* its file is gone and it does not run: forget it now */
} ReconcileGone;

/* The diff: ret_ops[i] for each desired instance, ret_gone[j] for each current unit (arrays the
 * caller allocates, d->n_instances and n_cur long). Linear in the number of units. Returns 0, or
 * -ENOMEM. */
int reconcile_plan(const DesiredSet *d, const ReconcileCurrent *cur, size_t n_cur, ReconcileOp *ret_ops,
                   ReconcileGone *ret_gone);

const char *reconcile_op_to_string(ReconcileOp op);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/string-table.h"
#include "basic/strv.h"
#include "reconcile.h"

void desired_set_done(DesiredSet *s) {
        for (size_t i = 0; i < s->n_instances; i++) {
                free(s->instances[i].name);
                free(s->instances[i].load_name);
                free(s->instances[i].replica);
                unit_file_free(s->instances[i].file);
        }
        free(s->instances);
        hashmap_free(s->index);
        unit_diagnostics_free(s->bad_names, s->n_bad_names);
        for (size_t i = 0; i < s->n_failures; i++)
                free(s->failures[i].name);
        free(s->failures);
        *s = (DesiredSet){};
}

bool reconcile_file_is_scaled_to_zero(const UnitFile *f) {
        return f && f->n_errors == 0 && unit_settings_has_replicas(&f->settings) && f->settings.replicas == 0;
}

bool reconcile_file_wants_start(const UnitFile *f) {
        return f && unit_settings_autostart(&f->settings) && !reconcile_file_is_scaled_to_zero(f);
}

static bool set_has(const DesiredSet *s, const char *name) {
        return hashmap_contains(s->index, name);
}

/* Takes ownership of file (also on failure). A name already in the set keeps its first entry: a
 * file "web@1.container" next to "web.container" with Replicas= must not make two units of one
 * name. */
static int set_add(DesiredSet *s, const char *name, const char *load_name, const char *replica, UnitFile *file) {
        _cleanup_unit_file_free_ UnitFile *f = file;
        DesiredInstance *a, *d;

        if (set_has(s, name))
                return 0;
        if (!s->index && !(s->index = hashmap_new()))
                return -ENOMEM;
        a = realloc(s->instances, (s->n_instances + 1) * sizeof(DesiredInstance));
        if (!a)
                return -ENOMEM;
        s->instances = a;
        d = &a[s->n_instances];
        *d = (DesiredInstance){
                .name = strdup(name),
                .load_name = strdup(load_name),
                .replica = replica ? strdup(replica) : NULL,
        };
        if (!d->name || !d->load_name || (replica && !d->replica)) {
                free(d->name);
                free(d->load_name);
                free(d->replica);
                return -ENOMEM;
        }
        if (hashmap_put(s->index, d->name, (void *) (uintptr_t) (s->n_instances + 1)) < 0) {
                free(d->name);
                free(d->load_name);
                free(d->replica);
                return -ENOMEM;
        }
        d->file = TAKE_PTR(f);
        s->n_instances++;
        return 0;
}

static int add_failure(DesiredSet *s, const char *name, int error) {
        DesiredLoadFailure *a = realloc(s->failures, (s->n_failures + 1) * sizeof(DesiredLoadFailure));
        if (!a)
                return -ENOMEM;
        s->failures = a;
        a[s->n_failures].name = strdup(name);
        if (!a[s->n_failures].name)
                return -ENOMEM;
        a[s->n_failures++].error = error;
        return 0;
}

static bool endswith_at(const char *s) {
        size_t n = strlen(s);
        return n > 0 && s[n - 1] == '@';
}

/* One enumerated name: its instances into s. */
static int add_unit(const UnitLoadContext *ctx, char *const *names, const char *name, DesiredSet *s) {
        _cleanup_unit_file_free_ UnitFile *f = NULL;
        _cleanup_free_ char *inst = NULL;
        const char *load_name = name;
        int r;

        if (endswith_at(name)) {
                /* A template runs only through DefaultInstance= or "supctl start t@i". */
                _cleanup_unit_file_free_ UnitFile *t = NULL;
                r = unit_file_load(ctx, name, NULL, &t);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || t->n_errors > 0 || isempty(t->settings.default_instance))
                        return 0;
                if (asprintf(&inst, "%s%s", name, t->settings.default_instance) < 0)
                        return -ENOMEM;
                if (strv_contains(names, inst))
                        return 0; /* its own file is enumerated too */
                load_name = inst;
        }

        r = unit_file_load(ctx, load_name, NULL, &f);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add_failure(s, load_name, r);

        /* Without Replicas= (or with an invalid file, or Replicas=0) the unit is its one instance. */
        if (f->n_errors > 0 || !unit_settings_has_replicas(&f->settings) || f->settings.replicas == 0)
                return set_add(s, load_name, load_name, NULL, TAKE_PTR(f));

        for (unsigned i = 1; i <= f->settings.replicas; i++) {
                _cleanup_unit_file_free_ UnitFile *fi = NULL;
                _cleanup_free_ char *iname = NULL;
                char rep[16];

                snprintf(rep, sizeof(rep), "%u", i);
                if (asprintf(&iname, "%s@%s", load_name, rep) < 0)
                        return -ENOMEM;
                /* Each replica is loaded on its own: %i differs, and units never share a file. */
                r = unit_file_load(ctx, load_name, rep, &fi);
                if (r == -ENOMEM)
                        return r;
                r = set_add(s, iname, load_name, rep, r < 0 ? NULL : TAKE_PTR(fi));
                if (r < 0)
                        return r;
        }
        return 0;
}

int reconcile_desired_set(const UnitLoadContext *ctx, DesiredSet *ret) {
        _cleanup_strv_free_ char **names = NULL;
        DesiredSet s = {};
        int r;

        r = unit_file_enumerate(ctx, &names, &s.bad_names, &s.n_bad_names);
        if (r < 0)
                return r;
        STRV_FOREACH (name, names) {
                r = add_unit(ctx, names, *name, &s);
                if (r < 0) {
                        desired_set_done(&s);
                        return r;
                }
        }
        *ret = s;
        return 0;
}

int reconcile_plan(const DesiredSet *d, const ReconcileCurrent *cur, size_t n_cur, ReconcileOp *ret_ops,
                   ReconcileGone *ret_gone) {
        _cleanup_(hashmap_freep) Hashmap *current = hashmap_new();

        if (!current)
                return -ENOMEM;
        for (size_t j = 0; j < n_cur; j++)
                if (hashmap_put(current, cur[j].name, (void *) &cur[j]) == -ENOMEM)
                        return -ENOMEM;
        for (size_t i = 0; i < d->n_instances; i++) {
                const DesiredInstance *di = &d->instances[i];
                const ReconcileCurrent *c = hashmap_get(current, di->name);

                if (!di->file)
                        ret_ops[i] = RECONCILE_KEEP;
                else if (di->file->n_errors > 0)
                        ret_ops[i] = RECONCILE_KEEP_BAD;
                else if (!c)
                        ret_ops[i] = RECONCILE_ADD;
                else if (c->has_file && c->active && !c->auto_restart &&
                         (unit_settings_hash(&di->file->settings) != c->hash ||
                          reconcile_file_is_scaled_to_zero(di->file)))
                        ret_ops[i] = RECONCILE_REPLACE;
                else
                        ret_ops[i] = RECONCILE_UPDATE;
        }
        for (size_t j = 0; j < n_cur; j++) {
                bool seen = cur[j].pinned || hashmap_contains(d->index, cur[j].name);
                ret_gone[j] = seen ? RECONCILE_STAYS : cur[j].active ? RECONCILE_STOP : RECONCILE_REMOVE;
        }
        return 0;
}

static const char *const reconcile_op_table[_RECONCILE_OP_MAX] = {
        [RECONCILE_KEEP] = "keep",       [RECONCILE_ADD] = "add",           [RECONCILE_UPDATE] = "update",
        [RECONCILE_REPLACE] = "replace", [RECONCILE_KEEP_BAD] = "keep-bad",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(reconcile_op, ReconcileOp);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the whole load and reconcile path, not only the parser: the input becomes
 * one or two files in a two-directory search path (names chosen by the first byte), runs through
 * reconcile_desired_set() exactly as manager_reload() does, is diffed against a fake "running" set
 * made from a first load, then the second file is removed and the diff runs again (a reload).
 * No container is started. Any crash or sanitizer report is a bug: "no unit file, however
 * malformed, crashes supd".
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz tests/fuzz/fuzz-reconcile
 *   build-fuzz/tests/fuzz/fuzz-reconcile -max_len=65536 -timeout=10 CORPUS_DIR
 * The unit-file corpus can be fed as is: without a separator the whole input is one file.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/macro.h"
#include "reconcile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[] = "/tmp/supd-fuzz-reconcile-XXXXXX";
static char *dirs[3];

/* File names the two parts may take. */
static const char *const names1[] = { "a.container", "a@.container", "a@x.container", "b.container" };
static const char *const names2[] = { "a.container.d/10.conf", "a@.container.d/a.conf", "a@1.container",
                                      "a.container" };

static void put(const char *dir, const char *name, const uint8_t *p, size_t n) {
        char path[512];
        char *slash;
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        slash = strrchr(path, '/');
        *slash = 0;
        (void) mkdir_p(path, 0755);
        *slash = '/';
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                abort();
        if (n > 0 && write(fd, p, n) != (ssize_t) n)
                abort();
        close(fd);
}

static void touch_all(const DesiredSet *d) {
        _cleanup_fclose_ FILE *null = fopen("/dev/null", "we");
        JsonWriter w;

        if (!null)
                abort();
        json_init(&w, null);
        for (size_t i = 0; i < d->n_instances; i++) {
                const UnitFile *f = d->instances[i].file;
                if (!f)
                        continue;
                unit_file_to_json(f, &w);
                (void) reconcile_file_wants_start(f);
                for (size_t k = 0; k < f->n_errors; k++)
                        free(unit_diagnostic_format(&f->errors[k]));
        }
}

/* The running set a first load would have produced, every other unit active. */
static ReconcileCurrent *fake_current(const DesiredSet *d) {
        ReconcileCurrent *c = calloc(d->n_instances + 1, sizeof(ReconcileCurrent));
        if (!c)
                abort();
        for (size_t i = 0; i < d->n_instances; i++) {
                const UnitFile *f = d->instances[i].file;
                bool good = f && f->n_errors == 0;
                c[i] = (ReconcileCurrent){
                        .name = d->instances[i].name,
                        .has_file = good,
                        .active = good && i % 2 == 0,
                        .auto_restart = good && i % 4 == 2,
                        .hash = good ? unit_settings_hash(&f->settings) : 0,
                };
        }
        return c;
}

static void plan(const DesiredSet *d, const ReconcileCurrent *cur, size_t n_cur) {
        _cleanup_free_ ReconcileOp *ops = calloc(d->n_instances + 1, sizeof(ReconcileOp));
        _cleanup_free_ ReconcileGone *gone = calloc(n_cur + 1, sizeof(ReconcileGone));
        if (!ops || !gone)
                abort();
        if (reconcile_plan(d, cur, n_cur, ops, gone) < 0)
                abort();
        for (size_t i = 0; i < d->n_instances; i++)
                if (!reconcile_op_to_string(ops[i]))
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        UnitLoadContext ctx = {
                .search_path = dirs,
                .hostname = "fuzzhost",
                .machine_id = "0123456789abcdef0123456789abcdef",
        };
        _cleanup_(desired_set_done) DesiredSet d1 = {}, d2 = {};
        _cleanup_free_ ReconcileCurrent *cur = NULL;
        const uint8_t *sep = NULL, *p1, *p2 = NULL;
        size_t n1, n2 = 0;
        uint8_t sel = 0;

        if (!dirs[0]) {
                if (!mkdtemp(base))
                        abort();
                for (int i = 0; i < 2; i++)
                        if (asprintf(&dirs[i], "%s/%s", base, i == 0 ? "etc" : "run") < 0)
                                abort();
        }
        for (int i = 0; i < 2; i++) {
                (void) rm_rf_at(AT_FDCWD, dirs[i]);
                if (mkdir_p(dirs[i], 0755) < 0)
                        abort();
        }

        /* A leading control byte (not tab, newline or carriage return) selects the file names:
         * bits 0-1 the first file's, bit 2 the second file's directory, bits 3-4 its name.
         * Otherwise (a plain unit file from the parser's corpus) the input is "a.container". */
        if (size > 0 && data[0] < 0x20 && data[0] != '\t' && data[0] != '\n' && data[0] != '\r') {
                sel = data[0];
                data++;
                size--;
        }
        for (size_t i = 0; i + 4 <= size && !sep; i++)
                if (memcmp(data + i, "\n--\n", 4) == 0)
                        sep = data + i;
        p1 = data;
        n1 = sep ? (size_t) (sep - data) : size;
        if (sep) {
                p2 = sep + 4;
                n2 = size - n1 - 4;
        }
        put(dirs[0], names1[sel & 3], p1, n1);
        if (p2)
                put(dirs[(sel >> 2) & 1], names2[(sel >> 3) & 3], p2, n2);

        if (reconcile_desired_set(&ctx, &d1) < 0)
                return 0;
        touch_all(&d1);
        cur = fake_current(&d1);
        plan(&d1, cur, d1.n_instances);

        /* A reload after the second file went away, diffed against the first load. */
        if (p2) {
                char path[512];
                snprintf(path, sizeof(path), "%s/%s", dirs[(sel >> 2) & 1], names2[(sel >> 3) & 3]);
                (void) unlink(path);
        }
        if (reconcile_desired_set(&ctx, &d2) < 0)
                return 0;
        touch_all(&d2);
        plan(&d2, cur, d1.n_instances);
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the unit-file loader: the input becomes a template unit file, which is
 * loaded as an instance (so specifiers, drop-in lookup and validation all run) and rendered as
 * verify --json. Any crash, leak, sanitizer report or hang is a bug: the loader promises bounded
 * time and memory on hostile files.
 *
 * Build and run (clang only):
 *   CC=clang meson setup build-fuzz -Dfuzz=true
 *   ninja -C build-fuzz tests/fuzz/fuzz-unit-file
 *   mkdir -p /tmp/corpus   (seed it with a few .container files, e.g. from units/examples)
 *   build-fuzz/tests/fuzz/fuzz-unit-file -max_len=65536 -timeout=10 -rss_limit_mb=1024 /tmp/corpus
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "basic/json.h"
#include "basic/macro.h"
#include "unitfile/unit-settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/supd-fuzz-XXXXXX";
static char path[sizeof(dir) + 32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *search[] = { dir, NULL };
        UnitLoadContext ctx = {
                .search_path = search,
                .hostname = "fuzzhost",
                .machine_id = "0123456789abcdef0123456789abcdef",
        };
        _cleanup_unit_file_free_ UnitFile *u = NULL;
        _cleanup_fclose_ FILE *null = NULL;
        JsonWriter w;
        int fd;

        if (!path[0]) {
                if (!mkdtemp(dir))
                        abort();
                snprintf(path, sizeof(path), "%s/fuzz@.container", dir);
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                abort();
        if (size > 0 && write(fd, data, size) != (ssize_t) size)
                abort();
        close(fd);

        if (unit_file_load(&ctx, "fuzz@1", NULL, &u) < 0)
                return 0;
        null = fopen("/dev/null", "we");
        if (!null)
                abort();
        json_init(&w, null);
        unit_file_to_json(u, &w);
        (void) unit_settings_hash(&u->settings);
        (void) unit_settings_stop_timeout(&u->settings);
        return 0;
}

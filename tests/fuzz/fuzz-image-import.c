/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the archive importer's layer unpacker: any byte string (plain or
 * compressed tar) is unpacked into a fresh directory, which must then hold nothing but what was
 * created below it. Run: BUILDDIR/tests/fuzz/fuzz-image-import -max_total_time=60 [CORPUS] */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "image/image-layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *err = NULL;
        LayerBudget budget = { .limits = { .max_bytes = 64 << 20, .max_entries = 10000 } };
        LayerResult res;
        MemSource ms = { .data = data, .size = size, .chunk = 4096 };
        int fd;

        (void) rm_rf_at(AT_FDCWD, "/tmp/fuzz-image-import.layer");
        if (mkdir("/tmp/fuzz-image-import.layer", 0755) < 0)
                abort();
        fd = open("/tmp/fuzz-image-import.layer", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        (void) layer_unpack(fd, mem_source_read, &ms, &budget, LAYER_UNPACK_LENIENT_END, &res, &err);
        free(err);
        close(fd);
        (void) rm_rf_at(AT_FDCWD, "/tmp/fuzz-image-import.layer");
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "image-store.h"

/* Progress of an import or pull: bytes of layer data read so far out of total (0 if unknown), and
 * layers finished out of layers to fetch. Called at most every 100ms, and once at the end. */
typedef void (*ImageProgressFn)(void *userdata, uint64_t done, uint64_t total, unsigned layers_done,
                                unsigned layers_total);

/* Imports FILE or DIR into the store: a plain root filesystem tarball (plain, gzip, xz, zstd, bzip2
 * by magic bytes), a docker save archive (classic manifest.json layout or Docker 25+'s OCI hybrid;
 * manifest.json wins when both are there), an oci-archive or an OCI image layout directory.
 * name ("NAME[:TAG]") tags the image; NULL keeps the archive's own tags. Layers already stored are
 * not unpacked again. On failure the store is unchanged and *ret_error says what was wrong (which
 * layer, which entry). *ret_skipped_devices (may be NULL) counts the device nodes that were left
 * out: the caller warns about them. */
int image_import(ImageStore *s, const char *path, const char *name, const ImportLimits *limits,
                 ImageProgressFn progress, void *userdata, char **ret_id, unsigned *ret_skipped_devices,
                 char **ret_error);

/* The machine's OCI architecture name ("amd64", "arm64", …). */
const char *image_host_arch(void);

/* ---- shared with the puller ---- */

typedef struct ImportProgress {
        ImageProgressFn fn;
        void *userdata;
        uint64_t done, total;
        unsigned layers_done, layers_total;
        uint64_t last_usec;
} ImportProgress;
void import_progress_report(ImportProgress *p, bool force);

/* Unpacks one layer from read_fn into SCRATCH/<index>/diff and writes SCRATCH/<index>/size;
 * verifies blob_hex and diff_hex when they are non-empty. On success *ret_diff_hex holds the
 * layer's diff id and *ret_scratch_name its directory name under the scratch dir. */
int import_layer(int scratch_fd, size_t index, size_t n_layers, LayerReadFn read_fn, void *userdata,
                 LayerBudget *budget, const char *blob_hex, const char *diff_hex,
                 char ret_diff_hex[static DIGEST_HEX_LEN + 1], char **ret_scratch_name, char **ret_error);

/* Picks this host's platform from an image index (OCI or Docker list). Returns the digest hex of
 * the chosen manifest. */
int image_index_pick(const void *data, size_t size, char ret_hex[static DIGEST_HEX_LEN + 1], char **ret_media_type);

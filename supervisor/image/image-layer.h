/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "image-digest.h"

/* Unpacking one layer (a tar stream, plain or gzip/xz/zstd/bzip2 compressed, detected by magic
 * bytes) into an empty directory, safely: every entry is created relative to the layer's
 * directory fd, parents are walked one component at a time without following symlinks, and
 * metadata is applied through the fd of the object just created. So no entry can create, change
 * or follow anything outside the layer. Whiteouts become overlayfs whiteouts (char device 0/0),
 * opaque markers the trusted.overlay.opaque xattr. Device nodes are skipped; trusted.* xattrs
 * never come from the archive. Needs root for whiteouts, ownership and the opaque xattr. */

typedef struct ImportLimits {
        uint64_t max_bytes;   /* uncompressed tar bytes per import (supd.conf MaxImportSize=) */
        uint64_t max_entries; /* tar entries per import */
        /* supd.conf MinFreeSpace=: what an import must leave free on the store's file system, as
         * bytes and/or a percentage of its size; with both set the smaller counts, with neither
         * (0, 0) nothing is reserved. */
        uint64_t min_free_bytes;
        unsigned min_free_percent;
} ImportLimits;

#define IMPORT_LIMITS_DEFAULT                                                                                         \
        ((ImportLimits){ .max_bytes = UINT64_C(64) << 30,                                                             \
                         .max_entries = 4000000,                                                                      \
                         .min_free_bytes = UINT64_C(1) << 30,                                                         \
                         .min_free_percent = 5 })

/* The free space an import must leave on a file system of fs_size bytes. */
uint64_t import_limits_min_free(const ImportLimits *l, uint64_t fs_size);
/* "64G", "1.5M", "512": sizes as supd.conf spells them. */
char *import_format_size(uint64_t v, char buf[static 24]);

/* Supplies the compressed stream: returns the number of bytes at *ret_buf, 0 at the end, or a
 * negative errno. The buffer stays valid until the next call. */
typedef ssize_t (*LayerReadFn)(void *userdata, const void **ret_buf);

typedef struct LayerResult {
        char blob_hex[DIGEST_HEX_LEN + 1]; /* digest of the bytes as read (compressed) */
        char diff_hex[DIGEST_HEX_LEN + 1]; /* digest of the uncompressed tar stream */
        uint64_t size;                     /* uncompressed tar bytes */
        uint64_t entries;
        unsigned skipped_devices;
} LayerResult;

/* Counts towards limits across layers of one import. */
typedef struct LayerBudget {
        ImportLimits limits;
        uint64_t bytes;
        uint64_t entries;
        unsigned skipped_devices; /* device nodes left out, over all layers */
        const char *fs_path;      /* the store directory, for messages */
        uint64_t unchecked;       /* bytes accounted since the free space was last looked at */
        bool limit_hit;           /* the failure is a limit of the import as a whole, not the entry's */
} LayerBudget;

/* How often (in bytes about to be written) the free space is checked during an import. */
#define LAYER_SPACE_CHECK_INTERVAL (UINT64_C(8) << 20)

/* Fails with -ENOSPC and a message naming MinFreeSpace= when writing upcoming more bytes to the
 * file system of fd would leave less free than the limits allow. */
int layer_budget_check_space(LayerBudget *b, int fd, uint64_t upcoming, char **ret_error);
/* Accounts cost bytes about to be written; checks the free space once LAYER_SPACE_CHECK_INTERVAL
 * bytes have accumulated (at once for a big entry). */
int layer_budget_account(LayerBudget *b, int fd, uint64_t cost, char **ret_error);
/* The message for an import over max_bytes: "import stopped: image larger than MaxImportSize=…". */
int layer_budget_too_big(LayerBudget *b, char **ret_error);

typedef enum LayerUnpackFlags {
        /* A stream that ends right after an entry's data, without padding or end-of-archive
         * blocks, is complete. Only for layers whose digest the caller verifies. */
        LAYER_UNPACK_LENIENT_END = 1 << 0,
} LayerUnpackFlags;

/* Unpacks the stream into dir_fd (which should be empty). On failure returns a negative errno
 * and a message in *ret_error (naming the entry at fault); the directory then holds a partial
 * tree for the caller to remove. */
int layer_unpack(int dir_fd, LayerReadFn read_fn, void *userdata, LayerBudget *budget, LayerUnpackFlags flags,
                 LayerResult *ret, char **ret_error);

/* Normalises an archive member name: drops "./" and empty components, refuses absolute names
 * (-EPERM), ".." components (-EPERM) and over-long names (-ENAMETOOLONG). "" is the root. */
int layer_path_normalize(const char *name, char **ret);

/* "foo" for ".wh.foo"; NULL if base is no whiteout; -EINVAL (via *ret_r) if malformed. */
typedef enum WhiteoutKind {
        WHITEOUT_NONE,
        WHITEOUT_FILE,
        WHITEOUT_OPAQUE,
        _WHITEOUT_INVALID = -EINVAL,
} WhiteoutKind;
WhiteoutKind layer_whiteout_kind(const char *base);

/* A read function over a memory buffer, for small layers and tests. */
typedef struct MemSource {
        const void *data;
        size_t size;
        size_t chunk;
        size_t pos;
} MemSource;
ssize_t mem_source_read(void *userdata, const void **ret_buf);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "image-layer.h"

/* The image store under STATE_DIR (/var/lib/supd):
 *   layers/<diffhex>/diff/   one unpacked layer, keyed by its uncompressed digest, shared by all
 *   layers/<diffhex>/size    its uncompressed size in bytes
 *   images/<id>.json         the image's config blob (id = its sha256, as Docker computes it)
 *   images/<id>.tags.json    that image's tags, ["name:tag", ...]: tags.json can be rebuilt
 *   tags.json                {"name:tag": "<id>", ...}: the index, and what wins
 *   tmp/                     imports in progress (each holds a lock while alive)
 *   lock                     flock()ed while the store is changed
 * A layer's reference count is the number of images whose rootfs.diff_ids name it; it is computed
 * under the lock whenever something is removed, so nothing can drift. An import unpacks into
 * tmp/ and renames layers into place, then writes the image, then the tag: a crash leaves only
 * things the next image_store_open() removes. Every file is written atomically (temporary file,
 * fsync, rename, fsync of the directory). A damaged tags.json is set aside as
 * tags.json.corrupt-<time> and rebuilt from the per-image records, with a warning; it never makes
 * the store unusable. All functions return a negative errno. */

typedef struct ImageStore ImageStore;

/* Where the store reports what it repaired (a damaged tags.json, say). Process-wide: set once by
 * the daemon (and again in an image worker); no function of the store logs by itself. */
typedef void (*ImageStoreWarnFn)(const char *message, void *userdata);
void image_store_set_warn(ImageStoreWarnFn fn, void *userdata);

typedef struct ImageConfig {
        char **entrypoint;
        char **cmd;
        char **env; /* "K=V" */
        char *working_dir;
        char *user;
        char **exposed_ports; /* "80/tcp" */
        char **labels;        /* "K=V" */
} ImageConfig;

typedef struct Image {
        char *name;        /* "busybox" (NULL when looked up by id and untagged) */
        char *tag;         /* "latest", or "sha256:…" for a digest reference */
        char *id;          /* 64 hex digits */
        char **layer_dirs; /* overlay lowerdir order: topmost first; absolute paths */
        char **layer_ids;  /* diff ids, "sha256:…", bottom first */
        ImageConfig config;
        uint64_t size;    /* sum of the layers' uncompressed sizes */
        uint64_t created; /* µs since the epoch, 0 if unknown */
} Image;

/* Both free everything the struct points to; images returned by the store are the caller's. */
void image_config_done(ImageConfig *c);
Image *image_free(Image *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(Image *, image_free);

typedef enum ImageStoreFlags {
        IMAGE_STORE_CLEANUP = 1 << 0, /* remove remains of interrupted imports and unreferenced layers */
} ImageStoreFlags;

int image_store_open(const char *state_dir, ImageStoreFlags flags, ImageStore **ret);
ImageStore *image_store_free(ImageStore *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageStore *, image_store_free);
const char *image_store_dir(const ImageStore *s);

/* "busybox" → "busybox:latest", "docker.io/library/x:1" → "x:1", "r:5000/a/b@sha256:…" kept.
 * -EINVAL for anything that is not a plausible reference. */
int image_ref_normalize(const char *ref, char **ret);
/* Splits a normalised reference into name and tag ("sha256:…" for digests). */
int image_ref_split(const char *norm, char **ret_name, char **ret_tag);

/* By reference, or by id (full, "sha256:…" or a unique prefix of at least 4 digits). -ENOENT if
 * absent. */
int image_store_lookup(ImageStore *s, const char *ref, Image **ret);
/* Just the id a reference names (-ENOENT if no image has it), whether or not its configuration
 * can be read. */
int image_store_resolve(ImageStore *s, const char *ref, char ret_id[static DIGEST_HEX_LEN + 1]);
/* After image_store_lookup() or image_store_history() failed with -EBADMSG because the image's
 * configuration is damaged: what is wrong, naming the file. NULL otherwise. */
const char *image_store_damage(const ImageStore *s);
bool image_store_has_layer(ImageStore *s, const char *diff_hex);

/* The size image_store_list() gives an image whose configuration (images/<id>.json) is damaged:
 * it is listed, with a warning naming the file, so that it can be removed. */
#define IMAGE_SIZE_DAMAGED UINT64_MAX

typedef struct ImageListEntry {
        char *name; /* "<none>" for untagged images */
        char *tag;
        char id[DIGEST_HEX_LEN + 1];
        uint64_t size; /* IMAGE_SIZE_DAMAGED: see above */
        uint64_t created;
} ImageListEntry;
int image_store_list(ImageStore *s, ImageListEntry **ret, size_t *ret_n);
void image_list_free(ImageListEntry *l, size_t n);

typedef struct ImageHistoryEntry {
        char *digest; /* "sha256:…" diff id, or "<missing>" for empty layers */
        uint64_t size;
        uint64_t created;
        char *created_by;
} ImageHistoryEntry;
/* Newest first, like docker history. */
int image_store_history(ImageStore *s, const char *ref, ImageHistoryEntry **ret, size_t *ret_n);
void image_history_free(ImageHistoryEntry *h, size_t n);

/* Whether a running container uses the image with this id. */
typedef bool (*ImageInUseFn)(const char *id, void *userdata);

/* Untags ref (or, for an id, every tag of it); removes the image when no tag is left, and every
 * layer no image uses any more. -EBUSY if a container uses it. Freed bytes in *ret_freed. */
int image_store_remove(ImageStore *s, const char *ref, ImageInUseFn in_use, void *userdata, uint64_t *ret_freed);
/* Removes untagged images that nothing uses, unreferenced layers and import remains. */
int image_store_prune(ImageStore *s, ImageInUseFn in_use, void *userdata, char ***ret_removed, uint64_t *ret_freed);

/* ---- used by the importers ---- */

/* A scratch directory tmp/<name> that cleanups leave alone while *ret_lock_fd is open. */
int image_store_scratch(ImageStore *s, char **ret_name, int *ret_dir_fd, int *ret_lock_fd);
void image_store_scratch_remove(ImageStore *s, const char *name);

typedef struct ImportedLayer {
        char diff_hex[DIGEST_HEX_LEN + 1];
        char *scratch_name; /* its directory below the scratch dir (holding diff/ and size); NULL if stored */
} ImportedLayer;

/* Under the lock: renames new layers into place, writes the image config, tags it. Returns the
 * image id (hex) in ret_id. */
int image_store_commit(ImageStore *s, int scratch_fd, const void *config, size_t config_size, ImportedLayer *layers,
                       size_t n_layers, char *const *tags, char **ret_id);

/* Parses a config blob: its diff ids (hex, bottom first) and the runtime defaults. */
int image_config_parse(const void *data, size_t size, char ***ret_diff_hex, ImageConfig *ret_config,
                       uint64_t *ret_created);

/* For `supctl diff`: walks an overlay upper dir and reports 'A', 'C' or 'D' per path (absolute,
 * as seen in the container), deciding A vs C by looking at the lower layers (topmost first). */
typedef int (*ImageDiffFn)(char kind, const char *path, void *userdata);
int image_diff(const char *upper_dir, char *const *lower_dirs, ImageDiffFn cb, void *userdata);

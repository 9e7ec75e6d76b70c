/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "image-import.h"

typedef struct ImagePullOptions {
        char **insecure;            /* registries ("host[:port]") that may be used over plain HTTP */
        const ImportLimits *limits; /* NULL: IMPORT_LIMITS_DEFAULT; downloads count as well */
} ImagePullOptions;

/* "reg:5000/a/b:t" → ("reg:5000", "a/b", "t"); "busybox" → ("registry-1.docker.io",
 * "library/busybox", "latest"); digests come back as "sha256:…". */
int image_ref_parse_remote(const char *ref, char **ret_registry, char **ret_repository, char **ret_reference);

/* Whether plain HTTP may be used: loopback, or listed as insecure. */
bool image_registry_plain_http(const char *registry, char *const *insecure);

/* Pulls ref over the OCI distribution API (bearer-token auth, every manifest type, indexes
 * resolved to this host's platform, redirects), verifies every digest, skips layers already
 * stored, and tags the image as ref. */
int image_pull(ImageStore *s, const char *ref, const ImagePullOptions *o, ImageProgressFn progress, void *userdata,
               char **ret_id, char **ret_error);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SHA-256 content digests as OCI spells them: "sha256:" followed by 64 lower-case hex digits.
 * The store keys layers by the hex part of their uncompressed digest (the "diff id"). */

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex, without the NUL */

typedef struct Digest Digest;

int digest_new(Digest **ret);
Digest *digest_free(Digest *d);
static inline void digest_freep(Digest **d) {
        if (*d)
                digest_free(*d);
}
void digest_update(Digest *d, const void *data, size_t size);
/* Writes 64 hex digits and a NUL; the context may not be updated afterwards. */
void digest_final_hex(Digest *d, char hex[static DIGEST_HEX_LEN + 1]);
/* One-shot digest of a buffer. */
int digest_buffer_hex(const void *data, size_t size, char hex[static DIGEST_HEX_LEN + 1]);

/* true for exactly 64 lower-case hex digits. */
bool digest_hex_valid(const char *hex);
/* "sha256:<hex>" → hex (copied into hex); -EINVAL for any other algorithm or spelling. */
int digest_parse(const char *s, char hex[static DIGEST_HEX_LEN + 1]);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "basic/macro.h"
#include "image-digest.h"

/* OpenSSL's SHA-256 uses the CPU's SHA extensions where present, which keeps digest checks well
 * below the cost of writing the files. */
struct Digest {
        EVP_MD_CTX *ctx;
};

int digest_new(Digest **ret) {
        Digest *d = new0(Digest, 1);
        if (!d)
                return -ENOMEM;
        d->ctx = EVP_MD_CTX_new();
        if (!d->ctx || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1) {
                digest_free(d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

Digest *digest_free(Digest *d) {
        if (!d)
                return NULL;
        EVP_MD_CTX_free(d->ctx);
        free(d);
        return NULL;
}

void digest_update(Digest *d, const void *data, size_t size) {
        if (size > 0)
                (void) EVP_DigestUpdate(d->ctx, data, size);
}

static void hexify(const unsigned char *md, char hex[static DIGEST_HEX_LEN + 1]) {
        static const char x[] = "0123456789abcdef";
        for (size_t i = 0; i < 32; i++) {
                hex[2 * i] = x[md[i] >> 4];
                hex[2 * i + 1] = x[md[i] & 15];
        }
        hex[DIGEST_HEX_LEN] = 0;
}

void digest_final_hex(Digest *d, char hex[static DIGEST_HEX_LEN + 1]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        (void) EVP_DigestFinal_ex(d->ctx, md, &len);
        hexify(md, hex);
}

int digest_buffer_hex(const void *data, size_t size, char hex[static DIGEST_HEX_LEN + 1]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        if (EVP_Digest(data, size, md, &len, EVP_sha256(), NULL) != 1)
                return -EIO;
        hexify(md, hex);
        return 0;
}

bool digest_hex_valid(const char *hex) {
        size_t i;
        if (!hex)
                return false;
        for (i = 0; i < DIGEST_HEX_LEN; i++)
                if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
                        return false;
        return hex[i] == 0;
}

int digest_parse(const char *s, char hex[static DIGEST_HEX_LEN + 1]) {
        if (!s || !strneq(s, "sha256:", 7) || !digest_hex_valid(s + 7))
                return -EINVAL;
        memcpy(hex, s + 7, DIGEST_HEX_LEN + 1);
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>

#include "utf8.h"

size_t utf8_encoded_valid_len(const char *str) {
        const unsigned char *s = (const unsigned char *) str;
        size_t len;
        uint32_t cp;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, cp = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

bool utf8_is_valid_n(const char *s, size_t n) {
        size_t i = 0;
        while (n == SIZE_MAX ? s[i] != 0 : i < n) {
                size_t k;
                if (s[i] == 0)
                        return false;
                if (n != SIZE_MAX && n - i < 4) {
                        /* Do not read past the buffer: check the lead byte's length first. */
                        unsigned char c = (unsigned char) s[i];
                        size_t need = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
                        if (need > n - i)
                                return false;
                }
                k = utf8_encoded_valid_len(s + i);
                if (k == 0)
                        return false;
                i += k;
        }
        return true;
}

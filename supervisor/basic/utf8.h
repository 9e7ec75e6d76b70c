/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. s must be non-empty. */
size_t utf8_encoded_valid_len(const char *s);
/* True if the first n bytes (or up to NUL if n == SIZE_MAX) are valid UTF-8 without NUL bytes. */
bool utf8_is_valid_n(const char *s, size_t n);

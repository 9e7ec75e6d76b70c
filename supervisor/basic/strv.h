/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* NULL-terminated string vectors. A NULL strv is a valid empty list. */

char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s);
bool strv_equal(char *const *a, char *const *b);
/* Append takes ownership of value on success and on failure. */
int strv_consume(char ***l, char *value);
int strv_extend(char ***l, const char *value);
int strv_extend_strv(char ***a, char *const *b);
/* Environment-style "K=V": replace an existing K= entry or append. */
int strv_env_set(char ***l, const char *assignment);
const char *strv_env_get(char *const *l, const char *key);
char *strv_join(char *const *l, const char *sep);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)

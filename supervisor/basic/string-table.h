/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

#include "macro.h"

/* Enums with names: a table NAME_table[] indexed by the enum (holes are NULL) and
 * DEFINE_STRING_TABLE_LOOKUP(NAME, Type) give
 *
 *     const char *NAME_to_string(Type i);       NULL when i is out of range or a hole
 *     Type NAME_from_string(const char *s);     -EINVAL (the enum's _X_INVALID) when s is unknown or NULL
 *
 * so that no enum grows a hand-written switch that can drift from its parser. The enum needs its
 * _X_INVALID = -EINVAL member (DESIGN.md), which also keeps it signed for the range check. */

/* The index of s in table[0..n), or -EINVAL. */
ssize_t string_table_lookup(const char *const *table, size_t n, const char *s);

#define _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, scope)                                                      \
        scope const char *name##_to_string(type i) {                                                                  \
                if (i < 0 || (size_t) i >= ELEMENTSOF(name##_table))                                                  \
                        return NULL;                                                                                  \
                return name##_table[i];                                                                               \
        }

#define _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, scope)                                                    \
        scope type name##_from_string(const char *s) {                                                                \
                return (type) string_table_lookup(name##_table, ELEMENTSOF(name##_table), s);                         \
        }

#define DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type) _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, )
#define DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type) _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, )
#define DEFINE_STRING_TABLE_LOOKUP(name, type)                                                                        \
        DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type)                                                              \
        DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type)

/* The same, static to one file. */
#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP_TO_STRING(name, type)                                                      \
        _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, static _unused_)
#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP_FROM_STRING(name, type)                                                    \
        _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, static _unused_)
#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP(name, type)                                                                \
        DEFINE_PRIVATE_STRING_TABLE_LOOKUP_TO_STRING(name, type)                                                      \
        DEFINE_PRIVATE_STRING_TABLE_LOOKUP_FROM_STRING(name, type)

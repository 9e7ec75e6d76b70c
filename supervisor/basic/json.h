/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* A small streaming JSON writer: enough for verify/inspect/list output, with correct string
 * escaping (invalid UTF-8 becomes U+FFFD so the output always parses). Commas are inserted
 * automatically; nesting up to 32 levels. */
typedef struct JsonWriter {
        FILE *f;
        int depth;
        bool need_comma[32];
        bool after_key;
} JsonWriter;

void json_init(JsonWriter *w, FILE *f);
void json_begin_object(JsonWriter *w);
void json_end_object(JsonWriter *w);
void json_begin_array(JsonWriter *w);
void json_end_array(JsonWriter *w);
void json_key(JsonWriter *w, const char *key);
void json_string(JsonWriter *w, const char *s); /* NULL prints null */
void json_uint(JsonWriter *w, uint64_t v);
void json_int(JsonWriter *w, int64_t v);
void json_double(JsonWriter *w, double v); /* two decimals: percentages */
void json_bool(JsonWriter *w, bool b);
void json_null(JsonWriter *w);
void json_strv(JsonWriter *w, char *const *l);
/* Writes a JSON-escaped string literal (with quotes) to f. */
void json_escape(FILE *f, const char *s);

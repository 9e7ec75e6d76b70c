/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>

#include "json.h"
#include "utf8.h"

void json_init(JsonWriter *w, FILE *f) {
        *w = (JsonWriter){ .f = f };
}

static void sep(JsonWriter *w) {
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (w->depth > 0 && w->depth < 32) {
                if (w->need_comma[w->depth])
                        fputc(',', w->f);
                w->need_comma[w->depth] = true;
        }
}

static void open_(JsonWriter *w, char c) {
        sep(w);
        fputc(c, w->f);
        w->depth++;
        if (w->depth < 32)
                w->need_comma[w->depth] = false;
}

static void close_(JsonWriter *w, char c) {
        fputc(c, w->f);
        w->depth--;
        if (w->depth == 0)
                fputc('\n', w->f);
}

void json_begin_object(JsonWriter *w) {
        open_(w, '{');
}
void json_end_object(JsonWriter *w) {
        close_(w, '}');
}
void json_begin_array(JsonWriter *w) {
        open_(w, '[');
}
void json_end_array(JsonWriter *w) {
        close_(w, ']');
}

void json_escape(FILE *f, const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        fputc('"', f);
        while (*p) {
                size_t n = utf8_encoded_valid_len((const char *) p);
                if (n == 0) {
                        fputs("\\ufffd", f);
                        p++;
                        continue;
                }
                if (n > 1) {
                        fwrite(p, 1, n, f);
                        p += n;
                        continue;
                }
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
                p++;
        }
        fputc('"', f);
}

void json_key(JsonWriter *w, const char *key) {
        sep(w);
        json_escape(w->f, key);
        fputc(':', w->f);
        w->after_key = true;
}

void json_string(JsonWriter *w, const char *s) {
        sep(w);
        if (s)
                json_escape(w->f, s);
        else
                fputs("null", w->f);
        if (w->depth == 0)
                fputc('\n', w->f);
}

void json_uint(JsonWriter *w, uint64_t v) {
        sep(w);
        fprintf(w->f, "%" PRIu64, v);
}

void json_double(JsonWriter *w, double v) {
        sep(w);
        fprintf(w->f, "%.2f", v);
}

void json_int(JsonWriter *w, int64_t v) {
        sep(w);
        fprintf(w->f, "%" PRId64, v);
}

void json_bool(JsonWriter *w, bool b) {
        sep(w);
        fputs(b ? "true" : "false", w->f);
}

void json_null(JsonWriter *w) {
        sep(w);
        fputs("null", w->f);
}

void json_strv(JsonWriter *w, char *const *l) {
        json_begin_array(w);
        for (char *const *i = l; i && *i; i++)
                json_string(w, *i);
        json_end_array(w);
}

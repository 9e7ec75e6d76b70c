/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **k = l; *k; k++)
                free(*k);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i])
                        return strv_free(c);
        }
        return c;
}

bool strv_contains(char *const *l, const char *s) {
        STRV_FOREACH (i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

bool strv_equal(char *const *a, char *const *b) {
        size_t n = strv_length(a);
        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

int strv_consume(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **c;

        if (!value)
                return -ENOMEM;
        c = realloc(*l, (n + 2) * sizeof(char *));
        if (!c) {
                free(value);
                return -ENOMEM;
        }
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        return strv_consume(l, strdup(value));
}

int strv_extend_strv(char ***a, char *const *b) {
        STRV_FOREACH (i, b) {
                int r = strv_extend(a, *i);
                if (r < 0)
                        return r;
        }
        return 0;
}

static size_t env_key_len(const char *s) {
        const char *eq = strchr(s, '=');
        return eq ? (size_t) (eq - s) : strlen(s);
}

int strv_env_set(char ***l, const char *assignment) {
        size_t k = env_key_len(assignment);
        char *c;

        for (char **i = *l; i && *i; i++)
                if (env_key_len(*i) == k && strneq(*i, assignment, k)) {
                        c = strdup(assignment);
                        if (!c)
                                return -ENOMEM;
                        free(*i);
                        *i = c;
                        return 0;
                }
        return strv_extend(l, assignment);
}

const char *strv_env_get(char *const *l, const char *key) {
        size_t k = strlen(key);
        STRV_FOREACH (i, l)
                if (env_key_len(*i) == k && strneq(*i, key, k))
                        return (*i)[k] == '=' ? *i + k + 1 : "";
        return NULL;
}

char *strv_join(char *const *l, const char *sep) {
        size_t n = 0, s = strlen(sep);
        char *r, *p;

        STRV_FOREACH (i, l)
                n += strlen(*i) + s;
        r = malloc(n + 1);
        if (!r)
                return NULL;
        p = r;
        STRV_FOREACH (i, l) {
                if (p != r) {
                        memcpy(p, sep, s);
                        p += s;
                }
                p = stpcpy(p, *i);
        }
        *p = 0;
        return r;
}

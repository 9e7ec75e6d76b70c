/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "specifier.h"

int specifier_unescape_instance(const char *instance, char **ret) {
        _cleanup_free_ char *r = NULL;
        char *t;

        r = malloc(strlen(instance) + 1);
        if (!r)
                return -ENOMEM;
        t = r;
        for (const char *f = instance; *f; f++) {
                if (*f == '-')
                        *t++ = '/';
                else if (f[0] == '\\' && f[1] == 'x' && f[2] && f[3] && strchr("0123456789abcdefABCDEF", f[2]) &&
                         strchr("0123456789abcdefABCDEF", f[3])) {
                        char hex[3] = { f[2], f[3], 0 };
                        unsigned long v = strtoul(hex, NULL, 16);
                        if (v == 0)
                                return -EINVAL;
                        *t++ = (char) v;
                        f += 3;
                } else
                        *t++ = *f;
        }
        *t = 0;
        *ret = TAKE_PTR(r);
        return 0;
}

static int read_machine_id(char buf[static 33]) {
        _cleanup_free_ char *s = NULL;
        size_t n;
        int r = read_file_at(AT_FDCWD, "/etc/machine-id", 4096, &s, &n);
        if (r < 0)
                return r;
        if (n < 32)
                return -ENXIO;
        for (size_t i = 0; i < 32; i++)
                if (!strchr("0123456789abcdef", s[i]))
                        return -ENXIO;
        memcpy(buf, s, 32);
        buf[32] = 0;
        return 0;
}

typedef struct Out {
        char *data;
        size_t len, alloc;
} Out;

static int out_append(Out *o, const char *s, size_t n) {
        if (o->len + n + 1 > o->alloc) {
                size_t a = MAX(o->alloc * 2, o->len + n + 1);
                char *d = realloc(o->data, a);
                if (!d)
                        return -ENOMEM;
                o->data = d;
                o->alloc = a;
        }
        memcpy(o->data + o->len, s, n);
        o->len += n;
        o->data[o->len] = 0;
        return 0;
}

int specifier_expand(const char *text, const SpecifierContext *c, char **ret, char *ret_bad) {
        _cleanup_free_ char *unit_full = NULL, *prefix = NULL, *unescaped = NULL;
        char host[256], mid[33];
        Out o = { 0 };
        const char *at, *name = c->unit_name, *inst = c->instance ?: "";
        int r;

        /* Fast path: most values contain no specifier. */
        if (!strchr(text, '%')) {
                char *d = strdup(text);
                if (!d)
                        return -ENOMEM;
                *ret = d;
                return 0;
        }

        at = strchr(name, '@');
        prefix = at ? strndup(name, (size_t) (at - name)) : strdup(name);
        if (!prefix || asprintf(&unit_full, "%s.container", name) < 0)
                return -ENOMEM;

        for (const char *p = text; *p;) {
                const char *v = NULL;
                char bad;

                if (*p != '%') {
                        size_t n = strcspn(p, "%");
                        r = out_append(&o, p, n);
                        if (r < 0)
                                goto fail;
                        p += n;
                        continue;
                }
                bad = p[1];
                switch (p[1]) {
                case '%':
                        v = "%";
                        break;
                case 'n':
                        v = unit_full;
                        break;
                case 'N':
                        v = name;
                        break;
                case 'p':
                        v = prefix;
                        break;
                case 'i':
                        v = inst;
                        break;
                case 'I':
                        if (!unescaped) {
                                r = specifier_unescape_instance(inst, &unescaped);
                                if (r == -EINVAL) {
                                        r = -ENXIO;
                                        goto fail_bad;
                                }
                                if (r < 0)
                                        goto fail;
                        }
                        v = unescaped;
                        break;
                case 'j': {
                        /* The last dash-separated component of the prefix, as in systemd. */
                        const char *dash = strrchr(prefix, '-');
                        v = dash ? dash + 1 : prefix;
                        break;
                }
                /* supd runs as root, as a system service: systemd's values for the system
                 * manager (the directories do not move under --root, as in systemd). */
                case 't':
                        v = "/run";
                        break;
                case 'h':
                        v = "/root";
                        break;
                case 'u':
                case 'g':
                        v = "root";
                        break;
                case 'U':
                case 'G':
                        v = "0";
                        break;
                case 'E':
                        v = "/etc";
                        break;
                case 'S':
                        v = "/var/lib";
                        break;
                case 'C':
                        v = "/var/cache";
                        break;
                case 'L':
                        v = "/var/log";
                        break;
                case 'T':
                        v = "/tmp";
                        break;
                case 'V':
                        v = "/var/tmp";
                        break;
                case 'H':
                        if (c->hostname)
                                v = c->hostname;
                        else {
                                if (gethostname(host, sizeof(host) - 1) < 0) {
                                        r = -ENXIO;
                                        goto fail_bad;
                                }
                                host[sizeof(host) - 1] = 0;
                                v = host;
                        }
                        break;
                case 'm':
                        if (c->machine_id)
                                v = c->machine_id;
                        else {
                                if (read_machine_id(mid) < 0) {
                                        r = -ENXIO;
                                        goto fail_bad;
                                }
                                v = mid;
                        }
                        break;
                default:
                        r = -EBADMSG;
                        if (ret_bad)
                                *ret_bad = bad;
                        goto fail;
                }
                r = out_append(&o, v, strlen(v));
                if (r < 0)
                        goto fail;
                p += 2;
                continue;
        fail_bad:
                if (ret_bad)
                        *ret_bad = bad;
                goto fail;
        }
        if (!o.data) {
                o.data = strdup("");
                if (!o.data)
                        return -ENOMEM;
        }
        *ret = o.data;
        return 0;
fail:
        free(o.data);
        return r;
}

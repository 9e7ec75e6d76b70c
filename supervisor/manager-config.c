/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/strv.h"
#include "manager-config.h"

void manager_config_init(ManagerConfig *c) {
        *c = (ManagerConfig){
                .bridge = strdup("supd0"),
                .subnet = strdup("10.88.0.0/16"),
                .cgroup_parent = strdup("supd"),
                .live_restore = false,
                .log_max_size = 10 * 1024 * 1024,
                .log_max_files = 5,
                /* The same defaults as an import without a config (IMPORT_LIMITS_DEFAULT): 5% of
                 * the file system or 1G, whichever is smaller, so that neither a small disk nor
                 * a huge one is left without room. */
                .image_max_import_size = UINT64_C(64) << 30,
                .image_min_free_bytes = UINT64_C(1) << 30,
                .image_min_free_percent = 5,
        };
}

void manager_config_done(ManagerConfig *c) {
        free(c->bridge);
        free(c->subnet);
        free(c->cgroup_parent);
        *c = (ManagerConfig){};
}

typedef struct ConfParse {
        const char *path;
        ManagerConfig *c;
        UnitDiagnostic *errors;
        size_t n_errors;
        const char *next; /* reader position */
        int line;         /* line the handler is called for: Debian's inih has no INI_HANDLER_LINENO */
} ConfParse;

_printf_(3, 4) static void conf_error(ConfParse *p, int line, const char *fmt, ...) {
        UnitDiagnostic *d = realloc(p->errors, (p->n_errors + 1) * sizeof(UnitDiagnostic));
        char *msg;
        va_list ap;
        int r;

        if (!d)
                return;
        p->errors = d;
        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        d[p->n_errors++] = (UnitDiagnostic){ .path = strdup(p->path), .line = (unsigned) line, .message = msg };
}

/* Hands inih one line at a time and counts them, so handler errors carry the line number.
 * supd.conf allows trailing comments ("Bridge=supd0   # comment", as in SPEC.md) and indentation;
 * Debian's inih build keeps the former in the value and treats the latter as a continuation, so
 * both are normalised here. */
static char *conf_reader(char *buf, int size, void *userdata) {
        ConfParse *p = userdata;
        const char *nl, *start;
        size_t n;

        if (!p->next || !*p->next)
                return NULL;
        nl = strchr(p->next, '\n');
        n = nl ? (size_t) (nl - p->next) + 1 : strlen(p->next);
        start = p->next;
        p->next += n;
        p->line++;
        while (n > 0 && (*start == ' ' || *start == '\t')) {
                start++;
                n--;
        }
        if (n >= (size_t) size)
                n = (size_t) size - 1; /* inih reports the overlong line as an error */
        memcpy(buf, start, n);
        buf[n] = 0;
        for (char *c = buf + 1; *c; c++)
                if ((*c == '#' || *c == ';') && (c[-1] == ' ' || c[-1] == '\t')) {
                        c[0] = '\n';
                        c[1] = 0;
                        break;
                }
        return buf;
}

static bool ifname_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n >= 16 || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *c = s; *c; c++)
                if (*c <= ' ' || *c == '/' || *c == ':' || *c == 0x7f)
                        return false;
        return true;
}

static bool subnet_valid(const char *s) {
        char addr[64];
        const char *slash = strchr(s, '/');
        struct in_addr a;
        unsigned prefix;
        char *end;

        if (!slash || (size_t) (slash - s) >= sizeof(addr))
                return false;
        memcpy(addr, s, (size_t) (slash - s));
        addr[slash - s] = 0;
        if (inet_pton(AF_INET, addr, &a) != 1)
                return false;
        errno = 0;
        prefix = (unsigned) strtoul(slash + 1, &end, 10);
        return !errno && *end == 0 && end != slash + 1 && prefix >= 8 && prefix <= 30;
}

static bool cgroup_name_valid(const char *s) {
        if (isempty(s) || strstr(s, "..") || s[0] == '/')
                return false;
        for (const char *c = s; *c; c++)
                if (*c < ' ' || *c == 0x7f)
                        return false;
        return true;
}

static int conf_handler(void *userdata, const char *section, const char *name, const char *value) {
        ConfParse *p = userdata;
        int line = p->line;
        ManagerConfig *c = p->c;
        int r;

        if (!name) /* a section header */
                return 1;
        if (streq(section, "Network") && streq(name, "Bridge")) {
                if (!ifname_valid(value))
                        conf_error(p, line, "invalid interface name '%s' for Bridge=", value);
                else
                        free_and_replace_str(&c->bridge, strdup(value));
        } else if (streq(section, "Network") && streq(name, "Subnet")) {
                if (!subnet_valid(value))
                        conf_error(p, line, "invalid IPv4 subnet '%s' for Subnet= (expected A.B.C.D/8..30)", value);
                else
                        free_and_replace_str(&c->subnet, strdup(value));
        } else if (streq(section, "Cgroup") && streq(name, "Parent")) {
                if (!cgroup_name_valid(value))
                        conf_error(p, line, "invalid cgroup path '%s' for Parent=", value);
                else
                        free_and_replace_str(&c->cgroup_parent, strdup(value));
        } else if (streq(section, "Manager") && streq(name, "LiveRestore")) {
                r = parse_boolean(value);
                if (r < 0)
                        conf_error(p, line, "invalid boolean '%s' for LiveRestore=", value);
                else
                        c->live_restore = r;
        } else if (streq(section, "Log") && streq(name, "MaxSize")) {
                uint64_t v;
                if (parse_size(value, &v) < 0 || v == 0)
                        conf_error(p, line, "invalid size '%s' for MaxSize=", value);
                else
                        c->log_max_size = v;
        } else if (streq(section, "Log") && streq(name, "MaxFiles")) {
                unsigned v;
                if (safe_atou(value, &v) < 0 || v == 0 || v > 1000)
                        conf_error(p, line, "invalid count '%s' for MaxFiles= (1..1000)", value);
                else
                        c->log_max_files = v;
        } else if (streq(section, "Images") && streq(name, "MaxImportSize")) {
                uint64_t v;
                if (parse_size(value, &v) < 0 || v == 0)
                        conf_error(p, line, "invalid size '%s' for MaxImportSize= (e.g. 64G, or infinity)", value);
                else
                        c->image_max_import_size = v;
        } else if (streq(section, "Images") && streq(name, "MinFreeSpace")) {
                size_t l = strlen(value);
                if (l > 1 && value[l - 1] == '%') {
                        _cleanup_free_ char *num = strndup(value, l - 1);
                        unsigned v;
                        if (!num)
                                return 0;
                        if (safe_atou(num, &v) < 0 || v > 99)
                                conf_error(p, line, "invalid percentage '%s' for MinFreeSpace= (0%%..99%%)", value);
                        else {
                                c->image_min_free_percent = v;
                                c->image_min_free_bytes = 0;
                        }
                } else {
                        uint64_t v;
                        if (parse_size(value, &v) < 0 || v == UINT64_MAX)
                                conf_error(p, line, "invalid size '%s' for MinFreeSpace= (e.g. 1G or 5%%)", value);
                        else {
                                c->image_min_free_bytes = v;
                                c->image_min_free_percent = 0;
                        }
                }
        } else if (streq(section, "Registries") && streq(name, "Insecure")) {
                /* Space-separated host[:port] names; an empty value resets the list. */
                _cleanup_free_ char *copy = strdup(value);
                char *save = NULL;
                if (!copy)
                        return 0;
                if (isempty(value))
                        c->insecure_registries = strv_free(c->insecure_registries);
                for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
                        if (strpbrk(t, "/@") || strlen(t) > 255)
                                conf_error(p, line, "invalid registry '%s' for Insecure=", t);
                        else if (strv_extend(&c->insecure_registries, t) < 0)
                                return 0;
                }
        } else
                conf_error(p, line, "unknown key '%s' in section [%s]", name, section);
        return 1;
}

int manager_config_load(ManagerConfig *c, const char *path, UnitDiagnostic **ret_errors, size_t *ret_n) {
        _cleanup_free_ char *data = NULL;
        ManagerConfig n;
        ConfParse p = { .path = path, .c = &n };
        int r;

        *ret_errors = NULL;
        *ret_n = 0;
        r = read_file_at(AT_FDCWD, path, 1024 * 1024, &data, NULL);
        if (r == -ENOENT) {
                manager_config_done(c);
                manager_config_init(c);
                return 0;
        }
        if (r < 0)
                return r;

        manager_config_init(&n);
        p.next = data;
        r = ini_parse_stream(conf_reader, &p, conf_handler, &p);
        if (r > 0)
                conf_error(&p, r, "syntax error");
        else if (r < 0)
                conf_error(&p, 0, "cannot parse");
        if (p.n_errors > 0) {
                manager_config_done(&n);
                *ret_errors = p.errors;
                *ret_n = p.n_errors;
                return -EINVAL;
        }
        manager_config_done(c);
        *c = n;
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/json.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/string-table.h"
#include "basic/strv.h"
#include "basic/time-util.h"
#include "basic/utf8.h"
#include "unit-load-internal.h"
#include "unit-settings.h"

/* ---- Enum string tables ---- */

static const char *const restart_policy_table[_RESTART_POLICY_MAX] = {
        [RESTART_NO] = "no",
        [RESTART_ON_SUCCESS] = "on-success",
        [RESTART_ON_FAILURE] = "on-failure",
        [RESTART_ON_ABNORMAL] = "on-abnormal",
        [RESTART_ON_WATCHDOG] = "on-watchdog",
        [RESTART_ON_ABORT] = "on-abort",
        [RESTART_ALWAYS] = "always",
};

static const char *const health_on_failure_table[_HEALTH_ON_FAILURE_MAX] = {
        [HEALTH_ON_FAILURE_NONE] = "none",
        [HEALTH_ON_FAILURE_KILL] = "kill",
        [HEALTH_ON_FAILURE_RESTART] = "restart",
        [HEALTH_ON_FAILURE_STOP] = "stop",
};

static const char *const notify_mode_table[_NOTIFY_MODE_MAX] = {
        [NOTIFY_NO] = "false",
        [NOTIFY_YES] = "true",
        [NOTIFY_HEALTHY] = "healthy",
};

static const char *const update_order_table[_UPDATE_ORDER_MAX] = {
        [UPDATE_ORDER_STOP_FIRST] = "stop-first",
        [UPDATE_ORDER_START_FIRST] = "start-first",
};

DEFINE_STRING_TABLE_LOOKUP(restart_policy, RestartPolicy);
DEFINE_STRING_TABLE_LOOKUP(health_on_failure, HealthOnFailure);
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(notify_mode, NotifyMode);
DEFINE_STRING_TABLE_LOOKUP(update_order, UpdateOrder);

/* ---- Init / done ---- */

void unit_settings_init(UnitSettings *s) {
        *s = (UnitSettings){
                .start_limit_interval = 10 * USEC_PER_SEC,
                .start_limit_burst = 5,
                .read_only = -1,
                .no_new_privileges = -1,
                .memory = UINT64_MAX,
                .pids_limit = UINT64_MAX,
                .stop_signal = SIGTERM,
                .stop_timeout = USEC_INFINITY,
                .run_init = -1,
                .health_interval = 30 * USEC_PER_SEC,
                .health_timeout = 30 * USEC_PER_SEC,
                .health_start_period = 0,
                .health_retries = 3,
                .health_on_failure = HEALTH_ON_FAILURE_NONE,
                .notify = NOTIFY_NO,
                .restart = RESTART_NO,
                .restart_sec = 100 * USEC_PER_MSEC,
                .restart_max_delay = USEC_INFINITY,
                .timeout_start = 90 * USEC_PER_SEC,
                .timeout_stop = USEC_INFINITY,
                .memory_max = UINT64_MAX,
                .cpu_quota_per_sec = USEC_INFINITY,
                .cpu_weight = UINT64_MAX,
                .tasks_max = UINT64_MAX,
                .replicas = 1,
                .update_order = UPDATE_ORDER_STOP_FIRST,
                .update_parallelism = 1,
                .update_delay = 0,
                .restart_reset = 10 * USEC_PER_SEC,
        };
}

/* ---- The key table ---- */

typedef enum Store {
        ST_STR,
        ST_STRV,
        ST_ENV, /* strv of "K=V", shown as an object */
        ST_TRI, /* int: -1 unset, 0, 1 */
        ST_U64, /* UINT64_MAX = unset/infinity */
        ST_UINT,
        ST_USEC,
        ST_SIGNAL,
        ST_RESTART,
        ST_HEALTH_ON_FAILURE,
        ST_NOTIFY,
        ST_UPDATE_ORDER,
        ST_EXIT_STATUS,
        ST_CPU_QUOTA,
} Store;

typedef enum ItemFlags {
        ITEM_NO_HASH = 1 << 0,          /* does not affect a running instance */
        ITEM_ZERO_IS_INFINITY = 1 << 1, /* systemd's TimeoutStartSec=0 */
        ITEM_DISABLE_KEYWORD = 1 << 2,  /* "disable" means infinity (HealthInterval=) */
        ITEM_NONZERO = 1 << 3,
        ITEM_EMPTY_IS_VALUE = 1 << 4,        /* Entrypoint= clears the image's entrypoint */
        ITEM_MINUS_ONE_IS_INFINITY = 1 << 5, /* PidsLimit=-1, as in Podman */
        ITEM_NO_SPECIFIERS = 1 << 6,         /* '%' is part of the syntax (CPUQuota=50%), as in systemd */
        /* A single-valued [Container] key that Quadlet reads with Lookup(): one pair of double
         * quotes around the whole value is removed, nothing else (no escapes, no single quotes).
         * systemd's own plain string keys ([Unit], [Service]) keep their value verbatim. */
        ITEM_QUADLET_UNQUOTE = 1 << 7,
} ItemFlags;

typedef struct Item Item;
/* Returns 0 when the key is now set, 1 when it was reset to its default, -EINVAL for the generic
 * "invalid value" error, -EBADMSG when a specific diagnostic was already added, or -ENOMEM. */
typedef int (*ItemParser)(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field);

struct Item {
        const char *section;
        const char *key;
        ItemParser parse;
        Store store;
        size_t offset;
        unsigned flags;
        uint64_t min, max; /* for numbers; 0/0 means no range check */
};

#define DIAG_ERR(st, line, ...) unit_file_diag((st)->unit, true, (st)->path, (line), __VA_ARGS__)
#define DIAG_WARN(st, line, ...) unit_file_diag((st)->unit, false, (st)->path, (line), __VA_ARGS__)

/* Tabs are whitespace in systemd's syntax; other control characters have no business in a value. */
static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if (((unsigned char) *s < 0x20 && *s != '\t') || *s == 0x7f)
                        return true;
        return false;
}

static bool chars_in(const char *s, const char *extra) {
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr(extra, *s))
                        return false;
        return true;
}

static int replace_str(void *field, const char *v) {
        char *d = strdup(v);
        if (!d)
                return -ENOMEM;
        free_and_replace_str(field, d);
        return 0;
}

static int p_string(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        return replace_str(field, v);
}

static int p_image(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        size_t n = strlen(v);
        if ((n > 6 && streq(v + n - 6, ".image")) || (n > 6 && streq(v + n - 6, ".build"))) {
                char t[UNIT_TOKEN_MAX + 4];
                DIAG_ERR(st, line,
                         "Image=%s refers to a Quadlet .image/.build unit, which is Podman-specific and not "
                         "supported by supd",
                         unit_token(v, t));
                return -EBADMSG;
        }
        if (strpbrk(v, " \t"))
                return -EINVAL;
        return replace_str(field, v);
}

/* Joins a relative path to the unit file's directory; "./x" becomes "DIR/x". */
static char *resolve_path(UnitLoadState *st, const char *v) {
        char *r;
        if (v[0] == '/')
                return strdup(v);
        while (v[0] == '.' && v[1] == '/') {
                v += 2;
                while (*v == '/')
                        v++;
        }
        if (streq(v, "") || streq(v, "."))
                return strdup(st->unit_dir);
        if (asprintf(&r, "%s%s%s", st->unit_dir, streq(st->unit_dir, "/") ? "" : "/", v) < 0)
                return NULL;
        return r;
}

static int p_path(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        char *r = resolve_path(st, v);
        if (!r)
                return -ENOMEM;
        free_and_replace_str(field, r);
        return 0;
}

static int p_abs_path(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        if (v[0] != '/')
                return -EINVAL;
        return replace_str(field, v);
}

static int p_container_name(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        /* Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
        if (!isalnum((unsigned char) v[0]) || !chars_in(v, "_.-") || strlen(v) > 253)
                return -EINVAL;
        return replace_str(field, v);
}

static int p_hostname(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        if (strlen(v) > 64 || v[0] == '-' || v[0] == '.' || !chars_in(v, "-.") || strstr(v, ".."))
                return -EINVAL;
        return replace_str(field, v);
}

static int p_user(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        if (strpbrk(v, " \t:/") || strlen(v) > 256)
                return -EINVAL;
        return replace_str(field, v);
}

static int p_network(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        size_t n = strlen(v);
        if (n > 8 && streq(v + n - 8, ".network")) {
                char t[UNIT_TOKEN_MAX + 4];
                DIAG_ERR(st, line,
                         "Network=%s refers to a Quadlet .network unit, which is Podman-specific and not "
                         "supported by supd",
                         unit_token(v, t));
                return -EBADMSG;
        }
        if (!chars_in(v, "_.:-") || n > 255)
                return -EINVAL;
        return replace_str(field, v);
}

static int p_ip(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        unsigned char buf[16];
        if (inet_pton(AF_INET, v, buf) != 1 && inet_pton(AF_INET6, v, buf) != 1)
                return -EINVAL;
        return replace_str(field, v);
}

static int p_instance(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        if (strlen(v) > 64 || !chars_in(v, ":_.-"))
                return -EINVAL;
        return replace_str(field, v);
}

static int p_health_cmd(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        /* "none" disables the image's health check, like Podman. */
        if (streq(v, "none")) {
                free_and_replace_str(field, NULL);
                return 1;
        }
        /* The shell command as written (Quadlet's quote pair around it is already gone). */
        return replace_str(field, v);
}

static int warn_bad_escapes(UnitLoadState *st, const Item *it, unsigned line, unsigned n, char c) {
        if (n == 0)
                return 0;
        return DIAG_WARN(st, line, "unsupported escape sequence '\\%c' in %s=, kept literally", c ?: '?', it->key);
}

/* Splits a command line with systemd's rules for Exec=. */
static int p_command(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        _cleanup_strv_free_ char **l = NULL;
        unsigned n_bad = 0;
        char bad = 0;
        int r;

        for (const char *p = v;;) {
                char *w;
                r = extract_first_word_full(
                        &p, &w, NULL, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE | EXTRACT_CUNESCAPE_RELAX, &n_bad, &bad);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = strv_consume(&l, w);
                if (r < 0)
                        return r;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        r = warn_bad_escapes(st, it, line, n_bad, bad);
        if (r < 0)
                return r;
        strv_free(*(char ***) field);
        *(char ***) field = TAKE_PTR(l);
        return 0;
}

#define LIST_MAX 4096 /* entries per list key: keeps Environment= merging (O(n^2)) bounded */

static int list_add(UnitLoadState *st, const Item *it, unsigned line, char ***l, char *w, bool env) {
        if (strv_length(*l) >= LIST_MAX) {
                free(w);
                DIAG_ERR(st, line, "too many values for %s= (limit %d)", it->key, LIST_MAX);
                return -EBADMSG;
        }
        if (env) {
                int r = strv_env_set(l, w);
                free(w);
                return r;
        }
        return strv_consume(l, w);
}

static bool env_name_is_valid(const char *s, size_t n) {
        if (n == 0 || n > 4096)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f || s[i] == ' ')
                        return false;
        return true;
}

/* Environment=/Label=: several "K=V" words per line with quoting; a later K wins. */
static int p_env(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        unsigned n_bad = 0;
        char bad = 0;
        bool failed = false;
        int r;

        for (const char *p = v;;) {
                char *w, *eq;
                r = extract_first_word_full(
                        &p, &w, NULL, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE | EXTRACT_CUNESCAPE_RELAX, &n_bad, &bad);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                eq = strchr(w, '=');
                if (!eq || !env_name_is_valid(w, (size_t) (eq - w))) {
                        char t[UNIT_TOKEN_MAX + 4];
                        r = DIAG_ERR(st, line, "invalid %s= assignment '%s', expected KEY=VALUE", it->key,
                                     unit_token(w, t));
                        free(w);
                        if (r < 0)
                                return r;
                        failed = true;
                        continue;
                }
                r = list_add(st, it, line, field, w, true);
                if (r < 0)
                        return r;
        }
        r = warn_bad_escapes(st, it, line, n_bad, bad);
        if (r < 0)
                return r;
        return failed ? -EBADMSG : 0;
}

/* Whitespace-separated words, with quotes (Documentation=, WantedBy=, …). */
static int p_words(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        int r;
        /* An empty assignment resets the list, as in systemd (a drop-in's "WantedBy=" disables). */
        if (isempty(v)) {
                char ***l = field;
                *l = strv_free(*l);
                return 0;
        }
        for (const char *p = v;;) {
                char *w;
                r = extract_first_word(&p, &w, NULL, EXTRACT_UNQUOTE);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 0;
                r = list_add(st, it, line, field, w, false);
                if (r < 0)
                        return r;
        }
}

static int p_caps(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        int r;
        for (const char *p = v;;) {
                _cleanup_free_ char *w = NULL;
                const char *name;
                r = extract_first_word(&p, &w, NULL, EXTRACT_UNQUOTE);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 0;
                name = strncasecmp(w, "CAP_", 4) == 0 ? w + 4 : w;
                if (isempty(name) || !chars_in(name, "_") || strlen(name) > 64) {
                        char t[UNIT_TOKEN_MAX + 4];
                        DIAG_ERR(st, line, "invalid capability '%s' in %s=", unit_token(w, t), it->key);
                        return -EBADMSG;
                }
                r = list_add(st, it, line, field, TAKE_PTR(w), false);
                if (r < 0)
                        return r;
        }
}

static const char *const systemd_suffixes[] = {
        ".target", ".socket", ".mount", ".slice", ".path", ".timer", ".device", ".scope", ".swap", ".automount",
};

static bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

/* After=/Wants=/…: "db.container", "db.service" and "db" all mean our unit "db". */
static int p_deps(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        char t[UNIT_TOKEN_MAX + 4];
        bool failed = false;
        int r;

        for (const char *p = v;;) {
                _cleanup_free_ char *w = NULL;
                bool skip = false;
                r = extract_first_word(&p, &w, NULL, EXTRACT_UNQUOTE);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (endswith(w, ".container")) {
                        w[strlen(w) - strlen(".container")] = 0;
                        /* Quadlet fails a unit whose dependency names a .container file that does
                         * not exist ("unable to translate dependency"); a plain or .service name
                         * is left to the start, which fails with "does not exist". */
                        if (unit_name_is_valid(w) && !endswith(w, "@")) {
                                r = unit_load_state_unit_exists(st, w);
                                if (r < 0)
                                        return r;
                                if (r == 0) {
                                        r = DIAG_ERR(st, line, "%s=%s.container: no such unit on the search path",
                                                     it->key, unit_token(w, t));
                                        if (r < 0)
                                                return r;
                                        failed = true;
                                        continue;
                                }
                        }
                } else if (endswith(w, ".service"))
                        w[strlen(w) - strlen(".service")] = 0;
                else
                        for (size_t i = 0; i < ELEMENTSOF(systemd_suffixes); i++)
                                if (endswith(w, systemd_suffixes[i]) && strlen(w) > strlen(systemd_suffixes[i])) {
                                        r = DIAG_WARN(st, line,
                                                      "%s=%s ignored: supd orders and pulls in only its own units",
                                                      it->key, unit_token(w, t));
                                        if (r < 0)
                                                return r;
                                        skip = true;
                                        break;
                                }
                if (skip)
                        continue;
                if (!unit_name_is_valid(w) || endswith(w, "@")) {
                        r = DIAG_ERR(st, line, "invalid unit name '%s' in %s=", unit_token(w, t), it->key);
                        if (r < 0)
                                return r;
                        failed = true;
                        continue;
                }
                if (strv_contains(*(char ***) field, w))
                        continue;
                r = list_add(st, it, line, field, TAKE_PTR(w), false);
                if (r < 0)
                        return r;
        }
        return failed ? -EBADMSG : 0;
}

static bool port_range_is_valid(const char *s, size_t n, bool allow_empty) {
        unsigned a = 0, b = 0;
        size_t i = 0;
        if (n == 0)
                return allow_empty;
        for (; i < n && isdigit((unsigned char) s[i]); i++)
                if ((a = a * 10 + (unsigned) (s[i] - '0')) > 65535)
                        return false;
        if (i == 0 || a == 0)
                return false;
        if (i == n)
                return true;
        if (s[i++] != '-' || i == n)
                return false;
        for (size_t j = i; j < n; j++) {
                if (!isdigit((unsigned char) s[j]))
                        return false;
                if ((b = b * 10 + (unsigned) (s[j] - '0')) > 65535)
                        return false;
        }
        return b >= a;
}

/* [ip:][hostPort:]containerPort[/tcp|udp], ports may be ranges, IPv6 in brackets. */
static bool publish_port_is_valid(const char *v) {
        const char *ctr, *slash, *host = NULL, *ip_end = NULL, *p = v;
        size_t host_len = 0;

        if (v[0] == '[') {
                char addr[INET6_ADDRSTRLEN + 1];
                unsigned char buf[16];
                const char *close = strchr(v, ']');
                if (!close || close[1] != ':' || (size_t) (close - v - 1) >= sizeof(addr))
                        return false;
                memcpy(addr, v + 1, (size_t) (close - v - 1));
                addr[close - v - 1] = 0;
                if (inet_pton(AF_INET6, addr, buf) != 1)
                        return false;
                ip_end = close + 1;
                p = close + 2;
        }
        ctr = strrchr(p, ':');
        if (ctr) {
                const char *first = strchr(p, ':');
                if (first != ctr) { /* ip:host:ctr */
                        if (ip_end)
                                return false;
                        char addr[INET_ADDRSTRLEN + 1];
                        unsigned char buf[4];
                        if ((size_t) (first - p) >= sizeof(addr))
                                return false;
                        memcpy(addr, p, (size_t) (first - p));
                        addr[first - p] = 0;
                        if (inet_pton(AF_INET, addr, buf) != 1)
                                return false;
                        host = first + 1;
                        host_len = (size_t) (ctr - host);
                } else if (ip_end) { /* [ip6]:host:ctr was consumed up to host */
                        host = p;
                        host_len = (size_t) (ctr - p);
                } else {
                        host = p;
                        host_len = (size_t) (ctr - p);
                        if (host_len == 0)
                                return false;
                }
                ctr++;
        } else {
                if (ip_end)
                        return false;
                ctr = p;
        }
        if (host && !port_range_is_valid(host, host_len, true))
                return false;
        slash = strchr(ctr, '/');
        if (slash && !streq(slash, "/tcp") && !streq(slash, "/udp"))
                return false;
        return port_range_is_valid(ctr, slash ? (size_t) (slash - ctr) : strlen(ctr), false);
}

static int p_port(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        char *d;
        if (!publish_port_is_valid(v))
                return -EINVAL;
        d = strdup(v);
        if (!d)
                return -ENOMEM;
        return list_add(st, it, line, field, d, false);
}

static int p_volume(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        const char *colon = strchr(v, ':');
        char *d;

        if (colon && colon > v) {
                _cleanup_free_ char *src = strndup(v, (size_t) (colon - v));
                if (!src)
                        return -ENOMEM;
                if (endswith(src, ".volume")) {
                        char t[UNIT_TOKEN_MAX + 4];
                        DIAG_ERR(st, line,
                                 "Volume=%s refers to a Quadlet .volume unit, which is Podman-specific and "
                                 "not supported by supd",
                                 unit_token(v, t));
                        return -EBADMSG;
                }
                /* Quadlet: a source starting with "." is relative to the unit file; anything else
                 * not starting with "/" is a named volume. */
                if (src[0] == '.') {
                        _cleanup_free_ char *abs = resolve_path(st, src);
                        if (!abs || asprintf(&d, "%s%s", abs, colon) < 0)
                                return -ENOMEM;
                } else if (!(d = strdup(v)))
                        return -ENOMEM;
                if (colon[1] != '/') {
                        free(d);
                        return -EINVAL;
                }
        } else {
                if (v[0] != '/') /* an anonymous volume needs an absolute container path */
                        return -EINVAL;
                if (!(d = strdup(v)))
                        return -ENOMEM;
        }
        return list_add(st, it, line, field, d, false);
}

static int p_tmpfs(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        char *d;
        if (v[0] != '/')
                return -EINVAL;
        if (!(d = strdup(v)))
                return -ENOMEM;
        return list_add(st, it, line, field, d, false);
}

static int env_file_add(UnitLoadState *st, const Item *it, unsigned line, void *field, const char *w) {
        bool minus = w[0] == '-';
        _cleanup_free_ char *abs = resolve_path(st, w + minus);
        char *d;
        if (!abs)
                return -ENOMEM;
        if (minus) {
                if (asprintf(&d, "-%s", abs) < 0)
                        return -ENOMEM;
        } else
                d = TAKE_PTR(abs);
        return list_add(st, it, line, field, d, false);
}

/* Quadlet splits EnvironmentFile= into words like Exec= (quotes, C escapes), each a file. */
static int p_env_file(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        unsigned n_bad = 0;
        char bad = 0;
        int r;

        for (const char *p = v;;) {
                _cleanup_free_ char *w = NULL;
                r = extract_first_word_full(
                        &p, &w, NULL, EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE | EXTRACT_CUNESCAPE_RELAX, &n_bad, &bad);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (isempty(w) || streq(w, "-"))
                        return -EINVAL;
                r = env_file_add(st, it, line, field, w);
                if (r < 0)
                        return r;
        }
        return warn_bad_escapes(st, it, line, n_bad, bad);
}

static int p_tristate(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        int b = parse_boolean(v);
        if (b < 0)
                return -EINVAL;
        *(int *) field = b;
        return 0;
}

static int check_range(const Item *it, uint64_t v) {
        if ((it->min || it->max) && (v < it->min || v > it->max))
                return -ERANGE;
        return 0;
}

static int p_size(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        uint64_t b;
        if (parse_size(v, &b) < 0 || b == 0)
                return -EINVAL;
        *(uint64_t *) field = b;
        return 0;
}

static int p_u64(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        uint64_t n;
        if (streq(v, "infinity") || (streq(v, "-1") && (it->flags & ITEM_MINUS_ONE_IS_INFINITY)))
                n = UINT64_MAX;
        else if (safe_atou64(v, &n) < 0 || n == UINT64_MAX || check_range(it, n) < 0)
                return -EINVAL;
        *(uint64_t *) field = n;
        return 0;
}

static int p_unsigned(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        unsigned n;
        if (safe_atou(v, &n) < 0 || check_range(it, n) < 0)
                return -EINVAL;
        *(unsigned *) field = n;
        return 0;
}

static int p_usec(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        usec_t u;
        if ((it->flags & ITEM_DISABLE_KEYWORD) && streq(v, "disable"))
                u = USEC_INFINITY;
        else if (parse_sec(v, &u) < 0)
                return -EINVAL;
        if (u == 0 && (it->flags & ITEM_ZERO_IS_INFINITY))
                u = USEC_INFINITY;
        if (u == 0 && (it->flags & ITEM_NONZERO))
                return -EINVAL;
        *(usec_t *) field = u;
        return 0;
}

static int p_signal(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        int s = parse_signal(v);
        if (s < 0)
                return -EINVAL;
        *(int *) field = s;
        return 0;
}

/* A key whose value is one of an enum's names (its string table). */
#define DEFINE_ENUM_PARSER(func, name, type)                                                                          \
        static int func(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {               \
                type x = name##_from_string(v);                                                                       \
                if (x < 0)                                                                                            \
                        return -EINVAL;                                                                               \
                *(type *) field = x;                                                                                  \
                return 0;                                                                                             \
        }

DEFINE_ENUM_PARSER(p_restart, restart_policy, RestartPolicy);
DEFINE_ENUM_PARSER(p_health_on_failure, health_on_failure, HealthOnFailure);
DEFINE_ENUM_PARSER(p_update_order, update_order, UpdateOrder);

static int p_notify(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        int b;
        if (streq(v, "healthy")) {
                *(NotifyMode *) field = NOTIFY_HEALTHY;
                return 0;
        }
        b = parse_boolean(v);
        if (b < 0)
                return -EINVAL;
        *(NotifyMode *) field = b ? NOTIFY_YES : NOTIFY_NO;
        return 0;
}

/* "0 1 SIGKILL": numbers are exit statuses, names are signals (like systemd). */
static int p_exit_status(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        ExitStatusSet *set = field, n = *set;
        int r;

        for (const char *p = v;;) {
                _cleanup_free_ char *w = NULL;
                unsigned code;
                r = extract_first_word(&p, &w, NULL, EXTRACT_UNQUOTE);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (isdigit((unsigned char) w[0])) {
                        if (safe_atou(w, &code) < 0 || code > 255)
                                goto bad;
                        n.status[code / 64] |= UINT64_C(1) << (code % 64);
                } else {
                        int sig = parse_signal(w);
                        if (sig < 1 || sig > 64)
                                goto bad;
                        n.signal |= UINT64_C(1) << (sig - 1);
                }
                continue;
        bad : {
                char t[UNIT_TOKEN_MAX + 4];
                DIAG_ERR(st, line, "invalid exit status or signal '%s' in %s=", unit_token(w, t), it->key);
                return -EBADMSG;
        }
        }
        *set = n;
        return 0;
}

static int p_cpu_quota(UnitLoadState *st, const Item *it, const char *v, unsigned line, void *field) {
        int pm = parse_permyriad_unbounded(v);
        if (pm <= 0)
                return -EINVAL;
        /* 100% = one CPU = USEC_PER_SEC per second; 1 permyriad = 100 usec. */
        *(usec_t *) field = (usec_t) pm * (USEC_PER_SEC / 10000);
        return 0;
}

#define F(name) offsetof(UnitSettings, name)

/* The one table: section, key, parser, storage, field, flags, range. Order here is the order of
 * verify --json and of the hash. At most UNIT_ITEMS_MAX entries (bits of set_mask). */
static const Item items[] = {
        { "Unit", "Description", p_string, ST_STR, F(description), ITEM_NO_HASH },
        { "Unit", "Documentation", p_words, ST_STRV, F(documentation), ITEM_NO_HASH },
        { "Unit", "After", p_deps, ST_STRV, F(after) },
        { "Unit", "Before", p_deps, ST_STRV, F(before) },
        { "Unit", "Wants", p_deps, ST_STRV, F(wants) },
        { "Unit", "Requires", p_deps, ST_STRV, F(requires) },
        { "Unit", "BindsTo", p_deps, ST_STRV, F(binds_to) },
        { "Unit", "StartLimitIntervalSec", p_usec, ST_USEC, F(start_limit_interval) },
        { "Unit", "StartLimitBurst", p_unsigned, ST_UINT, F(start_limit_burst) },

        { "Container", "Image", p_image, ST_STR, F(image), ITEM_QUADLET_UNQUOTE },
        { "Container", "Rootfs", p_path, ST_STR, F(rootfs), ITEM_QUADLET_UNQUOTE },
        { "Container", "ContainerName", p_container_name, ST_STR, F(container_name), ITEM_QUADLET_UNQUOTE },
        { "Container", "Exec", p_command, ST_STRV, F(exec) },
        { "Container", "Entrypoint", p_command, ST_STRV, F(entrypoint), ITEM_EMPTY_IS_VALUE },
        { "Container", "Environment", p_env, ST_ENV, F(environment) },
        { "Container", "EnvironmentFile", p_env_file, ST_STRV, F(environment_file) },
        { "Container", "PublishPort", p_port, ST_STRV, F(publish_port) },
        { "Container", "Network", p_network, ST_STR, F(network) },
        { "Container", "IP", p_ip, ST_STR, F(ip), ITEM_QUADLET_UNQUOTE },
        { "Container", "HostName", p_hostname, ST_STR, F(hostname), ITEM_QUADLET_UNQUOTE },
        { "Container", "Volume", p_volume, ST_STRV, F(volume) },
        { "Container", "Tmpfs", p_tmpfs, ST_STRV, F(tmpfs) },
        { "Container", "ReadOnly", p_tristate, ST_TRI, F(read_only), ITEM_QUADLET_UNQUOTE },
        { "Container", "User", p_user, ST_STR, F(user), ITEM_QUADLET_UNQUOTE },
        { "Container", "Group", p_user, ST_STR, F(group), ITEM_QUADLET_UNQUOTE },
        { "Container", "WorkingDir", p_abs_path, ST_STR, F(working_dir), ITEM_QUADLET_UNQUOTE },
        { "Container", "AddCapability", p_caps, ST_STRV, F(add_capability) },
        { "Container", "DropCapability", p_caps, ST_STRV, F(drop_capability) },
        { "Container", "NoNewPrivileges", p_tristate, ST_TRI, F(no_new_privileges), ITEM_QUADLET_UNQUOTE },
        { "Container", "Memory", p_size, ST_U64, F(memory), ITEM_QUADLET_UNQUOTE },
        { "Container", "PidsLimit", p_u64, ST_U64, F(pids_limit), ITEM_MINUS_ONE_IS_INFINITY | ITEM_QUADLET_UNQUOTE, 1,
          UINT64_MAX - 1 },
        { "Container", "StopSignal", p_signal, ST_SIGNAL, F(stop_signal), ITEM_QUADLET_UNQUOTE },
        { "Container", "StopTimeout", p_usec, ST_USEC, F(stop_timeout), ITEM_QUADLET_UNQUOTE },
        { "Container", "RunInit", p_tristate, ST_TRI, F(run_init), ITEM_QUADLET_UNQUOTE },
        { "Container", "HealthCmd", p_health_cmd, ST_STR, F(health_cmd), ITEM_QUADLET_UNQUOTE },
        { "Container", "HealthInterval", p_usec, ST_USEC, F(health_interval),
          ITEM_DISABLE_KEYWORD | ITEM_NONZERO | ITEM_QUADLET_UNQUOTE },
        { "Container", "HealthTimeout", p_usec, ST_USEC, F(health_timeout), ITEM_NONZERO | ITEM_QUADLET_UNQUOTE },
        { "Container", "HealthRetries", p_unsigned, ST_UINT, F(health_retries), ITEM_QUADLET_UNQUOTE, 1, 1000000 },
        { "Container", "HealthStartPeriod", p_usec, ST_USEC, F(health_start_period), ITEM_QUADLET_UNQUOTE },
        { "Container", "HealthOnFailure", p_health_on_failure, ST_HEALTH_ON_FAILURE, F(health_on_failure),
          ITEM_QUADLET_UNQUOTE },
        { "Container", "Label", p_env, ST_ENV, F(label) },
        { "Container", "Notify", p_notify, ST_NOTIFY, F(notify), ITEM_QUADLET_UNQUOTE },

        { "Service", "Restart", p_restart, ST_RESTART, F(restart) },
        { "Service", "RestartSec", p_usec, ST_USEC, F(restart_sec) },
        { "Service", "RestartSteps", p_unsigned, ST_UINT, F(restart_steps), 0, 0, 3600 },
        { "Service", "RestartMaxDelaySec", p_usec, ST_USEC, F(restart_max_delay) },
        { "Service", "RestartPreventExitStatus", p_exit_status, ST_EXIT_STATUS, F(restart_prevent) },
        { "Service", "SuccessExitStatus", p_exit_status, ST_EXIT_STATUS, F(success_exit) },
        { "Service", "TimeoutStartSec", p_usec, ST_USEC, F(timeout_start), ITEM_ZERO_IS_INFINITY },
        { "Service", "TimeoutStopSec", p_usec, ST_USEC, F(timeout_stop), ITEM_ZERO_IS_INFINITY },
        { "Service", "MemoryMax", p_size, ST_U64, F(memory_max) },
        { "Service", "CPUQuota", p_cpu_quota, ST_CPU_QUOTA, F(cpu_quota_per_sec), ITEM_NO_SPECIFIERS },
        { "Service", "CPUWeight", p_u64, ST_U64, F(cpu_weight), 0, 1, 10000 },
        { "Service", "TasksMax", p_u64, ST_U64, F(tasks_max), 0, 1, UINT64_MAX - 1 },

        { "Install", "WantedBy", p_words, ST_STRV, F(wanted_by), ITEM_NO_HASH },
        { "Install", "RequiredBy", p_words, ST_STRV, F(required_by), ITEM_NO_HASH },
        { "Install", "DefaultInstance", p_instance, ST_STR, F(default_instance), ITEM_NO_HASH },

        { "Deploy", "Replicas", p_unsigned, ST_UINT, F(replicas), ITEM_NO_HASH, 0, 1000 },
        { "Deploy", "UpdateOrder", p_update_order, ST_UPDATE_ORDER, F(update_order), ITEM_NO_HASH },
        { "Deploy", "UpdateParallelism", p_unsigned, ST_UINT, F(update_parallelism), ITEM_NO_HASH, 1, 1000 },
        { "Deploy", "UpdateDelaySec", p_usec, ST_USEC, F(update_delay), ITEM_NO_HASH },
        { "Deploy", "RestartResetSec", p_usec, ST_USEC, F(restart_reset) },
};

_Static_assert(ELEMENTSOF(items) <= UNIT_ITEMS_MAX, "set_mask too small for the key table");

/* Quadlet keys of [Container] that only make sense with Podman. */
static const char *const podman_only_keys[] = {
        "PodmanArgs",
        "GlobalArgs",
        "ContainersConfModule",
        "Pod",
        "StartWithPod",
        "AutoUpdate",
        "Secret",
        "ServiceName",
        "Pull",
        "Retry",
        "RetryDelay",
        "CgroupsMode",
        "LogDriver",
        "HealthLogDestination",
        "HealthMaxLogCount",
        "HealthMaxLogSize",
};

/* Quadlet keys of [Container] that supd does not implement (yet). */
static const char *const unsupported_keys[] = {
        "AddDevice",
        "AddHost",
        "Annotation",
        "AppArmor",
        "DNS",
        "DNSOption",
        "DNSSearch",
        "EnvironmentHost",
        "ExposeHostPort",
        "GIDMap",
        "GroupAdd",
        "HealthStartupCmd",
        "HealthStartupInterval",
        "HealthStartupRetries",
        "HealthStartupSuccess",
        "HealthStartupTimeout",
        "HttpProxy",
        "IP6",
        "LogOpt",
        "Mask",
        "Mount",
        "NetworkAlias",
        "ReadOnlyTmpfs",
        "ReloadCmd",
        "ReloadSignal",
        "RemapGid",
        "RemapUid",
        "RemapUidSize",
        "RemapUsers",
        "SeccompProfile",
        "SecurityLabelDisable",
        "SecurityLabelFileType",
        "SecurityLabelLevel",
        "SecurityLabelNested",
        "SecurityLabelType",
        "ShmSize",
        "SubGIDMap",
        "SubUIDMap",
        "Sysctl",
        "Timezone",
        "UIDMap",
        "Ulimit",
        "Unmask",
        "UserNS",
        "VolatileTmp",
};

static bool in_list(const char *const *l, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

UnitSectionClass unit_section_classify(const char *name, const char **ret_canonical) {
        static const char *const known[] = { "Unit", "Container", "Service", "Install", "Deploy" };
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (streq(name, known[i])) {
                        *ret_canonical = known[i];
                        return UNIT_SECTION_KNOWN;
                }
        /* [X-Deploy] lets the same file load under Quadlet + systemd, which ignore X- sections. */
        if (streq(name, "X-Deploy")) {
                *ret_canonical = "Deploy";
                return UNIT_SECTION_KNOWN;
        }
        if (strneq(name, "X-", 2))
                return UNIT_SECTION_IGNORED;
        if (streq(name, "Quadlet"))
                return UNIT_SECTION_IGNORED_WARN;
        return UNIT_SECTION_UNKNOWN;
}

static const Item *item_find(const char *section, const char *key, size_t *ret_index) {
        for (size_t i = 0; i < ELEMENTSOF(items); i++)
                if (streq(items[i].section, section) && streq(items[i].key, key)) {
                        if (ret_index)
                                *ret_index = i;
                        return &items[i];
                }
        return NULL;
}

static bool mask_test(const UnitSettings *s, size_t i) {
        return s->set_mask[i / 64] & (UINT64_C(1) << (i % 64));
}

static void mask_set(UnitSettings *s, size_t i, bool b) {
        if (b)
                s->set_mask[i / 64] |= UINT64_C(1) << (i % 64);
        else
                s->set_mask[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

static bool key_is_set(const UnitSettings *s, const char *section, const char *key) {
        size_t i;
        return item_find(section, key, &i) && mask_test(s, i);
}

/* Puts one field back to its default (used by empty assignments). */
static void item_reset(const Item *it, UnitSettings *s) {
        UnitSettings d;
        void *f = (uint8_t *) s + it->offset;

        switch (it->store) {
        case ST_STR:
                free_and_replace_str(f, NULL);
                return;
        case ST_STRV:
        case ST_ENV:
                *(char ***) f = strv_free(*(char ***) f);
                return;
        default:
                break;
        }
        unit_settings_init(&d);
        switch (it->store) {
        case ST_TRI:
        case ST_SIGNAL:
        case ST_RESTART:
        case ST_HEALTH_ON_FAILURE:
        case ST_NOTIFY:
        case ST_UPDATE_ORDER:
                memcpy(f, (uint8_t *) &d + it->offset, sizeof(int));
                break;
        case ST_UINT:
                memcpy(f, (uint8_t *) &d + it->offset, sizeof(unsigned));
                break;
        case ST_U64:
        case ST_USEC:
        case ST_CPU_QUOTA:
                memcpy(f, (uint8_t *) &d + it->offset, sizeof(uint64_t));
                break;
        case ST_EXIT_STATUS:
                memcpy(f, (uint8_t *) &d + it->offset, sizeof(ExitStatusSet));
                break;
        default:
                break;
        }
}

void unit_settings_done(UnitSettings *s) {
        for (size_t i = 0; i < ELEMENTSOF(items); i++)
                if (items[i].store == ST_STR || items[i].store == ST_STRV || items[i].store == ST_ENV)
                        item_reset(&items[i], s);
}

int unit_settings_assign(UnitLoadState *st, const char *section, const char *key, const char *value, unsigned line) {
        _cleanup_free_ char *expanded = NULL, *unquoted = NULL;
        char t[UNIT_TOKEN_MAX + 4];
        const Item *it;
        size_t idx;
        char bad = 0;
        int r;

        it = item_find(section, key, &idx);
        if (!it) {
                if (streq(section, "Container") && in_list(podman_only_keys, ELEMENTSOF(podman_only_keys), key))
                        return DIAG_ERR(st, line, "key '%s' is Podman-specific and not supported by supd", key);
                if (streq(section, "Container") && in_list(unsupported_keys, ELEMENTSOF(unsupported_keys), key))
                        return DIAG_ERR(st, line, "key '%s' in section [Container] is not supported by supd", key);
                /* systemd and Quadlet pass unknown [Unit]/[Service]/[Install] keys to systemd, so
                 * files written for them carry many we do not need: warn only. [Container] and
                 * [Deploy] are ours to define, where a typo must not go unnoticed. */
                if (streq(section, "Container") || streq(section, "Deploy"))
                        return DIAG_ERR(st, line, "unknown key '%s' in section [%s]", unit_token(key, t), section);
                return DIAG_WARN(st, line, "unknown key '%s' in section [%s], ignoring", unit_token(key, t), section);
        }

        if (it->flags & ITEM_QUADLET_UNQUOTE) {
                size_t n = strlen(value);
                if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
                        unquoted = strndup(value + 1, n - 2);
                        if (!unquoted)
                                return -ENOMEM;
                        value = unquoted;
                }
        }

        if (it->flags & ITEM_NO_SPECIFIERS)
                r = (expanded = strdup(value)) ? 0 : -ENOMEM;
        else
                r = specifier_expand(value, &st->spec, &expanded, &bad);
        if (r == -ENOMEM)
                return r;
        if (r == -EBADMSG) {
                if (bad)
                        return DIAG_ERR(st, line, "unknown specifier '%%%c' in %s=", bad, key);
                return DIAG_ERR(st, line,
                                "incomplete specifier '%%' at the end of %s= (write %%%% for a percent sign)", key);
        }
        if (r < 0)
                return DIAG_ERR(st, line, "cannot resolve specifier '%%%c' in %s=", bad, key);

        if (has_control_chars(expanded))
                return DIAG_ERR(st, line, "invalid value for %s=: contains control characters", key);

        st->item_path[idx] = st->path;
        st->item_line[idx] = line;

        /* An empty assignment resets the key to its default (for lists: empties them). */
        if (isempty(expanded) && !(it->flags & ITEM_EMPTY_IS_VALUE)) {
                item_reset(it, &st->unit->settings);
                mask_set(&st->unit->settings, idx, false);
                return 0;
        }

        r = it->parse(st, it, expanded, line, (uint8_t *) &st->unit->settings + it->offset);
        if (r == -ENOMEM)
                return r;
        if (r == -EBADMSG) { /* already reported; a list keeps the words that were fine */
                if (it->store == ST_STRV || it->store == ST_ENV)
                        mask_set(&st->unit->settings, idx, *(char ***) ((uint8_t *) &st->unit->settings + it->offset));
                return 0;
        }
        if (r < 0)
                return DIAG_ERR(st, line, "invalid value '%s' for %s=", unit_token(expanded, t), key);
        mask_set(&st->unit->settings, idx, r == 0);
        return 0;
}

static int diag_at(UnitLoadState *st, bool error, const char *section, const char *key, const char *message) {
        size_t i;
        const char *path = st->unit->path;
        unsigned line = 0;

        if (key && item_find(section, key, &i) && st->item_path[i]) {
                path = st->item_path[i];
                line = st->item_line[i];
        }
        return unit_file_diag(st->unit, error, path, line, "%s", message);
}

int unit_settings_validate(UnitLoadState *st) {
        UnitSettings *s = &st->unit->settings;
        UnitFile *u = st->unit;
        int r = 0;

        if (!s->image && !s->rootfs)
                r = diag_at(st, true, NULL, NULL, "no Image or Rootfs key specified");
        else if (s->image && s->rootfs)
                r = diag_at(st, true, "Container", "Rootfs",
                            "Image and Rootfs are mutually exclusive but both are set");
        if (r < 0)
                return r;

        if (s->group && !s->user && (r = diag_at(st, true, "Container", "Group", "Group set without User")) < 0)
                return r;

        /* Podman accepts it (the image's HEALTHCHECK may provide the check); supd runs only
         * HealthCmd=, so there is nothing to wait for: say so and count the unit as started when
         * its command runs, instead of waiting for a check that never comes. */
        if (s->notify == NOTIFY_HEALTHY && !s->health_cmd) {
                r = diag_at(st, false, "Container", "Notify",
                            "Notify=healthy without HealthCmd= has no health check to wait for; the unit is "
                            "started as soon as its command runs (as with Notify=false)");
                if (r < 0)
                        return r;
                s->notify = NOTIFY_NO;
        }

        if (s->health_on_failure == HEALTH_ON_FAILURE_RESTART) {
                r = diag_at(st, false, "Container", "HealthOnFailure",
                            "HealthOnFailure=restart is treated as kill; use Restart= to restart the container");
                if (r < 0)
                        return r;
                s->health_on_failure = HEALTH_ON_FAILURE_KILL;
        }

        /* Like systemd: one without the other means nothing, so say so and ignore both. */
        if (key_is_set(s, "Service", "RestartSteps") != key_is_set(s, "Service", "RestartMaxDelaySec")) {
                const char *k = key_is_set(s, "Service", "RestartSteps") ? "RestartSteps" : "RestartMaxDelaySec";
                r = diag_at(st, false, "Service", k,
                            streq(k, "RestartSteps") ? "RestartSteps= without RestartMaxDelaySec= is ignored"
                                                     : "RestartMaxDelaySec= without RestartSteps= is ignored");
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(items); i++)
                        if (streq(items[i].key, "RestartSteps") || streq(items[i].key, "RestartMaxDelaySec")) {
                                item_reset(&items[i], s);
                                mask_set(s, i, false);
                        }
        }

        /* A template's instances are named by their instance; replicas are named by index. Both at
         * once would make NAME@INST@i. */
        if ((u->is_template || u->instance) && key_is_set(s, "Deploy", "Replicas") &&
            (r = diag_at(st, true, "Deploy", "Replicas", "Replicas= cannot be used in a template unit")) < 0)
                return r;

        if (s->default_instance && !u->is_template && !u->instance &&
            (r = diag_at(st, false, "Install", "DefaultInstance",
                         "DefaultInstance= is only meaningful in a template unit (NAME@.container), ignoring")) < 0)
                return r;

        return 0;
}

/* ---- Effective values ---- */

usec_t unit_settings_stop_timeout(const UnitSettings *s) {
        if (key_is_set(s, "Container", "StopTimeout"))
                return s->stop_timeout;
        if (key_is_set(s, "Service", "TimeoutStopSec"))
                return s->timeout_stop;
        return 10 * USEC_PER_SEC;
}

uint64_t unit_settings_memory_max(const UnitSettings *s) {
        return s->memory != UINT64_MAX ? s->memory : s->memory_max;
}

uint64_t unit_settings_tasks_max(const UnitSettings *s) {
        return s->pids_limit != UINT64_MAX ? s->pids_limit : s->tasks_max;
}

bool unit_settings_autostart(const UnitSettings *s) {
        return strv_contains(s->wanted_by, "multi-user.target") || strv_contains(s->wanted_by, "default.target");
}

bool unit_settings_has_replicas(const UnitSettings *s) {
        return key_is_set(s, "Deploy", "Replicas");
}

bool unit_settings_key_is_set(const UnitSettings *s, const char *section, const char *key) {
        return key_is_set(s, section, key);
}

/* ---- Hash (FNV-1a, 64 bit) ---- */

typedef struct Fnv {
        uint64_t h;
} Fnv;

static void fnv_bytes(Fnv *f, const void *p, size_t n) {
        const uint8_t *b = p;
        for (size_t i = 0; i < n; i++) {
                f->h ^= b[i];
                f->h *= UINT64_C(0x100000001b3);
        }
}

static void fnv_u64(Fnv *f, uint64_t v) {
        uint8_t b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t) (v >> (8 * i)); /* fixed byte order: stable across hosts */
        fnv_bytes(f, b, 8);
}

static void fnv_str(Fnv *f, const char *s) {
        if (!s) {
                fnv_u64(f, UINT64_MAX);
                return;
        }
        fnv_u64(f, strlen(s)); /* length prefix: ("ab","c") and ("a","bc") must differ */
        fnv_bytes(f, s, strlen(s));
}

uint64_t unit_settings_hash(const UnitSettings *s) {
        Fnv f = { UINT64_C(0xcbf29ce484222325) };

        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                const Item *it = &items[i];
                const void *p = (const uint8_t *) s + it->offset;

                if (it->flags & ITEM_NO_HASH)
                        continue;
                fnv_u64(&f, i);
                switch (it->store) {
                case ST_STR:
                        fnv_str(&f, *(char *const *) p);
                        break;
                case ST_STRV:
                case ST_ENV: {
                        char *const *l = *(char **const *) p;
                        /* NULL (unset) and empty (Entrypoint= cleared) differ. */
                        fnv_u64(&f, l ? strv_length(l) : UINT64_MAX);
                        STRV_FOREACH (k, l)
                                fnv_str(&f, *k);
                        break;
                }
                case ST_UINT:
                        fnv_u64(&f, *(const unsigned *) p);
                        break;
                case ST_U64:
                case ST_USEC:
                case ST_CPU_QUOTA:
                        fnv_u64(&f, *(const uint64_t *) p);
                        break;
                case ST_EXIT_STATUS: {
                        const ExitStatusSet *e = p;
                        for (size_t k = 0; k < 4; k++)
                                fnv_u64(&f, e->status[k]);
                        fnv_u64(&f, e->signal);
                        break;
                }
                default: /* int-sized: tristates, signals, enums */
                        fnv_u64(&f, (uint64_t) (int64_t) * (const int *) p);
                        break;
                }
        }
        return f.h;
}

/* ---- verify --json ---- */

static void json_kv_object(JsonWriter *w, char *const *l) {
        json_begin_object(w);
        STRV_FOREACH (k, l) {
                const char *eq = strchr(*k, '=');
                _cleanup_free_ char *key = strndup(*k, eq ? (size_t) (eq - *k) : strlen(*k));
                json_key(w, key ?: "");
                json_string(w, eq ? eq + 1 : "");
        }
        json_end_object(w);
}

static void json_item(JsonWriter *w, const Item *it, const void *p) {
        char buf[SIGNAL_NAME_MAX];

        switch (it->store) {
        case ST_STR:
                json_string(w, *(char *const *) p);
                break;
        case ST_STRV:
                json_strv(w, *(char **const *) p);
                break;
        case ST_ENV:
                json_kv_object(w, *(char **const *) p);
                break;
        case ST_TRI:
                json_bool(w, *(const int *) p > 0);
                break;
        case ST_UINT:
                json_uint(w, *(const unsigned *) p);
                break;
        case ST_U64:
        case ST_USEC:
                if (*(const uint64_t *) p == UINT64_MAX)
                        json_string(w, "infinity");
                else
                        json_uint(w, *(const uint64_t *) p);
                break;
        case ST_CPU_QUOTA: {
                /* Shown as written ("50%", "12.5%"): the per-second value is an implementation detail. */
                uint64_t pm = *(const uint64_t *) p / (USEC_PER_SEC / 10000);
                char q[32];
                if (pm % 100 == 0)
                        snprintf(q, sizeof(q), "%" PRIu64 "%%", pm / 100);
                else if (pm % 10 == 0)
                        snprintf(q, sizeof(q), "%" PRIu64 ".%" PRIu64 "%%", pm / 100, pm % 100 / 10);
                else
                        snprintf(q, sizeof(q), "%" PRIu64 ".%02" PRIu64 "%%", pm / 100, pm % 100);
                json_string(w, q);
                break;
        }
        case ST_SIGNAL:
                json_string(w, signal_to_string(*(const int *) p, buf));
                break;
        case ST_RESTART:
                json_string(w, restart_policy_to_string(*(const RestartPolicy *) p));
                break;
        case ST_HEALTH_ON_FAILURE:
                json_string(w, health_on_failure_to_string(*(const HealthOnFailure *) p));
                break;
        case ST_NOTIFY:
                json_string(w, notify_mode_to_string(*(const NotifyMode *) p));
                break;
        case ST_UPDATE_ORDER:
                json_string(w, update_order_to_string(*(const UpdateOrder *) p));
                break;
        case ST_EXIT_STATUS: {
                const ExitStatusSet *e = p;
                json_begin_array(w);
                for (int c = 0; c < 256; c++)
                        if (exit_status_set_test_status(e, c))
                                json_uint(w, (uint64_t) c);
                for (int sig = 1; sig <= 64; sig++)
                        if (exit_status_set_test_signal(e, sig))
                                json_string(w, signal_to_string(sig, buf));
                json_end_array(w);
                break;
        }
        }
}

/* Keys reset by an empty assignment are not "set" and so are omitted, even for lists: the
 * output shows the effective configuration, and an empty list is the default. */
void unit_settings_to_json(const UnitSettings *s, JsonWriter *w) {
        const char *open = NULL;

        json_begin_object(w);
        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                if (!mask_test(s, i))
                        continue;
                if (!open || !streq(open, items[i].section)) {
                        if (open)
                                json_end_object(w);
                        open = items[i].section;
                        json_key(w, open);
                        json_begin_object(w);
                }
                json_key(w, items[i].key);
                json_item(w, &items[i], (const uint8_t *) s + items[i].offset);
        }
        if (open)
                json_end_object(w);
        json_end_object(w);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/json.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/strv.h"
#include "basic/utf8.h"
#include "supctl-kube.h"
#include "unitfile/unit-settings.h"

/* The objects are built as a small tree first, so that one walk writes YAML and another JSON. */
typedef enum KType { K_MAP, K_LIST, K_STR, K_INT, K_BOOL } KType;

typedef struct KNode {
        KType type;
        char *key; /* member of a map; NULL for a list item */
        char *str;
        int64_t num;
        struct KNode *first, *last, *next;
} KNode;

static bool oom = false;

static KNode *knode_free(KNode *n) {
        while (n) {
                KNode *next = n->next;
                knode_free(n->first);
                free(n->key);
                free(n->str);
                free(n);
                n = next;
        }
        return NULL;
}

static void knode_freep(KNode **n) {
        knode_free(*n);
}

/* Allocation failures are remembered and reported once, after the tree is built: every helper
 * accepts a NULL parent, so building goes on harmlessly. */
static KNode *kadd(KNode *parent, const char *key, KType type) {
        KNode *n;

        if (!parent)
                return NULL;
        n = calloc(1, sizeof(KNode));
        if (!n || (key && !(n->key = strdup(key)))) {
                free(n);
                oom = true;
                return NULL;
        }
        n->type = type;
        if (parent->last)
                parent->last->next = n;
        else
                parent->first = n;
        parent->last = n;
        return n;
}

static KNode *kmap(KNode *parent, const char *key) {
        return kadd(parent, key, K_MAP);
}

static KNode *klist(KNode *parent, const char *key) {
        return kadd(parent, key, K_LIST);
}

static void kstr(KNode *parent, const char *key, const char *s) {
        KNode *n = kadd(parent, key, K_STR);
        if (n && !(n->str = strdup(s)))
                oom = true;
}

static void kint(KNode *parent, const char *key, int64_t v) {
        KNode *n = kadd(parent, key, K_INT);
        if (n)
                n->num = v;
}

static void kbool(KNode *parent, const char *key, bool v) {
        KNode *n = kadd(parent, key, K_BOOL);
        if (n)
                n->num = v;
}

static void kstrv(KNode *parent, const char *key, char *const *l) {
        KNode *list = klist(parent, key);
        STRV_FOREACH (s, l)
                kstr(list, NULL, *s);
}

/* ---- output ---- */

static void json_write(const KNode *n, JsonWriter *w) {
        if (n->key)
                json_key(w, n->key);
        switch (n->type) {
        case K_MAP:
        case K_LIST:
                n->type == K_MAP ? json_begin_object(w) : json_begin_array(w);
                for (const KNode *c = n->first; c; c = c->next)
                        json_write(c, w);
                n->type == K_MAP ? json_end_object(w) : json_end_array(w);
                break;
        case K_STR:
                json_string(w, n->str);
                break;
        case K_INT:
                json_int(w, n->num);
                break;
        case K_BOOL:
                json_bool(w, n->num);
                break;
        }
}

/* Every string is written double-quoted, the one YAML style in which any content is safe: nothing
 * is read as a number, boolean, null, tag or comment. Bytes that are not valid UTF-8 become U+FFFD
 * (a YAML stream must be Unicode), and characters YAML does not allow raw or would fold as line
 * breaks are escaped. */
static void yaml_quote(FILE *f, const char *s) {
        fputc('"', f);
        while (*s) {
                unsigned char c = (unsigned char) *s;
                size_t l = utf8_encoded_valid_len(s);

                if (l == 0) {
                        fputs("\\uFFFD", f);
                        s++;
                        continue;
                }
                if (l == 1) {
                        if (c == '"' || c == '\\')
                                fprintf(f, "\\%c", c);
                        else if (c == '\n')
                                fputs("\\n", f);
                        else if (c == '\t')
                                fputs("\\t", f);
                        else if (c < 0x20 || c == 0x7f)
                                fprintf(f, "\\x%02x", c);
                        else
                                fputc(c, f);
                } else if (l == 2 && c == 0xc2 && (unsigned char) s[1] < 0xa0)
                        /* C1 controls; U+0085 is NEL, a line break. */
                        fprintf(f, "\\x%02x", (unsigned char) s[1]);
                else if (l == 3 && c == 0xe2 && (unsigned char) s[1] == 0x80 &&
                         ((unsigned char) s[2] == 0xa8 || (unsigned char) s[2] == 0xa9))
                        fputs((unsigned char) s[2] == 0xa8 ? "\\L" : "\\P", f);
                else
                        fwrite(s, 1, l, f);
                s += l;
        }
        fputc('"', f);
}

/* Keys are ours (Kubernetes field names) except those of labels and annotations: plain when
 * they are simple identifiers, quoted otherwise. */
static void yaml_key(FILE *f, const char *k) {
        /* YAML 1.1 readers take these plain words as booleans or null. */
        static const char *const special[] = { "y", "n", "yes", "no", "true", "false", "on", "off", "null" };
        bool plain = isalpha((unsigned char) k[0]);
        for (const char *p = k; *p && plain; p++)
                plain = isalnum((unsigned char) *p) || strchr("_./-", *p);
        for (size_t i = 0; i < ELEMENTSOF(special) && plain; i++)
                plain = strcasecmp(k, special[i]) != 0;
        if (plain)
                fputs(k, f);
        else
                yaml_quote(f, k);
        fputc(':', f);
}

static bool knode_is_empty_container(const KNode *n) {
        return (n->type == K_MAP || n->type == K_LIST) && !n->first;
}

static void yaml_scalar(FILE *f, const KNode *n) {
        if (n->type == K_STR)
                yaml_quote(f, n->str);
        else if (n->type == K_INT)
                fprintf(f, "%" PRIi64, n->num);
        else if (n->type == K_BOOL)
                fputs(n->num ? "true" : "false", f);
        else
                fputs(n->type == K_MAP ? "{}" : "[]", f);
}

/* Block style: a map member is "key: scalar" or "key:" followed by its children indented by two;
 * a list item is "- " and the item, whose further members line up after the dash. */
static void yaml_write_children(FILE *f, const KNode *n, int indent, bool first_inline);

static void yaml_write_value(FILE *f, const KNode *n, int indent) {
        if (n->type == K_MAP && !knode_is_empty_container(n)) {
                fputc('\n', f);
                yaml_write_children(f, n, indent + 2, false);
        } else if (n->type == K_LIST && !knode_is_empty_container(n)) {
                fputc('\n', f);
                yaml_write_children(f, n, indent + 2, false);
        } else {
                fputc(' ', f);
                yaml_scalar(f, n);
                fputc('\n', f);
        }
}

static void yaml_write_children(FILE *f, const KNode *n, int indent, bool first_inline) {
        for (const KNode *c = n->first; c; c = c->next) {
                if (!(first_inline && c == n->first))
                        fprintf(f, "%*s", indent, "");
                if (n->type == K_MAP) {
                        yaml_key(f, c->key);
                        yaml_write_value(f, c, indent);
                        continue;
                }
                fputs("- ", f);
                if (c->type == K_MAP && c->first)
                        yaml_write_children(f, c, indent + 2, true);
                else if (c->type == K_LIST && c->first) {
                        fputc('\n', f);
                        yaml_write_children(f, c, indent + 2, false);
                } else {
                        yaml_scalar(f, c);
                        fputc('\n', f);
                }
        }
}

/* ---- conversion ---- */

typedef struct Conv {
        const UnitFile *unit;
        const char *path;
        char *name; /* the Kubernetes name */
} Conv;

static void warn(const Conv *c, const char *fmt, ...) _printf_(2, 3);
static void warn(const Conv *c, const char *fmt, ...) {
        va_list ap;
        fprintf(stderr, "%s: warning: ", c->path);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* A DNS-1035 label (what a Service name must be, and so also valid for a Deployment, a container
 * and a label value): lowercase letters, digits and '-', starting with a letter, at most 63. */
static char *kube_name(const char *s) {
        size_t n = strlen(s);
        char *r = malloc(n + 3), *p = r;

        if (!r)
                return NULL;
        if (!isalpha((unsigned char) s[0])) {
                *p++ = 'u';
                *p++ = '-';
        }
        for (; *s; s++)
                *p++ = isalnum((unsigned char) *s) ? (char) tolower((unsigned char) *s) : '-';
        *p = 0;
        if (strlen(r) > 63)
                r[63] = 0;
        while (p = r + strlen(r), p > r && p[-1] == '-')
                p[-1] = 0;
        return r;
}

/* An annotation key: [prefix/]name, the prefix a DNS subdomain of at most 253, the name at most 63
 * of [A-Za-z0-9-_.] beginning and ending alphanumeric. */
static bool annotation_key_is_valid(const char *k) {
        const char *slash = strrchr(k, '/'), *name = slash ? slash + 1 : k;
        size_t n = strlen(name);

        if (slash) {
                if (slash == k || (size_t) (slash - k) > 253)
                        return false;
                for (const char *p = k; p < slash; p++)
                        if (!(islower((unsigned char) *p) || isdigit((unsigned char) *p) || *p == '-' || *p == '.'))
                                return false;
        }
        if (n == 0 || n > 63 || !isalnum((unsigned char) name[0]) || !isalnum((unsigned char) name[n - 1]))
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("-_.", *p))
                        return false;
        return true;
}

static bool is_number(const char *s) {
        if (isempty(s))
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char) *s))
                        return false;
        return true;
}

/* Kubernetes quantities: binary suffixes when they are exact, else plain bytes. */
static void kquantity_bytes(KNode *parent, const char *key, uint64_t v) {
        static const char *const suffix[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
        char buf[32];
        size_t i = 0;

        while (v > 0 && v % 1024 == 0 && i < ELEMENTSOF(suffix) - 1) {
                v /= 1024;
                i++;
        }
        snprintf(buf, sizeof(buf), "%" PRIu64 "%s", v, suffix[i]);
        kstr(parent, key, buf);
}

/* Probes count whole seconds, at least one for periods and timeouts. */
static int64_t usec_to_sec_up(usec_t u, int64_t min) {
        int64_t s = (int64_t) ((u + USEC_PER_SEC - 1) / USEC_PER_SEC);
        return s < min ? min : s;
}

static int parse_range(const char *s, size_t len, unsigned *ret_a, unsigned *ret_b) {
        char buf[32];
        const char *dash;
        unsigned a, b;

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;
        dash = strchr(buf, '-');
        if (dash) {
                buf[dash - buf] = 0;
                if (safe_atou(buf, &a) < 0 || safe_atou(dash + 1, &b) < 0)
                        return -EINVAL;
        } else {
                if (safe_atou(buf, &a) < 0)
                        return -EINVAL;
                b = a;
        }
        if (a == 0 || b < a || b > 65535)
                return -EINVAL;
        *ret_a = a;
        *ret_b = b;
        return 0;
}

typedef struct PortMap {
        unsigned host; /* 0: none given */
        unsigned ctr;
        bool udp;
} PortMap;

/* PublishPort=[ip:][hostPort:]containerPort[/tcp|udp], already validated by the loader. */
static int publish_port_expand(const Conv *c, const char *v, PortMap **maps, size_t *n) {
        _cleanup_free_ char *s = strdup(v);
        char *p, *slash, *ctr;
        const char *host = NULL;
        unsigned ha = 0, hb = 0, ca, cb;
        bool udp = false, ip = false;

        if (!s)
                return -ENOMEM;
        slash = strchr(s, '/');
        if (slash) {
                udp = streq(slash, "/udp");
                *slash = 0;
        }
        p = s;
        if (p[0] == '[') {
                p = strstr(p, "]:") + 2;
                ip = true;
        }
        ctr = strrchr(p, ':');
        if (ctr) {
                char *first = strchr(p, ':');
                *ctr++ = 0;
                if (first != ctr - 1) { /* ip:host:ctr */
                        ip = true;
                        host = first + 1;
                } else
                        host = p;
        } else
                ctr = p;
        if (ip)
                warn(c, "PublishPort=%s: the host address has no equivalent in a Service, ignoring it", v);
        if (parse_range(ctr, strlen(ctr), &ca, &cb) < 0)
                return -EINVAL;
        if (!isempty(host) && parse_range(host, strlen(host), &ha, &hb) < 0)
                return -EINVAL;
        for (unsigned i = 0; i <= cb - ca; i++) {
                PortMap *m = realloc(*maps, (*n + 1) * sizeof(PortMap));
                if (!m)
                        return -ENOMEM;
                *maps = m;
                m[*n] = (PortMap){
                        .ctr = ca + i,
                        .host = ha == 0 ? 0 : (hb > ha ? ha + i : ha),
                        .udp = udp,
                };
                (*n)++;
        }
        return 0;
}

/* Keys that are set but have no Kubernetes equivalent are named, so nothing is lost silently. */
static void warn_unmapped(const Conv *c, const UnitSettings *s) {
        static const struct {
                const char *section, *key, *why;
        } keys[] = {
                { "Unit", "Documentation", "" },
                { "Unit", "After", " (Pods start in no particular order)" },
                { "Unit", "Before", " (Pods start in no particular order)" },
                { "Unit", "Wants", " (Pods start in no particular order)" },
                { "Unit", "Requires", " (Pods start in no particular order)" },
                { "Unit", "BindsTo", " (Pods start in no particular order)" },
                { "Unit", "StartLimitIntervalSec", " (the kubelet has its own back-off)" },
                { "Unit", "StartLimitBurst", " (the kubelet has its own back-off)" },
                { "Container", "EnvironmentFile", " (use a ConfigMap or Secret with envFrom)" },
                { "Container", "Network", " (Pods share the cluster network)" },
                { "Container", "IP", " (Pod addresses are assigned by the cluster)" },
                { "Container", "PidsLimit", " (the PID limit is a node setting)" },
                { "Container", "StopSignal", "" },
                { "Container", "RunInit", "" },
                { "Container", "Notify", "" },
                { "Service", "RestartSec", " (the kubelet has its own back-off)" },
                { "Service", "RestartSteps", " (the kubelet has its own back-off)" },
                { "Service", "RestartMaxDelaySec", " (the kubelet has its own back-off)" },
                { "Service", "RestartPreventExitStatus", "" },
                { "Service", "SuccessExitStatus", "" },
                { "Service", "TimeoutStartSec", "" },
                { "Service", "CPUWeight", "" },
                { "Service", "TasksMax", " (the PID limit is a node setting)" },
                { "Deploy", "RestartResetSec", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (unit_settings_key_is_set(s, keys[i].section, keys[i].key))
                        warn(c, "%s= has no Kubernetes equivalent, ignoring it%s", keys[i].key, keys[i].why);
        if (unit_settings_key_is_set(s, "Service", "Restart") && s->restart != RESTART_ALWAYS)
                warn(c, "Restart=%s has no Kubernetes equivalent: a Deployment's Pods always restart",
                     restart_policy_to_string(s->restart));
}

static void add_probe(KNode *container, const char *key, const UnitSettings *s) {
        KNode *probe = kmap(container, key);
        KNode *cmd = klist(kmap(probe, "exec"), "command");

        /* HealthCmd= is a shell command, as Docker's HEALTHCHECK CMD-SHELL. */
        kstr(cmd, NULL, "/bin/sh");
        kstr(cmd, NULL, "-c");
        kstr(cmd, NULL, s->health_cmd);
        kint(probe, "periodSeconds", usec_to_sec_up(s->health_interval, 1));
        kint(probe, "timeoutSeconds", usec_to_sec_up(s->health_timeout, 1));
        kint(probe, "failureThreshold", s->health_retries);
        if (s->health_start_period > 0)
                kint(probe, "initialDelaySeconds", usec_to_sec_up(s->health_start_period, 0));
}

static int add_ports(const Conv *c, const UnitSettings *s, KNode *container, KNode *items) {
        _cleanup_free_ PortMap *maps = NULL;
        size_t n = 0;
        KNode *ports, *svc, *sports, *sel, *meta;
        int r;

        STRV_FOREACH (v, s->publish_port) {
                r = publish_port_expand(c, *v, &maps, &n);
                if (r < 0)
                        return r;
        }
        if (n == 0)
                return 0;

        ports = klist(container, "ports");
        for (size_t i = 0; i < n; i++) {
                bool dup = false;
                for (size_t j = 0; j < i; j++)
                        dup = dup || (maps[j].ctr == maps[i].ctr && maps[j].udp == maps[i].udp);
                if (dup)
                        continue;
                KNode *p = kmap(ports, NULL);
                kint(p, "containerPort", maps[i].ctr);
                kstr(p, "protocol", maps[i].udp ? "UDP" : "TCP");
        }

        svc = kmap(items, NULL);
        kstr(svc, "apiVersion", "v1");
        kstr(svc, "kind", "Service");
        meta = kmap(svc, "metadata");
        kstr(meta, "name", c->name);
        kstr(kmap(meta, "labels"), "app", c->name);
        svc = kmap(svc, "spec");
        sel = kmap(svc, "selector");
        kstr(sel, "app", c->name);
        sports = klist(svc, "ports");
        for (size_t i = 0; i < n; i++) {
                unsigned port = maps[i].host ?: maps[i].ctr;
                bool dup = false;
                char pname[16];

                /* A Service port is unique by port and protocol. */
                for (size_t j = 0; j < i; j++)
                        dup = dup || ((maps[j].host ?: maps[j].ctr) == port && maps[j].udp == maps[i].udp);
                if (dup) {
                        warn(c, "PublishPort=: port %u/%s is published twice, keeping the first", port,
                             maps[i].udp ? "udp" : "tcp");
                        continue;
                }
                /* With several ports every one needs a name (an IANA_SVC_NAME, at most 15). */
                snprintf(pname, sizeof(pname), "%s-%u", maps[i].udp ? "udp" : "tcp", port);
                KNode *p = kmap(sports, NULL);
                kstr(p, "name", pname);
                kint(p, "port", port);
                kint(p, "targetPort", maps[i].ctr);
                kstr(p, "protocol", maps[i].udp ? "UDP" : "TCP");
        }
        return 0;
}

/* True when the comma-separated list opts holds word. */
static bool opt_has(const char *opts, const char *word) {
        size_t n = strlen(word);
        for (const char *p = opts; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
                if (strneq(p, word, n) && (p[n] == ',' || p[n] == 0))
                        return true;
        return false;
}

static void add_volumes(const Conv *c, const UnitSettings *s, KNode *container, KNode *pod) {
        KNode *mounts, *vols;
        unsigned i = 0;

        if (strv_length(s->volume) == 0 && strv_length(s->tmpfs) == 0)
                return;
        mounts = klist(container, "volumeMounts");
        vols = klist(pod, "volumes");
        STRV_FOREACH (v, s->volume) {
                _cleanup_free_ char *src = NULL, *dst = NULL, *claim = NULL;
                const char *colon = strchr(*v, ':'), *opts = NULL;
                char vname[32];
                KNode *vol, *m;

                if (colon && (*v)[0] != ':') {
                        const char *colon2 = strchr(colon + 1, ':');
                        src = strndup(*v, (size_t) (colon - *v));
                        dst = colon2 ? strndup(colon + 1, (size_t) (colon2 - colon - 1)) : strdup(colon + 1);
                        opts = colon2 ? colon2 + 1 : NULL;
                } else
                        dst = strdup(*v);
                if ((colon && !src) || !dst) {
                        oom = true;
                        return;
                }
                snprintf(vname, sizeof(vname), "volume-%u", i++);
                vol = kmap(vols, NULL);
                kstr(vol, "name", vname);
                if (!src) {
                        kmap(vol, "emptyDir");
                        warn(c, "Volume=%s: an anonymous volume becomes an emptyDir, which lives as long as the Pod",
                             *v);
                } else if (src[0] == '/') {
                        kstr(kmap(vol, "hostPath"), "path", src);
                        warn(c,
                             "Volume=%s: becomes a hostPath volume, which is the directory of whichever node the "
                             "Pod runs on",
                             *v);
                } else {
                        claim = kube_name(src);
                        if (!claim) {
                                oom = true;
                                return;
                        }
                        kstr(kmap(vol, "persistentVolumeClaim"), "claimName", claim);
                        warn(c, "Volume=%s: becomes the PersistentVolumeClaim '%s', which must be created", *v, claim);
                }
                m = kmap(mounts, NULL);
                kstr(m, "name", vname);
                kstr(m, "mountPath", dst);
                if (opts && opt_has(opts, "ro"))
                        kbool(m, "readOnly", true);
        }
        i = 0;
        STRV_FOREACH (t, s->tmpfs) {
                _cleanup_free_ char *dst = strndup(*t, strcspn(*t, ":"));
                char vname[32];
                KNode *vol, *m;

                if (!dst) {
                        oom = true;
                        return;
                }
                if ((*t)[strlen(dst)] == ':')
                        warn(c, "Tmpfs=%s: the mount options have no equivalent, ignoring them", *t);
                snprintf(vname, sizeof(vname), "tmpfs-%u", i++);
                vol = kmap(vols, NULL);
                kstr(vol, "name", vname);
                kstr(kmap(vol, "emptyDir"), "medium", "Memory");
                m = kmap(mounts, NULL);
                kstr(m, "name", vname);
                kstr(m, "mountPath", dst);
        }
}

static char *cap_name(const char *c) {
        char *r = strdup(strncasecmp(c, "CAP_", 4) == 0 ? c + 4 : c);
        for (char *p = r; p && *p; p++)
                *p = (char) toupper((unsigned char) *p);
        return r;
}

static void add_caps(KNode *sc, const char *key, char **caps) {
        KNode *l;
        if (strv_length(caps) == 0)
                return;
        l = klist(sc, key);
        STRV_FOREACH (cap, caps) {
                _cleanup_free_ char *n = cap_name(*cap);
                if (!n) {
                        oom = true;
                        return;
                }
                kstr(l, NULL, n);
        }
}

static int unit_to_kube(Conv *c, KNode *items) {
        const UnitSettings *s = &c->unit->settings;
        KNode *dep, *meta, *spec, *tmpl, *tmeta, *pod, *ctr, *sc = NULL, *caps = NULL;
        uint64_t mem = unit_settings_memory_max(s);
        usec_t stop = unit_settings_stop_timeout(s);

        dep = kmap(items, NULL);
        kstr(dep, "apiVersion", "apps/v1");
        kstr(dep, "kind", "Deployment");
        meta = kmap(dep, "metadata");
        kstr(meta, "name", c->name);
        kstr(kmap(meta, "labels"), "app", c->name);
        if (s->description)
                kstr(kmap(meta, "annotations"), "kubernetes.io/description", s->description);

        spec = kmap(dep, "spec");
        kint(spec, "replicas", s->replicas);
        kstr(kmap(kmap(spec, "selector"), "matchLabels"), "app", c->name);
        if (unit_settings_key_is_set(s, "Deploy", "UpdateOrder") ||
            unit_settings_key_is_set(s, "Deploy", "UpdateParallelism")) {
                KNode *st = kmap(spec, "strategy"), *ru;
                bool start_first = s->update_order == UPDATE_ORDER_START_FIRST;

                kstr(st, "type", "RollingUpdate");
                ru = kmap(st, "rollingUpdate");
                kint(ru, "maxSurge", start_first ? s->update_parallelism : 0);
                kint(ru, "maxUnavailable", start_first ? 0 : s->update_parallelism);
        }
        if (s->update_delay > 0)
                kint(spec, "minReadySeconds", usec_to_sec_up(s->update_delay, 0));

        tmpl = kmap(spec, "template");
        tmeta = kmap(tmpl, "metadata");
        kstr(kmap(tmeta, "labels"), "app", c->name);
        /* Docker labels are free-form: annotations, not Kubernetes labels, take any value. */
        if (strv_length(s->label) > 0) {
                KNode *ann = kmap(tmeta, "annotations");
                STRV_FOREACH (l, s->label) {
                        _cleanup_free_ char *k = strndup(*l, strcspn(*l, "="));
                        if (!k) {
                                oom = true;
                                break;
                        }
                        if (annotation_key_is_valid(k))
                                kstr(ann, k, *l + strlen(k) + ((*l)[strlen(k)] == '='));
                        else
                                warn(c, "Label=%s: '%s' is not a valid annotation key, ignoring it", *l, k);
                }
        }
        pod = kmap(tmpl, "spec");
        if (s->hostname) {
                _cleanup_free_ char *h = kube_name(s->hostname);
                if (h && streq(h, s->hostname))
                        kstr(pod, "hostname", h);
                else
                        warn(c, "HostName=%s is not a DNS label as Kubernetes needs, ignoring it", s->hostname);
        }
        if (stop != USEC_INFINITY)
                kint(pod, "terminationGracePeriodSeconds", usec_to_sec_up(stop, 0));

        ctr = kmap(klist(pod, "containers"), NULL);
        if (s->container_name) {
                _cleanup_free_ char *n = kube_name(s->container_name);
                if (n && !streq(n, s->container_name))
                        warn(c, "ContainerName=%s is not a DNS label, using '%s'", s->container_name, n);
                kstr(ctr, "name", n ?: c->name);
        } else
                kstr(ctr, "name", c->name);
        kstr(ctr, "image", s->image);

        /* Docker's ENTRYPOINT is Kubernetes' command, CMD its args. An empty Entrypoint= (no
         * entrypoint at all) makes Exec= the whole command line. */
        if (s->entrypoint && strv_length(s->entrypoint) > 0) {
                kstrv(ctr, "command", s->entrypoint);
                if (s->exec)
                        kstrv(ctr, "args", s->exec);
        } else if (s->entrypoint) {
                if (s->exec)
                        kstrv(ctr, "command", s->exec);
                else
                        warn(c, "Entrypoint= (empty) without Exec= has no equivalent: the image's ENTRYPOINT is kept");
        } else if (s->exec)
                kstrv(ctr, "args", s->exec);

        if (s->working_dir)
                kstr(ctr, "workingDir", s->working_dir);
        if (strv_length(s->environment) > 0) {
                KNode *env = klist(ctr, "env");
                STRV_FOREACH (e, s->environment) {
                        _cleanup_free_ char *k = strndup(*e, strcspn(*e, "="));
                        KNode *item = kmap(env, NULL);
                        if (!k) {
                                oom = true;
                                break;
                        }
                        kstr(item, "name", k);
                        kstr(item, "value", *e + strlen(k) + ((*e)[strlen(k)] == '='));
                }
        }
        if (mem != UINT64_MAX || s->cpu_quota_per_sec != USEC_INFINITY) {
                KNode *lim = kmap(kmap(ctr, "resources"), "limits");
                if (s->cpu_quota_per_sec != USEC_INFINITY) {
                        /* CPUQuota=150% is 1.5 CPUs, 1500 millicores; a quota finer than a
                         * millicore is rounded up. */
                        char buf[32];
                        snprintf(buf, sizeof(buf), "%" PRIu64 "m",
                                 (uint64_t) ((s->cpu_quota_per_sec + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
                        kstr(lim, "cpu", buf);
                }
                if (mem != UINT64_MAX)
                        kquantity_bytes(lim, "memory", mem);
        }

        if (s->health_cmd && s->health_interval != USEC_INFINITY) {
                /* A health check gates the load balancing across replicas, as a readiness probe
                 * does; with HealthOnFailure=kill|restart it also restarts, as a liveness probe. */
                add_probe(ctr, "readinessProbe", s);
                if (s->health_on_failure == HEALTH_ON_FAILURE_KILL ||
                    s->health_on_failure == HEALTH_ON_FAILURE_RESTART ||
                    s->health_on_failure == HEALTH_ON_FAILURE_STOP)
                        add_probe(ctr, "livenessProbe", s);
                if (s->health_on_failure == HEALTH_ON_FAILURE_STOP)
                        warn(c, "HealthOnFailure=stop has no equivalent: the liveness probe restarts the container");
        } else if (s->health_cmd)
                warn(c, "HealthInterval=disable has no equivalent (probes are periodic), ignoring HealthCmd=");

        if (s->user || s->group || s->read_only > 0 || s->no_new_privileges > 0 || s->add_capability ||
            s->drop_capability)
                sc = kmap(ctr, "securityContext");
        if (s->user) {
                if (is_number(s->user))
                        kint(sc, "runAsUser", strtoll(s->user, NULL, 10));
                else
                        warn(c, "User=%s: Kubernetes takes only a numeric user ID, ignoring it", s->user);
        }
        if (s->group) {
                if (is_number(s->group))
                        kint(sc, "runAsGroup", strtoll(s->group, NULL, 10));
                else
                        warn(c, "Group=%s: Kubernetes takes only a numeric group ID, ignoring it", s->group);
        }
        if (s->read_only > 0)
                kbool(sc, "readOnlyRootFilesystem", true);
        if (s->no_new_privileges > 0)
                kbool(sc, "allowPrivilegeEscalation", false);
        if (s->add_capability || s->drop_capability) {
                caps = kmap(sc, "capabilities");
                add_caps(caps, "add", s->add_capability);
                add_caps(caps, "drop", s->drop_capability);
        }
        /* An empty map (a non-numeric User= alone) is dropped rather than printed as "{}". */
        if (sc && !sc->first)
                sc->key[0] = 0;

        add_volumes(c, s, ctr, pod);
        warn_unmapped(c, s);
        return add_ports(c, s, ctr, items);
}

/* Removes the nodes marked above (empty key) so both outputs skip them. */
static void knode_prune(KNode *n) {
        KNode **pp = &n->first, *last = NULL;
        while (*pp) {
                KNode *c = *pp;
                if (c->key && !c->key[0]) {
                        *pp = c->next;
                        c->next = NULL;
                        knode_free(c);
                        continue;
                }
                knode_prune(c);
                last = c;
                pp = &c->next;
        }
        n->last = last;
}

static int load(const char *arg, const UnitLoadContext *ctx, UnitFile **ret) {
        _cleanup_free_ char *name = NULL;
        int r;

        if (strchr(arg, '/')) {
                /* A file named by path is taken as it is, wherever it is, as verify does. */
                UnitLoadContext file_ctx = *ctx;
                file_ctx.search_path = NULL;
                return unit_file_load_path(&file_ctx, arg, ret);
        }
        name = unit_name_normalize(arg);
        if (!name)
                return -ENOMEM;
        if (!unit_name_is_valid(name))
                return -EINVAL;
        r = unit_file_load(ctx, name, NULL, ret);
        return r;
}

int supctl_generate(int argc, char **argv, const char *root, bool json) {
        static const char *const dirs[] = { "/etc/supd/units", "/run/supd/units", "/usr/lib/supd/units" };
        _cleanup_strv_free_ char **search = NULL;
        _cleanup_(knode_freep) KNode *list = NULL;
        UnitLoadContext ctx = { .hostname = "localhost", .machine_id = "00000000000000000000000000000000" };
        char host[256] = {};
        int ret = 0;
        KNode *items;

        if (argc < 2 || !streq(argv[0], "kube")) {
                log_error("supctl: usage: generate kube NAME|FILE...");
                return 1;
        }
        if (!root || streq(root, "/"))
                root = "";
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char *d;
                if (asprintf(&d, "%s%s", root, dirs[i]) < 0 || strv_consume(&search, d) < 0)
                        return log_oom(), 1;
        }
        ctx.search_path = search;
        ctx.root = root;
        if (gethostname(host, sizeof(host) - 1) == 0)
                ctx.hostname = host;

        list = calloc(1, sizeof(KNode));
        if (!list)
                return log_oom(), 1;
        list->type = K_MAP;
        kstr(list, "apiVersion", "v1");
        kstr(list, "kind", "List");
        items = klist(list, "items");

        for (int i = 1; i < argc; i++) {
                _cleanup_(unit_file_freep) UnitFile *u = NULL;
                _cleanup_free_ char *kname = NULL;
                Conv c;
                int r = load(argv[i], &ctx, &u);

                if (r == -ENOENT && !strchr(argv[i], '/')) {
                        log_error("supctl: no such unit '%s'", argv[i]);
                        ret = ret ?: 4;
                        continue;
                }
                if (r < 0) {
                        log_error("%s: %s", argv[i], strerror(-r));
                        ret = 1;
                        continue;
                }
                for (size_t k = 0; k < u->n_errors; k++) {
                        _cleanup_free_ char *e = unit_diagnostic_format(&u->errors[k]);
                        fprintf(stderr, "%s\n", strna(e));
                }
                for (size_t k = 0; k < u->n_warnings; k++) {
                        _cleanup_free_ char *e = unit_warning_format(&u->warnings[k]);
                        fprintf(stderr, "%s\n", strna(e));
                }
                if (u->n_errors > 0) {
                        ret = 1;
                        continue;
                }
                if (u->is_template) {
                        log_error("%s: %s is a template, name one of its instances (%s<instance>)", u->path, u->name,
                                  u->name);
                        ret = 1;
                        continue;
                }
                if (!u->settings.image) {
                        /* A placeholder image would deploy something else: refuse instead. */
                        log_error("%s: Rootfs= has no Kubernetes equivalent: import the directory as an image "
                                  "(supctl image import) and use Image=",
                                  u->path);
                        ret = 1;
                        continue;
                }
                kname = kube_name(u->name);
                if (!kname)
                        return log_oom(), 1;
                c = (Conv){ .unit = u, .path = u->path, .name = kname };
                if (!streq(kname, u->name))
                        warn(&c, "unit name '%s' is not a Kubernetes name, using '%s'", u->name, kname);
                r = unit_to_kube(&c, items);
                if (r == -ENOMEM)
                        return log_oom(), 1;
                if (r < 0) {
                        log_error("%s: cannot convert PublishPort=: %s", u->path, strerror(-r));
                        ret = 1;
                }
        }
        if (oom)
                return log_oom(), 1;
        knode_prune(list);

        if (json) {
                JsonWriter w;
                json_init(&w, stdout);
                json_write(list, &w);
                putchar('\n');
        } else
                for (KNode *o = items->first; o; o = o->next) {
                        fputs("---\n", stdout);
                        yaml_write_children(stdout, o, 0, false);
                }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                log_error("supctl: cannot write the output: %m");
                return 1;
        }
        return ret;
}

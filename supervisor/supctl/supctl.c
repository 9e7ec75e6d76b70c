/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/log.h"
#include "basic/parse-util.h"
#include "basic/strv.h"
#include "basic/time-util.h"
#include "bus/names.h"
#include "supctl-daemon.h"
#include "supctl-exec.h"
#include "supctl-image.h"
#include "supctl-kube.h"
#include "unitfile/unit-settings.h"

/* Exit codes, as SPEC.md and systemctl use them. */
enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,
        EXIT_NOT_ACTIVE = 3,
        EXIT_NO_UNIT = 4,
};

static const char *arg_root = NULL;
static bool arg_json = false;
static bool arg_all = false;
static int arg_signal = SIGTERM;
static unsigned arg_lines = 10;

static bool use_color(void) {
        static int cached = -1;
        if (cached < 0)
                cached = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !streq(strempty(getenv("TERM")), "dumb");
        return cached;
}

#define ANSI(code) (use_color() ? "\033[" code "m" : "")
#define ANSI_GREEN ANSI("0;1;32")
#define ANSI_RED ANSI("0;1;31")
#define ANSI_BOLD ANSI("1")
#define ANSI_NORMAL ANSI("0")

static char *socket_path(void) {
        char *p;
        if (asprintf(&p, "%s/run/supd/supd.sock", arg_root && !streq(arg_root, "/") ? arg_root : "") < 0)
                return NULL;
        return p;
}

static int connect_bus(sd_bus **ret) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *path = socket_path(), *address = NULL;
        int r;

        if (!path || asprintf(&address, "unix:path=%s", path) < 0)
                return log_oom();
        /* A direct peer connection: no Hello(), as with systemctl and /run/systemd/private. */
        if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, address)) < 0 ||
            (r = sd_bus_negotiate_fds(bus, true)) < 0)
                return log_error_errno(r, "supctl: cannot set up the connection: %m");
        r = sd_bus_start(bus);
        if (r < 0)
                return log_error_errno(r, "supctl: cannot connect to %s: %m", path);
        *ret = TAKE_PTR(bus);
        return 0;
}

static int call(sd_bus *bus, const char *method, sd_bus_message **reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE, method);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        /* Stops wait for StopTimeout=, which can be long; the daemon bounds every wait itself. */
        r = sd_bus_call(bus, m, UINT64_MAX - 1, &error, reply);
        if (r < 0) {
                log_error("%s", error.message ?: strerror(-r));
                if (sd_bus_error_has_name(&error, "io.supd.Error.NoSuchUnit"))
                        return -ENOENT;
                return r;
        }
        return 0;
}

static int call_strv_arg(sd_bus *bus, const char *method, char **names, sd_bus_message **reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE, method);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, names);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, UINT64_MAX - 1, &error, reply);
        if (r < 0) {
                log_error("%s", error.message ?: strerror(-r));
                return sd_bus_error_has_name(&error, "io.supd.Error.NoSuchUnit") ? -ENOENT : r;
        }
        return 0;
}

static int exit_code_for(int r) {
        if (r == -ENOENT)
                return EXIT_NO_UNIT;
        return r < 0 ? EXIT_FAIL : EXIT_OK;
}

/* ---- list ---- */

static int verb_list(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *f[7];
        size_t w[7] = { 4, 4, 6, 3, 5, 5, 11 }, n = 0;
        char ***rows = NULL;
        JsonWriter jw;
        int r;

        r = call(bus, "ListUnits", &reply, "b", (int) arg_all);
        if (r < 0)
                return exit_code_for(r);
        r = sd_bus_message_enter_container(reply, 'a', "(sssssss)");
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        while ((r = sd_bus_message_read(reply, "(sssssss)", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6])) > 0) {
                char **row = NULL;
                for (size_t i = 0; i < 7; i++) {
                        (void) strv_extend(&row, f[i]);
                        w[i] = MAX(w[i], strlen(f[i]));
                }
                rows = realloc(rows, (n + 1) * sizeof(char **));
                rows[n++] = row;
        }

        if (arg_json) {
                static const char *const keys[] = { "unit", "load", "active", "sub", "image", "ports", "description" };
                json_init(&jw, stdout);
                json_begin_array(&jw);
                for (size_t i = 0; i < n; i++) {
                        json_begin_object(&jw);
                        for (size_t k = 0; k < 7; k++) {
                                json_key(&jw, keys[k]);
                                json_string(&jw, rows[i][k]);
                        }
                        json_end_object(&jw);
                }
                json_end_array(&jw);
        } else {
                printf("%s%-*s %-*s %-*s %-*s %-*s %-*s %s%s\n", ANSI_BOLD, (int) w[0], "UNIT", (int) w[1], "LOAD",
                       (int) w[2], "ACTIVE", (int) w[3], "SUB", (int) w[4], "IMAGE", (int) w[5], "PORTS",
                       "DESCRIPTION", ANSI_NORMAL);
                for (size_t i = 0; i < n; i++) {
                        const char *on = "", *off = "";
                        if (streq(rows[i][2], "failed") || streq(rows[i][1], "error"))
                                on = ANSI_RED, off = ANSI_NORMAL;
                        printf("%s%-*s %-*s %-*s %-*s%s %-*s %-*s %s\n", on, (int) w[0], rows[i][0], (int) w[1],
                               rows[i][1], (int) w[2], rows[i][2], (int) w[3], rows[i][3], off, (int) w[4], rows[i][4],
                               (int) w[5], rows[i][5], rows[i][6]);
                }
                printf("\n%zu units listed.%s\n", n, arg_all ? "" : " Pass --all to see inactive units, too.");
        }
        for (size_t i = 0; i < n; i++)
                strv_free(rows[i]);
        free(rows);
        return EXIT_OK;
}

/* ---- properties: GetUnit's a{sv} as a small typed table ---- */

typedef struct Prop {
        char *key;
        char type; /* s u i t b a */
        char *s;
        uint64_t u;
        int64_t i;
        char **l;
} Prop;

typedef struct Props {
        Prop *p;
        size_t n;
} Props;

static void props_done(Props *ps) {
        for (size_t i = 0; i < ps->n; i++) {
                free(ps->p[i].key);
                free(ps->p[i].s);
                strv_free(ps->p[i].l);
        }
        free(ps->p);
}

static const Prop *prop_get(const Props *ps, const char *key) {
        for (size_t i = 0; i < ps->n; i++)
                if (streq(ps->p[i].key, key))
                        return &ps->p[i];
        return NULL;
}

static const char *prop_s(const Props *ps, const char *key) {
        const Prop *p = prop_get(ps, key);
        return p && p->type == 's' ? p->s : "";
}

static uint64_t prop_u(const Props *ps, const char *key) {
        const Prop *p = prop_get(ps, key);
        return p ? (p->type == 'i' ? (uint64_t) p->i : p->u) : 0;
}

static char **prop_l(const Props *ps, const char *key) {
        const Prop *p = prop_get(ps, key);
        return p && p->type == 'a' ? p->l : NULL;
}

static int read_props(sd_bus_message *reply, Props *ps) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key, *contents;
                char type;
                Prop p = {};

                if ((r = sd_bus_message_read(reply, "s", &key)) < 0 ||
                    (r = sd_bus_message_peek_type(reply, &type, &contents)) < 0 ||
                    (r = sd_bus_message_enter_container(reply, 'v', contents)) < 0)
                        return r;
                p.key = strdup(key);
                p.type = contents[0];
                switch (contents[0]) {
                case 's': {
                        const char *s;
                        r = sd_bus_message_read(reply, "s", &s);
                        p.s = strdup(s);
                        break;
                }
                case 'u':
                case 'i':
                case 'b': {
                        /* sd-bus stores all three in 32 bits (a bool as an int); only 'i' is signed. */
                        int32_t v;
                        r = sd_bus_message_read_basic(reply, contents[0], &v);
                        if (contents[0] == 'i')
                                p.i = v;
                        else
                                p.u = (uint32_t) v;
                        break;
                }
                case 't':
                        r = sd_bus_message_read(reply, "t", &p.u);
                        break;
                case 'a':
                        r = sd_bus_message_read_strv(reply, &p.l);
                        break;
                default:
                        r = sd_bus_message_skip(reply, contents);
                        p.type = 0;
                }
                if (r < 0)
                        return r;
                if ((r = sd_bus_message_exit_container(reply)) < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
                        return r;
                ps->p = realloc(ps->p, (ps->n + 1) * sizeof(Prop));
                ps->p[ps->n++] = p;
        }
        return r < 0 ? r : sd_bus_message_exit_container(reply);
}

static int get_props(sd_bus *bus, const char *name, Props *ps) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = call(bus, "GetUnit", &reply, "s", name);
        if (r < 0)
                return r;
        r = read_props(reply, ps);
        if (r < 0)
                return log_error_errno(r, "Bad reply from supd: %m");
        return 0;
}

static void props_to_json(const Props *ps, JsonWriter *w) {
        json_begin_object(w);
        for (size_t i = 0; i < ps->n; i++) {
                const Prop *p = &ps->p[i];
                json_key(w, p->key);
                switch (p->type) {
                case 's':
                        json_string(w, p->s);
                        break;
                case 'u':
                case 't':
                        json_uint(w, p->u);
                        break;
                case 'i':
                        json_int(w, p->i);
                        break;
                case 'b':
                        json_bool(w, p->u);
                        break;
                case 'a':
                        json_strv(w, p->l);
                        break;
                default:
                        json_null(w);
                }
        }
        json_end_object(w);
}

/* ---- status ---- */

static void print_timestamp_ago(const char *label, uint64_t ts) {
        char a[FORMAT_TIMESTAMP_MAX], b[FORMAT_TIMESPAN_MAX];
        usec_t now = now_usec(CLOCK_REALTIME);

        if (ts == 0)
                return;
        printf(" %s %s; %s ago", label, format_timestamp(a, sizeof(a), ts),
               format_timespan(b, sizeof(b), now > ts ? now - ts : 0, USEC_PER_SEC));
}

static void print_log_tail(const char *path, unsigned n) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        const char *start;
        unsigned lines = 0;

        if (n == 0 || read_file_at(AT_FDCWD, path, 64 * 1024 * 1024, &data, &size) < 0 || size == 0)
                return;
        start = data + size;
        if (start > data && start[-1] == '\n')
                start--;
        while (start > data) {
                if (start[-1] == '\n' && ++lines >= n)
                        break;
                start--;
        }
        printf("\n%s", start);
        if (size > 0 && data[size - 1] != '\n')
                putchar('\n');
}

#define FORMAT_BYTES_MAX 16
/* "14.2M", as systemctl prints memory. */
static char *format_bytes(char *buf, size_t l, uint64_t v) {
        static const char suffix[] = "BKMGTPE";
        double d = (double) v;
        size_t i = 0;

        while (d >= 1024 && i < sizeof(suffix) - 2) {
                d /= 1024;
                i++;
        }
        if (i == 0)
                snprintf(buf, l, "%" PRIu64 "B", v);
        else
                snprintf(buf, l, "%.1f%c", d, suffix[i]);
        return buf;
}

static int print_status(const Props *ps) {
        const char *active = prop_s(ps, "ActiveState"), *sub = prop_s(ps, "SubState");
        const char *load = prop_s(ps, "LoadState"), *result = prop_s(ps, "Result");
        const char *dot, *color;
        char **errors = prop_l(ps, "LoadErrors");
        char **dropins = prop_l(ps, "DropInPaths");

        if (streq(active, "active") || streq(active, "activating") || streq(active, "deactivating"))
                dot = "●", color = ANSI_GREEN;
        else if (streq(active, "failed") || streq(load, "error"))
                dot = "×", color = ANSI_RED;
        else
                dot = "○", color = "";
        printf("%s%s%s %s", color, dot, ANSI_NORMAL, prop_s(ps, "Name"));
        if (!isempty(prop_s(ps, "Description")))
                printf(" - %s", prop_s(ps, "Description"));
        putchar('\n');

        printf("     Loaded: %s (%s; %s)\n", load,
               isempty(prop_s(ps, "FragmentPath")) ? "n/a" : prop_s(ps, "FragmentPath"),
               prop_u(ps, "Autostart") ? "enabled" : "disabled");
        if (strv_length(dropins) > 0) {
                printf("    Drop-In: ");
                STRV_FOREACH (d, dropins)
                        printf("%s%s\n", d == dropins ? "" : "             ", *d);
        }
        STRV_FOREACH (e, errors)
                printf("      Error: %s%s%s\n", ANSI_RED, *e, ANSI_NORMAL);
        /* Already "PATH:LINE: warning: message", as verify and the log show them. */
        STRV_FOREACH (e, prop_l(ps, "LoadWarnings"))
                printf("             %s\n", *e);

        printf("     Active: %s%s (%s)%s", color, active, sub, ANSI_NORMAL);
        if (streq(active, "failed") && !streq(result, "success"))
                printf(" (Result: %s)", result);
        print_timestamp_ago("since", prop_u(ps, "StateChangeTimestamp"));
        putchar('\n');

        if (!isempty(prop_s(ps, "Image")))
                printf("      Image: %s\n", prop_s(ps, "Image"));
        else if (!isempty(prop_s(ps, "Rootfs")))
                printf("     Rootfs: %s\n", prop_s(ps, "Rootfs"));
        if (strv_length(prop_l(ps, "PublishPort")) > 0) {
                _cleanup_free_ char *ports = strv_join(prop_l(ps, "PublishPort"), ", ");
                printf("      Ports: %s\n", ports);
        }
        if (prop_u(ps, "MainPID") > 0)
                printf("   Main PID: %u\n", (unsigned) prop_u(ps, "MainPID"));
        else if (!isempty(prop_s(ps, "ExitCode"))) {
                int st = (int) prop_u(ps, "ExitStatus");
                if (streq(prop_s(ps, "ExitCode"), "exited"))
                        printf("   Main PID: (code=exited, status=%d/%s)\n", st, st == 0 ? "SUCCESS" : "FAILURE");
                else
                        printf("   Main PID: (code=%s, signal=%s)\n", prop_s(ps, "ExitCode"), sigabbrev_np(st) ?: "?");
        }
        {
                uint64_t tasks = prop_u(ps, "TasksCurrent"), mem = prop_u(ps, "MemoryCurrent"),
                         cpu = prop_u(ps, "CPUUsageUSec");
                uint64_t tmax = prop_u(ps, "TasksMax"), mmax = prop_u(ps, "MemoryMax");
                char b1[FORMAT_BYTES_MAX], b2[FORMAT_BYTES_MAX], b3[FORMAT_TIMESPAN_MAX];
                bool running = prop_u(ps, "MainPID") > 0;

                if (tasks != UINT64_MAX && tasks > 0 && running) {
                        printf("      Tasks: %" PRIu64, tasks);
                        if (tmax != UINT64_MAX && tmax > 0)
                                printf(" (limit: %" PRIu64 ")", tmax);
                        putchar('\n');
                }
                if (mem != UINT64_MAX && mem > 0 && running) {
                        printf("     Memory: %s", format_bytes(b1, sizeof(b1), mem));
                        if (mmax != UINT64_MAX && mmax > 0)
                                printf(" (max: %s)", format_bytes(b2, sizeof(b2), mmax));
                        putchar('\n');
                }
                if (cpu != UINT64_MAX && cpu > 0)
                        printf("        CPU: %s\n", format_timespan(b3, sizeof(b3), cpu, USEC_PER_MSEC));
        }
        if (!isempty(prop_s(ps, "Restart")))
                printf("    Restart: %s (restarts: %u)\n", prop_s(ps, "Restart"), (unsigned) prop_u(ps, "NRestarts"));
        if (!isempty(prop_s(ps, "LastError")))
                printf("      Error: %s\n", prop_s(ps, "LastError"));

        print_log_tail(prop_s(ps, "LogPath"), arg_lines);
        return streq(active, "active") ? EXIT_OK : EXIT_NOT_ACTIVE;
}

static int verb_status(sd_bus *bus, char **args) {
        _cleanup_strv_free_ char **names = NULL;
        JsonWriter w;
        int ret = EXIT_OK;

        if (strv_length(args) == 0) {
                /* No names: every unit, like "systemctl status" without arguments shows the system. */
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                const char *f[7];
                int r = call(bus, "ListUnits", &reply, "b", 1);
                if (r < 0)
                        return exit_code_for(r);
                if (sd_bus_message_enter_container(reply, 'a', "(sssssss)") < 0)
                        return EXIT_FAIL;
                while (sd_bus_message_read(reply, "(sssssss)", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]) > 0)
                        if (!streq(f[1], "error") || !strchr(f[0], '.'))
                                (void) strv_extend(&names, f[0]);
                args = names;
                if (strv_length(names) == 0 && !arg_json) {
                        printf("No units.\n");
                        return EXIT_OK;
                }
        }

        if (arg_json) {
                json_init(&w, stdout);
                json_begin_array(&w);
        }
        STRV_FOREACH (name, args) {
                _cleanup_(props_done) Props ps = {};
                int r = get_props(bus, *name, &ps);
                if (r < 0) {
                        ret = exit_code_for(r);
                        continue;
                }
                if (arg_json) {
                        props_to_json(&ps, &w);
                        if (!streq(prop_s(&ps, "ActiveState"), "active") && ret == EXIT_OK)
                                ret = EXIT_NOT_ACTIVE;
                        continue;
                }
                if (name != args)
                        putchar('\n');
                r = print_status(&ps);
                if (r != EXIT_OK && ret == EXIT_OK)
                        ret = r;
        }
        if (arg_json)
                json_end_array(&w);
        return ret;
}

static int verb_inspect(sd_bus *bus, char **args) {
        JsonWriter w;
        int ret = EXIT_OK;

        json_init(&w, stdout);
        if (strv_length(args) > 1)
                json_begin_array(&w);
        STRV_FOREACH (name, args) {
                _cleanup_(props_done) Props ps = {};
                int r = get_props(bus, *name, &ps);
                if (r < 0) {
                        ret = exit_code_for(r);
                        continue;
                }
                props_to_json(&ps, &w);
        }
        if (strv_length(args) > 1)
                json_end_array(&w);
        return ret;
}

/* ---- actions ---- */

static int verb_simple(sd_bus *bus, const char *method, char **args) {
        int ret = EXIT_OK;
        STRV_FOREACH (name, args) {
                int r = call(bus, method, NULL, "s", *name);
                if (r < 0 && ret != EXIT_NO_UNIT)
                        ret = exit_code_for(r);
        }
        return ret;
}

static int verb_kill(sd_bus *bus, char **args) {
        int ret = EXIT_OK;
        STRV_FOREACH (name, args) {
                int r = call(bus, "KillUnit", NULL, "si", *name, (int32_t) arg_signal);
                if (r < 0)
                        ret = exit_code_for(r);
        }
        return ret;
}

static int verb_reset_failed(sd_bus *bus, char **args) {
        return exit_code_for(call_strv_arg(bus, "ResetFailed", args, NULL));
}

static int verb_reload(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *action, *unit, *detail;
        int r, ret = EXIT_OK;

        r = call(bus, "Reload", &reply, NULL);
        if (r < 0)
                return EXIT_FAIL;
        r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        if (r < 0)
                return EXIT_FAIL;
        while (sd_bus_message_read(reply, "(sss)", &action, &unit, &detail) > 0) {
                printf("%s %s%s%s\n", action, unit, isempty(detail) ? "" : ": ", strempty(detail));
                if (streq(action, "failed"))
                        ret = EXIT_FAIL;
        }
        return ret;
}

/* ---- verify: no daemon needed ---- */

/* With several files of one name from the search path, the one of highest precedence is what supd
 * loads: warn about the others as the daemon does. */
static void verify_warn_shadowed(char **args) {
        static const char *const dirs[] = { "/etc/supd/units", "/run/supd/units", "/usr/lib/supd/units" };
        const char *root = arg_root && !streq(arg_root, "/") ? arg_root : "";

        STRV_FOREACH (a, args)
                STRV_FOREACH (b, args) {
                        int pa = -1, pb = -1;
                        const char *ba = strrchr(*a, '/'), *bb = strrchr(*b, '/');
                        if (a == b || !ba || !bb || !streq(ba, bb))
                                continue;
                        for (int i = 0; i < (int) ELEMENTSOF(dirs); i++) {
                                _cleanup_free_ char *d = NULL;
                                if (asprintf(&d, "%s%s", root, dirs[i]) < 0)
                                        return;
                                if ((size_t) (ba - *a) == strlen(d) && strneq(*a, d, strlen(d)))
                                        pa = i;
                                if ((size_t) (bb - *b) == strlen(d) && strneq(*b, d, strlen(d)))
                                        pb = i;
                        }
                        if (pa >= 0 && pb > pa)
                                fprintf(stderr,
                                        "%s: warning: unit file is shadowed by %s, which takes precedence, ignoring "
                                        "it\n",
                                        *b, *a);
                }
}

static int verb_verify(char **args) {
        UnitLoadContext ctx = { .hostname = "localhost", .machine_id = "00000000000000000000000000000000" };
        char host[256];
        JsonWriter w;
        int ret = EXIT_OK;

        if (gethostname(host, sizeof(host) - 1) == 0)
                ctx.hostname = host;
        if (arg_json) {
                json_init(&w, stdout);
                if (strv_length(args) > 1)
                        json_begin_array(&w);
        }
        STRV_FOREACH (path, args) {
                _cleanup_(unit_file_freep) UnitFile *f = NULL;
                int r = unit_file_load_path(&ctx, *path, &f);
                if (r < 0) {
                        log_error("%s: %s", *path, strerror(-r));
                        ret = EXIT_FAIL;
                        if (arg_json) {
                                json_begin_object(&w);
                                json_key(&w, "path");
                                json_string(&w, *path);
                                json_key(&w, "ok");
                                json_bool(&w, false);
                                json_key(&w, "errors");
                                json_begin_array(&w);
                                char buf[512];
                                snprintf(buf, sizeof(buf), "%s: %s", *path, strerror(-r));
                                json_string(&w, buf);
                                json_end_array(&w);
                                json_end_object(&w);
                        }
                        continue;
                }
                if (arg_json)
                        unit_file_to_json(f, &w);
                else {
                        for (size_t i = 0; i < f->n_errors; i++) {
                                _cleanup_free_ char *e = unit_diagnostic_format(&f->errors[i]);
                                fprintf(stderr, "%s\n", strna(e));
                        }
                        for (size_t i = 0; i < f->n_warnings; i++) {
                                _cleanup_free_ char *e = unit_warning_format(&f->warnings[i]);
                                fprintf(stderr, "%s\n", strna(e));
                        }
                }
                if (f->n_errors > 0)
                        ret = EXIT_FAIL;
        }
        if (arg_json && strv_length(args) > 1)
                json_end_array(&w);
        else if (!arg_json)
                verify_warn_shadowed(args);
        return ret;
}

static void help(void) {
        printf("supctl [OPTIONS...] COMMAND ...\n\n"
               "Control the supd container supervisor.\n\n"
               "Commands:\n"
               "  list [--all]                 List units and their state\n"
               "  status [NAME...]             Show the status of units\n"
               "  start NAME...                Start units (and what they require)\n"
               "  stop NAME...                 Stop units; returns when they are down\n"
               "  restart NAME...              Stop, then start units\n"
               "  kill [-s SIGNAL] NAME...     Send a signal to the units' main processes\n"
               "  reload                       Re-read all units and supd.conf, then reconcile\n"
               "  reset-failed [NAME...]       Clear the failed state and the start limit\n"
               "  inspect NAME...              Everything known about units, as JSON\n"
               "  verify [--json] FILE...      Check unit files without a daemon\n"
               "  generate kube NAME|FILE...   Kubernetes Deployments and Services for units\n"
               "  exec [-i] [-t] NAME CMD...   Run a command in a running container\n"
               "  run [-t] [-i] [--rm] [--name N] IMAGE|--rootfs DIR [CMD...]\n"
               "                               Run a transient container in the foreground\n"
               "  image import FILE|DIR [NAME[:TAG]]  Import a rootfs tarball, docker save archive,\n"
               "                               oci-archive or OCI layout directory\n"
               "  image pull REFERENCE         Pull an image from an OCI registry\n"
               "  image ls [--json]            List stored images\n"
               "  image rm IMAGE...            Remove images nothing uses\n"
               "  image prune                  Remove untagged images and unused layers\n"
               "  image history IMAGE          One row per layer\n"
               "  diff NAME                    Files added (A), changed (C), deleted (D) in a container\n"
               "  daemon-reexec                Replace the running supd binary; containers keep running\n\n"
               "Options:\n"
               "  -h --help                    Show this help\n"
               "     --version                 Show the version\n"
               "     --root=DIR                Talk to the supd running with --root=DIR\n"
               "     --json                    Machine-readable output (list, status, inspect, verify)\n"
               "  -a --all                     Include inactive units (list)\n"
               "  -s --signal=SIGNAL           Signal for kill (default SIGTERM)\n"
               "  -n --lines=N                 Log lines shown by status (default 10)\n\n"
               "See supctl(1).\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_ROOT, ARG_JSON };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "root", required_argument, NULL, ARG_ROOT },
                { "json", no_argument, NULL, ARG_JSON },
                { "all", no_argument, NULL, 'a' },
                { "signal", required_argument, NULL, 's' },
                { "lines", required_argument, NULL, 'n' },
                {},
        };
        int c;

        arg_root = getenv("SUPD_ROOT");
        while ((c = getopt_long(argc, argv, "has:n:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("supctl %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_ROOT:
                        arg_root = optarg;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case 'a':
                        arg_all = true;
                        break;
                case 's':
                        arg_signal = parse_signal(optarg);
                        if (arg_signal <= 0) {
                                log_error("supctl: invalid signal '%s'", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'n':
                        if (safe_atou(optarg, &arg_lines) < 0) {
                                log_error("supctl: invalid line count '%s'", optarg);
                                return -EINVAL;
                        }
                        break;
                default:
                        return -EINVAL;
                }
        return 1;
}

int main(int argc, char *argv[]) {
        static const struct {
                const char *verb;
                int min_args, max_args; /* -1: unlimited */
        } verbs[] = {
                { "list", 0, 0 },     { "status", 0, -1 }, { "start", 1, -1 }, { "stop", 1, -1 },
                { "restart", 1, -1 }, { "kill", 1, -1 },   { "reload", 0, 0 }, { "reset-failed", 0, -1 },
                { "inspect", 1, -1 }, { "verify", 1, -1 }, { "image", 1, -1 }, { "diff", 1, 1 },
                { "exec", 2, -1 },    { "run", 1, -1 },
                { "daemon-reexec", 0, 0 },
                { "generate", 2, -1 },
        };
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        const char *verb;
        char **args;
        int r, nargs;
        bool found = false;

        /* exec and run pass everything after the container name on: our options end at the verb. */
        {
                int v = 1;
                while (v < argc && argv[v][0] == '-') {
                        const char *a = argv[v];
                        v += (streq(a, "--root") || streq(a, "-s") || streq(a, "--signal") || streq(a, "-n") ||
                              streq(a, "--lines"))
                                     ? 2
                                     : 1;
                }
                if (v < argc && (streq(argv[v], "exec") || streq(argv[v], "run"))) {
                        r = parse_argv(v, argv);
                        if (r <= 0)
                                return r < 0 ? EXIT_FAIL : EXIT_OK;
                        optind = v;
                } else {
                        r = parse_argv(argc, argv);
                        if (r <= 0)
                                return r < 0 ? EXIT_FAIL : EXIT_OK;
                }
        }
        if (optind >= argc) {
                log_error("supctl: missing command; see supctl --help.");
                return EXIT_FAIL;
        }
        verb = argv[optind];
        args = argv + optind + 1;
        nargs = argc - optind - 1;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].verb, verb)) {
                        found = true;
                        if (nargs < verbs[i].min_args || (verbs[i].max_args >= 0 && nargs > verbs[i].max_args)) {
                                log_error("supctl: wrong number of arguments for '%s'; see supctl --help.", verb);
                                return EXIT_FAIL;
                        }
                }
        if (!found) {
                log_error("supctl: unknown command '%s'; see supctl --help.", verb);
                return EXIT_FAIL;
        }

        if (streq(verb, "verify"))
                return verb_verify(args);
        if (streq(verb, "generate"))
                return supctl_generate(nargs, args, arg_root, arg_json);

        if (connect_bus(&bus) < 0)
                return EXIT_FAIL;

        if (streq(verb, "daemon-reexec"))
                return supctl_daemon_reexec(bus, arg_root);
        if (streq(verb, "exec"))
                return supctl_exec(bus, nargs, args);
        if (streq(verb, "run"))
                return supctl_run(bus, nargs, args);
        if (streq(verb, "image"))
                return supctl_image(bus, nargs, args, arg_json);
        if (streq(verb, "diff"))
                return supctl_diff(bus, args[0]);
        if (streq(verb, "list"))
                return verb_list(bus, args);
        if (streq(verb, "status"))
                return verb_status(bus, args);
        if (streq(verb, "inspect"))
                return verb_inspect(bus, args);
        if (streq(verb, "start"))
                return verb_simple(bus, "StartUnit", args);
        if (streq(verb, "stop"))
                return verb_simple(bus, "StopUnit", args);
        if (streq(verb, "restart"))
                return verb_simple(bus, "RestartUnit", args);
        if (streq(verb, "kill"))
                return verb_kill(bus, args);
        if (streq(verb, "reset-failed"))
                return verb_reset_failed(bus, args);
        if (streq(verb, "reload"))
                return verb_reload(bus, args);
        return EXIT_FAIL;
}

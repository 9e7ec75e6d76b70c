/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fnmatch.h>
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
#include "supctl-manage.h"
#include "supctl-observe.h"
#include "unitfile/unit-settings.h"

/* Exit codes, as SPEC.md and systemctl use them. */
enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,
        EXIT_NOT_ACTIVE = 3,
        EXIT_NO_UNIT = 4,
        EXIT_NOT_LOADED = 5, /* start/stop/restart/kill of no such unit */
};

static const char *arg_root = NULL;
static bool arg_json = false;
static bool arg_all = false;
static int arg_signal = SIGTERM;
static unsigned arg_lines = 10;
static bool arg_quiet = false;
static bool arg_value = false;
static bool arg_help = false;
static char **arg_properties = NULL;
static bool arg_now = false;
static bool arg_no_stream = false;

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
                return log_error_errno(r, "supctl: cannot connect to %s: %m (is supd running? systemctl start supd)",
                                       path);
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

static int compare_names(const void *a, const void *b) {
        return strverscmp(*(char *const *) a, *(char *const *) b); /* web@2 before web@10 */
}

static bool is_glob(const char *s) {
        return strpbrk(s, "*?[") != NULL;
}

static bool match_any(char **patterns, const char *name) {
        if (strv_length(patterns) == 0)
                return true;
        STRV_FOREACH (p, patterns)
                if (fnmatch(*p, name, 0) == 0)
                        return true;
        return false;
}

/* Names as the user gave them, each glob pattern replaced by the loaded units it matches (by
 * fnmatch, as systemctl matches patterns against loaded units only). A pattern that matches
 * nothing adds nothing; ret_unmatched says whether one did. */
static int expand_names(sd_bus *bus, char **args, char ***ret, bool *ret_unmatched) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **loaded = NULL, **names = NULL;
        bool unmatched = false;
        const char *f[7];
        int r;

        STRV_FOREACH (a, args)
                if (is_glob(*a) && !reply) {
                        r = call(bus, "ListUnits", &reply, "b", 1);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_enter_container(reply, 'a', "(sssssss)");
                        if (r < 0)
                                return log_error_errno(r, "Bad reply from supd: %m");
                        while ((r = sd_bus_message_read(reply, "(sssssss)", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5],
                                                        &f[6])) > 0)
                                if (strv_extend(&loaded, f[0]) < 0)
                                        return log_oom();
                        if (r < 0)
                                return log_error_errno(r, "Bad reply from supd: %m");
                }
        if (loaded)
                qsort(loaded, strv_length(loaded), sizeof(char *), compare_names);
        STRV_FOREACH (a, args) {
                bool found = false;
                if (!is_glob(*a)) {
                        if (strv_extend(&names, *a) < 0)
                                return log_oom();
                        continue;
                }
                STRV_FOREACH (l, loaded)
                        if (fnmatch(*a, *l, 0) == 0 && !strv_contains(names, *l)) {
                                if (strv_extend(&names, *l) < 0)
                                        return log_oom();
                                found = true;
                        }
                if (!found)
                        unmatched = true;
        }
        if (!names && !(names = new0(char *, 1)))
                return log_oom();
        *ret = TAKE_PTR(names);
        if (ret_unmatched)
                *ret_unmatched = unmatched;
        return 0;
}

/* ---- list ---- */

static int compare_rows(const void *a, const void *b) {
        char **const *x = a, **const *y = b;
        return strverscmp((*x)[0], (*y)[0]);
}

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
                if (!match_any(args, f[0]))
                        continue;
                for (size_t i = 0; i < 7; i++) {
                        (void) strv_extend(&row, f[i]);
                        w[i] = MAX(w[i], strlen(f[i]));
                }
                rows = realloc(rows, (n + 1) * sizeof(char **));
                rows[n++] = row;
        }
        if (n > 0)
                qsort(rows, n, sizeof(char **), compare_rows);

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

/* quiet: no message for a unit that does not exist (-ENOENT), for verbs that report it their way. */
static int get_props_full(sd_bus *bus, const char *name, Props *ps, bool quiet) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE, "GetUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r < 0)
                return log_error_errno(r, "supctl: %m");
        r = sd_bus_call(bus, m, UINT64_MAX - 1, &error, &reply);
        if (r < 0) {
                bool no_unit = sd_bus_error_has_name(&error, "io.supd.Error.NoSuchUnit");
                if (!no_unit || !quiet)
                        log_error("%s", error.message ?: strerror(-r));
                return no_unit ? -ENOENT : r;
        }
        r = read_props(reply, ps);
        if (r < 0)
                return log_error_errno(r, "Bad reply from supd: %m");
        return 0;
}

static int get_props(sd_bus *bus, const char *name, Props *ps) {
        return get_props_full(bus, name, ps, false);
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
                        printf("     Memory: %s", format_bytes(b1, sizeof(b1), mem, false));
                        if (mmax != UINT64_MAX && mmax > 0)
                                printf(" (max: %s)", format_bytes(b2, sizeof(b2), mmax, false));
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
        } else {
                bool unmatched;
                int r = expand_names(bus, args, &names, &unmatched);
                if (r < 0)
                        return exit_code_for(r);
                if (unmatched && ret == EXIT_OK)
                        ret = EXIT_NO_UNIT; /* as for a name that is not loaded */
                args = names;
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
        _cleanup_strv_free_ char **names = NULL;
        JsonWriter w;
        bool unmatched;
        int ret = EXIT_OK, r;

        r = expand_names(bus, args, &names, &unmatched);
        if (r < 0)
                return exit_code_for(r);
        if (unmatched)
                ret = EXIT_NO_UNIT;
        args = names;
        json_init(&w, stdout);
        if (strv_length(args) > 1)
                json_begin_array(&w);
        STRV_FOREACH (name, args) {
                _cleanup_(props_done) Props ps = {};
                r = get_props(bus, *name, &ps);
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

/* ---- is-active, is-failed, show, cat: systemctl's, from GetUnit ---- */

/* Exit 0 if any unit is in one of the good states, else bad_exit; a unit that does not exist is
 * "inactive", as systemctl prints for a unit that is not loaded. */
static int check_states(sd_bus *bus, char **args, const char *const *good, int bad_exit) {
        _cleanup_strv_free_ char **names = NULL;
        bool found = false;
        int r;

        r = expand_names(bus, args, &names, NULL);
        if (r < 0)
                return EXIT_FAIL;
        STRV_FOREACH (name, names) {
                _cleanup_(props_done) Props ps = {};
                const char *state = "inactive";

                r = get_props_full(bus, *name, &ps, true);
                if (r < 0 && r != -ENOENT)
                        return EXIT_FAIL;
                if (r >= 0)
                        state = prop_s(&ps, "ActiveState");
                for (size_t i = 0; good[i]; i++)
                        if (streq(state, good[i]))
                                found = true;
                if (!arg_quiet)
                        printf("%s\n", state);
        }
        return found ? EXIT_OK : bad_exit;
}

static int verb_is_active(sd_bus *bus, char **args) {
        static const char *const good[] = { "active", NULL };
        return check_states(bus, args, good, EXIT_NOT_ACTIVE);
}

static int verb_is_failed(sd_bus *bus, char **args) {
        static const char *const good[] = { "failed", NULL };
        return check_states(bus, args, good, EXIT_FAIL);
}

static bool property_wanted(const char *key) {
        return strv_length(arg_properties) == 0 || strv_contains(arg_properties, key);
}

static void print_property(const Prop *p) {
        if (!arg_value)
                printf("%s=", p->key);
        switch (p->type) {
        case 's':
                fputs(p->s, stdout);
                break;
        case 'u':
        case 't':
                printf("%" PRIu64, p->u);
                break;
        case 'i':
                printf("%" PRIi64, p->i);
                break;
        case 'b':
                fputs(p->u ? "yes" : "no", stdout);
                break;
        case 'a':
                STRV_FOREACH (v, p->l)
                        printf("%s%s", v == p->l ? "" : " ", *v);
                break;
        }
        putchar('\n');
}

static int verb_show(sd_bus *bus, char **args) {
        _cleanup_strv_free_ char **names = NULL;
        JsonWriter w;
        int r;

        r = expand_names(bus, args, &names, NULL);
        if (r < 0)
                return EXIT_FAIL;
        if (arg_json) {
                json_init(&w, stdout);
                if (strv_length(names) != 1)
                        json_begin_array(&w);
        }
        STRV_FOREACH (name, names) {
                _cleanup_(props_done) Props ps = {};
                Props filtered = {};

                r = get_props_full(bus, *name, &ps, true);
                if (r == -ENOENT) {
                        /* Like systemctl show of a unit that is not loaded: its name and states. */
                        static const char *const keys[] = { "Name", "LoadState", "ActiveState", "SubState" };
                        const char *values[] = { *name, "not-found", "inactive", "dead" };
                        ps.p = new0(Prop, ELEMENTSOF(keys));
                        if (!ps.p)
                                return log_oom(), EXIT_FAIL;
                        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                                ps.p[i] = (Prop){ .key = strdup(keys[i]), .type = 's', .s = strdup(values[i]) };
                                ps.n++;
                                if (!ps.p[i].key || !ps.p[i].s)
                                        return log_oom(), EXIT_FAIL;
                        }
                } else if (r < 0)
                        return EXIT_FAIL;
                if (!arg_json && name != names)
                        putchar('\n');
                /* The filtered view borrows the entries; only its array is freed. */
                filtered.p = new0(Prop, ps.n);
                if (!filtered.p)
                        return log_oom(), EXIT_FAIL;
                for (size_t i = 0; i < ps.n; i++)
                        if (ps.p[i].type && property_wanted(ps.p[i].key))
                                filtered.p[filtered.n++] = ps.p[i];
                if (arg_json)
                        props_to_json(&filtered, &w);
                else
                        for (size_t i = 0; i < filtered.n; i++)
                                print_property(&filtered.p[i]);
                free(filtered.p);
        }
        if (arg_json && strv_length(names) != 1)
                json_end_array(&w);
        return EXIT_OK;
}

static int verb_cat(sd_bus *bus, char **args) {
        _cleanup_strv_free_ char **names = NULL;
        JsonWriter w;
        bool first = true;
        int r, ret = EXIT_OK;

        r = expand_names(bus, args, &names, NULL);
        if (r < 0)
                return EXIT_FAIL;
        if (arg_json) {
                json_init(&w, stdout);
                if (strv_length(names) != 1)
                        json_begin_array(&w);
        }
        STRV_FOREACH (name, names) {
                _cleanup_(props_done) Props ps = {};
                _cleanup_strv_free_ char **files = NULL;
                const char *fragment;

                r = get_props_full(bus, *name, &ps, true);
                if (r < 0 && r != -ENOENT)
                        return EXIT_FAIL;
                fragment = r < 0 ? "" : prop_s(&ps, "FragmentPath");
                /* A transient unit (supctl run) has no file. */
                if (fragment[0] != '/') {
                        log_error("No files found for %s.", *name);
                        ret = EXIT_FAIL;
                        continue;
                }
                if (strv_extend(&files, fragment) < 0 || strv_extend_strv(&files, prop_l(&ps, "DropInPaths")) < 0)
                        return log_oom(), EXIT_FAIL;
                if (arg_json) {
                        json_begin_object(&w);
                        json_key(&w, "unit");
                        json_string(&w, prop_s(&ps, "Name"));
                        json_key(&w, "files");
                        json_begin_array(&w);
                }
                STRV_FOREACH (f, files) {
                        _cleanup_free_ char *data = NULL;
                        size_t size = 0;

                        r = read_file_at(AT_FDCWD, *f, 16 * 1024 * 1024, &data, &size);
                        if (r < 0) {
                                log_error("supctl: cannot read %s: %s", *f, strerror(-r));
                                ret = EXIT_FAIL;
                                continue;
                        }
                        if (arg_json) {
                                json_begin_object(&w);
                                json_key(&w, "path");
                                json_string(&w, *f);
                                json_key(&w, "content");
                                json_string(&w, data);
                                json_end_object(&w);
                                continue;
                        }
                        /* systemctl cat: a blank line between files, each headed by its path. */
                        printf("%s%s# %s%s\n", first ? "" : "\n", ANSI("0;1;34"), *f, ANSI_NORMAL);
                        fwrite(data, 1, size, stdout);
                        if (size > 0 && data[size - 1] != '\n')
                                putchar('\n');
                        first = false;
                }
                if (arg_json) {
                        json_end_array(&w);
                        json_end_object(&w);
                }
        }
        if (arg_json && strv_length(names) != 1)
                json_end_array(&w);
        return ret;
}

/* ---- actions ---- */

/* systemctl's exit status for an action on a unit that does not exist is 5, not status's 4. */
static int action_exit_code(int r) {
        return r == -ENOENT ? EXIT_NOT_LOADED : exit_code_for(r);
}

/* Names for an action: a pattern that matches no loaded unit is an error, as a missing name is. */
static int action_names(sd_bus *bus, char **args, char ***ret) {
        bool unmatched;
        int r = expand_names(bus, args, ret, &unmatched);
        if (r < 0)
                return EXIT_FAIL;
        if (unmatched) {
                STRV_FOREACH (a, args)
                        if (is_glob(*a))
                                log_error("No loaded unit matches '%s'.", *a);
                return EXIT_NOT_LOADED;
        }
        return EXIT_OK;
}

static int verb_simple(sd_bus *bus, const char *method, char **args) {
        _cleanup_strv_free_ char **names = NULL;
        int ret = action_names(bus, args, &names);
        STRV_FOREACH (name, names) {
                int r = call(bus, method, NULL, "s", *name);
                if (r < 0 && ret != EXIT_NOT_LOADED)
                        ret = action_exit_code(r);
        }
        return ret;
}

static int verb_start(sd_bus *bus, char **args) {
        return verb_simple(bus, "StartUnit", args);
}

static int verb_stop(sd_bus *bus, char **args) {
        return verb_simple(bus, "StopUnit", args);
}

static int verb_restart(sd_bus *bus, char **args) {
        return verb_simple(bus, "RestartUnit", args);
}

static int verb_kill(sd_bus *bus, char **args) {
        _cleanup_strv_free_ char **names = NULL;
        int ret = action_names(bus, args, &names);
        STRV_FOREACH (name, names) {
                int r = call(bus, "KillUnit", NULL, "si", *name, (int32_t) arg_signal);
                if (r < 0 && ret != EXIT_NOT_LOADED)
                        ret = action_exit_code(r);
        }
        return ret;
}

static int verb_reset_failed(sd_bus *bus, char **args) {
        _cleanup_strv_free_ char **names = NULL;
        int ret = EXIT_OK;
        /* No names means every unit; patterns that match nothing must not come to mean that. */
        if (strv_length(args) > 0 && ((ret = action_names(bus, args, &names)) != EXIT_OK || strv_length(names) == 0))
                return ret;
        return action_exit_code(call_strv_arg(bus, "ResetFailed", names, NULL));
}

static int verb_reload(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *action, *unit, *detail;
        JsonWriter w;
        int r, ret = EXIT_OK;

        r = call(bus, "Reload", &reply, NULL);
        if (r < 0)
                return EXIT_FAIL;
        r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        if (r < 0)
                return EXIT_FAIL;
        if (arg_json) {
                json_init(&w, stdout);
                json_begin_array(&w);
        }
        while (sd_bus_message_read(reply, "(sss)", &action, &unit, &detail) > 0) {
                if (arg_json) {
                        json_begin_object(&w);
                        json_key(&w, "action");
                        json_string(&w, action);
                        json_key(&w, "unit");
                        json_string(&w, unit);
                        json_key(&w, "detail");
                        json_string(&w, detail);
                        json_end_object(&w);
                } else
                        printf("%s %s%s%s\n", action, unit, isempty(detail) ? "" : ": ", strempty(detail));
                if (streq(action, "failed"))
                        ret = EXIT_FAIL;
        }
        if (arg_json)
                json_end_array(&w);
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

static int verb_verify_row(sd_bus *bus, int argc, char **argv) {
        return verb_verify(argv);
}
static int verb_exec_row(sd_bus *bus, int argc, char **argv) {
        return supctl_exec(bus, argc, argv);
}
static int verb_run_row(sd_bus *bus, int argc, char **argv) {
        return supctl_run(bus, argc, argv);
}
static int verb_image_row(sd_bus *bus, int argc, char **argv) {
        /* Of the image commands only ls prints a table. */
        if (arg_json && !streq(argv[0], "ls") && !streq(argv[0], "list")) {
                log_error("supctl: image %s does not support --json.", argv[0]);
                return EXIT_FAIL;
        }
        return supctl_image(bus, argc, argv, arg_json);
}
static int verb_diff_row(sd_bus *bus, int argc, char **argv) {
        return supctl_diff(bus, argv[0]);
}

static int verb_generate_row(sd_bus *bus, int argc, char **argv) {
        return supctl_generate(argc, argv, arg_root, arg_json);
}

static int verb_daemon_reexec_row(sd_bus *bus, int argc, char **argv) {
        return supctl_daemon_reexec(bus, arg_root);
}

static int verb_stats_row(sd_bus *bus, int argc, char **argv) {
        return supctl_stats(bus, argc, argv, arg_json, arg_no_stream);
}
static int verb_top_row(sd_bus *bus, int argc, char **argv) {
        return supctl_top(bus, argc, argv, arg_json);
}
static int verb_events_row(sd_bus *bus, int argc, char **argv) {
        return supctl_events(bus, argc, argv, arg_json);
}
#define VERB_ROW(fn)                                                                                                  \
        static int fn##_row(sd_bus *bus, int argc, char **argv) {                                                     \
                return fn(bus, argv);                                                                                 \
        }
VERB_ROW(verb_list)
VERB_ROW(verb_status)
VERB_ROW(verb_start)
VERB_ROW(verb_stop)
VERB_ROW(verb_restart)
VERB_ROW(verb_kill)
VERB_ROW(verb_reload)
VERB_ROW(verb_reset_failed)
VERB_ROW(verb_inspect)
VERB_ROW(verb_is_active)
VERB_ROW(verb_is_failed)
VERB_ROW(verb_show)
VERB_ROW(verb_cat)

static int verb_enable_row(sd_bus *bus, int argc, char **argv) {
        return supctl_enable(bus, arg_root, argv, true, arg_now);
}
static int verb_disable_row(sd_bus *bus, int argc, char **argv) {
        return supctl_enable(bus, arg_root, argv, false, arg_now);
}
static int verb_edit_row(sd_bus *bus, int argc, char **argv) {
        return supctl_edit(bus, arg_root, argv[0]);
}

enum {
        VERB_JSON = 1 << 0,      /* honours --json; the others refuse it */
        VERB_NO_DAEMON = 1 << 1, /* runs without connecting */
};

static const struct Verb {
        const char *verb;
        int min_args, max_args; /* -1: unlimited */
        unsigned flags;
        int (*run)(sd_bus *bus, int argc, char **argv);
        const char *usage, *what;
} verbs[] = {
        { "list", 0, -1, VERB_JSON, verb_list_row, "list [--all] [PATTERN...]", "List units and their state" },
        { "status", 0, -1, VERB_JSON, verb_status_row, "status [-n N] [PATTERN...]", "Show the status of units" },
        { "start", 1, -1, 0, verb_start_row, "start PATTERN...", "Start units (and what they require)" },
        { "stop", 1, -1, 0, verb_stop_row, "stop PATTERN...", "Stop units; returns when they are down" },
        { "restart", 1, -1, 0, verb_restart_row, "restart PATTERN...", "Stop, then start units" },
        { "kill", 1, -1, 0, verb_kill_row, "kill [-s SIGNAL] PATTERN...",
          "Send a signal to the units' main processes" },
        { "is-active", 1, -1, 0, verb_is_active_row, "is-active [-q] PATTERN...",
          "Print the units' states; exit 0 if any is active" },
        { "is-failed", 1, -1, 0, verb_is_failed_row, "is-failed [-q] PATTERN...",
          "Print the units' states; exit 0 if any failed" },
        { "show", 1, -1, VERB_JSON, verb_show_row, "show [-p PROP[,PROP...]] [--value] PATTERN...",
          "Print the units' properties as KEY=VALUE" },
        { "cat", 1, -1, VERB_JSON, verb_cat_row, "cat PATTERN...", "Print the unit files and their drop-ins" },
        { "reload", 0, 0, VERB_JSON, verb_reload_row, "reload", "Re-read all units and supd.conf, then reconcile" },
        { "reset-failed", 0, -1, 0, verb_reset_failed_row, "reset-failed [PATTERN...]",
          "Clear the failed state and the start limit" },
        { "inspect", 1, -1, VERB_JSON, verb_inspect_row, "inspect PATTERN...",
          "Everything known about units, as JSON" },
        { "verify", 1, -1, VERB_JSON | VERB_NO_DAEMON, verb_verify_row, "verify [--json] FILE...",
          "Check unit files without a daemon" },
        { "exec", 2, -1, 0, verb_exec_row, "exec [-i] [-t] NAME CMD...", "Run a command in a running container" },
        { "run", 1, -1, 0, verb_run_row,
          "run [-t] [-i] [-d] [--rm] [--name N] [-e K=V] [-v H:C] ... IMAGE|--rootfs DIR [CMD...]",
          "Run a transient container (see supctl(1) for every option)" },
        { "image", 1, -1, VERB_JSON, verb_image_row, "image import|pull|ls [--json]|rm|prune|history ...",
          "Manage the image store (see supctl(1))" },
        { "diff", 1, 1, 0, verb_diff_row, "diff NAME", "Files added (A), changed (C), deleted (D) in a container" },
        { "generate", 2, -1, VERB_JSON | VERB_NO_DAEMON, verb_generate_row, "generate kube [--json] NAME|FILE...",
          "Kubernetes Deployments and Services for units" },
        { "daemon-reexec", 0, 0, 0, verb_daemon_reexec_row, "daemon-reexec",
          "Replace the running supd binary; containers keep running" },
        { "enable", 1, -1, 0, verb_enable_row, "enable [--now] NAME...", "Switch autostart on (--now: and start)" },
        { "disable", 1, -1, 0, verb_disable_row, "disable [--now] NAME...", "Switch autostart off (--now: and stop)" },
        { "edit", 1, 1, 0, verb_edit_row, "edit NAME", "Edit the unit's override.conf drop-in, then reload" },
        { "stats", 0, -1, VERB_JSON, verb_stats_row, "stats [--no-stream] [--json] [PATTERN...]",
          "Live CPU, memory, PIDs and network I/O of running containers" },
        { "top", 1, 1, VERB_JSON, verb_top_row, "top [--json] NAME", "The processes of a running container" },
        { "events", 0, 0, VERB_JSON, verb_events_row, "events [--json]", "Print unit state changes as they happen" },
};

static void help(void) {
        printf("supctl [OPTIONS...] COMMAND ...\n\n"
               "Control the supd container supervisor.\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (strlen(verbs[i].usage) > 28)
                        printf("  %s\n  %-28s %s\n", verbs[i].usage, "", verbs[i].what);
                else
                        printf("  %-28s %s\n", verbs[i].usage, verbs[i].what);
        }
        printf("\nOptions:\n"
               "  -h --help                    Show this help (after a command: that command's)\n"
               "     --version                 Show the version\n"
               "     --root=DIR                Talk to the supd running with --root=DIR\n"
               "     --json                    Machine-readable output (list, status, show, cat, reload,\n"
               "                               inspect, verify, image ls, stats, top, events);\n"
               "                               other commands refuse it\n"
               "  -a --all                     Include inactive units (list)\n"
               "  -s --signal=SIGNAL           Signal for kill (default SIGTERM)\n"
               "  -n --lines=N                 Log lines shown by status (default 10)\n"
               "  -q --quiet                   Print nothing (is-active, is-failed)\n"
               "  -p --property=PROP[,PROP...] Only these properties (show)\n"
               "     --value                   Only the values (show)\n"
               "     --now                     Also start or stop (enable, disable)\n"
               "     --no-stream               Print once and return (stats)\n\n"
               "PATTERN is a unit name or a shell glob matched against the loaded units.\n"
               "See supctl(1).\n");
}

static void help_verb(const struct Verb *v) {
        printf("usage: supctl %s\n\n%s.\n\nSee supctl(1).\n", v->usage, v->what);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_ROOT, ARG_JSON, ARG_VALUE, ARG_NOW, ARG_NO_STREAM };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "root", required_argument, NULL, ARG_ROOT },
                { "json", no_argument, NULL, ARG_JSON },
                { "all", no_argument, NULL, 'a' },
                { "signal", required_argument, NULL, 's' },
                { "lines", required_argument, NULL, 'n' },
                { "quiet", no_argument, NULL, 'q' },
                { "property", required_argument, NULL, 'p' },
                { "value", no_argument, NULL, ARG_VALUE },
                { "now", no_argument, NULL, ARG_NOW },
                { "no-stream", no_argument, NULL, ARG_NO_STREAM },
                {},
        };
        int c;

        arg_root = getenv("SUPD_ROOT");
        while ((c = getopt_long(argc, argv, "has:n:qp:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        arg_help = true; /* the command's own help, if one is named */
                        break;
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
                case 'q':
                        arg_quiet = true;
                        break;
                case 'p': {
                        /* -p A,B and -p A -p B alike */
                        _cleanup_free_ char *copy = strdup(optarg);
                        char *state = NULL;
                        if (!copy)
                                return log_oom();
                        for (char *t = strtok_r(copy, ",", &state); t; t = strtok_r(NULL, ",", &state))
                                if (strv_extend(&arg_properties, t) < 0)
                                        return log_oom();
                        break;
                }
                case ARG_VALUE:
                        arg_value = true;
                        break;
                case ARG_NOW:
                        arg_now = true;
                        break;
                case ARG_NO_STREAM:
                        arg_no_stream = true;
                        break;
                default:
                        return -EINVAL;
                }
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        const struct Verb *v = NULL;
        const char *verb;
        char **args;
        int r, nargs;

        /* exec and run pass everything after the container name on: our options end at the verb. */
        {
                int i = 1;
                while (i < argc && argv[i][0] == '-') {
                        const char *a = argv[i];
                        i += (streq(a, "--root") || streq(a, "-s") || streq(a, "--signal") || streq(a, "-n") ||
                              streq(a, "--lines") || streq(a, "-p") || streq(a, "--property"))
                                     ? 2
                                     : 1;
                }
                if (i < argc && (streq(argv[i], "exec") || streq(argv[i], "run"))) {
                        r = parse_argv(i, argv);
                        if (r <= 0)
                                return r < 0 ? EXIT_FAIL : EXIT_OK;
                        optind = i;
                } else {
                        r = parse_argv(argc, argv);
                        if (r <= 0)
                                return r < 0 ? EXIT_FAIL : EXIT_OK;
                }
        }
        if (optind >= argc) {
                if (arg_help) {
                        help();
                        return EXIT_OK;
                }
                log_error("supctl: missing command; see supctl --help.");
                return EXIT_FAIL;
        }
        verb = argv[optind];
        args = argv + optind + 1;
        nargs = argc - optind - 1;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].verb, verb))
                        v = &verbs[i];
        if (!v) {
                log_error("supctl: unknown command '%s'; see supctl --help.", verb);
                return EXIT_FAIL;
        }
        /* exec and run read their own options: there, --help is theirs to see. */
        if (arg_help || ((streq(verb, "exec") || streq(verb, "run")) && nargs > 0 &&
                         (streq(args[0], "--help") || streq(args[0], "-h")))) {
                help_verb(v);
                return EXIT_OK;
        }
        if (nargs < v->min_args || (v->max_args >= 0 && nargs > v->max_args)) {
                log_error("supctl: wrong number of arguments for '%s'; usage: supctl %s", verb, v->usage);
                return EXIT_FAIL;
        }
        if (arg_json && !(v->flags & VERB_JSON)) {
                log_error("supctl: %s does not support --json.", verb);
                return EXIT_FAIL;
        }

        if (!(v->flags & VERB_NO_DAEMON) && connect_bus(&bus) < 0)
                return EXIT_FAIL;
        r = v->run(bus, nargs, args);
        strv_free(arg_properties);
        return r;
}

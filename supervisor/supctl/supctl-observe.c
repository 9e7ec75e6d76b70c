/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/json.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/strv.h"
#include "basic/time-util.h"
#include "bus/names.h"
#include "supctl-observe.h"

static bool strv_isempty(char *const *l) {
        return !l || !*l;
}

/* ---- GetUnit: the few properties these verbs need ---- */

typedef struct Sample {
        char *name;
        uint64_t cpu_usec, memory, tasks;
        uint32_t main_pid;
        char *cgroup;
        uint64_t rx, tx;
        bool have_net;
} Sample;

static void sample_done(Sample *s) {
        free(s->name);
        free(s->cgroup);
        *s = (Sample){};
}

/* rx and tx bytes of every interface but lo in the network namespace of pid. */
static int read_net_dev(uint32_t pid, uint64_t *ret_rx, uint64_t *ret_tx) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[512];
        uint64_t rx = 0, tx = 0;

        snprintf(path, sizeof(path), "/proc/%" PRIu32 "/net/dev", pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char *colon = strchr(line, ':'), *name = line;
                unsigned long long v[9];

                if (!colon)
                        continue; /* the two header lines */
                *colon = '\0';
                name += strspn(name, " ");
                if (streq(name, "lo"))
                        continue;
                if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                           &v[4], &v[5], &v[6], &v[7], &v[8]) != 9)
                        continue;
                rx += v[0];
                tx += v[8];
        }
        *ret_rx = rx;
        *ret_tx = tx;
        return 0;
}

static int get_sample(sd_bus *bus, const char *name, Sample *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Sample s = { .name = strdup(name) };
        const char *key, *contents;
        char type;
        int r;

        if (!s.name)
                return -ENOMEM;
        r = sd_bus_call_method(bus, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE, "GetUnit", &error, &reply, "s",
                               name);
        if (r < 0) {
                log_error("supctl: %s", error.message ?: strerror(-r));
                goto fail;
        }
        if ((r = sd_bus_message_enter_container(reply, 'a', "{sv}")) < 0)
                goto fail;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                if ((r = sd_bus_message_read(reply, "s", &key)) < 0 ||
                    (r = sd_bus_message_peek_type(reply, &type, &contents)) < 0)
                        goto fail;
                if (streq(key, "CPUUsageUSec") && streq(contents, "t"))
                        r = sd_bus_message_read(reply, "v", "t", &s.cpu_usec);
                else if (streq(key, "MemoryCurrent") && streq(contents, "t"))
                        r = sd_bus_message_read(reply, "v", "t", &s.memory);
                else if (streq(key, "TasksCurrent") && streq(contents, "t"))
                        r = sd_bus_message_read(reply, "v", "t", &s.tasks);
                else if (streq(key, "MainPID") && streq(contents, "u"))
                        r = sd_bus_message_read(reply, "v", "u", &s.main_pid);
                else if (streq(key, "ControlGroup") && streq(contents, "s")) {
                        const char *v;
                        r = sd_bus_message_read(reply, "v", "s", &v);
                        if (r >= 0 && !isempty(v) && !(s.cgroup = strdup(v)))
                                r = -ENOMEM;
                } else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
                        goto fail;
        }
        if (r < 0)
                goto fail;
        s.have_net = s.main_pid > 0 && read_net_dev(s.main_pid, &s.rx, &s.tx) >= 0;
        *ret = s;
        return 0;
fail:
        sample_done(&s);
        return r;
}

/* The running units and instances matching patterns (all of them without). */
static int running_units(sd_bus *bus, char **patterns, char ***ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_strv_free_ char **l = NULL;
        const char *name, *load, *active, *sub, *image, *ports, *description;
        int r;

        r = sd_bus_call_method(bus, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE, "ListUnits", &error, &reply, "b", 0);
        if (r < 0)
                return log_error("supctl: %s", error.message ?: strerror(-r)), r;
        if ((r = sd_bus_message_enter_container(reply, 'a', "(sssssss)")) < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(sssssss)", &name, &load, &active, &sub, &image, &ports,
                                        &description)) > 0) {
                bool match = strv_isempty(patterns);
                if (!streq(sub, "running"))
                        continue;
                STRV_FOREACH (p, patterns)
                        if (fnmatch(*p, name, 0) == 0) {
                                match = true;
                                break;
                        }
                if (match && strv_extend(&l, name) < 0)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        *ret = l ? TAKE_PTR(l) : calloc(1, sizeof(char *));
        return *ret ? 0 : -ENOMEM;
}

static void print_stats(const Sample *now, const Sample *before, size_t n, usec_t elapsed, bool json) {
        JsonWriter w;

        if (json) {
                json_init(&w, stdout);
                json_begin_array(&w);
        } else
                printf("%-32s %8s %12s %6s %23s\n", "NAME", "CPU %", "MEM USAGE", "PIDS", "NET I/O");
        for (size_t i = 0; i < n; i++) {
                const Sample *a = &now[i], *b = &before[i];
                double cpu = elapsed > 0 && a->cpu_usec >= b->cpu_usec
                                     ? 100.0 * (double) (a->cpu_usec - b->cpu_usec) / (double) elapsed
                                     : 0.0;
                char mem[16], rx[16], tx[16], net[40];

                if (json) {
                        json_begin_object(&w);
                        json_key(&w, "name");
                        json_string(&w, a->name);
                        json_key(&w, "cpu_percent");
                        json_double(&w, cpu);
                        json_key(&w, "memory_bytes");
                        json_uint(&w, a->memory);
                        json_key(&w, "pids");
                        json_uint(&w, a->tasks);
                        json_key(&w, "net_rx_bytes");
                        if (a->have_net)
                                json_uint(&w, a->rx);
                        else
                                json_null(&w);
                        json_key(&w, "net_tx_bytes");
                        if (a->have_net)
                                json_uint(&w, a->tx);
                        else
                                json_null(&w);
                        json_end_object(&w);
                        continue;
                }
                if (a->have_net)
                        snprintf(net, sizeof(net), "%s / %s", format_bytes(rx, sizeof(rx), a->rx, true),
                                 format_bytes(tx, sizeof(tx), a->tx, true));
                else
                        snprintf(net, sizeof(net), "-- / --");
                printf("%-32s %7.2f%% %12s %6" PRIu64 " %23s\n", a->name, cpu,
                       format_bytes(mem, sizeof(mem), a->memory, true), a->tasks, net);
        }
        if (json) {
                json_end_array(&w);
                putchar('\n');
        }
        fflush(stdout);
}

static void samples_free(Sample *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                sample_done(&l[i]);
        free(l);
}

/* Samples names; a unit that stopped meanwhile is left out (n_out says how many remain). */
static int take_samples(sd_bus *bus, char **names, Sample **ret, size_t *ret_n) {
        size_t n = 0, k = strv_length(names);
        Sample *l = calloc(k ?: 1, sizeof(Sample));

        if (!l)
                return -ENOMEM;
        STRV_FOREACH (name, names)
                if (get_sample(bus, *name, &l[n]) >= 0)
                        n++;
        *ret = l;
        *ret_n = n;
        return 0;
}

int supctl_stats(sd_bus *bus, int argc, char **argv, bool json, bool no_stream) {
        char **patterns = argv;
        bool stream = !no_stream;
        bool tty = isatty(STDOUT_FILENO);

        for (bool first = true; first || stream; first = false) {
                _cleanup_strv_free_ char **names = NULL;
                Sample *before = NULL, *after = NULL;
                size_t n_before = 0, n_after = 0, k = 0;
                usec_t t0, t1;
                int r;

                r = running_units(bus, patterns, &names);
                if (r < 0)
                        return 1;
                if (first && !stream && strv_isempty(names) && !strv_isempty(patterns)) {
                        log_error("supctl: stats: no running unit matches %s.", patterns[0]);
                        return 1;
                }
                t0 = now_usec(CLOCK_MONOTONIC);
                if (take_samples(bus, names, &before, &n_before) < 0)
                        return log_oom(), 1;
                /* CPU % is the usage between two samples a second apart, as docker stats. */
                (void) usleep(USEC_PER_SEC);
                t1 = now_usec(CLOCK_MONOTONIC);
                if (take_samples(bus, names, &after, &n_after) < 0) {
                        samples_free(before, n_before);
                        return log_oom(), 1;
                }
                /* Pair the samples by name: a unit may have stopped between the two. */
                for (size_t i = 0; i < n_after; i++)
                        for (size_t j = 0; j < n_before; j++)
                                if (streq(after[i].name, before[j].name)) {
                                        Sample tmp = after[k];
                                        after[k] = after[i];
                                        after[i] = tmp;
                                        tmp = before[k];
                                        before[k] = before[j];
                                        before[j] = tmp;
                                        k++;
                                        break;
                                }
                if (stream && tty && !json)
                        fputs("\033[H\033[2J", stdout);
                print_stats(after, before, k, t1 - t0, json);
                samples_free(before, n_before);
                samples_free(after, n_after);
        }
        return 0;
}

/* ---- top ---- */

static int collect_pids(const char *cgroup, pid_t **pids, size_t *n) {
        _cleanup_free_ char *procs = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        long pid;

        if (asprintf(&procs, "%s/cgroup.procs", cgroup) < 0)
                return -ENOMEM;
        f = fopen(procs, "re");
        if (!f)
                return -errno;
        while (fscanf(f, "%ld", &pid) == 1) {
                pid_t *l = realloc(*pids, (*n + 1) * sizeof(pid_t));
                if (!l)
                        return -ENOMEM;
                *pids = l;
                l[(*n)++] = (pid_t) pid;
        }
        /* supd may nest the payload in child cgroups. */
        d = opendir(cgroup);
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (asprintf(&sub, "%s/%s", cgroup, de->d_name) < 0)
                        return -ENOMEM;
                (void) collect_pids(sub, pids, n);
        }
        return 0;
}

typedef struct ProcInfo {
        char user[64];
        char time[32];
        char *command;
} ProcInfo;

static int read_proc(pid_t pid, ProcInfo *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[512], buf[4096], *p;
        unsigned long long utime = 0, stime = 0, secs;
        long tck = sysconf(_SC_CLK_TCK);
        uid_t uid = (uid_t) -1;
        struct passwd *pw;
        size_t len;
        char comm[64] = "";

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        len = fread(buf, 1, sizeof(buf) - 1, f);
        buf[len] = '\0';
        fclose(f);
        f = NULL;
        /* comm is in parentheses and may hold anything: the fields follow the last ')'. */
        p = strrchr(buf, ')');
        if (!p)
                return -EIO;
        {
                char *open = strchr(buf, '(');
                if (open && p > open)
                        snprintf(comm, sizeof(comm), "%.*s", (int) (p - open - 1), open + 1);
        }
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
                return -EIO;
        secs = tck > 0 ? (utime + stime) / (unsigned long long) tck : 0;
        snprintf(ret->time, sizeof(ret->time), "%02llu:%02llu:%02llu", secs / 3600, secs / 60 % 60, secs % 60);

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f))
                if (strneq(line, "Uid:", 4)) {
                        unsigned long u;
                        if (sscanf(line + 4, "%lu", &u) == 1)
                                uid = (uid_t) u;
                        break;
                }
        fclose(f);
        f = NULL;
        /* Names as the host knows them, as docker top shows them. */
        pw = uid != (uid_t) -1 ? getpwuid(uid) : NULL;
        if (pw)
                snprintf(ret->user, sizeof(ret->user), "%s", pw->pw_name);
        else
                snprintf(ret->user, sizeof(ret->user), "%lu", (unsigned long) uid);

        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int) pid);
        f = fopen(path, "re");
        len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        while (len > 0 && buf[len - 1] == '\0')
                len--;
        buf[len] = '\0';
        for (size_t i = 0; i < len; i++)
                if (buf[i] == '\0')
                        buf[i] = ' ';
        if (len > 0)
                ret->command = strdup(buf);
        else if (asprintf(&ret->command, "[%s]", comm) < 0)
                ret->command = NULL;
        return ret->command ? 0 : -ENOMEM;
}

static int compare_pids(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return x < y ? -1 : x > y;
}

int supctl_top(sd_bus *bus, int argc, char **argv, bool json) {
        _cleanup_free_ pid_t *pids = NULL;
        Sample s = {};
        size_t n = 0;
        JsonWriter w;
        int r;

        if (get_sample(bus, argv[0], &s) < 0)
                return 1;
        if (!s.cgroup || s.main_pid == 0) {
                log_error("supctl: %s is not running.", argv[0]);
                sample_done(&s);
                return 1;
        }
        r = collect_pids(s.cgroup, &pids, &n);
        if (r < 0) {
                log_error_errno(r, "supctl: cannot read the processes of %s (%s): %m", argv[0], s.cgroup);
                sample_done(&s);
                return 1;
        }
        sample_done(&s);
        qsort(pids, n, sizeof(pid_t), compare_pids);

        if (json) {
                json_init(&w, stdout);
                json_begin_array(&w);
        } else
                printf("%-8s %-12s %-10s %s\n", "PID", "USER", "TIME", "COMMAND");
        for (size_t i = 0; i < n; i++) {
                ProcInfo p = {};
                if (read_proc(pids[i], &p) < 0)
                        continue; /* it exited meanwhile */
                if (json) {
                        json_begin_object(&w);
                        json_key(&w, "pid");
                        json_int(&w, pids[i]);
                        json_key(&w, "user");
                        json_string(&w, p.user);
                        json_key(&w, "time");
                        json_string(&w, p.time);
                        json_key(&w, "command");
                        json_string(&w, p.command);
                        json_end_object(&w);
                } else
                        printf("%-8d %-12s %-10s %s\n", (int) pids[i], p.user, p.time, p.command);
                free(p.command);
        }
        if (json) {
                json_end_array(&w);
                putchar('\n');
        }
        return 0;
}

/* ---- events ---- */

static int on_state_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        bool json = *(bool *) userdata;
        const char *name, *active, *sub, *result;
        struct timespec ts;
        struct tm tm;
        char stamp[64];

        if (sd_bus_message_read(m, "ssss", &name, &active, &sub, &result) < 0)
                return 0;
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        if (json) {
                printf("{\"time\":\"%s.%06ldZ\",\"unit\":", stamp, ts.tv_nsec / 1000);
                json_escape(stdout, name);
                printf(",\"active_state\":");
                json_escape(stdout, active);
                printf(",\"sub_state\":");
                json_escape(stdout, sub);
                printf(",\"result\":");
                json_escape(stdout, result);
                printf("}\n");
        } else if (streq(result, "success"))
                printf("%s.%06ldZ  %s  %s %s\n", stamp, ts.tv_nsec / 1000, name, active, sub);
        else
                printf("%s.%06ldZ  %s  %s %s (result: %s)\n", stamp, ts.tv_nsec / 1000, name, active, sub, result);
        fflush(stdout);
        return 0;
}

int supctl_events(sd_bus *bus, int argc, char **argv, bool json) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_match_signal(bus, NULL, NULL, SUPD_BUS_PATH, SUPD_BUS_INTERFACE, "UnitStateChanged",
                                on_state_changed, &json);
        if (r < 0)
                return log_error_errno(r, "supctl: cannot subscribe to state changes: %m"), 1;
        /* supd sends signals only to clients that made a call. */
        r = sd_bus_call_method(bus, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE, "Ping", &error, NULL, "");
        if (r < 0) {
                log_error("supctl: %s", error.message ?: strerror(-r));
                return 1;
        }
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        break;
        }
        log_error_errno(r, "supctl: connection to supd lost: %m");
        return 1;
}

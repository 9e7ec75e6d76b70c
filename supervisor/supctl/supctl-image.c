/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "basic/json.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "basic/time-util.h"
#include "bus/names.h"
#include "supctl-image.h"

static bool use_color(void) {
        return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !streq(strempty(getenv("TERM")), "dumb");
}
#define ANSI_BOLD (use_color() ? "\033[1m" : "")
#define ANSI_NORMAL (use_color() ? "\033[0m" : "")

static char *format_size(char *buf, size_t l, uint64_t b) {
        /* docker's units: decimal. */
        static const char *const u[] = { "B", "kB", "MB", "GB", "TB" };
        double v = (double) b;
        size_t i = 0;
        while (v >= 1000 && i < ELEMENTSOF(u) - 1) {
                v /= 1000;
                i++;
        }
        if (i == 0)
                snprintf(buf, l, "%" PRIu64 "B", b);
        else
                snprintf(buf, l, "%.3g%s", v, u[i]);
        return buf;
}

static char *format_ago(char *buf, size_t l, uint64_t usec) {
        char t[64];
        usec_t now = now_usec(CLOCK_REALTIME);
        if (usec == 0)
                return strncpy(buf, "N/A", l);
        snprintf(buf, l, "%s ago", format_timespan(t, sizeof(t), now > usec ? now - usec : 0, USEC_PER_SEC * 60));
        return buf;
}

static int image_error(sd_bus_error *e, int r) {
        log_error("%s", e->message ?: strerror(-r));
        if (sd_bus_error_has_name(e, "io.supd.Error.NoSuchImage") ||
            sd_bus_error_has_name(e, "io.supd.Error.NoSuchUnit"))
                return 4;
        return 1;
}

static int call(sd_bus *bus, const char *iface, const char *method, sd_bus_message **reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "io.supd", SUPD_BUS_PATH, iface, method);
        if (r < 0)
                return log_error_errno(r, "supctl: %m"), 1;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return log_error_errno(r, "supctl: %m"), 1;
        }
        r = sd_bus_call(bus, m, UINT64_MAX - 1, &error, reply);
        if (r < 0)
                return image_error(&error, r);
        return 0;
}

/* ---- progress ---- */

typedef struct Progress {
        bool tty;
        bool drawn;
        char line[256];
        size_t n;
} Progress;

static void progress_draw(Progress *p, const char *l) {
        uint64_t done, total;

        if (strneq(l, "warning: ", 9)) {
                if (p->drawn)
                        fputc('\n', stderr);
                p->drawn = false;
                fprintf(stderr, "supctl: %s\n", l);
                return;
        }
        unsigned ld, lt;
        char a[32], b[32], bar[41];
        struct winsize ws = {};
        int width = 30, fill;

        if (!p->tty || sscanf(l, "%" SCNu64 " %" SCNu64 " %u %u", &done, &total, &ld, &lt) != 4)
                return;
        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0 && ws.ws_col < 70)
                width = MAX(10, ws.ws_col - 40);
        fill = total > 0 ? (int) ((double) MIN(done, total) / (double) total * width) : 0;
        for (int i = 0; i < width; i++)
                bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r[%s] %s/%s  layers %u/%u\033[K", bar, format_size(a, sizeof(a), done),
                total ? format_size(b, sizeof(b), total) : "?", ld, lt);
        p->drawn = true;
}

static void progress_feed(Progress *p, int fd) {
        char buf[4096];
        ssize_t k = read(fd, buf, sizeof(buf));
        const char *last = NULL;
        for (ssize_t i = 0; i < k; i++) {
                if (buf[i] == '\n') {
                        p->line[p->n] = 0;
                        last = p->line;
                        progress_draw(p, last);
                        p->n = 0;
                } else if (p->n + 1 < sizeof(p->line))
                        p->line[p->n++] = buf[i];
        }
}

typedef struct AsyncResult {
        bool done;
        sd_bus_message *reply;
        sd_bus_error error;
        int r;
} AsyncResult;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        AsyncResult *a = userdata;
        a->done = true;
        if (sd_bus_message_is_method_error(m, NULL)) {
                (void) sd_bus_error_copy(&a->error, sd_bus_message_get_error(m));
                a->r = -sd_bus_message_get_errno(m) ?: -EIO;
        } else
                a->reply = sd_bus_message_ref(m);
        return 0;
}

/* A call that passes a progress fd and draws a bar while waiting. */
static int call_with_progress(sd_bus *bus, const char *method, const char *arg1, const char *arg2,
                              sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        AsyncResult a = { .error = SD_BUS_ERROR_NULL };
        Progress p = { .tty = isatty(STDERR_FILENO) };
        int r, pipefd[2];

        /* Always a pipe: warnings come this way too; the bar is drawn only on a terminal. */
        if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
                return log_error_errno(errno, "supctl: pipe: %m"), 1;
        rfd = pipefd[0];
        wfd = pipefd[1];
        r = sd_bus_message_new_method_call(bus, &m, "io.supd", SUPD_BUS_PATH, SUPD_IMAGE_INTERFACE, method);
        if (r >= 0)
                r = arg2 ? sd_bus_message_append(m, "ssh", arg1, arg2, wfd)
                         : sd_bus_message_append(m, "sh", arg1, wfd);
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, m, on_reply, &a, UINT64_MAX - 1);
        if (r < 0)
                return log_error_errno(r, "supctl: %m"), 1;
        wfd = safe_close(wfd);
        while (!a.done) {
                struct pollfd pf[2] = {
                        { .fd = sd_bus_get_fd(bus), .events = (short) sd_bus_get_events(bus) },
                        { .fd = rfd, .events = POLLIN },
                };
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return log_error_errno(r, "supctl: connection lost: %m"), 1;
                if (r > 0)
                        continue;
                if (poll(pf, rfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
                        return log_error_errno(errno, "supctl: poll: %m"), 1;
                if (rfd >= 0 && (pf[1].revents & (POLLIN | POLLHUP))) {
                        progress_feed(&p, rfd);
                        if (pf[1].revents & POLLHUP && !(pf[1].revents & POLLIN))
                                rfd = safe_close(rfd);
                }
        }
        if (rfd >= 0)
                progress_feed(&p, rfd); /* what the worker wrote just before it exited */
        if (p.drawn)
                fputs("\r\033[K", stderr);
        if (a.r < 0) {
                r = image_error(&a.error, a.r);
                sd_bus_error_free(&a.error);
                return r;
        }
        *ret_reply = a.reply;
        return 0;
}

/* ---- verbs ---- */

/* Import and Pull: the call with its progress display, then the new image's ID. */
static int call_print_id(sd_bus *bus, const char *method, const char *arg, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id;
        int r;

        r = call_with_progress(bus, method, arg, name, &reply);
        if (r != 0)
                return r;
        if (sd_bus_message_read(reply, "s", &id) < 0)
                return log_error("supctl: bad reply"), 1;
        printf("sha256:%s\n", id);
        return 0;
}

static int verb_import(sd_bus *bus, char **args) {
        _cleanup_free_ char *abs = NULL;

        if (strv_length(args) < 1 || strv_length(args) > 2) {
                log_error("supctl: usage: image import FILE|DIR [NAME[:TAG]]");
                return 1;
        }
        abs = realpath(args[0], NULL);
        if (!abs)
                return log_error_errno(errno, "supctl: %s: %m", args[0]), 1;
        return call_print_id(bus, "Import", abs, strempty(args[1]));
}

static int verb_pull(sd_bus *bus, char **args) {
        if (strv_length(args) != 1) {
                log_error("supctl: usage: image pull REFERENCE");
                return 1;
        }
        return call_print_id(bus, "Pull", args[0], NULL);
}

static int verb_ls(sd_bus *bus, bool json) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **damaged = NULL;
        const char *name, *tag, *id;
        uint64_t size, created;
        JsonWriter w;
        int r;

        r = call(bus, SUPD_IMAGE_INTERFACE, "List", &reply, NULL);
        if (r != 0)
                return r;
        if (sd_bus_message_enter_container(reply, 'a', "(ssstt)") < 0)
                return log_error("supctl: bad reply"), 1;
        if (json) {
                json_init(&w, stdout);
                json_begin_array(&w);
        } else
                printf("%s%-40s %-20s %-12s %-10s %s%s\n", ANSI_BOLD, "NAME", "TAG", "ID", "SIZE", "CREATED",
                       ANSI_NORMAL);
        while ((r = sd_bus_message_read(reply, "(ssstt)", &name, &tag, &id, &size, &created)) > 0) {
                char s[32], c[64];
                if (json) {
                        json_begin_object(&w);
                        json_key(&w, "name");
                        json_string(&w, name);
                        json_key(&w, "tag");
                        json_string(&w, tag);
                        json_key(&w, "id");
                        json_string(&w, id);
                        if (size == UINT64_MAX) {
                                json_key(&w, "damaged");
                                json_bool(&w, true);
                        } else {
                                json_key(&w, "size");
                                json_uint(&w, size);
                        }
                        json_key(&w, "created");
                        json_uint(&w, created);
                        json_end_object(&w);
                } else
                        printf("%-40s %-20s %-12.12s %-10s %s\n", name, tag, id,
                               size == UINT64_MAX ? "damaged" : format_size(s, sizeof(s), size),
                               format_ago(c, sizeof(c), created));
                /* The daemon lists such an image with no size (UINT64_MAX); its log has the details. */
                if (size == UINT64_MAX && !strv_contains(damaged, id) && strv_extend(&damaged, id) < 0)
                        return log_oom(), 1;
        }
        STRV_FOREACH (d, damaged)
                fprintf(stderr,
                        "warning: image %.12s: its configuration, images/%s.json in the image store, is damaged; "
                        "no layer is removed until 'supctl image rm %.12s' removes the image.\n",
                        *d, *d, *d);
        if (json) {
                json_end_array(&w);
                fputc('\n', stdout);
        }
        return r < 0 ? 1 : 0;
}

static int verb_rm(sd_bus *bus, char **args) {
        int ret = 0;
        if (strv_length(args) < 1) {
                log_error("supctl: usage: image rm IMAGE...");
                return 1;
        }
        STRV_FOREACH (a, args) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                uint64_t freed = 0;
                char s[32];
                int r = call(bus, SUPD_IMAGE_INTERFACE, "Remove", &reply, "s", *a);
                if (r != 0) {
                        ret = ret ?: r;
                        continue;
                }
                (void) sd_bus_message_read(reply, "t", &freed);
                printf("Removed: %s (%s freed)\n", *a, format_size(s, sizeof(s), freed));
        }
        return ret;
}

static int verb_prune(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        uint64_t freed = 0;
        char s[32];
        int r;

        r = call(bus, SUPD_IMAGE_INTERFACE, "Prune", &reply, NULL);
        if (r != 0)
                return r;
        if (sd_bus_message_read_strv(reply, &ids) < 0 || sd_bus_message_read(reply, "t", &freed) < 0)
                return log_error("supctl: bad reply"), 1;
        STRV_FOREACH (i, ids)
                printf("Deleted: sha256:%s\n", *i);
        printf("Total reclaimed space: %s\n", format_size(s, sizeof(s), freed));
        return 0;
}

static int verb_history(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *digest, *by;
        uint64_t size, created;
        int r;

        if (strv_length(args) != 1) {
                log_error("supctl: usage: image history IMAGE");
                return 1;
        }
        r = call(bus, SUPD_IMAGE_INTERFACE, "History", &reply, "s", args[0]);
        if (r != 0)
                return r;
        if (sd_bus_message_enter_container(reply, 'a', "(stts)") < 0)
                return log_error("supctl: bad reply"), 1;
        printf("%s%-19s %-16s %-10s %s%s\n", ANSI_BOLD, "LAYER", "CREATED", "SIZE", "CREATED BY", ANSI_NORMAL);
        while ((r = sd_bus_message_read(reply, "(stts)", &digest, &size, &created, &by)) > 0) {
                char s[32], c[64];
                printf("%-19.19s %-16s %-10s %s\n", digest, format_ago(c, sizeof(c), created),
                       format_size(s, sizeof(s), size), by);
        }
        return r < 0 ? 1 : 0;
}

int supctl_image(sd_bus *bus, int argc, char **argv, bool json) {
        const char *verb;
        char **args;

        if (argc < 1) {
                log_error("supctl: image: missing command (import, ls, rm, prune, history, pull).");
                return 1;
        }
        verb = argv[0];
        args = argv + 1;
        if (streq(verb, "import"))
                return verb_import(bus, args);
        if (streq(verb, "pull"))
                return verb_pull(bus, args);
        if (streq(verb, "ls") || streq(verb, "list"))
                return verb_ls(bus, json);
        if (streq(verb, "rm") || streq(verb, "remove"))
                return verb_rm(bus, args);
        if (streq(verb, "prune"))
                return verb_prune(bus);
        if (streq(verb, "history"))
                return verb_history(bus, args);
        log_error("supctl: image: unknown command '%s'.", verb);
        return 1;
}

int supctl_diff(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *kind, *path;
        int r;

        r = call(bus, SUPD_IMAGE_INTERFACE, "Diff", &reply, "s", name);
        if (r != 0)
                return r;
        if (sd_bus_message_enter_container(reply, 'a', "(ss)") < 0)
                return log_error("supctl: bad reply"), 1;
        while ((r = sd_bus_message_read(reply, "(ss)", &kind, &path)) > 0)
                printf("%s %s\n", kind, path);
        return r < 0 ? 1 : 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "bus/names.h"
#include "supctl-exec.h"

static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void) {
        if (termios_saved)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        termios_saved = false;
}

/* Raw mode, so every key (Ctrl-C included) goes to the program in the container. */
static void raw_terminal(void) {
        struct termios t;

        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return;
        termios_saved = true;
        atexit(restore_terminal);
        t = saved_termios;
        cfmakeraw(&t);
        (void) tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

static void copy_window_size(int master) {
        struct winsize ws;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) >= 0)
                (void) ioctl(master, TIOCSWINSZ, &ws);
}

static int write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                buf += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Relays the terminal and the pty master until the program closes the pty; window size changes
 * follow (SIGWINCH). forward_stdin: -i. */
static int relay_pty(int master, bool forward_stdin) {
        _cleanup_close_ int sfd = -EBADF;
        sigset_t mask;
        char buf[16384];
        bool stdin_open = forward_stdin;

        sigemptyset(&mask);
        sigaddset(&mask, SIGWINCH);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        copy_window_size(master);
        if (forward_stdin)
                raw_terminal();

        for (;;) {
                struct pollfd p[3] = {
                        { .fd = master, .events = POLLIN },
                        { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                };
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (p[2].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) > 0)
                                ;
                        copy_window_size(master);
                }
                if (p[1].revents & (POLLIN | POLLHUP)) {
                        ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));
                        if (k <= 0) {
                                stdin_open = false;
                                /* End of input: an EOF character tells the program in canonical mode. */
                                (void) write(master, "\x04", 1);
                        } else if (write_all(master, buf, (size_t) k) < 0)
                                break;
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t k = read(master, buf, sizeof(buf));
                        if (k <= 0) /* EIO: every holder of the slave is gone */
                                break;
                        if (write_all(STDOUT_FILENO, buf, (size_t) k) < 0)
                                break;
                }
        }
        restore_terminal();
        return 0;
}

/* Calls m; on failure prints the error and returns the exit status supctl should end with: 4 no
 * such unit, 127 command not found, 126 cannot be invoked (as a shell and docker exec say), 1
 * otherwise. 0 on success. */
static int bus_call(sd_bus *bus, sd_bus_message **reply, sd_bus_message *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_call(bus, m, UINT64_MAX - 1, &error, reply);

        if (r >= 0)
                return 0;
        restore_terminal();
        log_error("supctl: %s", error.message ?: strerror(-r));
        if (sd_bus_error_has_name(&error, "io.supd.Error.NoSuchUnit"))
                return 4;
        if (sd_bus_error_has_name(&error, "io.supd.Error.CommandNotFound"))
                return 127;
        if (sd_bus_error_has_name(&error, "io.supd.Error.ExecFailed"))
                return 126;
        return 1;
}

static int new_call(sd_bus *bus, const char *method, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, "io.supd", SUPD_BUS_PATH, SUPD_CONTAINER_INTERFACE, method);
}

static int wait_status(sd_bus *bus, const char *method, const char *types, const void *arg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int32_t status;
        int r;

        r = new_call(bus, method, &m);
        if (r >= 0)
                r = streq(types, "u") ? sd_bus_message_append(m, "u", *(const uint32_t *) arg)
                                      : sd_bus_message_append(m, "s", (const char *) arg);
        if (r < 0)
                return 1;
        r = bus_call(bus, &reply, m);
        if (r != 0)
                return r;
        if (sd_bus_message_read(reply, "i", &status) < 0)
                return 1;
        return status;
}

/* -i, -t and their combinations, the same for exec and run (as docker's); false for any other
 * argument. */
static bool parse_stdio_option(const char *a, bool *interactive, bool *tty) {
        if (streq(a, "-i") || streq(a, "--interactive"))
                *interactive = true;
        else if (streq(a, "-t") || streq(a, "--tty"))
                *tty = true;
        else if (streq(a, "-it") || streq(a, "-ti"))
                *interactive = *tty = true;
        else
                return false;
        return true;
}

static void usage_exec(void) {
        fprintf(stderr, "usage: supctl exec [-i] [-t] NAME CMD [ARG...]\n");
}

int supctl_exec(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_close_ int null = -EBADF;
        bool interactive = false, tty = false;
        uint32_t id;
        int i, r;

        /* Our options end at NAME; everything after it is the command's. */
        for (i = 0; i < argc && argv[i][0] == '-'; i++) {
                if (parse_stdio_option(argv[i], &interactive, &tty))
                        continue;
                if (streq(argv[i], "--"))
                        break;
                else {
                        log_error("supctl: exec: unknown option %s", argv[i]);
                        usage_exec();
                        return 1;
                }
        }
        if (argc - i < 2) {
                usage_exec();
                return 1;
        }

        r = new_call(bus, tty ? "ExecTTY" : "Exec", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[i]);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv + i + 1);
        if (r >= 0 && !tty) {
                null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                r = sd_bus_message_append(m, "hhh", interactive ? STDIN_FILENO : null, STDOUT_FILENO, STDERR_FILENO);
        }
        if (r < 0)
                return log_error_errno(r, "supctl: %m"), 1;
        r = bus_call(bus, &reply, m);
        if (r != 0)
                return r;
        if (tty) {
                int master;
                if (sd_bus_message_read(reply, "uh", &id, &master) < 0)
                        return 1;
                (void) relay_pty(master, interactive);
        } else if (sd_bus_message_read(reply, "u", &id) < 0)
                return 1;
        return wait_status(bus, "Wait", "u", &id);
}

static void usage_run(void) {
        fprintf(stderr,
                "usage: supctl run [-t] [-i] [-d] [--rm] [--name NAME] [-e KEY=VAL] [--env-file FILE]\n"
                "                  [-v HOST:CTR[:ro]] [-w DIR] [-u USER[:GROUP]] [--hostname H] [--memory SIZE]\n"
                "                  IMAGE|--rootfs DIR [CMD [ARG...]]\n");
}

/* "-e X", "-eX", "--env X", "--env=X": the option's value (advancing *i past it), or NULL. */
static const char *option_value(int argc, char **argv, int *i, const char *short_opt, const char *long_opt) {
        const char *a = argv[*i];
        size_t l = long_opt ? strlen(long_opt) : 0;

        if ((short_opt && streq(a, short_opt)) || (long_opt && streq(a, long_opt)))
                return *i + 1 < argc ? argv[++*i] : NULL;
        if (long_opt && strneq(a, long_opt, l) && a[l] == '=')
                return a + l + 1;
        if (short_opt && strneq(a, short_opt, 2) && a[2] != '\0')
                return a + 2;
        return NULL;
}

/* An Environment= value for one KEY=VAL, quoted so that spaces, quotes and % survive the unit
 * file syntax it goes through. */
static int add_env(char ***settings, const char *kv) {
        _cleanup_free_ char *q = malloc(strlen(kv) * 2 + 3);
        char *p = q;

        if (!q)
                return -ENOMEM;
        if (!strchr(kv, '=') || kv[0] == '=') {
                log_error("supctl: run: -e %s: expected KEY=VALUE", kv);
                return -EINVAL;
        }
        *p++ = '"';
        for (const char *c = kv; *c; c++) {
                if (*c == '"' || *c == '\\')
                        *p++ = '\\';
                else if (*c == '%')
                        *p++ = '%';
                *p++ = *c;
        }
        *p++ = '"';
        *p = '\0';
        return strv_extend(settings, "Container") < 0 || strv_extend(settings, "Environment") < 0 ||
                               strv_extend(settings, q) < 0
                       ? -ENOMEM
                       : 0;
}

/* docker's --env-file: KEY=VALUE lines, read here (the daemon does not see our files); blank
 * lines and # comments skipped. */
static int add_env_file(char ***settings, const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *line = NULL;
        size_t n = 0;
        unsigned lineno = 0;
        ssize_t l;

        if (!f)
                return log_error_errno(errno, "supctl: run: --env-file %s: %m", path), -EINVAL;
        while ((l = getline(&line, &n, f)) >= 0) {
                char *t = line;
                lineno++;
                while (l > 0 && (t[l - 1] == '\n' || t[l - 1] == '\r'))
                        t[--l] = '\0';
                t += strspn(t, " \t");
                if (*t == '\0' || *t == '#')
                        continue;
                if (!strchr(t, '=') || t[0] == '=') {
                        log_error("supctl: run: %s:%u: expected KEY=VALUE", path, lineno);
                        return -EINVAL;
                }
                if (add_env(settings, t) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int add_setting(char ***settings, const char *key, const char *value) {
        return strv_extend(settings, "Container") < 0 || strv_extend(settings, key) < 0 ||
                               strv_extend(settings, value) < 0
                       ? -ENOMEM
                       : 0;
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
        interrupted = 1;
}

typedef struct AsyncReply {
        bool done;
        int status;
} AsyncReply;

static int on_wait_unit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AsyncReply *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int32_t status;

        a->done = true;
        if (e) {
                log_error("supctl: %s", e->message ?: e->name);
                a->status = 1;
        } else
                a->status = sd_bus_message_read(reply, "i", &status) >= 0 ? status : 1;
        return 0;
}

/* Waits for the transient unit to end. Without a terminal, Ctrl-C stops the container, as docker
 * run does: the handler only sets a flag, and the StopUnit call goes out from here, since sd-bus is
 * not for signal handlers. */
static int wait_run(sd_bus *bus, const char *unit, bool stop_on_interrupt) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        struct sigaction sa = { .sa_handler = on_interrupt };
        AsyncReply a = {};
        bool stop_sent = false;
        int r;

        if (stop_on_interrupt)
                (void) sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: the wait below returns */
        r = new_call(bus, "WaitUnit", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", unit);
        if (r >= 0)
                r = sd_bus_call_async(bus, &slot, m, on_wait_unit_reply, &a, UINT64_MAX - 1);
        if (r < 0)
                return log_error_errno(r, "supctl: %m"), 1;
        while (!a.done) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return log_error_errno(r, "supctl: connection lost: %m"), 1;
                if (r > 0)
                        continue;
                if (interrupted && !stop_sent) {
                        _cleanup_(sd_bus_message_unrefp) sd_bus_message *stop = NULL;
                        stop_sent = true;
                        if (sd_bus_message_new_method_call(bus, &stop, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE,
                                                           "StopUnit") >= 0 &&
                            sd_bus_message_append(stop, "s", unit) >= 0)
                                (void) sd_bus_send(bus, stop, NULL);
                        continue;
                }
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR)
                        return log_error_errno(r, "supctl: connection lost: %m"), 1;
        }
        return a.status;
}

/* Why the container's command did not run (supd's LastError of the unit), or NULL: the exit
 * status alone (125-127) does not say. */
static char *run_last_error(sd_bus *bus, const char *unit) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *key, *contents, *v;
        char type;

        if (sd_bus_call_method(bus, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE, "GetUnit", NULL, &reply, "s", unit) <
                    0 ||
            sd_bus_message_enter_container(reply, 'a', "{sv}") < 0)
                return NULL;
        while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
                if (sd_bus_message_read(reply, "s", &key) < 0 || sd_bus_message_peek_type(reply, &type, &contents) < 0)
                        return NULL;
                if (streq(key, "LastError") && streq(contents, "s"))
                        return sd_bus_message_read(reply, "v", "s", &v) > 0 && !isempty(v) ? strdup(v) : NULL;
                if (sd_bus_message_skip(reply, "v") < 0 || sd_bus_message_exit_container(reply) < 0)
                        return NULL;
        }
        return NULL;
}

int supctl_run(sd_bus *bus, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_close_ int null = -EBADF;
        _cleanup_free_ char *name_copy = NULL;
        _cleanup_strv_free_ char **settings = NULL;
        const char *name = "", *rootfs = "", *image = "", *unit, *v;
        bool interactive = false, tty = false, rm = false, detach = false;
        int i, r, master;

        for (i = 0; i < argc && argv[i][0] == '-'; i++) {
                if (parse_stdio_option(argv[i], &interactive, &tty))
                        continue;
                r = 0;
                if (streq(argv[i], "--rm"))
                        rm = true;
                else if (streq(argv[i], "-d") || streq(argv[i], "--detach"))
                        detach = true;
                else if ((v = option_value(argc, argv, &i, "-e", "--env")))
                        r = add_env(&settings, v);
                else if ((v = option_value(argc, argv, &i, NULL, "--env-file")))
                        r = add_env_file(&settings, v);
                else if ((v = option_value(argc, argv, &i, "-v", "--volume")))
                        r = add_setting(&settings, "Volume", v);
                else if ((v = option_value(argc, argv, &i, "-w", "--workdir")))
                        r = add_setting(&settings, "WorkingDir", v);
                else if ((v = option_value(argc, argv, &i, NULL, "--hostname")))
                        r = add_setting(&settings, "HostName", v);
                else if ((v = option_value(argc, argv, &i, "-m", "--memory")))
                        r = add_setting(&settings, "Memory", v);
                else if ((v = option_value(argc, argv, &i, "-u", "--user"))) {
                        const char *colon = strchr(v, ':');
                        _cleanup_free_ char *user = colon ? strndup(v, (size_t) (colon - v)) : strdup(v);
                        r = !user ? -ENOMEM : add_setting(&settings, "User", user);
                        if (r >= 0 && colon)
                                r = add_setting(&settings, "Group", colon + 1);
                } else if (streq(argv[i], "--name") && i + 1 < argc)
                        name = argv[++i];
                else if (strneq(argv[i], "--name=", 7))
                        name = argv[i] + 7;
                else if (streq(argv[i], "--rootfs") && i + 1 < argc)
                        rootfs = argv[++i];
                else if (strneq(argv[i], "--rootfs=", 9))
                        rootfs = argv[i] + 9;
                else {
                        log_error("supctl: run: unknown option %s", argv[i]);
                        usage_run();
                        return 1;
                }
                if (r == -ENOMEM)
                        return log_oom(), 1;
                if (r < 0)
                        return 1;
        }
        if (detach && (tty || interactive)) {
                log_error("supctl: run: -d runs the container in the background: it cannot take -t or -i.");
                return 1;
        }
        if (isempty(rootfs)) {
                if (i >= argc) {
                        usage_run();
                        return 1;
                }
                image = argv[i++];
        } else if (rootfs[0] != '/') {
                /* The daemon resolves nothing relative to our working directory. */
                name_copy = realpath(rootfs, NULL);
                if (!name_copy)
                        return log_error_errno(errno, "supctl: --rootfs %s: %m", rootfs), 1;
                rootfs = name_copy;
        }

        r = new_call(bus, "RunWithSettings", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sss", name, image, rootfs);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv + i);
        if (r >= 0) {
                null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                r = sd_bus_message_append(m, "bbhhh", (int) tty, (int) rm, interactive ? STDIN_FILENO : null,
                                          detach ? null : STDOUT_FILENO, detach ? null : STDERR_FILENO);
        }
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sss)");
        for (size_t k = 0; r >= 0 && settings && settings[k]; k += 3)
                r = sd_bus_message_append(m, "(sss)", settings[k], settings[k + 1], settings[k + 2]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", (int) detach);
        if (r < 0)
                return log_error_errno(r, "supctl: %m"), 1;
        r = bus_call(bus, &reply, m);
        if (r != 0)
                return 125; /* docker run: the daemon could not run the container */
        if (sd_bus_message_read(reply, "sh", &unit, &master) < 0)
                return 125;
        if (detach) {
                /* docker run -d: the name, and the container runs on (see supctl list, logs). */
                printf("%s\n", unit);
                return 0;
        }
        {
                /* Set before the reply if the command could not be run; WaitUnit brings its status. */
                _cleanup_free_ char *why = run_last_error(bus, unit);
                if (why)
                        log_error("supctl: %s", why);
        }
        if (tty)
                (void) relay_pty(master, interactive);
        return wait_run(bus, unit, !tty);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/process-util.h"
#include "basic/strv.h"
#include "bus/bus.h"
#include "manager.h"

static const char *arg_root = NULL;

static void help(void) {
        printf("supd [OPTIONS...]\n\n"
               "Supervise the containers described by *.container unit files.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --root=DIR          Prefix every path with DIR (also $SUPD_ROOT)\n"
               "     --log-level=LEVEL   debug, info, notice, warning or err\n\n"
               "See supd(8).\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_ROOT, ARG_LOG_LEVEL };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "root", required_argument, NULL, ARG_ROOT },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {},
        };
        static const char *const levels[] = { [LOG_DEBUG] = "debug",
                                              [LOG_INFO] = "info",
                                              [LOG_NOTICE] = "notice",
                                              [LOG_WARNING] = "warning",
                                              [LOG_ERR] = "err" };
        int c;

        arg_root = getenv("SUPD_ROOT");
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("supd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_ROOT:
                        arg_root = optarg;
                        break;
                case ARG_LOG_LEVEL: {
                        int level = -1;
                        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                                if (levels[i] && streq(levels[i], optarg))
                                        level = (int) i;
                        if (level < 0)
                                return log_error_errno(EINVAL, "Unknown log level '%s'.", optarg);
                        log_set_max_level(level);
                        break;
                }
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "%s takes no arguments.", program_invocation_short_name);
        if (arg_root && arg_root[0] != '/')
                return log_error_errno(EINVAL, "--root= must be an absolute path: %s", arg_root);
        return 1;
}

/* supctl daemon-reexec: everything of ours is closed (units freed without stopping, as with
 * LiveRestore=yes); the new image adopts the containers. It is the binary now at the path we were
 * started from, so that an upgraded supd takes over (/proc/self/exe would still be the old, deleted
 * file); /proc/self/exe only if that path is gone. The listening socket is passed on as systemd
 * passes it (LISTEN_FDS, same PID), so that clients wait in its backlog instead of being refused. */
static int reexecute(char **argv, int listen_fd) {
        char exe[PATH_MAX];
        ssize_t n;

        if (listen_fd >= 0) {
                char pid[32];
                int fd = listen_fd == SD_LISTEN_FDS_START ? listen_fd : dup2(listen_fd, SD_LISTEN_FDS_START);
                if (fd < 0 || fcntl(fd, F_SETFD, 0) < 0)
                        log_warning_errno(errno, "Cannot pass the control socket on, the new supd binds it anew: %m");
                else {
                        snprintf(pid, sizeof(pid), "%d", (int) getpid());
                        (void) setenv("LISTEN_FDS", "1", 1);
                        (void) setenv("LISTEN_PID", pid, 1);
                        (void) unsetenv("LISTEN_FDNAMES");
                }
        }
        /* The new supd takes the limit it starts with as the one containers get. */
        rlimit_nofile_restore();
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = 0;
                if (n > 10 && streq(exe + n - 10, " (deleted)"))
                        exe[n - 10] = 0;
                (void) execv(exe, argv);
                log_warning_errno(errno, "Cannot execute %s, executing /proc/self/exe: %m", exe);
        }
        (void) execv("/proc/self/exe", argv);
        return log_error_errno(errno, "Failed to re-execute: %m");
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        /* getopt permutes argv: a re-exec gets the arguments as given. */
        _cleanup_strv_free_ char **saved_argv = strv_copy(argv);
        int r, listen_fd;

        log_set_prefix("supd");
        if (!saved_argv) {
                log_error("Out of memory.");
                return EXIT_FAILURE;
        }
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        if (geteuid() != 0) {
                log_error("supd must run as root.");
                return EXIT_FAILURE;
        }

        r = manager_new(arg_root, &m);
        if (r < 0) {
                log_error_errno(r, "Failed to allocate manager: %m");
                return EXIT_FAILURE;
        }
        /* The D-Bus objects serve the core through its hooks. */
        r = bus_attach(m);
        if (r < 0) {
                log_error_errno(r, "Failed to attach the D-Bus objects: %m");
                return EXIT_FAILURE;
        }
        r = manager_startup(m);
        if (r < 0)
                return EXIT_FAILURE;
        r = manager_run(m);
        if (r < 0 || !m->reexecute)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        /* Kept from bus_close(), which would remove the socket file. */
        listen_fd = TAKE_FD(m->listen_fd);
        m = manager_free(m);
        (void) reexecute(saved_argv, listen_fd);
        return EXIT_FAILURE;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "basic/log.h"
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

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        log_set_prefix("supd");
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
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

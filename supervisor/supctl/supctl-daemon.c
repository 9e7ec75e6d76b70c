/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "bus/names.h"
#include "supctl-daemon.h"

#define SUPCTL_REEXEC_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define SUPCTL_REEXEC_POLL_USEC (50 * USEC_PER_MSEC)

/* Ping on a fresh connection: only a supd that runs its loop answers. */
static int ping(const char *address) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, address)) < 0 || (r = sd_bus_start(bus)) < 0)
                return r;
        return sd_bus_call_method(bus, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE, "Ping", NULL, &reply, "");
}

int supctl_daemon_reexec(sd_bus *bus, const char *root) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *address = NULL;
        usec_t deadline;
        int r;

        if (asprintf(&address, "unix:path=%s/run/supd/supd.sock", root && !streq(root, "/") ? root : "") < 0)
                return log_oom(), 1;
        r = sd_bus_call_method(bus, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE, "Reexecute", &error, NULL, "");
        if (r < 0) {
                log_error("supctl: %s", error.message ?: strerror(-r));
                return 1;
        }
        deadline = now_usec(CLOCK_MONOTONIC) + SUPCTL_REEXEC_TIMEOUT_USEC;
        /* The old supd closes our connection as it leaves its loop; an answer after that can
         * only come from the new one. */
        while (sd_bus_is_open(bus) > 0 && now_usec(CLOCK_MONOTONIC) < deadline) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r == 0)
                        (void) sd_bus_wait(bus, deadline - now_usec(CLOCK_MONOTONIC));
        }
        for (;;) {
                r = ping(address);
                if (r >= 0)
                        return 0;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        break;
                (void) usleep(SUPCTL_REEXEC_POLL_USEC);
        }
        log_error("supctl: supd did not answer within %llu s of re-executing: %s",
                  (unsigned long long) (SUPCTL_REEXEC_TIMEOUT_USEC / USEC_PER_SEC), strerror(-r));
        return 1;
}

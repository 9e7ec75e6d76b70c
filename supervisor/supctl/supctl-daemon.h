/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* supctl daemon-reexec: asks supd (connected on bus) to execute itself again and waits, at most
 * SUPCTL_REEXEC_TIMEOUT_USEC, until the new one answers on the socket of root (NULL for the
 * host). Returns the exit status: 0, or 1 with the reason logged. */
int supctl_daemon_reexec(sd_bus *bus, const char *root);

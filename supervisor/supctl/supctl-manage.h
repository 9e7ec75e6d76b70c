/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

/* supctl enable|disable [--now] NAME…: writes (or replaces) the drop-in
 * /etc/supd/units/NAME.container.d/50-supctl-enable.conf under root (NULL for the host) that
 * switches WantedBy= on or off. With now, reloads supd and starts (stops) the units too. Returns
 * the exit status: 0, or 1 (no such unit file, or a failure, logged). */
int supctl_enable(sd_bus *bus, const char *root, char **names, bool enable, bool now);
/* supctl edit NAME: opens /etc/supd/units/NAME.container.d/override.conf in $VISUAL, $EDITOR or
 * vi, installs it when the editor succeeds and changed it, then reloads supd. Returns the exit
 * status: 0 or 1. */
int supctl_edit(sd_bus *bus, const char *root, const char *name);

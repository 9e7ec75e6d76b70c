/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

/* supctl image import|ls|rm|prune|history|pull …: argv starts after "image". Returns the exit
 * status (0, 1, or 4 for no such image). */
int supctl_image(sd_bus *bus, int argc, char **argv, bool json);
/* supctl diff NAME */
int supctl_diff(sd_bus *bus, const char *name);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* supctl exec [-i] [-t] NAME CMD… and supctl run [-t] [-i] [-d] [--rm] [--name N] [-e, -v, -w, -u, …]
 * IMAGE|--rootfs DIR [CMD…]: argv starts at the verb's first argument. Both return the command's exit status. */
int supctl_exec(sd_bus *bus, int argc, char **argv);
int supctl_run(sd_bus *bus, int argc, char **argv);

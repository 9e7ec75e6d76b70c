/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

/* supctl stats [--no-stream] [PATTERN…], top NAME, events: argv starts at the verb's first
 * argument. Each returns the exit status (0, or 1 with the reason logged). */
int supctl_stats(sd_bus *bus, int argc, char **argv, bool json, bool no_stream);
int supctl_top(sd_bus *bus, int argc, char **argv, bool json);
int supctl_events(sd_bus *bus, int argc, char **argv, bool json);

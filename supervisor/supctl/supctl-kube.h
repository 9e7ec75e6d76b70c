/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

/* supctl generate kube NAME|FILE…: argv starts after "generate". Needs no daemon: units are loaded
 * from the search path below root (or from the FILE given, when the argument contains a '/').
 * Prints a Kubernetes Deployment (and a Service when ports are published) per unit, as YAML
 * documents or, with json, as one v1 List. Returns the exit status. */
int supctl_generate(int argc, char **argv, const char *root, bool json);

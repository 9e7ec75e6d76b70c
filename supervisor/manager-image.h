/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <systemd/sd-bus.h>

typedef struct Manager Manager;

#include "bus/names.h"

/* Adds the io.supd.Image1 interface at /io/supd to one control connection: Import, Pull, List,
 * Remove, Prune, History, Diff. Long work (import, pull, rm, prune) runs in a forked worker so the
 * event loop never blocks; the call is answered when the worker exits. */
int manager_image_register(sd_bus *bus, Manager *m);

/* At startup: opens the store and removes what interrupted imports left behind. */
int manager_image_startup(Manager *m);

/* For unit start: pulls ref in a worker unless it is in the store already, then calls done
 * (r < 0 with a message on failure). Returns 0 when the worker runs, 1 when the image is already
 * there (done is not called), or a negative errno. */
typedef void (*ManagerImageDone)(Manager *m, int r, const char *message, void *userdata);
int manager_image_ensure(Manager *m, const char *ref, ManagerImageDone done, void *userdata);

/* Registries that may be used over plain HTTP besides loopback (supd.conf). Not owned. */
void manager_image_set_insecure_registries(char **registries);

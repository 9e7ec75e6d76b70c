/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the bus objects (bus-manager.c, bus-image.c, bus-exec.c) share; nothing outside bus/
 * includes this. */

#include <systemd/sd-bus.h>

#include "bus/names.h"

typedef struct Manager Manager;
typedef struct Unit Unit;

/* Every method starts with the credential check: root, or a member of group "supd"; fills error
 * and returns < 0 otherwise. */
int bus_check_access(sd_bus_message *msg, sd_bus_error *error);

#define CHECK_ACCESS(msg, error)                                                                                      \
        do {                                                                                                          \
                int _r = bus_check_access(msg, error);                                                                \
                if (_r < 0)                                                                                           \
                        return _r;                                                                                    \
        } while (0)

/* The prologue of the methods that take one unit name: the access check, the name, the unit
 * (io.supd.Error.NoSuchUnit when none has it). */
int bus_read_unit(sd_bus_message *msg, Manager *m, sd_bus_error *error, Unit **ret);

/* io.supd.Image1 at /io/supd on one control connection: Import, Pull, List, Remove, Prune,
 * History, Diff (bus-image.c). */
int bus_image_register(sd_bus *bus, Manager *m);

/* io.supd.Container1 at /io/supd on one control connection: Exec, ExecTTY, Wait (supctl exec)
 * and Run, WaitUnit (supctl run) (bus-exec.c). */
int bus_exec_register(sd_bus *bus, Manager *m);
/* A unit went inactive or failed: answer WaitUnit calls, clean up after supctl run --rm. */
void bus_exec_unit_settled(Manager *m, Unit *u);
/* A unit's container is set up (or its setup failed): answer supctl run. */
void bus_exec_unit_spawned(Manager *m, Unit *u);
/* Frees the exec sessions (at exit). */
void bus_exec_done(Manager *m);

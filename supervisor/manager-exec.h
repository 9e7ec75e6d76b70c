/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <systemd/sd-bus.h>

typedef struct Manager Manager;
typedef struct Unit Unit;

#include "bus/names.h"

/* io.supd.Container1 at /io/supd: Exec, ExecTTY, Wait (supctl exec) and Run, WaitUnit (supctl
 * run) on one control connection. */
int manager_exec_register(sd_bus *bus, Manager *m);

/* A unit went inactive or failed: answer WaitUnit calls, clean up after supctl run --rm. */
void manager_exec_unit_settled(Manager *m, Unit *u);
/* A unit's container is set up (or its setup failed): answer supctl run. */
void manager_exec_unit_spawned(Manager *m, Unit *u);

/* Frees the exec sessions (at exit). */
void manager_exec_done(Manager *m);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

typedef struct Manager Manager;

/* The D-Bus objects (Manager1, Image1, Container1 on the control socket, see supd(8)) serve the
 * core through its hooks: fills in m->hooks. Call once, before manager_startup(). */
int bus_attach(Manager *m);

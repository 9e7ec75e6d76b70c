/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "manager.h"

/* At startup, once the units are loaded and before any is started: the runs a previous supd left
 * in /run/supd/instances. A run whose PID 1 is alive (the same process: pid and start time agree
 * with its record) is adopted by its unit; one that ended meanwhile goes through the restart
 * policy with the status its init recorded; one whose unit is gone is stopped and cleaned up;
 * one without a record (killed between its directory and its clone) is cleaned up; a damaged
 * record is set aside (RUN_ID.damaged) with an error, and never keeps the others from being
 * adopted. Then the writable layers of runs that are over (state_dir/containers/NAME/RUN_ID of
 * no current run) are removed. Returns the number adopted. */
int manager_adopt(Manager *m);

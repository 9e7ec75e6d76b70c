/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The public D-Bus names of supd's control API (supd(8)), shared by the daemon's bus objects and
 * supctl. Constants only: supctl includes nothing else of the daemon. */

#define SUPD_BUS_PATH "/io/supd"
#define SUPD_BUS_INTERFACE "io.supd.Manager1"
#define SUPD_CONTAINER_INTERFACE "io.supd.Container1"
#define SUPD_IMAGE_INTERFACE "io.supd.Image1"

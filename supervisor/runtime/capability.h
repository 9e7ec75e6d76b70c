/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

/* Capabilities as a 64-bit mask (bit n = capability n). */

/* Docker's default set: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP
 * SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE. */
uint64_t capability_default_set(void);

/* "CHOWN", "cap_chown", "CAP_CHOWN" -> 0; "all" -> -ERANGE never: use capability_set_apply(). */
int capability_from_name(const char *name);
const char *capability_to_name(int cap);
int capability_last_cap(void); /* from /proc/sys/kernel/cap_last_cap, or CAP_LAST_CAP */

/* The default set, plus add, minus drop (each a strv of names, "all" allowed), as Docker applies
 * --cap-add/--cap-drop: drop "all" first, then add. Returns -EINVAL for an unknown name. */
int capability_set_compute(char *const *add, char *const *drop, uint64_t *ret);

/* In the container's child: drop everything outside caps from the bounding set, clear the
 * ambient set. Needs CAP_SETPCAP, so it runs before the uid change. */
int capability_drop_bounding(uint64_t caps);
/* After the uid change: for uid 0 effective = permitted = caps, inheritable empty; for other
 * users everything stays cleared (as Docker does without ambient capabilities). */
int capability_apply(uint64_t caps, uid_t uid);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
#include <time.h>

typedef uint64_t usec_t;

#define USEC_INFINITY ((usec_t) UINT64_MAX)
#define USEC_PER_SEC ((usec_t) 1000000ULL)
#define USEC_PER_MSEC ((usec_t) 1000ULL)
#define NSEC_PER_USEC ((uint64_t) 1000ULL)
#define USEC_PER_MINUTE (60ULL * USEC_PER_SEC)
#define USEC_PER_HOUR (60ULL * USEC_PER_MINUTE)
#define USEC_PER_DAY (24ULL * USEC_PER_HOUR)

usec_t now_usec(clockid_t clock);

/* systemd time spans: "90", "1min 30s", "100ms", "infinity"; a bare number is in default_unit. */
int parse_timespan(const char *s, usec_t default_unit, usec_t *ret);
static inline int parse_sec(const char *s, usec_t *ret) {
        return parse_timespan(s, 1000000ULL, ret);
}

#define FORMAT_TIMESPAN_MAX 64
/* "1min 30.500s" style, at the given accuracy. */
char *format_timespan(char *buf, size_t l, usec_t t, usec_t accuracy);
#define FORMAT_TIMESTAMP_MAX 64
/* "Sun 2026-11-29 12:39:11 UTC" */
char *format_timestamp(char *buf, size_t l, usec_t realtime);

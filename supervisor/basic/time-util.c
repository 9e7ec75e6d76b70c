/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "time-util.h"

usec_t now_usec(clockid_t clock) {
        struct timespec ts;
        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / NSEC_PER_USEC;
}

static const struct {
        const char *suffix;
        usec_t usec;
} units[] = {
        { "seconds", USEC_PER_SEC },
        { "second", USEC_PER_SEC },
        { "sec", USEC_PER_SEC },
        { "s", USEC_PER_SEC },
        { "minutes", USEC_PER_MINUTE },
        { "minute", USEC_PER_MINUTE },
        { "min", USEC_PER_MINUTE },
        { "months", 2629800ULL * USEC_PER_SEC },
        { "month", 2629800ULL * USEC_PER_SEC },
        { "M", 2629800ULL * USEC_PER_SEC },
        { "msec", USEC_PER_MSEC },
        { "ms", USEC_PER_MSEC },
        { "m", USEC_PER_MINUTE },
        { "hours", USEC_PER_HOUR },
        { "hour", USEC_PER_HOUR },
        { "hr", USEC_PER_HOUR },
        { "h", USEC_PER_HOUR },
        { "days", USEC_PER_DAY },
        { "day", USEC_PER_DAY },
        { "d", USEC_PER_DAY },
        { "weeks", 7 * USEC_PER_DAY },
        { "week", 7 * USEC_PER_DAY },
        { "w", 7 * USEC_PER_DAY },
        { "years", 31557600ULL * USEC_PER_SEC },
        { "year", 31557600ULL * USEC_PER_SEC },
        { "y", 31557600ULL * USEC_PER_SEC },
        { "usec", 1ULL },
        { "us", 1ULL },
        { "μs", 1ULL },
        { "nsec", 0ULL }, /* handled below: rounds to usec */
        { "ns", 0ULL },
};

int parse_timespan(const char *s, usec_t default_unit, usec_t *ret) {
        usec_t total = 0;
        bool any = false;
        const char *p = s;

        if (!s)
                return -EINVAL;
        while (isspace((unsigned char) *p))
                p++;
        if (streq(p, "infinity")) {
                *ret = USEC_INFINITY;
                return 0;
        }

        for (;;) {
                unsigned long long whole = 0, frac = 0, frac_div = 1;
                usec_t unit = default_unit, part;
                bool digits = false;
                size_t ul = 0;

                while (isspace((unsigned char) *p))
                        p++;
                if (!*p)
                        break;
                if (*p == '-')
                        return -ERANGE;
                while (isdigit((unsigned char) *p)) {
                        if (whole > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        whole = whole * 10 + (unsigned) (*p - '0');
                        digits = true;
                        p++;
                }
                if (*p == '.') {
                        p++;
                        while (isdigit((unsigned char) *p)) {
                                if (frac_div < 1000000000ULL) {
                                        frac = frac * 10 + (unsigned) (*p - '0');
                                        frac_div *= 10;
                                }
                                digits = true;
                                p++;
                        }
                }
                if (!digits)
                        return -EINVAL;
                while (isspace((unsigned char) *p))
                        p++;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t n = strlen(units[i].suffix);
                        if (strneq(p, units[i].suffix, n) && !isalpha((unsigned char) p[n])) {
                                unit = units[i].usec;
                                ul = n;
                                break;
                        }
                }
                if (ul == 0 && isalpha((unsigned char) *p))
                        return -EINVAL;
                p += ul;
                if (unit == 0) /* nanoseconds */
                        part = whole / 1000 + (usec_t) (frac / frac_div / 1000);
                else {
                        if (whole > UINT64_MAX / unit)
                                return -ERANGE;
                        usec_t extra = (usec_t) ((long double) frac * unit / frac_div);
                        part = whole * unit;
                        /* The fraction can push a value that passed the check above past 2^64. */
                        if (part > UINT64_MAX - extra)
                                return -ERANGE;
                        part += extra;
                }
                if (total > UINT64_MAX - 1 - part)
                        return -ERANGE;
                total += part;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}

char *format_timespan(char *buf, size_t l, usec_t t, usec_t accuracy) {
        static const struct {
                const char *suffix;
                usec_t usec;
        } table[] = {
                { "y", 31557600ULL * USEC_PER_SEC },
                { "month", 2629800ULL * USEC_PER_SEC },
                { "w", 7 * USEC_PER_DAY },
                { "d", USEC_PER_DAY },
                { "h", USEC_PER_HOUR },
                { "min", USEC_PER_MINUTE },
                { "s", USEC_PER_SEC },
                { "ms", USEC_PER_MSEC },
                { "us", 1 },
        };
        char *p = buf;
        bool something = false;

        if (t == USEC_INFINITY) {
                snprintf(buf, l, "infinity");
                return buf;
        }
        if (t == 0) {
                snprintf(buf, l, "0");
                return buf;
        }
        if (accuracy == 0)
                accuracy = 1;
        t = t / accuracy * accuracy;
        if (t == 0)
                t = accuracy;

        for (size_t i = 0; i < ELEMENTSOF(table) && t > 0; i++) {
                usec_t a, b;
                int k;

                if (t < accuracy && something)
                        break;
                if (t < table[i].usec)
                        continue;
                a = t / table[i].usec;
                b = t % table[i].usec;
                /* Seconds get a fractional part at sub-second accuracy, like systemd. */
                if (table[i].usec == USEC_PER_SEC && b > 0 && accuracy < USEC_PER_SEC) {
                        usec_t cc = USEC_PER_SEC / 10;
                        int j = 0;
                        for (; cc >= accuracy && j < 6 && b > 0; cc /= 10, j++)
                                ;
                        if (j > 0) {
                                usec_t div = 1;
                                for (int z = 0; z < 6 - j; z++)
                                        div *= 10;
                                k = snprintf(p, l, "%s%llu.%0*llus", something ? " " : "", (unsigned long long) a, j,
                                             (unsigned long long) (b / div));
                                if (k < 0 || (size_t) k >= l)
                                        break;
                                p += k;
                                l -= (size_t) k;
                                t = 0;
                                something = true;
                                break;
                        }
                }
                k = snprintf(p, l, "%s%llu%s", something ? " " : "", (unsigned long long) a, table[i].suffix);
                if (k < 0 || (size_t) k >= l)
                        break;
                p += k;
                l -= (size_t) k;
                t = b;
                something = true;
        }
        *p = 0;
        return buf;
}

char *format_timestamp(char *buf, size_t l, usec_t realtime) {
        time_t sec = (time_t) (realtime / USEC_PER_SEC);
        struct tm tm;

        if (!localtime_r(&sec, &tm) || strftime(buf, l, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, l, "n/a");
        return buf;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *log_prefix = NULL;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_prefix(const char *prefix) {
        log_prefix = prefix;
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...) {
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;

        if (level <= max_level) {
                /* journald understands the <N> syslog prefix on stderr when stderr is the journal
                 * stream; on a terminal it would only be noise. */
                static int use_prefix = -1;
                if (use_prefix < 0) {
                        const char *j = getenv("JOURNAL_STREAM");
                        use_prefix = !isempty(j);
                }
                if (use_prefix)
                        fprintf(stderr, "<%d>", level);
                if (log_prefix)
                        fprintf(stderr, "%s: ", log_prefix);
                if (max_level >= LOG_DEBUG)
                        fprintf(stderr, "(%s:%d %s) ", file, line, func);
                errno = error;
                va_start(ap, fmt);
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
                fflush(stderr);
        }

        errno = saved;
        return error > 0 ? -error : -EIO;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _sentinel_ __attribute__((sentinel))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define STRINGIFY(x) #x
#define XSTRINGIFY(x) STRINGIFY(x)

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
#define isempty(s) (!(s) || !(s)[0])
#define strna(s) ((s) ?: "n/a")
#define strempty(s) ((s) ?: "")
#define yes_no(b) ((b) ? "yes" : "no")

/* Hand ownership of a pointer or fd to the caller, leaving the cleanup variable inert. */
#define TAKE_PTR(p)                                                                                                   \
        ({                                                                                                            \
                __typeof__(p) _tp = (p);                                                                              \
                (p) = NULL;                                                                                           \
                _tp;                                                                                                  \
        })
#define TAKE_FD(fd)                                                                                                   \
        ({                                                                                                            \
                int _tf = (fd);                                                                                       \
                (fd) = -EBADF;                                                                                        \
                _tf;                                                                                                  \
        })

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                                       \
        static inline void func##p(type *p) {                                                                         \
                if (*p)                                                                                               \
                        func(*p);                                                                                     \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Turn a libc "-1 and errno" result into a negative errno, never 0 by accident. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

#define RET_NERRNO(expr)                                                                                              \
        ({                                                                                                            \
                long _r = (long) (expr);                                                                              \
                _r < 0 ? negative_errno() : (int) _r;                                                                 \
        })

#define new0(t, n) ((t *) calloc((n) ?: 1, sizeof(t)))
#define newdup(t, p, n) ((t *) memdup_multiply(p, sizeof(t), n))

static inline void *memdup_multiply(const void *p, size_t size, size_t n) {
        void *r;
        if (n > 0 && size > SIZE_MAX / n)
                return NULL;
        r = malloc(size * n ?: 1);
        if (r)
                memcpy(r, p, size * n);
        return r;
}

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* Free *p and replace it, returning the new value. */
static inline char *free_and_replace_str(char **p, char *v) {
        free(*p);
        *p = v;
        return v;
}

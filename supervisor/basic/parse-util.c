/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "parse-util.h"

int parse_boolean(const char *v) {
        if (!v)
                return -EINVAL;
        if (streq(v, "1") || strcasecmp(v, "yes") == 0 || strcasecmp(v, "y") == 0 || strcasecmp(v, "true") == 0 ||
            strcasecmp(v, "t") == 0 || strcasecmp(v, "on") == 0)
                return 1;
        if (streq(v, "0") || strcasecmp(v, "no") == 0 || strcasecmp(v, "n") == 0 || strcasecmp(v, "false") == 0 ||
            strcasecmp(v, "f") == 0 || strcasecmp(v, "off") == 0)
                return 0;
        return -EINVAL;
}

int safe_atou64(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        /* strtoull() would accept leading whitespace, a sign (and negate!) and "0x"; refuse all of
         * them so that "-1" is never read as 2^64-1. */
        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || *end != 0)
                return -EINVAL;
        *ret = (uint64_t) v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        uint64_t v;
        int r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int safe_atoi(const char *s, int *ret) {
        bool neg = false;
        uint64_t v;
        int r;

        if (s && *s == '-') {
                neg = true;
                s++;
        }
        r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (neg ? v > (uint64_t) INT_MAX + 1 : v > INT_MAX)
                return -ERANGE;
        *ret = neg ? (int) -(int64_t) v : (int) v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                char c;
                unsigned shift;
        } suffixes[] = {
                { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 }, { 'P', 50 }, { 'E', 60 },
        };
        uint64_t whole = 0, frac = 0, frac_div = 1, result;
        unsigned shift = 0;
        bool digits = false;
        const char *p = s;

        if (!s)
                return -EINVAL;
        if (streq(s, "infinity")) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (!isdigit((unsigned char) *p) && *p != '.')
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                if (whole > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*p - '0');
                digits = true;
        }
        if (*p == '.') {
                p++;
                for (; isdigit((unsigned char) *p); p++) {
                        /* Six digits are more precision than any byte count needs. */
                        if (frac_div < 1000000) {
                                frac = frac * 10 + (uint64_t) (*p - '0');
                                frac_div *= 10;
                        }
                        digits = true;
                }
        }
        if (!digits)
                return -EINVAL;
        while (*p == ' ')
                p++;
        if (*p) {
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                        if (toupper((unsigned char) *p) == suffixes[i].c) {
                                shift = suffixes[i].shift;
                                found = true;
                                p++;
                                break;
                        }
                /* Accept systemd's "K", Docker's "k"/"kb" and the IEC "KiB". */
                if (found && *p == 'i' && (p[1] == 'B' || p[1] == 'b'))
                        p += 2;
                else if (*p == 'B' || *p == 'b')
                        p++;
                if (*p)
                        return -EINVAL;
        }
        if (shift > 0 && whole > (UINT64_MAX >> shift))
                return -ERANGE;
        result = whole << shift;
        if (frac > 0) {
                /* frac < frac_div ≤ 10^6 < 2^20, so frac << shift cannot overflow for shift ≤ 40. */
                uint64_t extra = shift <= 40
                                         ? (frac << shift) / frac_div
                                         : (uint64_t) ((long double) frac / frac_div * (long double) (1ULL << shift));
                if (result > UINT64_MAX - 1 - extra)
                        return -ERANGE;
                result += extra;
        }
        if (result == UINT64_MAX) /* reserved for "infinity" */
                return -ERANGE;
        *ret = result;
        return 0;
}

static const char *const signal_names[] = {
        [SIGHUP] = "HUP",       [SIGINT] = "INT",   [SIGQUIT] = "QUIT",   [SIGILL] = "ILL",   [SIGTRAP] = "TRAP",
        [SIGABRT] = "ABRT",     [SIGBUS] = "BUS",   [SIGFPE] = "FPE",     [SIGKILL] = "KILL", [SIGUSR1] = "USR1",
        [SIGSEGV] = "SEGV",     [SIGUSR2] = "USR2", [SIGPIPE] = "PIPE",   [SIGALRM] = "ALRM", [SIGTERM] = "TERM",
        [SIGSTKFLT] = "STKFLT", [SIGCHLD] = "CHLD", [SIGCONT] = "CONT",   [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
        [SIGTTIN] = "TTIN",     [SIGTTOU] = "TTOU", [SIGURG] = "URG",     [SIGXCPU] = "XCPU", [SIGXFSZ] = "XFSZ",
        [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH", [SIGIO] = "IO",     [SIGPWR] = "PWR",
        [SIGSYS] = "SYS",
};

#define SIGNAL_MAX 64 /* _NSIG - 1 on Linux */

static int signal_from_name(const char *s) {
        unsigned off;

        for (size_t i = 1; i < ELEMENTSOF(signal_names); i++)
                if (signal_names[i] && streq(s, signal_names[i]))
                        return (int) i;
        /* Aliases that strsignal() users know. */
        if (streq(s, "IOT"))
                return SIGABRT;
        if (streq(s, "POLL"))
                return SIGIO;
        if (streq(s, "CLD"))
                return SIGCHLD;

        if (strneq(s, "RTMIN", 5)) {
                if (s[5] == 0)
                        return SIGRTMIN;
                if (s[5] != '+' || safe_atou(s + 6, &off) < 0 || off > (unsigned) (SIGRTMAX - SIGRTMIN))
                        return -EINVAL;
                return SIGRTMIN + (int) off;
        }
        if (strneq(s, "RTMAX", 5)) {
                if (s[5] == 0)
                        return SIGRTMAX;
                if (s[5] != '-' || safe_atou(s + 6, &off) < 0 || off > (unsigned) (SIGRTMAX - SIGRTMIN))
                        return -EINVAL;
                return SIGRTMAX - (int) off;
        }
        return -EINVAL;
}

int parse_signal(const char *s) {
        unsigned n;
        int r;

        if (!s)
                return -EINVAL;
        if (strneq(s, "SIG", 3)) {
                r = signal_from_name(s + 3);
                if (r > 0)
                        return r;
        }
        r = signal_from_name(s);
        if (r > 0)
                return r;
        if (safe_atou(s, &n) >= 0 && n >= 1 && n <= SIGNAL_MAX)
                return (int) n;
        return -EINVAL;
}

const char *signal_to_string(int sig, char buf[static SIGNAL_NAME_MAX]) {
        if (sig > 0 && (size_t) sig < ELEMENTSOF(signal_names) && signal_names[sig])
                snprintf(buf, SIGNAL_NAME_MAX, "SIG%s", signal_names[sig]);
        else if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
                if (sig == SIGRTMIN)
                        snprintf(buf, SIGNAL_NAME_MAX, "SIGRTMIN");
                else
                        snprintf(buf, SIGNAL_NAME_MAX, "SIGRTMIN+%d", sig - SIGRTMIN);
        } else
                snprintf(buf, SIGNAL_NAME_MAX, "%d", sig);
        return buf;
}

/* "N%" or "N.M%"/"N.MM%" with up to `decimals` fraction digits, returned scaled by 10^decimals. */
static int parse_percent_scaled(const char *s, unsigned decimals) {
        uint64_t v = 0;
        unsigned got = 0;
        const char *p = s;

        if (!s || !isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                v = v * 10 + (uint64_t) (*p - '0');
                if (v > INT_MAX)
                        return -ERANGE;
        }
        if (*p == '.' && decimals > 0) {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++) {
                        if (got >= decimals)
                                return -EINVAL;
                        v = v * 10 + (uint64_t) (*p - '0');
                        got++;
                }
        }
        if (p[0] != '%' || p[1] != 0)
                return -EINVAL;
        for (; got < decimals; got++)
                v *= 10;
        if (v > INT_MAX)
                return -ERANGE;
        return (int) v;
}

int parse_percent(const char *s) {
        int r = parse_percent_scaled(s, 0);
        if (r < 0)
                return r;
        return r > 100 ? -ERANGE : r;
}

int parse_permyriad_unbounded(const char *s) {
        return parse_percent_scaled(s, 2);
}

size_t utf8_encode_unichar(char *out, uint32_t c) {
        if (c < 0x80) {
                out[0] = (char) c;
                return 1;
        }
        if (c < 0x800) {
                out[0] = (char) (0xc0 | (c >> 6));
                out[1] = (char) (0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                out[0] = (char) (0xe0 | (c >> 12));
                out[1] = (char) (0x80 | ((c >> 6) & 0x3f));
                out[2] = (char) (0x80 | (c & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (c >> 18));
        out[1] = (char) (0x80 | ((c >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((c >> 6) & 0x3f));
        out[3] = (char) (0x80 | (c & 0x3f));
        return 4;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int cunescape_one(const char *p, size_t length, uint32_t *ret, bool *ret_eight_bit) {
        uint32_t c = 0;
        bool eight_bit = false;
        int n = 1;

        if (length == 0)
                return -EINVAL;
        switch (p[0]) {
        case 'a':
                c = '\a';
                break;
        case 'b':
                c = '\b';
                break;
        case 'f':
                c = '\f';
                break;
        case 'n':
                c = '\n';
                break;
        case 'r':
                c = '\r';
                break;
        case 't':
                c = '\t';
                break;
        case 'v':
                c = '\v';
                break;
        case 's':
                c = ' ';
                break;
        case '\\':
        case '"':
        case '\'':
                c = (uint32_t) p[0];
                break;
        case 'x': {
                int a, b;
                if (length < 3)
                        return -EINVAL;
                a = unhex(p[1]);
                b = unhex(p[2]);
                if (a < 0 || b < 0)
                        return -EINVAL;
                c = (uint32_t) (a << 4 | b);
                eight_bit = true;
                n = 3;
                break;
        }
        case 'u':
        case 'U': {
                int digits = p[0] == 'u' ? 4 : 8;
                if (length < (size_t) digits + 1)
                        return -EINVAL;
                for (int i = 1; i <= digits; i++) {
                        int d = unhex(p[i]);
                        if (d < 0)
                                return -EINVAL;
                        c = c << 4 | (uint32_t) d;
                }
                if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                        return -EINVAL;
                n = digits + 1;
                break;
        }
        case '0' ... '7': {
                if (length < 3)
                        return -EINVAL;
                for (int i = 0; i < 3; i++) {
                        if (p[i] < '0' || p[i] > '7')
                                return -EINVAL;
                        c = c << 3 | (uint32_t) (p[i] - '0');
                }
                if (c > 255)
                        return -EINVAL;
                eight_bit = true;
                n = 3;
                break;
        }
        default:
                return -EINVAL;
        }
        /* A NUL would silently truncate the value: refuse it like systemd does. */
        if (c == 0)
                return -EINVAL;
        *ret = c;
        *ret_eight_bit = eight_bit;
        return n;
}

typedef struct Buf {
        char *data;
        size_t len, alloc;
} Buf;

static int buf_reserve(Buf *b, size_t extra) {
        size_t need = b->len + extra + 1;
        if (need <= b->alloc)
                return 0;
        size_t a = MAX(b->alloc * 2, MAX(need, (size_t) 32));
        char *n = realloc(b->data, a);
        if (!n)
                return -ENOMEM;
        b->data = n;
        b->alloc = a;
        return 0;
}

static int buf_putc(Buf *b, char c) {
        if (buf_reserve(b, 1) < 0)
                return -ENOMEM;
        b->data[b->len++] = c;
        return 0;
}

int extract_first_word_full(const char **p, char **ret, const char *separators, ExtractFlags flags,
                            unsigned *n_bad_escapes, char *first_bad) {
        Buf b = { 0 };
        const char *s;
        char quote = 0;
        bool backslash = false, have_word = false;
        int r = 0;

        if (!separators)
                separators = WHITESPACE;
        if (!*p || !**p) {
                *p = NULL;
                *ret = NULL;
                return 0;
        }
        s = *p;
        if (!(flags & EXTRACT_DONT_COALESCE_SEPARATORS))
                s += strspn(s, separators);
        if (!*s) {
                *p = NULL;
                *ret = NULL;
                return 0;
        }

        for (;; s++) {
                char c = *s;

                if (backslash) {
                        backslash = false;
                        have_word = true;
                        if (c == 0) {
                                /* A trailing backslash: keep it only in relaxed escape mode. */
                                if (!(flags & (EXTRACT_CUNESCAPE_RELAX | EXTRACT_RETAIN_ESCAPE))) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                                if (buf_putc(&b, '\\') < 0)
                                        goto oom;
                                if (flags & EXTRACT_CUNESCAPE_RELAX) {
                                        if (n_bad_escapes)
                                                (*n_bad_escapes)++;
                                        if (first_bad && !*first_bad)
                                                *first_bad = '\\';
                                }
                                break;
                        }
                        if (flags & EXTRACT_RETAIN_ESCAPE) {
                                if (buf_putc(&b, '\\') < 0 || buf_putc(&b, c) < 0)
                                        goto oom;
                        } else if (flags & EXTRACT_CUNESCAPE) {
                                uint32_t u;
                                bool eight_bit;
                                int k = cunescape_one(s, strlen(s), &u, &eight_bit);
                                if (k < 0) {
                                        if (!(flags & EXTRACT_CUNESCAPE_RELAX)) {
                                                r = -EINVAL;
                                                goto fail;
                                        }
                                        /* Keep it literally, as systemd does for Exec=. */
                                        if (buf_putc(&b, '\\') < 0 || buf_putc(&b, c) < 0)
                                                goto oom;
                                        if (n_bad_escapes)
                                                (*n_bad_escapes)++;
                                        if (first_bad && !*first_bad)
                                                *first_bad = c;
                                } else {
                                        if (buf_reserve(&b, 4) < 0)
                                                goto oom;
                                        if (eight_bit)
                                                b.data[b.len++] = (char) u;
                                        else
                                                b.len += utf8_encode_unichar(b.data + b.len, u);
                                        s += k - 1;
                                }
                        } else if (buf_putc(&b, c) < 0)
                                goto oom;
                        continue;
                }

                if (c == 0) {
                        if (quote && !(flags & EXTRACT_RELAX)) {
                                r = -EINVAL;
                                goto fail;
                        }
                        break;
                }
                if (c == '\\') {
                        backslash = true;
                        continue;
                }
                if (quote) {
                        if (c == quote)
                                quote = 0;
                        else if (buf_putc(&b, c) < 0)
                                goto oom;
                        continue;
                }
                if ((flags & EXTRACT_UNQUOTE) && (c == '\'' || c == '"')) {
                        quote = c;
                        have_word = true;
                        continue;
                }
                if (strchr(separators, c)) {
                        s++;
                        if (!(flags & EXTRACT_DONT_COALESCE_SEPARATORS))
                                s += strspn(s, separators);
                        break;
                }
                if (buf_putc(&b, c) < 0)
                        goto oom;
                have_word = true;
        }

        if (!have_word && b.len == 0 && !(flags & EXTRACT_DONT_COALESCE_SEPARATORS)) {
                free(b.data);
                *p = NULL;
                *ret = NULL;
                return 0;
        }
        if (buf_reserve(&b, 0) < 0)
                goto oom;
        b.data[b.len] = 0;
        *p = *s ? s : NULL;
        *ret = b.data;
        return 1;

oom:
        r = -ENOMEM;
fail:
        free(b.data);
        return r;
}

int extract_first_word(const char **p, char **ret, const char *separators, ExtractFlags flags) {
        return extract_first_word_full(p, ret, separators, flags, NULL, NULL);
}

char *format_bytes(char *buf, size_t l, uint64_t v, bool iec) {
        static const char suffix[] = "BKMGTPE";
        double d = (double) v;
        size_t i = 0;

        while (d >= 1024 && i < sizeof(suffix) - 2) {
                d /= 1024;
                i++;
        }
        if (i == 0)
                snprintf(buf, l, "%" PRIu64 "B", v);
        else
                snprintf(buf, l, "%.1f%c%s", d, suffix[i], iec ? "iB" : "");
        return buf;
}

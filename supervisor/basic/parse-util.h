/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value parsers with systemd's spelling rules. All return 0 (or the parsed value where noted) on
 * success and a negative errno on failure; ret_* is written only on success. */

/* 1/yes/y/true/t/on → 1, 0/no/n/false/f/off → 0 (case-insensitive), else -EINVAL. */
int parse_boolean(const char *v);

/* Decimal only: no sign, no whitespace, no "0x"; -ERANGE on overflow. */
int safe_atou(const char *s, unsigned *ret);
int safe_atou64(const char *s, uint64_t *ret);
int safe_atoi(const char *s, int *ret);

/* Bytes with an optional base-1024 suffix: "512", "1.5G", "64M", "512m", "2KiB", "1T"; "infinity"
 * gives UINT64_MAX. */
int parse_size(const char *s, uint64_t *ret);
/* The other way: "512B", "14.2M" (systemctl's form), or with iec "14.2MiB" (docker stats'). */
#define FORMAT_BYTES_MAX 16
char *format_bytes(char *buf, size_t l, uint64_t v, bool iec);

/* "SIGTERM", "TERM", "15", "SIGRTMIN+3", "RTMAX-1" → the signal number, else -EINVAL (like
 * systemd's signal_from_string()). */
int parse_signal(const char *s);
#define SIGNAL_NAME_MAX 16
/* "SIGTERM", "SIGRTMIN+3", or the number for signals without a name. */
const char *signal_to_string(int sig, char buf[static SIGNAL_NAME_MAX]);

/* "50%" → 50, 0..100. */
int parse_percent(const char *s);
/* "12.34%" → 1234 (hundredths of a percent), no upper bound (CPUQuota=200% is valid). */
int parse_permyriad_unbounded(const char *s);

typedef enum ExtractFlags {
        EXTRACT_RELAX = 1 << 0,           /* an unbalanced quote at the end is accepted */
        EXTRACT_CUNESCAPE = 1 << 1,       /* C escapes: \n \t \xNN \NNN \uXXXX … */
        EXTRACT_CUNESCAPE_RELAX = 1 << 2, /* an unknown escape is kept literally (and reported) */
        EXTRACT_UNQUOTE = 1 << 3,         /* '…' and "…" group words and are removed */
        EXTRACT_DONT_COALESCE_SEPARATORS = 1 << 4,
        EXTRACT_RETAIN_ESCAPE = 1 << 5, /* keep backslashes as they are */
} ExtractFlags;

#define WHITESPACE " \t\n\r"

/* Extracts the next word from *p, advancing *p past it and its separators. Returns 1 and a new
 * string in *ret, 0 at the end of input (*ret = NULL), or -EINVAL on bad quoting or escapes, or
 * -ENOMEM. separators NULL means whitespace. */
int extract_first_word(const char **p, char **ret, const char *separators, ExtractFlags flags);
/* The same; with EXTRACT_CUNESCAPE_RELAX every escape that had to be kept literally increments
 * *n_bad_escapes (if non-NULL), and the first one's character goes to *first_bad (if non-NULL and
 * still 0), so that the caller can warn as systemd and Quadlet do. */
int extract_first_word_full(const char **p, char **ret, const char *separators, ExtractFlags flags,
                            unsigned *n_bad_escapes, char *first_bad);

/* One C escape after the backslash at p (length bytes available). Returns the number of bytes
 * consumed and the code point in *ret (a raw byte when *ret_eight_bit), or -EINVAL. NUL is
 * refused. */
int cunescape_one(const char *p, size_t length, uint32_t *ret, bool *ret_eight_bit);

/* Encodes a code point as UTF-8 into out (at least 4 bytes); returns the length. */
size_t utf8_encode_unichar(char *out, uint32_t c);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Value parsers: booleans, integers, sizes, signals, percentages, time spans and systemd's word
 * splitting with quotes and escapes. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/strv.h"
#include "basic/time-util.h"

static void test_parse_boolean(void **state) {
        const char *yes[] = { "1", "yes", "YES", "y", "true", "True", "t", "on", "ON" };
        const char *no[] = { "0", "no", "n", "false", "FALSE", "f", "off" };
        const char *bad[] = { "", "2", "yess", "of", " yes", "yes ", "-1" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                assert_int_equal(parse_boolean(yes[i]), 1);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                assert_int_equal(parse_boolean(no[i]), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_boolean(bad[i]), -EINVAL);
        assert_int_equal(parse_boolean(NULL), -EINVAL);
}

static void test_safe_atou(void **state) {
        unsigned u = 7;
        uint64_t v = 7;
        int i = 7;

        assert_int_equal(safe_atou("0", &u), 0);
        assert_int_equal(u, 0);
        assert_int_equal(safe_atou("42", &u), 0);
        assert_int_equal(u, 42);
        assert_int_equal(safe_atou("4294967295", &u), 0);
        assert_int_equal(u, 4294967295U);
        u = 7;
        assert_int_equal(safe_atou("4294967296", &u), -ERANGE);
        assert_int_equal(safe_atou("-1", &u), -EINVAL);
        assert_int_equal(safe_atou(" 1", &u), -EINVAL);
        assert_int_equal(safe_atou("+1", &u), -EINVAL);
        assert_int_equal(safe_atou("1a", &u), -EINVAL);
        assert_int_equal(safe_atou("", &u), -EINVAL);
        assert_int_equal(safe_atou("0x10", &u), -EINVAL);
        assert_int_equal(u, 7); /* untouched on failure */

        assert_int_equal(safe_atou64("18446744073709551615", &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(safe_atou64("18446744073709551616", &v), -ERANGE);
        assert_int_equal(safe_atou64("99999999999999999999999", &v), -ERANGE);

        assert_int_equal(safe_atoi("-5", &i), 0);
        assert_int_equal(i, -5);
        assert_int_equal(safe_atoi("-2147483648", &i), 0);
        assert_int_equal(i, INT32_MIN);
        assert_int_equal(safe_atoi("2147483648", &i), -ERANGE);
        assert_int_equal(safe_atoi("--1", &i), -EINVAL);
}

static void test_format_bytes(void **state) {
        char b[FORMAT_BYTES_MAX];

        assert_string_equal(format_bytes(b, sizeof(b), 0, false), "0B");
        assert_string_equal(format_bytes(b, sizeof(b), 1023, true), "1023B");
        assert_string_equal(format_bytes(b, sizeof(b), 1024, false), "1.0K");
        assert_string_equal(format_bytes(b, sizeof(b), 1536, true), "1.5KiB");
        assert_string_equal(format_bytes(b, sizeof(b), UINT64_C(14889779), false), "14.2M");
        assert_string_equal(format_bytes(b, sizeof(b), UINT64_MAX, true), "16.0EiB");
}

static void test_parse_size(void **state) {
        static const struct {
                const char *s;
                uint64_t v;
        } good[] = {
                { "0", 0 },
                { "512", 512 },
                { "512B", 512 },
                { "1K", 1024 },
                { "1k", 1024 },
                { "2KiB", 2048 },
                { "64M", 64ULL << 20 },
                { "512m", 512ULL << 20 },
                { "512mb", 512ULL << 20 },
                { "1.5G", 3ULL << 29 },
                { "1 G", 1ULL << 30 },
                { "1T", 1ULL << 40 },
                { "2E", 2ULL << 60 },
                { "infinity", UINT64_MAX },
        };
        const char *bad[] = { "", "abc", "1Q", "-1", "1KK", "K", "1.5.5G", "1 G B", " 1" };
        uint64_t v = 7;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                assert_int_equal(parse_size(good[i].s, &v), 0);
                assert_true(v == good[i].v);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_size(bad[i], &v), -EINVAL);
        assert_int_equal(parse_size("16E", &v), -ERANGE);
        assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
}

static void test_parse_signal(void **state) {
        char buf[SIGNAL_NAME_MAX];

        assert_int_equal(parse_signal("SIGTERM"), SIGTERM);
        assert_int_equal(parse_signal("TERM"), SIGTERM);
        assert_int_equal(parse_signal("15"), SIGTERM);
        assert_int_equal(parse_signal("SIGKILL"), SIGKILL);
        assert_int_equal(parse_signal("HUP"), SIGHUP);
        assert_int_equal(parse_signal("SIGRTMIN"), SIGRTMIN);
        assert_int_equal(parse_signal("RTMIN+1"), SIGRTMIN + 1);
        assert_int_equal(parse_signal("SIGRTMAX-1"), SIGRTMAX - 1);
        assert_int_equal(parse_signal("64"), 64);
        assert_int_equal(parse_signal("0"), -EINVAL);
        assert_int_equal(parse_signal("65"), -EINVAL);
        assert_int_equal(parse_signal("SIGFOO"), -EINVAL);
        assert_int_equal(parse_signal("sigterm"), -EINVAL);
        assert_int_equal(parse_signal("RTMIN+99"), -EINVAL);
        assert_int_equal(parse_signal(""), -EINVAL);
        assert_int_equal(parse_signal("-9"), -EINVAL);

        assert_string_equal(signal_to_string(SIGTERM, buf), "SIGTERM");
        assert_string_equal(signal_to_string(SIGKILL, buf), "SIGKILL");
        assert_string_equal(signal_to_string(SIGRTMIN + 2, buf), "SIGRTMIN+2");
        assert_int_equal(parse_signal(signal_to_string(SIGRTMIN + 2, buf)), SIGRTMIN + 2);
}

static void test_parse_percent(void **state) {
        assert_int_equal(parse_percent("50%"), 50);
        assert_int_equal(parse_percent("0%"), 0);
        assert_int_equal(parse_percent("100%"), 100);
        assert_int_equal(parse_percent("101%"), -ERANGE);
        assert_int_equal(parse_percent("50"), -EINVAL);
        assert_int_equal(parse_percent("%"), -EINVAL);
        assert_int_equal(parse_percent("5.5%"), -EINVAL);
        assert_int_equal(parse_percent("50% "), -EINVAL);

        assert_int_equal(parse_permyriad_unbounded("50%"), 5000);
        assert_int_equal(parse_permyriad_unbounded("12.5%"), 1250);
        assert_int_equal(parse_permyriad_unbounded("12.34%"), 1234);
        assert_int_equal(parse_permyriad_unbounded("200%"), 20000);
        assert_int_equal(parse_permyriad_unbounded("1.234%"), -EINVAL);
        assert_int_equal(parse_permyriad_unbounded("1.%"), -EINVAL);
        assert_int_equal(parse_permyriad_unbounded("99999999999%"), -ERANGE);
}

static void test_parse_timespan(void **state) {
        static const struct {
                const char *s;
                usec_t v;
        } good[] = {
                { "90", 90 * USEC_PER_SEC },
                { "0", 0 },
                { "1min 30s", 90 * USEC_PER_SEC },
                { "1min30s", 90 * USEC_PER_SEC },
                { "100ms", 100 * USEC_PER_MSEC },
                { "1.5s", 1500 * USEC_PER_MSEC },
                { "2m3s", 123 * USEC_PER_SEC },
                { "5us", 5 },
                { "5μs", 5 },
                { "1h", USEC_PER_HOUR },
                { "1 d", USEC_PER_DAY },
                { "infinity", USEC_INFINITY },
        };
        const char *bad[] = { "", "abc", "5 parsecs", "s", "1secs" };
        usec_t v;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                assert_int_equal(parse_sec(good[i].s, &v), 0);
                assert_true(v == good[i].v);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse_sec(bad[i], &v), -EINVAL);
        assert_int_equal(parse_sec("-1", &v), -ERANGE);
        assert_int_equal(parse_sec("99999999999999999999y", &v), -ERANGE);
        /* Found by review: the fraction used to overflow past the whole-number check. */
        assert_int_equal(parse_timespan("18446744073709551614.9", 1, &v), -ERANGE);
}

/* Splits s completely with flags; returns the words or NULL on error (with *ret_r set). */
static char **split(const char *s, ExtractFlags flags, int *ret_r, unsigned *n_bad, char *first_bad) {
        char **l = NULL;
        const char *p = s;
        for (;;) {
                char *w;
                int r = extract_first_word_full(&p, &w, NULL, flags, n_bad, first_bad);
                if (r <= 0) {
                        *ret_r = r;
                        if (r < 0)
                                return strv_free(l);
                        return l ?: calloc(1, sizeof(char *));
                }
                assert_int_equal(strv_consume(&l, w), 0);
        }
}

#define EXEC_FLAGS (EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE | EXTRACT_CUNESCAPE_RELAX)

static void test_extract_quadlet_escapes(void **state) {
        /* Quadlet's escapes.container. */
        const char *in = "/some/path \"an arg\" \"a;b\\nc\\td'e\" a;b\\nc\\td 'a\"b' '\\110ello \\127orld'";
        unsigned n_bad = 0;
        char bad = 0;
        int r;
        char **l = split(in, EXEC_FLAGS, &r, &n_bad, &bad);

        assert_non_null(l);
        assert_int_equal(strv_length(l), 6);
        assert_string_equal(l[0], "/some/path");
        assert_string_equal(l[1], "an arg");
        assert_string_equal(l[2], "a;b\nc\td'e");
        assert_string_equal(l[3], "a;b\nc\td");
        assert_string_equal(l[4], "a\"b");
        assert_string_equal(l[5], "Hello World");
        assert_int_equal(n_bad, 0);
        strv_free(l);
}

static void test_extract_escapes(void **state) {
        unsigned n_bad = 0;
        char bad = 0;
        int r;
        char **l;

        l = split("\\x41\\102 \\u00e9 \\s \\a\\b\\f\\r\\v \\\\ \\\" \\'", EXEC_FLAGS, &r, &n_bad, &bad);
        assert_non_null(l);
        assert_int_equal(strv_length(l), 7);
        assert_string_equal(l[0], "AB");
        assert_string_equal(l[1], "\xc3\xa9");
        assert_string_equal(l[2], " ");
        assert_string_equal(l[3], "\a\b\f\r\v");
        assert_string_equal(l[4], "\\");
        assert_string_equal(l[5], "\"");
        assert_string_equal(l[6], "'");
        strv_free(l);

        /* Unknown escapes: kept literally and counted in relaxed mode, an error otherwise. */
        l = split("/bin/x \"\\^\" a\\qb", EXEC_FLAGS, &r, &n_bad, &bad);
        assert_non_null(l);
        assert_string_equal(l[1], "\\^");
        assert_string_equal(l[2], "a\\qb");
        assert_int_equal(n_bad, 2);
        assert_int_equal(bad, '^');
        strv_free(l);
        l = split("a\\qb", EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &r, NULL, NULL);
        assert_null(l);
        assert_int_equal(r, -EINVAL);

        /* NUL is never produced, malformed \x is an error. */
        l = split("a\\x00b", EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &r, NULL, NULL);
        assert_null(l);
        assert_int_equal(r, -EINVAL);
        l = split("a\\000b", EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &r, NULL, NULL);
        assert_null(l);
        l = split("a\\x4", EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &r, NULL, NULL);
        assert_null(l);

        /* Without CUNESCAPE a backslash just protects the next character. */
        l = split("a\\ b c", EXTRACT_UNQUOTE, &r, NULL, NULL);
        assert_non_null(l);
        assert_int_equal(strv_length(l), 2);
        assert_string_equal(l[0], "a b");
        strv_free(l);
}

static void test_extract_quotes(void **state) {
        int r;
        char **l;

        l = split("  one\t\"two three\"  'four \"five\"' x\"y z\"w \"\" ''  ", EXTRACT_UNQUOTE, &r, NULL, NULL);
        assert_non_null(l);
        assert_int_equal(strv_length(l), 6);
        assert_string_equal(l[0], "one");
        assert_string_equal(l[1], "two three");
        assert_string_equal(l[2], "four \"five\"");
        assert_string_equal(l[3], "xy zw");
        assert_string_equal(l[4], "");
        assert_string_equal(l[5], "");
        strv_free(l);

        /* Unbalanced quotes are an error unless relaxed. */
        l = split("a \"b c", EXTRACT_UNQUOTE, &r, NULL, NULL);
        assert_null(l);
        assert_int_equal(r, -EINVAL);
        l = split("a \"b c", EXTRACT_UNQUOTE | EXTRACT_RELAX, &r, NULL, NULL);
        assert_non_null(l);
        assert_string_equal(l[1], "b c");
        strv_free(l);

        /* Without UNQUOTE, quotes are data. */
        l = split("'a b'", 0, &r, NULL, NULL);
        assert_non_null(l);
        assert_int_equal(strv_length(l), 2);
        assert_string_equal(l[0], "'a");
        strv_free(l);

        /* Trailing backslash. */
        l = split("a\\", EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, &r, NULL, NULL);
        assert_null(l);
        l = split("a\\", EXEC_FLAGS, &r, NULL, NULL);
        assert_non_null(l);
        assert_string_equal(l[0], "a\\");
        strv_free(l);

        /* Empty and whitespace-only input. */
        l = split("", EXTRACT_UNQUOTE, &r, NULL, NULL);
        assert_non_null(l);
        assert_int_equal(strv_length(l), 0);
        strv_free(l);
        l = split(" \t ", EXTRACT_UNQUOTE, &r, NULL, NULL);
        assert_int_equal(strv_length(l), 0);
        strv_free(l);
}

static void test_extract_separators(void **state) {
        const char *p = "a:b::c";
        char *w;

        assert_int_equal(extract_first_word(&p, &w, ":", 0), 1);
        assert_string_equal(w, "a");
        free(w);
        assert_int_equal(extract_first_word(&p, &w, ":", 0), 1);
        assert_string_equal(w, "b");
        free(w);
        assert_int_equal(extract_first_word(&p, &w, ":", 0), 1);
        assert_string_equal(w, "c");
        free(w);
        assert_int_equal(extract_first_word(&p, &w, ":", 0), 0);
        assert_null(w);
        assert_null(p);
}

static void test_extract_long(void **state) {
        /* A 1 MB word is linear work, not quadratic. */
        size_t n = 1 << 20;
        char *s = malloc(n + 1), *w;
        const char *p = s;
        memset(s, 'x', n);
        s[n] = 0;
        assert_int_equal(extract_first_word(&p, &w, NULL, EXEC_FLAGS), 1);
        assert_int_equal(strlen(w), n);
        free(w);
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_boolean),      cmocka_unit_test(test_safe_atou),
                cmocka_unit_test(test_parse_size),         cmocka_unit_test(test_format_bytes),
                cmocka_unit_test(test_parse_signal),       cmocka_unit_test(test_parse_percent),
                cmocka_unit_test(test_parse_timespan),     cmocka_unit_test(test_extract_quadlet_escapes),
                cmocka_unit_test(test_extract_escapes),    cmocka_unit_test(test_extract_quotes),
                cmocka_unit_test(test_extract_separators), cmocka_unit_test(test_extract_long),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

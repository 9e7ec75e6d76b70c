/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pure parts of the supervision core: restart decision table, backoff arithmetic, start limit,
 * time spans, string vectors, string tables, directory iteration and the JSON writer. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "basic/dirent-util.h"
#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/string-table.h"
#include "basic/strv.h"
#include "basic/time-util.h"
#include "restart.h"

static void test_exit_kind(void **state) {
        ExitStatusSet none = {}, success = {};

        success.status[0] |= UINT64_C(1) << 3;          /* SuccessExitStatus=3 */
        success.signal |= UINT64_C(1) << (SIGUSR1 - 1); /* SuccessExitStatus=SIGUSR1 */

        assert_int_equal(exit_kind_classify(CLD_EXITED, 0, &none), EXIT_KIND_CLEAN);
        assert_int_equal(exit_kind_classify(CLD_EXITED, 1, &none), EXIT_KIND_UNCLEAN_CODE);
        assert_int_equal(exit_kind_classify(CLD_EXITED, 3, &none), EXIT_KIND_UNCLEAN_CODE);
        assert_int_equal(exit_kind_classify(CLD_EXITED, 3, &success), EXIT_KIND_CLEAN);
        assert_int_equal(exit_kind_classify(CLD_KILLED, SIGTERM, &none), EXIT_KIND_CLEAN);
        assert_int_equal(exit_kind_classify(CLD_KILLED, SIGHUP, &none), EXIT_KIND_CLEAN);
        assert_int_equal(exit_kind_classify(CLD_KILLED, SIGINT, &none), EXIT_KIND_CLEAN);
        assert_int_equal(exit_kind_classify(CLD_KILLED, SIGPIPE, &none), EXIT_KIND_CLEAN);
        assert_int_equal(exit_kind_classify(CLD_KILLED, SIGKILL, &none), EXIT_KIND_UNCLEAN_SIGNAL);
        assert_int_equal(exit_kind_classify(CLD_KILLED, SIGUSR1, &none), EXIT_KIND_UNCLEAN_SIGNAL);
        assert_int_equal(exit_kind_classify(CLD_KILLED, SIGUSR1, &success), EXIT_KIND_CLEAN);
        assert_int_equal(exit_kind_classify(CLD_KILLED, SIGABRT, &none), EXIT_KIND_ABORT);
        assert_int_equal(exit_kind_classify(CLD_DUMPED, SIGSEGV, &none), EXIT_KIND_ABORT);
}

/* systemd.service(5), table 2: which exit causes restart under which Restart= value. Rows are the
 * exit kinds in the ExitKind order, columns the policies in RestartPolicy order. */
static void test_restart_table(void **state) {
        static const bool table[_EXIT_KIND_MAX][_RESTART_POLICY_MAX] = {
                /*                        no     on-suc on-fail on-abn on-wd  on-abrt always */
                [EXIT_KIND_CLEAN] = { false, true, false, false, false, false, true },
                [EXIT_KIND_UNCLEAN_CODE] = { false, false, true, false, false, false, true },
                [EXIT_KIND_UNCLEAN_SIGNAL] = { false, false, true, true, false, true, true },
                [EXIT_KIND_ABORT] = { false, false, true, true, false, true, true },
                [EXIT_KIND_TIMEOUT] = { false, false, true, true, false, false, true },
                [EXIT_KIND_WATCHDOG] = { false, false, true, true, true, false, true },
                [EXIT_KIND_OOM] = { false, false, true, true, false, false, true },
        };

        for (int k = 0; k < _EXIT_KIND_MAX; k++)
                for (int p = 0; p < _RESTART_POLICY_MAX; p++) {
                        bool got = restart_policy_allows((RestartPolicy) p, (ExitKind) k, CLD_EXITED, 1, NULL);
                        if (got != table[k][p])
                                fail_msg("kind %d policy %s: expected %d got %d", k,
                                         restart_policy_to_string((RestartPolicy) p), table[k][p], got);
                }
}

static void test_restart_prevent(void **state) {
        ExitStatusSet prevent = {};

        prevent.status[0] |= UINT64_C(1) << 42;
        prevent.signal |= UINT64_C(1) << (SIGKILL - 1);
        assert_false(restart_policy_allows(RESTART_ALWAYS, EXIT_KIND_UNCLEAN_CODE, CLD_EXITED, 42, &prevent));
        assert_true(restart_policy_allows(RESTART_ALWAYS, EXIT_KIND_UNCLEAN_CODE, CLD_EXITED, 41, &prevent));
        assert_false(
                restart_policy_allows(RESTART_ON_FAILURE, EXIT_KIND_UNCLEAN_SIGNAL, CLD_KILLED, SIGKILL, &prevent));
        assert_true(
                restart_policy_allows(RESTART_ON_FAILURE, EXIT_KIND_UNCLEAN_SIGNAL, CLD_KILLED, SIGSEGV, &prevent));
        /* Exit status 9 is not signal 9. */
        assert_true(restart_policy_allows(RESTART_ON_FAILURE, EXIT_KIND_UNCLEAN_CODE, CLD_EXITED, 9, &prevent));
}

static void test_restart_delay(void **state) {
        const usec_t ms = USEC_PER_MSEC;

        /* Without steps every delay is RestartSec=. */
        assert_int_equal(restart_delay(100 * ms, 0, USEC_INFINITY, 1), 100 * ms);
        assert_int_equal(restart_delay(100 * ms, 0, USEC_INFINITY, 7), 100 * ms);
        /* Steps without a maximum (or a maximum not above RestartSec) are ignored, like systemd. */
        assert_int_equal(restart_delay(100 * ms, 5, USEC_INFINITY, 3), 100 * ms);
        assert_int_equal(restart_delay(100 * ms, 5, 50 * ms, 3), 100 * ms);

        /* RestartSec=100ms RestartSteps=4 RestartMaxDelaySec=1600ms: ratio 16, so each step is x2. */
        assert_int_equal(restart_delay(100 * ms, 4, 1600 * ms, 1), 100 * ms);
        assert_int_equal(restart_delay(100 * ms, 4, 1600 * ms, 2), 200 * ms);
        assert_int_equal(restart_delay(100 * ms, 4, 1600 * ms, 3), 400 * ms);
        assert_int_equal(restart_delay(100 * ms, 4, 1600 * ms, 4), 800 * ms);
        assert_int_equal(restart_delay(100 * ms, 4, 1600 * ms, 5), 1600 * ms);
        assert_int_equal(restart_delay(100 * ms, 4, 1600 * ms, 50), 1600 * ms);

        /* 1s to 1min in 3 steps: 1s, 60^(1/3)s, 60^(2/3)s, then 60s. */
        assert_int_equal(restart_delay(USEC_PER_SEC, 3, 60 * USEC_PER_SEC, 2) / ms, 3914);
        assert_int_equal(restart_delay(USEC_PER_SEC, 3, 60 * USEC_PER_SEC, 3) / ms, 15326);
        assert_int_equal(restart_delay(USEC_PER_SEC, 3, 60 * USEC_PER_SEC, 4), 60 * USEC_PER_SEC);
}

static void test_start_limit(void **state) {
        StartLimit l = {};
        usec_t t = 1000 * USEC_PER_SEC, interval = 10 * USEC_PER_SEC;

        /* Five starts within 10s pass, the sixth is refused... */
        for (int i = 0; i < 5; i++)
                assert_true(start_limit_test(&l, interval, 5, t + (usec_t) i * USEC_PER_SEC));
        assert_false(start_limit_test(&l, interval, 5, t + 5 * USEC_PER_SEC));
        assert_false(start_limit_test(&l, interval, 5, t + 9 * USEC_PER_SEC));
        /* ...until the interval has passed. */
        assert_true(start_limit_test(&l, interval, 5, t + 10 * USEC_PER_SEC));
        /* A reset clears it at once. */
        for (int i = 0; i < 5; i++)
                (void) start_limit_test(&l, interval, 5, t + 11 * USEC_PER_SEC);
        assert_false(start_limit_test(&l, interval, 5, t + 11 * USEC_PER_SEC));
        start_limit_reset(&l);
        assert_true(start_limit_test(&l, interval, 5, t + 11 * USEC_PER_SEC));
        /* Burst 0 or interval 0 disables it. */
        for (int i = 0; i < 100; i++)
                assert_true(start_limit_test(&l, 0, 5, t));
}

static void test_timespan(void **state) {
        usec_t u;
        char buf[FORMAT_TIMESPAN_MAX];

        assert_int_equal(parse_sec("90", &u), 0);
        assert_int_equal(u, 90 * USEC_PER_SEC);
        assert_int_equal(parse_sec("100ms", &u), 0);
        assert_int_equal(u, 100 * USEC_PER_MSEC);
        assert_int_equal(parse_sec("1min 30s", &u), 0);
        assert_int_equal(u, 90 * USEC_PER_SEC);
        assert_int_equal(parse_sec("2m3s", &u), 0);
        assert_int_equal(u, 123 * USEC_PER_SEC);
        assert_int_equal(parse_sec("1.5s", &u), 0);
        assert_int_equal(u, 1500 * USEC_PER_MSEC);
        assert_int_equal(parse_sec("infinity", &u), 0);
        assert_true(u == USEC_INFINITY);
        assert_int_equal(parse_sec("", &u), -EINVAL);
        assert_int_equal(parse_sec("5 parsecs", &u), -EINVAL);
        assert_int_equal(parse_sec("-1", &u), -ERANGE);
        assert_int_equal(parse_sec("99999999999999999999", &u), -ERANGE);

        assert_string_equal(format_timespan(buf, sizeof(buf), 90 * USEC_PER_SEC, USEC_PER_SEC), "1min 30s");
        assert_string_equal(format_timespan(buf, sizeof(buf), 1500 * USEC_PER_MSEC, USEC_PER_MSEC), "1.500s");
        assert_string_equal(format_timespan(buf, sizeof(buf), 100 * USEC_PER_MSEC, USEC_PER_MSEC), "100ms");
        assert_string_equal(format_timespan(buf, sizeof(buf), 0, USEC_PER_SEC), "0");
}

static void test_strv(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *j = NULL;

        assert_int_equal(strv_extend(&l, "A=1"), 0);
        assert_int_equal(strv_extend(&l, "B=2"), 0);
        assert_int_equal(strv_env_set(&l, "A=3"), 0);
        assert_int_equal(strv_length(l), 2);
        assert_string_equal(strv_env_get(l, "A"), "3");
        assert_null(strv_env_get(l, "C"));
        j = strv_join(l, ",");
        assert_string_equal(j, "A=3,B=2");
}

/* A table with a hole, as enums grow: the hole has no name and no name finds it. */
typedef enum Fruit {
        FRUIT_APPLE,
        FRUIT_UNNAMED,
        FRUIT_PEAR,
        _FRUIT_MAX,
        _FRUIT_INVALID = -EINVAL,
} Fruit;

static const char *const fruit_table[_FRUIT_MAX] = {
        [FRUIT_APPLE] = "apple",
        [FRUIT_PEAR] = "pear",
};

DEFINE_PRIVATE_STRING_TABLE_LOOKUP(fruit, Fruit);

static void test_string_table(void **state) {
        assert_string_equal(fruit_to_string(FRUIT_APPLE), "apple");
        assert_string_equal(fruit_to_string(FRUIT_PEAR), "pear");
        assert_null(fruit_to_string(FRUIT_UNNAMED));
        assert_null(fruit_to_string(_FRUIT_MAX));
        assert_null(fruit_to_string(_FRUIT_INVALID));

        assert_int_equal(fruit_from_string("apple"), FRUIT_APPLE);
        assert_int_equal(fruit_from_string("pear"), FRUIT_PEAR);
        assert_int_equal(fruit_from_string("Pear"), _FRUIT_INVALID);
        assert_int_equal(fruit_from_string(""), _FRUIT_INVALID);
        assert_int_equal(fruit_from_string(NULL), _FRUIT_INVALID);

        /* Every name reads back as itself, for the tables the unit parser uses. */
        for (int p = 0; p < _RESTART_POLICY_MAX; p++)
                assert_int_equal(restart_policy_from_string(restart_policy_to_string((RestartPolicy) p)), p);
        assert_int_equal(restart_policy_from_string("sometimes"), _RESTART_POLICY_INVALID);
        assert_string_equal(restart_policy_to_string(RESTART_ON_ABNORMAL), "on-abnormal");
}

static unsigned count_entries(DIR *d, bool *saw_dot) {
        unsigned n = 0;
        FOREACH_DIRENT (de, d) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        *saw_dot = true;
                n++;
        }
        return n;
}

static void test_dirent(void **state) {
        char tmp[] = "/tmp/test-basic-XXXXXX";
        _cleanup_close_ int fd = -EBADF;
        bool saw_dot = false;
        DIR *d = NULL;

        assert_non_null(mkdtemp(tmp));
        fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(mkdirat(fd, "sub", 0700), 0);
        assert_int_equal(write_file_atomic(fd, "a", "x", 1, 0600), 0);
        assert_int_equal(write_file_atomic(fd, "b", "x", 1, 0600), 0);

        /* Two passes over one directory fd: each DIR* has its own offset, so both see everything. */
        for (int pass = 0; pass < 2; pass++) {
                assert_int_equal(opendir_at(fd, ".", 0, &d), 0);
                assert_true(fcntl(dirfd(d), F_GETFD) & FD_CLOEXEC);
                assert_int_equal(count_entries(d, &saw_dot), 3);
                closedir(d);
        }
        assert_false(saw_dot);

        assert_int_equal(opendir_at(AT_FDCWD, tmp, 0, &d), 0);
        assert_int_equal(count_entries(d, &saw_dot), 3);
        closedir(d);
        assert_int_equal(opendir_at(fd, "sub", O_NOFOLLOW, &d), 0);
        assert_int_equal(count_entries(d, &saw_dot), 0);
        closedir(d);

        d = NULL;
        assert_int_equal(opendir_at(fd, "missing", 0, &d), -ENOENT);
        assert_int_equal(opendir_at(fd, "a", 0, &d), -ENOTDIR);
        assert_int_equal(symlinkat("sub", fd, "link"), 0);
        assert_int_equal(opendir_at(fd, "link", 0, &d), 0);
        closedir(d);
        d = NULL;
        /* With O_DIRECTORY, the kernel reports a refused symlink as ENOTDIR, not ELOOP. */
        assert_int_equal(opendir_at(fd, "link", O_NOFOLLOW, &d), -ENOTDIR);
        assert_null(d); /* ret_* untouched on failure */

        assert_int_equal(rm_rf_at(AT_FDCWD, tmp), 0);
        assert_int_equal(access(tmp, F_OK), -1);
}

static void test_json(void **state) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        JsonWriter w;
        char *const l[] = { "a", "b\"c", NULL };

        assert_non_null(f);
        json_init(&w, f);
        json_begin_object(&w);
        json_key(&w, "s");
        json_string(&w, "x\ny\x01\xff");
        json_key(&w, "n");
        json_uint(&w, 42);
        json_key(&w, "l");
        json_strv(&w, l);
        json_key(&w, "b");
        json_bool(&w, true);
        json_end_object(&w);
        fclose(f);
        assert_string_equal(buf, "{\"s\":\"x\\ny\\u0001\\ufffd\",\"n\":42,\"l\":[\"a\",\"b\\\"c\"],\"b\":true}\n");
        free(buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_kind),
                cmocka_unit_test(test_restart_table),
                cmocka_unit_test(test_restart_prevent),
                cmocka_unit_test(test_restart_delay),
                cmocka_unit_test(test_start_limit),
                cmocka_unit_test(test_timespan),
                cmocka_unit_test(test_strv),
                cmocka_unit_test(test_string_table),
                cmocka_unit_test(test_dirent),
                cmocka_unit_test(test_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

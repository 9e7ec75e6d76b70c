/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The instance state record (state.c): round trip, damaged and hostile records, run ids, and the
 * process start time that tells a reused pid from the container's. No root needed. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "state.h"

static int dir_fd = -EBADF;
static char dir[] = "/tmp/test-state.XXXXXX";

static int setup(void **state) {
        assert_non_null(mkdtemp(dir));
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return dir_fd < 0;
}

static int teardown(void **state) {
        safe_close(dir_fd);
        return rm_rf_at(AT_FDCWD, dir) < 0;
}

static void put(const char *content) {
        assert_int_equal(write_file_replace(dir_fd, STATE_RECORD_FILE, content, strlen(content), 0600), 0);
}

static void test_run_id(void **state) {
        char a[RUN_ID_LEN + 1], b[RUN_ID_LEN + 1];

        assert_int_equal(run_id_new(a), 0);
        assert_int_equal(run_id_new(b), 0);
        assert_int_equal(strlen(a), RUN_ID_LEN);
        assert_int_equal(run_id_valid(a), 0);
        assert_string_not_equal(a, b);
        assert_int_equal(run_id_valid("0123456789abcdef"), 0);
        assert_int_equal(run_id_valid("0123456789ABCDEF"), -EINVAL);
        assert_int_equal(run_id_valid("0123456789abcde"), -EINVAL);
        assert_int_equal(run_id_valid("../../etc/passwd"), -EINVAL);
        assert_int_equal(run_id_valid(""), -EINVAL);
        assert_int_equal(run_id_valid(NULL), -EINVAL);
}

static void test_round_trip(void **state) {
        StateRecord in = { .unit = (char *) "web@2",
                           .pid = 4242,
                           .start_time = 123456789,
                           .cgroup = (char *) "/sys/fs/cgroup/supd/web@2",
                           .config_hash = UINT64_C(0xfedcba9876543210),
                           .image = (char *) "busybox:latest" },
                    out = {};

        memcpy(in.run_id, "00112233aabbccdd", RUN_ID_LEN + 1);
        assert_int_equal(state_record_write(dir_fd, &in), 0);
        assert_int_equal(state_record_read(dir_fd, &out), 0);
        assert_string_equal(out.run_id, in.run_id);
        assert_string_equal(out.unit, "web@2");
        assert_int_equal(out.pid, 4242);
        assert_true(out.start_time == 123456789);
        assert_string_equal(out.cgroup, in.cgroup);
        assert_true(out.config_hash == in.config_hash);
        assert_string_equal(out.image, "busybox:latest");
        assert_null(out.rootfs);
        state_record_done(&out);

        /* Without the optional keys. */
        in.cgroup = in.image = NULL;
        in.rootfs = (char *) "/srv/root";
        assert_int_equal(state_record_write(dir_fd, &in), 0);
        assert_int_equal(state_record_read(dir_fd, &out), 0);
        assert_null(out.cgroup);
        assert_null(out.image);
        assert_string_equal(out.rootfs, "/srv/root");
        state_record_done(&out);
}

static void test_refuses_to_write(void **state) {
        StateRecord in = { .unit = (char *) "web", .pid = 1, .rootfs = (char *) "/a\nPID=1" };

        memcpy(in.run_id, "00112233aabbccdd", RUN_ID_LEN + 1);
        /* A newline in a value would forge a key. */
        assert_int_equal(state_record_write(dir_fd, &in), -EINVAL);
        in.rootfs = NULL;
        in.pid = 0;
        assert_int_equal(state_record_write(dir_fd, &in), -EINVAL);
        in.pid = 1;
        memcpy(in.run_id, "not-a-run-id!!!!", RUN_ID_LEN + 1);
        assert_int_equal(state_record_write(dir_fd, &in), -EINVAL);
}

static void test_damaged(void **state) {
        static const char *const bad[] = {
                "",
                "garbage",
                "RUN_ID=00112233aabbccdd\nUNIT=web\nPID=12\n",     /* no START_TIME */
                "RUN_ID=00112233aabbccdd\nPID=12\nSTART_TIME=5\n", /* no UNIT */
                "RUN_ID=../../../etc\nUNIT=web\nPID=12\nSTART_TIME=5\n",
                "RUN_ID=00112233aabbccdd\nUNIT=web\nPID=-1\nSTART_TIME=5\n",
                "RUN_ID=00112233aabbccdd\nUNIT=web\nPID=0\nSTART_TIME=5\n",
                "RUN_ID=00112233aabbccdd\nUNIT=web\nPID=99999999999\nSTART_TIME=5\n",
                "RUN_ID=00112233aabbccdd\nUNIT=web\nPID=12\nSTART_TIME=5x\n",
                "RUN_ID=00112233aabbccdd\nUNIT=web\nPID=12\nSTART_TIME=5\nCONFIG_HASH=zz\n",
        };
        StateRecord out = {};

        (void) unlinkat(dir_fd, STATE_RECORD_FILE, 0);
        assert_int_equal(state_record_read(dir_fd, &out), -ENOENT);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                put(bad[i]);
                assert_int_equal(state_record_read(dir_fd, &out), -EBADMSG);
        }
        /* A key of a newer supd is skipped. */
        put("RUN_ID=00112233aabbccdd\nUNIT=web\nPID=12\nSTART_TIME=5\nNETNS=/run/netns/x\n");
        assert_int_equal(state_record_read(dir_fd, &out), 0);
        assert_int_equal(out.pid, 12);
        state_record_done(&out);
}

static void test_start_time(void **state) {
        uint64_t a = 0, b = 0;

        assert_int_equal(proc_start_time(getpid(), &a), 0);
        assert_int_equal(proc_start_time(getpid(), &b), 0);
        assert_true(a == b);
        assert_true(a > 0);
        assert_int_equal(proc_start_time(1, &b), 0);
        assert_true(b <= a);
        assert_int_equal(proc_start_time(0x7ffffff0, &b), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_run_id),           cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_refuses_to_write), cmocka_unit_test(test_damaged),
                cmocka_unit_test(test_start_time),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unit state machine without processes: exits are fed in through unit_process_exited(), so
 * every transition of the restart engine can be checked deterministically and without root. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "manager.h"

static char tmpdir[] = "/tmp/test-unit-state.XXXXXX";

static Unit *make_unit(Manager *m, const char *name, const char *service) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        UnitLoadContext ctx = { .hostname = "h", .machine_id = "0123456789abcdef0123456789abcdef" };
        UnitFile *f = NULL;
        Unit *u;
        FILE *fp;

        assert_true(asprintf(&path, "%s/%s.container", tmpdir, name) > 0);
        assert_true(asprintf(&text, "[Container]\nRootfs=/\nExec=/bin/true\n[Service]\n%s\n", service) > 0);
        fp = fopen(path, "we");
        assert_non_null(fp);
        fputs(text, fp);
        fclose(fp);
        assert_int_equal(unit_file_load_path(&ctx, path, &f), 0);
        assert_int_equal(f->n_errors, 0);
        u = unit_new(m, name, name, NULL);
        assert_non_null(u);
        u->file = f;
        return u;
}

static Manager *make_manager(void) {
        Manager *m = NULL;
        assert_int_equal(manager_new(tmpdir, &m), 0);
        return m;
}

static void test_exit_restart(void **state) {
        _cleanup_(manager_freep) Manager *m = make_manager();
        Unit *u = make_unit(m, "a", "Restart=on-failure");

        unit_set_state(u, UNIT_RUNNING);
        assert_true(u->active_enter_realtime > 0);

        /* exit 1 under on-failure: auto-restart with a timer armed */
        unit_process_exited(u, CLD_EXITED, 1, false);
        assert_int_equal(u->state, UNIT_AUTO_RESTART);
        assert_int_equal(u->result, UNIT_RESULT_EXIT_CODE);
        assert_non_null(u->timer_source);
        assert_true(unit_is_active(u));

        /* a stop during auto-restart cancels it for good */
        assert_int_equal(unit_stop(u), 0);
        assert_int_equal(u->state, UNIT_INACTIVE);
        assert_null(u->timer_source);
        assert_true(u->stop_requested);
        unit_free(u);
}

static void test_exit_no_restart(void **state) {
        _cleanup_(manager_freep) Manager *m = make_manager();
        Unit *u = make_unit(m, "b", "Restart=on-failure");

        unit_set_state(u, UNIT_RUNNING);
        unit_process_exited(u, CLD_EXITED, 0, false);
        assert_int_equal(u->state, UNIT_INACTIVE);
        assert_int_equal(u->result, UNIT_RESULT_SUCCESS);
        assert_null(u->timer_source);

        u->file->settings.restart = RESTART_NO;
        unit_set_state(u, UNIT_RUNNING);
        unit_process_exited(u, CLD_KILLED, SIGSEGV, false);
        assert_int_equal(u->state, UNIT_FAILED);
        assert_int_equal(u->result, UNIT_RESULT_SIGNAL);
        assert_int_equal(u->exit_code, CLD_KILLED);
        assert_int_equal(u->exit_status, SIGSEGV);

        /* reset-failed: back to inactive, counters cleared */
        u->n_restarts = 3;
        unit_reset_failed(u);
        assert_int_equal(u->state, UNIT_INACTIVE);
        assert_int_equal(u->n_restarts, 0);
        unit_free(u);
}

static void test_stopping(void **state) {
        _cleanup_(manager_freep) Manager *m = make_manager();
        Unit *u = make_unit(m, "c", "Restart=always");

        /* The stop signal ending the process is a clean stop, and no restart follows. */
        unit_set_state(u, UNIT_RUNNING);
        unit_set_state(u, UNIT_STOPPING);
        u->stop_requested = true;
        unit_process_exited(u, CLD_KILLED, SIGTERM, false);
        assert_int_equal(u->state, UNIT_INACTIVE);
        assert_int_equal(u->result, UNIT_RESULT_SUCCESS);

        /* SIGKILL after the stop timeout: failed with result timeout, still no restart. */
        unit_set_state(u, UNIT_RUNNING);
        unit_set_state(u, UNIT_STOPPING);
        u->sigkill_sent = true;
        unit_process_exited(u, CLD_KILLED, SIGKILL, false);
        assert_int_equal(u->state, UNIT_FAILED);
        assert_int_equal(u->result, UNIT_RESULT_TIMEOUT);
        assert_null(u->timer_source);

        /* A non-zero exit during the stop is a failure, as in systemd. */
        u->sigkill_sent = false;
        unit_set_state(u, UNIT_RUNNING);
        unit_set_state(u, UNIT_STOPPING);
        unit_process_exited(u, CLD_EXITED, 3, false);
        assert_int_equal(u->state, UNIT_FAILED);
        assert_int_equal(u->result, UNIT_RESULT_EXIT_CODE);
        unit_free(u);
}

static void test_oom(void **state) {
        _cleanup_(manager_freep) Manager *m = make_manager();
        Unit *u = make_unit(m, "e", "Restart=on-failure");

        /* An OOM kill is a failure: on-failure restarts, and the result says why. */
        unit_set_state(u, UNIT_RUNNING);
        unit_process_exited(u, CLD_KILLED, SIGKILL, true);
        assert_int_equal(u->state, UNIT_AUTO_RESTART);
        assert_int_equal(u->result, UNIT_RESULT_OOM_KILL);
        assert_int_equal(unit_stop(u), 0);

        /* on-abort covers signals, not the OOM killer (systemd's table). */
        u->file->settings.restart = RESTART_ON_ABORT;
        unit_set_state(u, UNIT_RUNNING);
        unit_process_exited(u, CLD_KILLED, SIGKILL, true);
        assert_int_equal(u->state, UNIT_FAILED);
        assert_int_equal(u->result, UNIT_RESULT_OOM_KILL);
        unit_free(u);
}

static void test_start_limit_hit(void **state) {
        _cleanup_(manager_freep) Manager *m = make_manager();
        Unit *u = make_unit(m, "d", "Restart=always");
        char *error = NULL;

        /* Exhaust the limit without spawning: the next start is refused and the unit fails. */
        for (unsigned i = 0; i < u->file->settings.start_limit_burst; i++)
                assert_true(start_limit_test(&u->start_limit, u->file->settings.start_limit_interval,
                                             u->file->settings.start_limit_burst, now_usec(CLOCK_MONOTONIC)));
        assert_int_equal(unit_start(u, true, &error), -EAGAIN);
        assert_string_equal(error, "start request repeated too quickly");
        free(error);
        assert_int_equal(u->state, UNIT_FAILED);
        assert_int_equal(u->result, UNIT_RESULT_START_LIMIT_HIT);
        unit_reset_failed(u);
        assert_int_equal(u->start_limit.num, 0);
        unit_free(u);
}

static void test_strings(void **state) {
        for (int s = 0; s < _UNIT_STATE_MAX; s++) {
                assert_non_null(unit_state_to_string((UnitState) s));
                assert_non_null(unit_active_state_to_string((UnitState) s));
        }
        for (int r = 0; r < _UNIT_RESULT_MAX; r++)
                assert_non_null(unit_result_to_string((UnitResult) r));
        assert_null(unit_state_to_string(_UNIT_STATE_MAX));
        assert_string_equal(unit_active_state_to_string(UNIT_AUTO_RESTART), "activating");
}

static int setup(void **state) {
        log_set_max_level(LOG_WARNING);
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf_at(AT_FDCWD, tmpdir) < 0 ? -1 : 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_restart),    cmocka_unit_test(test_exit_no_restart),
                cmocka_unit_test(test_stopping),        cmocka_unit_test(test_oom),
                cmocka_unit_test(test_start_limit_hit), cmocka_unit_test(test_strings),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

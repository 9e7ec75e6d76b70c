/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unit-file loader: syntax, drop-ins, templates, specifiers, every documented error and
 * warning, hostile files, verify --json and the configuration hash. Each test writes its files into
 * a fresh mkdtemp() tree with three search directories (etc > run > usr). */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "reconcile.h"
#include "unitfile/unit-settings.h"

static char tmp[256];
static char *dirs[4];
static UnitLoadContext ctx;

static int setup(void **state) {
        snprintf(tmp, sizeof(tmp), "/tmp/supd-test-unit-XXXXXX");
        if (!mkdtemp(tmp))
                return -1;
        const char *sub[] = { "etc", "run", "usr" };
        for (int i = 0; i < 3; i++) {
                dirs[i] = path_join(tmp, sub[i]);
                if (!dirs[i] || mkdir_p(dirs[i], 0755) < 0)
                        return -1;
        }
        dirs[3] = NULL;
        ctx = (UnitLoadContext){ .search_path = dirs,
                                 .hostname = "testhost",
                                 .machine_id = "0123456789abcdef0123456789abcdef" };
        return 0;
}

static int teardown(void **state) {
        (void) rm_rf_at(AT_FDCWD, tmp);
        for (int i = 0; i < 3; i++)
                free(dirs[i]);
        return 0;
}

/* Writes dirs[d]/name (creating parent directories); d = 0 etc, 1 run, 2 usr. */
static void put_n(int d, const char *name, const char *content, size_t n) {
        _cleanup_free_ char *p = path_join(dirs[d], name);
        char *slash = strrchr(p, '/');
        _cleanup_close_ int fd = -EBADF;

        *slash = 0;
        assert_int_equal(mkdir_p(p, 0755), 0);
        *slash = '/';
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_true(write(fd, content, n) == (ssize_t) n);
}

static void put(int d, const char *name, const char *content) {
        put_n(d, name, content, strlen(content));
}

static UnitFile *load_replica(const char *name, const char *replica) {
        UnitFile *u = NULL;
        assert_int_equal(unit_file_load(&ctx, name, replica, &u), 0);
        assert_non_null(u);
        return u;
}

static UnitFile *load(const char *name) {
        return load_replica(name, NULL);
}

static void dump(const UnitFile *u) {
        for (size_t i = 0; i < u->n_errors; i++)
                fprintf(stderr, "# error %s:%u: %s\n", u->errors[i].path, u->errors[i].line, u->errors[i].message);
        for (size_t i = 0; i < u->n_warnings; i++)
                fprintf(stderr, "# warning %s:%u: %s\n", u->warnings[i].path, u->warnings[i].line,
                        u->warnings[i].message);
}

/* True when a diagnostic contains text (and is on line, unless line is UINT32_MAX). */
static bool has(const UnitDiagnostic *d, size_t n, const char *text, unsigned line) {
        for (size_t i = 0; i < n; i++)
                if (strstr(d[i].message, text) && (line == UINT32_MAX || d[i].line == line))
                        return true;
        return false;
}

static void assert_ok(const UnitFile *u) {
        if (u->n_errors > 0)
                dump(u);
        assert_int_equal(u->n_errors, 0);
}

static void assert_error(const UnitFile *u, const char *text, unsigned line) {
        if (!has(u->errors, u->n_errors, text, line)) {
                dump(u);
                fail_msg("expected error '%s' on line %u", text, line);
        }
}

static void assert_warning(const UnitFile *u, const char *text, unsigned line) {
        if (!has(u->warnings, u->n_warnings, text, line)) {
                dump(u);
                fail_msg("expected warning '%s' on line %u", text, line);
        }
}

/* Loads a one-file unit "t" from content and returns it. */
static UnitFile *load_text(const char *content) {
        put(0, "t.container", content);
        return load("t");
}

static void test_basic_values(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        put(2, "db.container", "[Container]\nImage=db\n"); /* a .container dependency must exist */
        u = load_text("# comment\n"
                      "; another\n"
                      "[Unit]\n"
                      "Description=Web frontend\n"
                      "After=db.container cache.service\n"
                      "After=db queue\n"
                      "Wants=db.container\n"
                      "StartLimitIntervalSec=20s\n"
                      "StartLimitBurst=7\n"
                      "[Container]\n"
                      "Image=docker.io/library/nginx:latest\n"
                      "ContainerName=web-1\n"
                      "PublishPort=8080:80\n"
                      "PublishPort=127.0.0.1::93/udp\n"
                      "PublishPort=[::1]:8443:443/tcp\n"
                      "PublishPort=9000-9002:80\n"
                      "Volume=./data:/data:ro\n"
                      "Volume=/srv:/srv\n"
                      "Tmpfs=/tmp:size=64m\n"
                      "EnvironmentFile=env\n"
                      "EnvironmentFile=-/etc/web.env\n"
                      "ReadOnly=yes\n"
                      "NoNewPrivileges=true\n"
                      "RunInit=no\n"
                      "User=www\n"
                      "Group=www\n"
                      "WorkingDir=/srv\n"
                      "AddCapability=CAP_NET_ADMIN SYS_TIME\n"
                      "DropCapability=all\n"
                      "Memory=512m\n"
                      "PidsLimit=100\n"
                      "StopSignal=SIGINT\n"
                      "StopTimeout=20\n"
                      "HealthCmd=\"curl -f http://localhost/\"\n"
                      "HealthInterval=5s\n"
                      "HealthTimeout=2s\n"
                      "HealthRetries=4\n"
                      "HealthStartPeriod=2m3s\n"
                      "HealthOnFailure=kill\n"
                      "Label=a=b c=d\n"
                      "Notify=healthy\n"
                      "Network=host\n"
                      "IP=10.88.0.5\n"
                      "HostName=web\n"
                      "[Service]\n"
                      "Restart=on-abnormal\n"
                      "RestartSec=2s\n"
                      "RestartSteps=5\n"
                      "RestartMaxDelaySec=1min\n"
                      "RestartPreventExitStatus=3 SIGKILL\n"
                      "SuccessExitStatus=1 2 SIGKILL\n"
                      "SuccessExitStatus=TERM\n"
                      "TimeoutStartSec=0\n"
                      "TimeoutStopSec=30\n"
                      "MemoryMax=1G\n"
                      "CPUQuota=50%\n"
                      "CPUWeight=200\n"
                      "TasksMax=infinity\n"
                      "[Install]\n"
                      "WantedBy=multi-user.target\n"
                      "[Deploy]\n"
                      "UpdateOrder=start-first\n"
                      "UpdateParallelism=2\n"
                      "UpdateDelaySec=10s\n"
                      "RestartResetSec=1min\n");
        assert_ok(u);
        assert_int_equal(u->n_warnings, 0);
        const UnitSettings *s = &u->settings;
        _cleanup_free_ char *data = NULL, *envf = NULL;
        assert_true(asprintf(&data, "%s/data:/data:ro", dirs[0]) > 0);
        assert_true(asprintf(&envf, "%s/env", dirs[0]) > 0);

        assert_string_equal(u->name, "t");
        assert_false(u->is_template);
        assert_null(u->instance);
        assert_string_equal(s->description, "Web frontend");
        assert_int_equal(strv_length(s->after), 3); /* appended across lines, duplicates dropped */
        assert_string_equal(s->after[0], "db");
        assert_string_equal(s->after[1], "cache");
        assert_string_equal(s->after[2], "queue");
        assert_string_equal(s->wants[0], "db");
        assert_true(s->start_limit_interval == 20 * USEC_PER_SEC);
        assert_int_equal(s->start_limit_burst, 7);
        assert_string_equal(s->image, "docker.io/library/nginx:latest");
        assert_null(s->rootfs);
        assert_string_equal(s->container_name, "web-1");
        assert_int_equal(strv_length(s->publish_port), 4);
        assert_string_equal(s->publish_port[2], "[::1]:8443:443/tcp");
        assert_string_equal(s->volume[0], data);
        assert_string_equal(s->volume[1], "/srv:/srv");
        assert_string_equal(s->tmpfs[0], "/tmp:size=64m");
        assert_string_equal(s->environment_file[0], envf);
        assert_string_equal(s->environment_file[1], "-/etc/web.env");
        assert_int_equal(s->read_only, 1);
        assert_int_equal(s->no_new_privileges, 1);
        assert_int_equal(s->run_init, 0);
        assert_string_equal(s->user, "www");
        assert_string_equal(s->group, "www");
        assert_string_equal(s->working_dir, "/srv");
        assert_int_equal(strv_length(s->add_capability), 2);
        assert_string_equal(s->drop_capability[0], "all");
        assert_true(s->memory == 512ULL << 20);
        assert_true(s->pids_limit == 100);
        assert_int_equal(s->stop_signal, SIGINT);
        assert_true(s->stop_timeout == 20 * USEC_PER_SEC);
        assert_string_equal(s->health_cmd, "curl -f http://localhost/");
        assert_true(s->health_interval == 5 * USEC_PER_SEC);
        assert_true(s->health_timeout == 2 * USEC_PER_SEC);
        assert_int_equal(s->health_retries, 4);
        assert_true(s->health_start_period == 123 * USEC_PER_SEC);
        assert_int_equal(s->health_on_failure, HEALTH_ON_FAILURE_KILL);
        assert_string_equal(s->label[0], "a=b");
        assert_string_equal(s->label[1], "c=d");
        assert_int_equal(s->notify, NOTIFY_HEALTHY);
        assert_string_equal(s->network, "host");
        assert_string_equal(s->ip, "10.88.0.5");
        assert_string_equal(s->hostname, "web");
        assert_int_equal(s->restart, RESTART_ON_ABNORMAL);
        assert_true(s->restart_sec == 2 * USEC_PER_SEC);
        assert_int_equal(s->restart_steps, 5);
        assert_true(s->restart_max_delay == USEC_PER_MINUTE);
        assert_true(exit_status_set_test_status(&s->restart_prevent, 3));
        assert_true(exit_status_set_test_signal(&s->restart_prevent, SIGKILL));
        assert_true(exit_status_set_test_status(&s->success_exit, 1));
        assert_true(exit_status_set_test_status(&s->success_exit, 2));
        assert_false(exit_status_set_test_status(&s->success_exit, 3));
        assert_true(exit_status_set_test_signal(&s->success_exit, SIGKILL));
        assert_true(exit_status_set_test_signal(&s->success_exit, SIGTERM)); /* repeated: accumulates */
        assert_true(s->timeout_start == USEC_INFINITY);                      /* 0 means no timeout, as in systemd */
        assert_true(s->timeout_stop == 30 * USEC_PER_SEC);
        assert_true(s->memory_max == 1ULL << 30);
        assert_true(s->cpu_quota_per_sec == 500000);
        assert_true(s->cpu_weight == 200);
        assert_true(s->tasks_max == UINT64_MAX);
        assert_true(unit_settings_autostart(s));
        assert_int_equal(s->update_order, UPDATE_ORDER_START_FIRST);
        assert_int_equal(s->update_parallelism, 2);
        assert_true(s->update_delay == 10 * USEC_PER_SEC);
        assert_true(s->restart_reset == USEC_PER_MINUTE);
        assert_false(unit_settings_has_replicas(s));
        assert_int_equal(s->replicas, 1);

        /* Effective values: Memory= beats MemoryMax=, StopTimeout= beats TimeoutStopSec=. */
        assert_true(unit_settings_memory_max(s) == 512ULL << 20);
        assert_true(unit_settings_stop_timeout(s) == 20 * USEC_PER_SEC);
        assert_true(unit_settings_tasks_max(s) == 100);
        assert_true(u->mtime_max > 0);
}

static void test_defaults(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = load_text("[Container]\nRootfs=/srv/root\n");
        const UnitSettings *s = &u->settings;

        assert_ok(u);
        assert_string_equal(s->rootfs, "/srv/root");
        assert_null(s->exec);
        assert_null(s->entrypoint);
        assert_true(s->restart_sec == 100 * USEC_PER_MSEC);
        assert_true(s->start_limit_interval == 10 * USEC_PER_SEC);
        assert_int_equal(s->start_limit_burst, 5);
        assert_true(s->timeout_start == 90 * USEC_PER_SEC);
        assert_true(s->health_interval == 30 * USEC_PER_SEC);
        assert_true(s->health_timeout == 30 * USEC_PER_SEC);
        assert_true(s->health_start_period == 0);
        assert_int_equal(s->health_retries, 3);
        assert_int_equal(s->replicas, 1);
        assert_int_equal(s->update_parallelism, 1);
        assert_true(s->restart_reset == 10 * USEC_PER_SEC);
        assert_int_equal(s->stop_signal, SIGTERM);
        assert_int_equal(s->restart, RESTART_NO);
        assert_int_equal(s->notify, NOTIFY_NO);
        assert_int_equal(s->read_only, -1);
        assert_int_equal(s->run_init, -1);
        assert_true(s->memory == UINT64_MAX);
        assert_true(unit_settings_memory_max(s) == UINT64_MAX);
        assert_true(unit_settings_stop_timeout(s) == 10 * USEC_PER_SEC);
        assert_true(exit_status_set_is_empty(&s->success_exit));
        assert_false(unit_settings_autostart(s));
}

static void test_rootfs_relative_and_entrypoint(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = load_text("[Container]\nRootfs=./root\nEntrypoint=\nExec=\n");
        _cleanup_free_ char *want = NULL;

        assert_ok(u);
        assert_true(asprintf(&want, "%s/root", dirs[0]) > 0);
        assert_string_equal(u->settings.rootfs, want);
        /* Entrypoint= clears the image's entrypoint: set, but empty. Exec= is a plain reset. */
        assert_non_null(u->settings.entrypoint);
        assert_int_equal(strv_length(u->settings.entrypoint), 0);
        assert_null(u->settings.exec);
}

static void test_continuation_and_comments(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        u = load_text("[Container]\n"
                      "Image=busybox\n"
                      "Exec=\"/some/binary file\" --arg1 \\ \n" /* backslash, then a space */
                      "  \"arg 2\"\n"
                      "Environment=A=1 \\\n"
                      "# a comment inside the continuation is skipped\n"
                      "; so is this one\n"
                      "   B=2\n"
                      "   # indented comment\n"
                      "Label=x=a;b\tc=#d\n"
                      "HealthCmd=echo hi ; echo # not a comment\n"
                      "  ; indented comment line\n"
                      "Volume=/a:/b \\\\\n" /* an escaped backslash does not continue */
                      "[Unit]\n"
                      "Description=ends with a continuation \\\n");
        assert_ok(u);
        const UnitSettings *s = &u->settings;
        assert_int_equal(strv_length(s->exec), 3);
        assert_string_equal(s->exec[0], "/some/binary file");
        assert_string_equal(s->exec[1], "--arg1");
        assert_string_equal(s->exec[2], "arg 2");
        assert_string_equal(strv_env_get(s->environment, "A"), "1");
        assert_string_equal(strv_env_get(s->environment, "B"), "2");
        assert_string_equal(strv_env_get(s->label, "x"), "a;b");
        assert_string_equal(strv_env_get(s->label, "c"), "#d");
        assert_string_equal(s->health_cmd, "echo hi ; echo # not a comment");
        assert_string_equal(s->volume[0], "/a:/b \\\\");
        assert_string_equal(s->description, "ends with a continuation");
}

static void test_line_numbers_after_continuation(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        u = load_text("[Container]\n"   /* 1 */
                      "Image=busybox\n" /* 2 */
                      "Exec=a \\\n"     /* 3 */
                      "  b \\\n"        /* 4 */
                      "  c\n"           /* 5 */
                      "Memory=abc\n"    /* 6 */
                      "Bogus=1\n");     /* 7 */
        assert_error(u, "invalid value 'abc' for Memory=", 6);
        assert_error(u, "unknown key 'Bogus' in section [Container]", 7);
        assert_string_equal(u->errors[0].path, u->path);
}

static void test_quadlet_escapes(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        u = load_text("[Container]\nImage=busybox\n"
                      "Exec=/some/path \"an arg\" \"a;b\\nc\\td'e\" a;b\\nc\\td 'a\"b' '\\110ello \\127orld'\n");
        assert_ok(u);
        char **e = u->settings.exec;
        assert_int_equal(strv_length(e), 6);
        assert_string_equal(e[0], "/some/path");
        assert_string_equal(e[1], "an arg");
        assert_string_equal(e[2], "a;b\nc\td'e");
        assert_string_equal(e[3], "a;b\nc\td");
        assert_string_equal(e[4], "a\"b");
        assert_string_equal(e[5], "Hello World");
}

static void test_unsupported_escape_warns(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        u = load_text("[Container]\nImage=busybox\nExec=/some/path \"\\^\"\nLabel=\"x=\\d\"\n");
        assert_ok(u);
        assert_warning(u, "unsupported escape sequence '\\^' in Exec=", 3);
        assert_warning(u, "unsupported escape sequence '\\d' in Label=", 4);
        assert_string_equal(u->settings.exec[1], "\\^");
        assert_string_equal(strv_env_get(u->settings.label, "x"), "\\d");
}

static void test_environment(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        u = load_text("[Container]\nImage=busybox\n"
                      "Environment=FOO1=foo1 \"FOO2=foo2 \" \\\n  FOO3=foo3 REPLACE=replace\n"
                      "Environment=REPLACE=replaced 'FOO4=foo\\nfoo'\n");
        assert_ok(u);
        char **env = u->settings.environment;
        assert_int_equal(strv_length(env), 5);
        assert_string_equal(env[0], "FOO1=foo1");
        assert_string_equal(env[1], "FOO2=foo2 ");
        assert_string_equal(env[2], "FOO3=foo3");
        assert_string_equal(env[3], "REPLACE=replaced"); /* keeps its first position, later value wins */
        assert_string_equal(env[4], "FOO4=foo\nfoo");
        unit_file_free(TAKE_PTR(u));

        u = load_text("[Container]\nImage=busybox\nEnvironment=A=1 FOO5 =x\n");
        assert_error(u, "invalid Environment= assignment 'FOO5', expected KEY=VALUE", 3);
        assert_error(u, "invalid Environment= assignment '=x'", 3);
        assert_string_equal(strv_env_get(u->settings.environment, "A"), "1");
}

static void test_dropins_reset_and_order(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        put(2, "web.container", "[Container]\nImage=busybox\nEnvironment=MAIN=mainvalue\nPublishPort=80\n");
        put(0, "web.container.d/10-first.conf", "[Container]\nEnvironment=FIRST=etc\n");
        /* Shadowed by the same name in /etc: never applied. */
        put(2, "web.container.d/10-first.conf", "[Container]\nEnvironment=SHADOWED=1\nMemory=bad\n");
        put(1, "web.container.d/20-second.conf", "[Container]\nEnvironment=\nEnvironment=SECOND=othervalue\n");
        put(2, "web.container.d/05-zero.conf", "[Container]\nEnvironment=ZERO=0\nPublishPort=\n");
        put(2, "web.container.d/30-third.conf", "[Unit]\nDescription=third\n");
        put(2, "web.container.d/not-a-dropin.txt", "garbage");
        put(2, "web.container.d/.hidden.conf", "garbage");

        u = load("web");
        assert_ok(u);
        assert_int_equal(strv_length(u->dropin_paths), 4);
        assert_true(strstr(u->dropin_paths[0], "/usr/web.container.d/05-zero.conf"));
        assert_true(strstr(u->dropin_paths[1], "/etc/web.container.d/10-first.conf"));
        assert_true(strstr(u->dropin_paths[2], "/run/web.container.d/20-second.conf"));
        assert_true(strstr(u->dropin_paths[3], "/usr/web.container.d/30-third.conf"));
        /* 20-second.conf's "Environment=" wiped MAIN, ZERO and FIRST. */
        assert_int_equal(strv_length(u->settings.environment), 1);
        assert_string_equal(u->settings.environment[0], "SECOND=othervalue");
        assert_null(u->settings.publish_port);
        assert_string_equal(u->settings.description, "third");
}

/* With a snapshot of the search path (a reload's), the same files load the same way; what
 * appears after the snapshot waits for the next one. */
static void test_directory_snapshot(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL, *v = NULL, *w = NULL;
        UnitFile *x = NULL;

        put(2, "snap.container", "[Container]\nImage=usr-image\n");
        put(1, "snap.container", "[Container]\nImage=run-image\n");
        put(0, "snap.container.d/10.conf", "[Container]\nEnvironment=A=1\n");
        put(2, "tsnap@.container", "[Container]\nImage=tmpl\n");
        put(1, "tsnap@.container.d/10.conf", "[Container]\nEnvironment=T=1\n");
        assert_int_equal(unit_load_context_cache(&ctx), 0);
        u = load("snap");
        assert_ok(u);
        assert_string_equal(u->settings.image, "run-image");
        assert_int_equal(strv_length(u->dropin_paths), 1);
        assert_true(strstr(u->dropin_paths[0], "/etc/snap.container.d/10.conf"));
        assert_int_equal(u->n_warnings, 1); /* the /usr copy is shadowed */
        v = load("tsnap@x");
        assert_ok(v);
        assert_string_equal(v->settings.image, "tmpl");
        assert_string_equal(v->settings.environment[0], "T=1");
        /* Made after the snapshot: not seen until the next one. */
        put(0, "late.container", "[Container]\nImage=late\n");
        assert_int_equal(unit_file_load(&ctx, "late", NULL, &x), -ENOENT);
        unit_load_context_uncache(&ctx);
        assert_null(ctx.cache);
        w = load("late");
        assert_ok(w);
        assert_string_equal(w->settings.image, "late");
}

static void test_main_file_precedence(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        put(0, "web.container", "[Container]\nImage=etc-image\n");
        put(1, "web.container", "[Container]\nImage=run-image\n");
        put(2, "web.container", "[Container]\nImage=usr-image\n");
        u = load("web");
        assert_ok(u);
        assert_string_equal(u->settings.image, "etc-image");
        assert_true(strstr(u->path, "/etc/web.container"));
        unit_file_free(TAKE_PTR(u));

        /* ".container" in the name is tolerated. */
        assert_int_equal(unit_file_load(&ctx, "web.container", NULL, &u), 0);
        assert_string_equal(u->name, "web");
        unit_file_free(TAKE_PTR(u));

        assert_int_equal(unit_file_load(&ctx, "missing", NULL, &u), -ENOENT);
        assert_null(u);
        assert_int_equal(unit_file_load(&ctx, "../etc/web", NULL, &u), -EINVAL);
        assert_int_equal(unit_file_load(&ctx, "web", "1/2", &u), -EINVAL);
}

static void test_templates(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        put(2, "sleep@.container",
            "[Container]\nImage=busybox\nExec=sleep %i\nContainerName=%p_%i\nHostName=%j\n"
            "[Install]\nWantedBy=multi-user.target\nDefaultInstance=100\n");
        put(0, "sleep@.container.d/10-image.conf", "[Container]\nImage=template-dropin\n");
        put(1, "sleep@inst.container.d/10-image.conf", "[Container]\nImage=instance-dropin\n");
        put(1, "sleep@inst.container.d/20-env.conf", "[Container]\nEnvironment=I=%I\n");

        /* The template itself: %i is empty. */
        u = load("sleep@");
        assert_ok(u);
        assert_true(u->is_template);
        assert_string_equal(u->template_name, "sleep");
        assert_null(u->instance);
        assert_int_equal(strv_length(u->settings.exec), 1); /* "sleep " */
        assert_string_equal(u->settings.container_name, "sleep_");
        assert_string_equal(u->settings.image, "template-dropin");
        unit_file_free(TAKE_PTR(u));

        /* An instance reads the template file and both drop-in directories. Same-named drop-ins:
         * /etc's template drop-in beats /run's instance drop-in (directory order first). */
        u = load("sleep@inst");
        assert_ok(u);
        assert_false(u->is_template);
        assert_string_equal(u->instance, "inst");
        assert_string_equal(u->template_name, "sleep");
        assert_true(strstr(u->path, "/usr/sleep@.container"));
        assert_string_equal(u->settings.exec[0], "sleep");
        assert_string_equal(u->settings.exec[1], "inst");
        assert_string_equal(u->settings.container_name, "sleep_inst");
        assert_string_equal(u->settings.hostname, "sleep");
        assert_string_equal(u->settings.image, "template-dropin");
        assert_string_equal(u->settings.default_instance, "100");
        assert_int_equal(strv_length(u->dropin_paths), 2);
        assert_string_equal(strv_env_get(u->settings.environment, "I"), "inst");
        unit_file_free(TAKE_PTR(u));

        /* The same drop-in name in one directory: the instance's is more specific and wins. */
        put(0, "sleep@inst.container.d/10-image.conf", "[Container]\nImage=etc-instance\n");
        u = load("sleep@inst");
        assert_string_equal(u->settings.image, "etc-instance");
        unit_file_free(TAKE_PTR(u));

        /* An instance file of its own takes over from the template. */
        put(2, "sleep@other.container", "[Container]\nImage=own\nExec=own %i\n");
        u = load("sleep@other");
        assert_ok(u);
        assert_true(strstr(u->path, "/usr/sleep@other.container"));
        assert_string_equal(u->settings.exec[1], "other");
        assert_string_equal(u->settings.image, "template-dropin"); /* template drop-ins still apply */
}

static void test_specifiers(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        put(0, "my-app@a-b.container",
            "[Container]\nImage=busybox\n"
            "Exec=echo %n %N %p %i %I %H %m %% %j %t 100%%\n");
        u = load("my-app@a-b");
        assert_ok(u);
        char **e = u->settings.exec;
        assert_int_equal(strv_length(e), 12);
        assert_string_equal(e[1], "my-app@a-b.container");
        assert_string_equal(e[2], "my-app@a-b");
        assert_string_equal(e[3], "my-app");
        assert_string_equal(e[4], "a-b");
        assert_string_equal(e[5], "a/b"); /* %I unescapes '-' to '/' like systemd */
        assert_string_equal(e[6], "testhost");
        assert_string_equal(e[7], "0123456789abcdef0123456789abcdef");
        assert_string_equal(e[8], "%");
        assert_string_equal(e[9], "app");
        assert_string_equal(e[10], "/run");
        assert_string_equal(e[11], "100%");
        unit_file_free(TAKE_PTR(u));

        /* The directories and the user of a system manager running as root, as in systemd. */
        u = load_text("[Container]\nImage=busybox\n"
                      "Exec=echo %h %u %U %g %G %E %S %C %L %T %V\n"
                      "EnvironmentFile=%h/x.env\n"
                      "WorkingDir=%h\n");
        assert_ok(u);
        e = u->settings.exec;
        assert_int_equal(strv_length(e), 12);
        assert_string_equal(e[1], "/root");
        assert_string_equal(e[2], "root");
        assert_string_equal(e[3], "0");
        assert_string_equal(e[4], "root");
        assert_string_equal(e[5], "0");
        assert_string_equal(e[6], "/etc");
        assert_string_equal(e[7], "/var/lib");
        assert_string_equal(e[8], "/var/cache");
        assert_string_equal(e[9], "/var/log");
        assert_string_equal(e[10], "/tmp");
        assert_string_equal(e[11], "/var/tmp");
        assert_string_equal(u->settings.environment_file[0], "/root/x.env");
        assert_string_equal(u->settings.working_dir, "/root");
        unit_file_free(TAKE_PTR(u));

        u = load_text("[Container]\nImage=busybox\nExec=echo %x\nHostName=web%\n");
        assert_error(u, "unknown specifier '%x' in Exec=", 3);
        assert_error(u, "incomplete specifier '%' at the end of HostName=", 4);
}

static void test_replicas(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        put(0, "web.container",
            "[Container]\nImage=busybox\nHostName=%N-%i\nExec=serve --id=%i\n[Deploy]\nReplicas=3\n");
        u = load_replica("web", "2");
        assert_ok(u);
        assert_string_equal(u->name, "web");
        assert_string_equal(u->settings.hostname, "web-2");
        assert_string_equal(u->settings.exec[1], "--id=2");
        assert_true(unit_settings_has_replicas(&u->settings));
        assert_int_equal(u->settings.replicas, 3);
        unit_file_free(TAKE_PTR(u));

        /* Replicas=1 written explicitly still counts as "has replicas" (instances web@1). */
        put(0, "one.container", "[Container]\nImage=busybox\n[X-Deploy]\nReplicas=1\n");
        u = load("one");
        assert_ok(u);
        assert_true(unit_settings_has_replicas(&u->settings));
        unit_file_free(TAKE_PTR(u));

        put(0, "tpl@.container", "[Container]\nImage=busybox\n[Deploy]\nReplicas=2\n");
        u = load("tpl@x");
        assert_error(u, "Replicas= cannot be used in a template unit", 4);
}

static void test_errors(void **state) {
        static const struct {
                const char *text;
                const char *error;
                unsigned line;
        } cases[] = {
                { "[Container]\n", "no Image or Rootfs key specified", 0 },
                { "", "no Image or Rootfs key specified", 0 },
                { "[Container]\nImage=a\nRootfs=/r\n", "Image and Rootfs are mutually exclusive", 3 },
                { "[Container]\nImage=a\nFoo=1\n", "unknown key 'Foo' in section [Container]", 3 },
                { "[Container]\nImage=a\n[Deploy]\nFoo=1\n", "unknown key 'Foo' in section [Deploy]", 4 },
                { "[Container]\nImage=a\n[X-Deploy]\nReplica=1\n", "unknown key 'Replica' in section [Deploy]", 4 },
                { "[Container]\nImage=a\nMemory=abc\n", "invalid value 'abc' for Memory=", 3 },
                { "[Container]\nImage=a\nPodmanArgs=--foo\n",
                  "key 'PodmanArgs' is Podman-specific and not supported by supd", 3 },
                { "[Container]\nImage=a\nGlobalArgs=--x\n", "key 'GlobalArgs' is Podman-specific", 3 },
                { "[Container]\nImage=a\nContainersConfModule=x\n", "key 'ContainersConfModule' is Podman-specific",
                  3 },
                { "[Container]\nImage=a\nPod=x.pod\n", "key 'Pod' is Podman-specific", 3 },
                { "[Container]\nImage=a\nAutoUpdate=registry\n", "key 'AutoUpdate' is Podman-specific", 3 },
                { "[Container]\nImage=a\nSecret=s\n", "key 'Secret' is Podman-specific", 3 },
                { "[Container]\nImage=a\nDNS=1.1.1.1\n", "key 'DNS' in section [Container] is not supported", 3 },
                { "[Container]\nImage=x.image\n", "Podman-specific", 2 },
                { "[Container]\nImage=a\nNetwork=x.network\n", "Podman-specific", 3 },
                { "[Container]\nImage=a\nVolume=x.volume:/d\n", "Podman-specific", 3 },
                { "[Container]\nImage=a\nGroup=g\n", "Group set without User", 3 },
                { "[Container]\nImage=a\n[Foo]\nA=1\n", "unknown section [Foo]", 3 },
                { "[Container]\nImage=a\nKey:value\n", "uses ':' as separator", 3 },
                { "[Container]\nImage=a\njust some words\n",
                  "expected 'Key=Value', a [Section] or a comment, got 'just some words'", 3 },
                { "Image=a\n[Container]\nImage=a\n", "assignment 'Image=' outside of any section", 1 },
                { "[Container\nImage=a\n", "invalid section header '[Container'", 1 },
                { "[Container]\nImage=a\nFoo Bar=1\n", "invalid key name 'Foo Bar'", 3 },
                { "[Container]\nImage=a\n=1\n", "invalid key name ''", 3 },
                { "[Unit]\nAfter=bad/name\n[Container]\nImage=a\n", "invalid unit name 'bad/name' in After=", 2 },
                { "[Unit]\nWants=tmpl@.container\n[Container]\nImage=a\n", "invalid unit name 'tmpl@' in Wants=", 2 },
                { "[Container]\nImage=a\nRestart=always\n", "unknown key 'Restart' in section [Container]", 3 },
                { "[Container]\nImage=a\n[Service]\nRestart=sometimes\n",
                  "invalid value 'sometimes' for Restart=", 4 },
                { "[Container]\nImage=a\nPublishPort=80:80:80:80\n",
                  "invalid value '80:80:80:80' for PublishPort=", 3 },
                { "[Container]\nImage=a\nPublishPort=70000\n", "invalid value '70000' for PublishPort=", 3 },
                { "[Container]\nImage=a\nPublishPort=80/sctp\n", "for PublishPort=", 3 },
                { "[Container]\nImage=a\nStopSignal=SIGFOO\n", "invalid value 'SIGFOO' for StopSignal=", 3 },
                { "[Container]\nImage=a\nReadOnly=maybe\n", "invalid value 'maybe' for ReadOnly=", 3 },
                { "[Container]\nImage=a\nHealthRetries=0\n", "invalid value '0' for HealthRetries=", 3 },
                { "[Container]\nImage=a\nIP=10.0.0.300\n", "invalid value '10.0.0.300' for IP=", 3 },
                { "[Container]\nImage=a\nWorkingDir=relative\n", "invalid value 'relative' for WorkingDir=", 3 },
                { "[Container]\nImage=a\nAddCapability=CAP_$$\n", "invalid capability 'CAP_$$'", 3 },
                { "[Container]\nImage=a\nExec=\"unbalanced\n", "invalid value '\"unbalanced' for Exec=", 3 },
                { "[Container]\nImage=a\n[Service]\nSuccessExitStatus=256\n", "invalid exit status or signal '256'",
                  4 },
                { "[Container]\nImage=a\n[Service]\nCPUQuota=50\n", "invalid value '50' for CPUQuota=", 4 },
                { "[Container]\nImage=a\n[Service]\nCPUWeight=0\n", "invalid value '0' for CPUWeight=", 4 },
                { "[Container]\nImage=a\n[Deploy]\nUpdateOrder=random\n",
                  "invalid value 'random' for UpdateOrder=", 4 },
                { "[Container]\nImage=a\n[Deploy]\nReplicas=-1\n", "invalid value '-1' for Replicas=", 4 },
                { "[Container]\nImage=a\nEnvironment=A=\001\n",
                  "invalid value for Environment=: contains control characters", 3 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_unit_file_free_ UnitFile *u = NULL;
                print_message("# case %zu: %s\n", i, cases[i].error);
                u = load_text(cases[i].text);
                assert_error(u, cases[i].error, cases[i].line);
        }
}

static void test_warnings(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        u = load_text("[Unit]\n"
                      "Foo=1\n"
                      "After=network-online.target db.service\n"
                      "[Container]\n"
                      "Image=a\n"
                      "HealthCmd=true\n"
                      "HealthOnFailure=restart\n"
                      "[Service]\n"
                      "Type=notify\n"
                      "RestartSteps=3\n"
                      "[Install]\n"
                      "Alias=x.service\n"
                      "[X-Whatever]\n"
                      "Anything=goes\n"
                      "[Quadlet]\n"
                      "DefaultDependencies=false\n");
        assert_ok(u);
        assert_warning(u, "unknown key 'Foo' in section [Unit]", 2);
        assert_warning(u, "After=network-online.target ignored", 3);
        assert_warning(u, "HealthOnFailure=restart is treated as kill; use Restart=", 7);
        assert_warning(u, "unknown key 'Type' in section [Service]", 9);
        assert_warning(u, "RestartSteps= without RestartMaxDelaySec= is ignored", 10);
        assert_warning(u, "unknown key 'Alias' in section [Install]", 12);
        assert_warning(u, "section [Quadlet] is ignored", 15);
        assert_int_equal(u->n_warnings, 7);
        assert_int_equal(u->settings.health_on_failure, HEALTH_ON_FAILURE_KILL);
        assert_int_equal(u->settings.restart_steps, 0);
        assert_int_equal(strv_length(u->settings.after), 1);
        assert_string_equal(u->settings.after[0], "db");
        unit_file_free(TAKE_PTR(u));

        /* Podman accepts Notify=healthy without HealthCmd= (the image may bring a check). */
        u = load_text("[Container]\nImage=a\nNotify=healthy\n");
        assert_ok(u);
        assert_warning(u, "Notify=healthy without HealthCmd= has no health check to wait for", 3);
        assert_int_equal(u->settings.notify, NOTIFY_NO);
        unit_file_free(TAKE_PTR(u));

        u = load_text("[Container]\nImage=a\n[Service]\nRestartMaxDelaySec=1min\n");
        assert_ok(u);
        assert_warning(u, "RestartMaxDelaySec= without RestartSteps= is ignored", 4);
        assert_true(u->settings.restart_max_delay == USEC_INFINITY);
}

static void test_hostile_binary(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;
        static const char nul[] = "[Container]\nImage=a\nExec=/bin/x\0y\n";

        put_n(0, "t.container", nul, sizeof(nul) - 1);
        u = load("t");
        assert_error(u, "NUL byte", 3);
        unit_file_free(TAKE_PTR(u));

        u = load_text("[Container]\nImage=a\nDescription=\xff\xfe\n[Unit]\nDescription=caf\xc3\xa9\n");
        assert_error(u, "line is not valid UTF-8", 3);
        assert_string_equal(u->settings.description, "caf\xc3\xa9");
        unit_file_free(TAKE_PTR(u));

        /* Random bytes: rejected with diagnostics, nothing stored without bound. */
        char junk[65536];
        unsigned seed = 42;
        for (size_t i = 0; i < sizeof(junk); i++) {
                seed = seed * 1103515245 + 12345;
                junk[i] = (char) (seed >> 16);
        }
        put_n(0, "t.container", junk, sizeof(junk));
        u = load("t");
        assert_true(u->n_errors > 0);
        assert_true(u->n_errors <= 101);

        /* A UTF-8 byte order mark is fine. */
        unit_file_free(TAKE_PTR(u));
        u = load_text("\xef\xbb\xbf[Container]\nImage=a\n");
        assert_ok(u);
}

static void test_hostile_sizes(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;
        size_t n = 1 << 20;
        char *big = malloc(n + 64), *p;
        struct timespec t0, t1;

        /* A 1 MB line works. */
        p = stpcpy(big, "[Container]\nImage=a\n[Unit]\nDescription=");
        memset(p, 'x', n);
        strcpy(p + n, "\n");
        u = load_text(big);
        assert_ok(u);
        assert_int_equal(strlen(u->settings.description), n);
        unit_file_free(TAKE_PTR(u));
        free(big);

        /* 100,000 keys: refused at the limit, in bounded time. */
        size_t cap = 100000 * 24 + 64, len;
        big = malloc(cap);
        len = (size_t) sprintf(big, "[Container]\nImage=a\n");
        for (int i = 0; i < 100000; i++)
                len += (size_t) sprintf(big + len, "Environment=K%d=v\n", i);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        u = load_text(big);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_error(u, "too many lines in unit", UINT32_MAX);
        assert_true(t1.tv_sec - t0.tv_sec < 20);
        unit_file_free(TAKE_PTR(u));

        /* Thousands of words in one Environment= line: bounded by the list limit. */
        len = (size_t) sprintf(big, "[Container]\nImage=a\nEnvironment=");
        for (int i = 0; i < 20000; i++)
                len += (size_t) sprintf(big + len, "K%d=v ", i);
        strcpy(big + len, "\n");
        u = load_text(big);
        assert_error(u, "too many values for Environment=", 3);
        unit_file_free(TAKE_PTR(u));
        free(big);

        /* A file over 4 MiB is refused before reading. */
        big = malloc(5 << 20);
        memset(big, '#', 5 << 20);
        put_n(0, "t.container", big, 5 << 20);
        free(big);
        u = load("t");
        assert_error(u, "file is too large", 0);
}

static void test_hostile_file_types(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;
        _cleanup_free_ char *fifo = path_join(dirs[0], "fifo.container");
        _cleanup_free_ char *dev = path_join(dirs[0], "dev.container");
        _cleanup_free_ char *dir = path_join(dirs[0], "dir.container");
        _cleanup_free_ char *dropin = path_join(dirs[0], "ok.container.d/10-fifo.conf");

        alarm(20); /* opening a FIFO for reading would block forever: fail loudly instead */
        assert_int_equal(mkfifo(fifo, 0644), 0);
        u = load("fifo");
        assert_error(u, "not a regular file", 0);
        unit_file_free(TAKE_PTR(u));

        assert_int_equal(symlink("/dev/null", dev), 0);
        u = load("dev");
        assert_error(u, "unit file is a symlink to a file outside the unit search path", 0);
        unit_file_free(TAKE_PTR(u));

        assert_int_equal(mkdir(dir, 0755), 0);
        u = load("dir");
        assert_error(u, "not a regular file", 0);
        unit_file_free(TAKE_PTR(u));

        /* A FIFO among the drop-ins too. */
        put(0, "ok.container", "[Container]\nImage=a\n");
        put(0, "ok.container.d/05-fine.conf", "[Container]\nExec=x\n");
        assert_int_equal(mkfifo(dropin, 0644), 0);
        u = load("ok");
        assert_error(u, "not a regular file", 0);
        assert_string_equal(u->settings.exec[0], "x");
        alarm(0);
}

static void test_unit_names(void **state) {
        assert_true(unit_name_is_valid("web"));
        assert_true(unit_name_is_valid("tmpl@"));
        assert_true(unit_name_is_valid("tmpl@inst"));
        assert_true(unit_name_is_valid("a.b:c_d-e"));
        assert_false(unit_name_is_valid(""));
        assert_false(unit_name_is_valid("."));
        assert_false(unit_name_is_valid(".."));
        assert_false(unit_name_is_valid("a/b"));
        assert_false(unit_name_is_valid("../x"));
        assert_false(unit_name_is_valid("a@b@c"));
        assert_false(unit_name_is_valid("@inst"));
        assert_false(unit_name_is_valid("x@.."));
        assert_false(unit_name_is_valid("a b"));
        assert_false(unit_name_is_valid("a\nb"));
        assert_false(unit_name_is_valid("caf\xc3\xa9"));
        assert_true(unit_name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));   /* 64 */
        assert_false(unit_name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 65 */
}

static void test_enumerate(void **state) {
        _cleanup_strv_free_ char **names = NULL;
        UnitDiagnostic *bad = NULL;
        size_t n_bad = 0;

        put(0, "web.container", "");
        put(2, "web.container", "");
        put(1, "db.container", "");
        put(2, "tmpl@.container", "");
        put(2, "tmpl@inst.container", "");
        put(2, "README", "");
        put(2, "web.container.d/x.conf", "");
        put(0, "bad\001name.container", "");
        put(0, "...container", "");
        put(0, "a@b@c.container", "");
        put(0, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.container", "");

        assert_int_equal(unit_file_enumerate(&ctx, &names, &bad, &n_bad), 0);
        assert_int_equal(strv_length(names), 4);
        assert_string_equal(names[0], "db");
        assert_string_equal(names[1], "tmpl@");
        assert_string_equal(names[2], "tmpl@inst");
        assert_string_equal(names[3], "web");
        assert_int_equal(n_bad, 4);
        for (size_t i = 0; i < n_bad; i++) {
                assert_true(strstr(bad[i].message, "invalid unit file name"));
                assert_true(strstr(bad[i].path, dirs[0]));
                assert_null(strchr(bad[i].path, '\001')); /* control characters never reach a terminal */
        }
        unit_diagnostics_free(bad, n_bad);
}

static char *to_json(const UnitFile *u) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        JsonWriter w;

        assert_non_null(f);
        json_init(&w, f);
        unit_file_to_json(u, &w);
        fclose(f);
        return buf;
}

static void test_verify_json(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;
        _cleanup_free_ char *json = NULL, *want = NULL;

        put(0, "db.container", "[Container]\nImage=db\n");
        put(0, "web.container",
            "[Unit]\nDescription=Web\nAfter=db.container\n"
            "[Container]\nImage=busybox\nPublishPort=8080:80\nEnvironment=A=1 \"B=x y\"\n"
            "Exec=/bin/sh -c \"echo hi\"\nReadOnly=yes\nMemory=64M\nStopSignal=SIGINT\n"
            "Volume=/a:/a\n"
            "[Service]\nRestart=on-failure\nRestartSec=2s\nCPUQuota=12.5%\nSuccessExitStatus=1 SIGKILL\n"
            "TimeoutStopSec=infinity\n"
            "[Install]\nWantedBy=multi-user.target\n"
            "[X-Deploy]\nReplicas=3\n");
        put(0, "web.container.d/10-reset.conf", "[Container]\nVolume=\n[Unit]\nFoo=bar\n");
        u = load("web");
        json = to_json(u);
        assert_true(
                asprintf(&want,
                         "{\"unit\":\"web\",\"path\":\"%s/web.container\",\"ok\":true,\"errors\":[],"
                         "\"warnings\":[\"%s/web.container.d/10-reset.conf:4: unknown key 'Foo' in section [Unit], "
                         "ignoring\"],"
                         "\"sections\":{\"Unit\":{\"Description\":\"Web\",\"After\":[\"db\"]},"
                         "\"Container\":{\"Image\":\"busybox\",\"Exec\":[\"/bin/sh\",\"-c\",\"echo hi\"],"
                         "\"Environment\":{\"A\":\"1\",\"B\":\"x y\"},\"PublishPort\":[\"8080:80\"],"
                         "\"ReadOnly\":true,\"Memory\":67108864,\"StopSignal\":\"SIGINT\"},"
                         "\"Service\":{\"Restart\":\"on-failure\",\"RestartSec\":2000000,"
                         "\"SuccessExitStatus\":[1,\"SIGKILL\"],\"TimeoutStopSec\":\"infinity\","
                         "\"CPUQuota\":\"12.5%%\"},"
                         "\"Install\":{\"WantedBy\":[\"multi-user.target\"]},\"Deploy\":{\"Replicas\":3}}}\n",
                         dirs[0], dirs[0]) > 0);
        assert_string_equal(json, want);
        unit_file_free(TAKE_PTR(u));
        free(TAKE_PTR(json));
        free(TAKE_PTR(want));

        /* A broken unit: ok false, errors as "PATH:LINE: message" (or "PATH: message"). */
        put(0, "bad.container", "[Container]\nMemory=lots\n");
        u = load("bad");
        json = to_json(u);
        assert_true(asprintf(&want,
                             "{\"unit\":\"bad\",\"path\":\"%1$s/bad.container\",\"ok\":false,\"errors\":["
                             "\"%1$s/bad.container:2: invalid value 'lots' for Memory=\","
                             "\"%1$s/bad.container: no Image or Rootfs key specified\"],"
                             "\"warnings\":[],\"sections\":{}}\n",
                             dirs[0]) > 0);
        assert_string_equal(json, want);
}

static void test_load_path(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;
        _cleanup_free_ char *p = NULL, *q = NULL, *cwd = getcwd(NULL, 0);

        put(1, "verify/app.container", "[Container]\nRootfs=rootfs\n");
        put(1, "verify/app.container.d/a.conf", "[Container]\nExec=/bin/true\n");
        p = path_join(dirs[1], "verify/app.container");
        assert_int_equal(unit_file_load_path(&ctx, p, &u), 0);
        assert_ok(u);
        assert_string_equal(u->name, "app");
        assert_string_equal(u->settings.exec[0], "/bin/true");
        unit_file_free(TAKE_PTR(u));

        /* A relative path: Rootfs= still becomes absolute. */
        q = path_join(dirs[1], "verify");
        assert_int_equal(chdir(q), 0);
        assert_int_equal(unit_file_load_path(NULL, "app.container", &u), 0);
        assert_ok(u);
        free(p);
        p = path_join(q, "rootfs");
        assert_string_equal(u->settings.rootfs, p);
        unit_file_free(TAKE_PTR(u));

        put(1, "verify/app.conf", "[Container]\nImage=a\n");
        assert_int_equal(unit_file_load_path(NULL, "app.conf", &u), 0);
        assert_error(u, "unit file name must end in .container", 0);
        unit_file_free(TAKE_PTR(u));
        assert_int_equal(unit_file_load_path(NULL, "nope.container", &u), -ENOENT);
        assert_int_equal(chdir(cwd), 0);
}

static uint64_t hash_of(const char *text) {
        _cleanup_unit_file_free_ UnitFile *u = load_text(text);
        assert_ok(u);
        return unit_settings_hash(&u->settings);
}

static void test_hash(void **state) {
        const char *base =
                "[Unit]\nDescription=A\n[Container]\nImage=a\nExec=x y\nEnvironment=A=1\n[Deploy]\nReplicas=2\n";
        uint64_t h = hash_of(base);

        assert_true(h == hash_of(base)); /* stable */
        assert_true(h == hash_of("[Unit]\nDescription=B\nDocumentation=man:x\n[Container]\nImage=a\nExec=x y\n"
                                 "Environment=A=1\n[Deploy]\nReplicas=5\nUpdateOrder=start-first\n[Install]\n"
                                 "WantedBy=multi-user.target\n"));
        assert_true(h != hash_of("[Container]\nImage=a\nExec=x  \"y z\"\nEnvironment=A=1\n"));
        assert_true(h != hash_of("[Container]\nImage=a\nExec=\"x y\"\nEnvironment=A=1\n"));
        assert_true(h != hash_of("[Container]\nImage=a\nExec=x y\nEnvironment=A=2\n"));
        assert_true(h != hash_of("[Container]\nImage=a\nExec=x y\nEnvironment=A=1\nMemory=1G\n"));
        assert_true(h != hash_of("[Container]\nImage=a\nExec=x y\nEnvironment=A=1\n[Service]\nRestart=always\n"));
        /* Unset and cleared entrypoints differ. */
        assert_true(hash_of("[Container]\nImage=a\n") != hash_of("[Container]\nImage=a\nEntrypoint=\n"));
}

static const DesiredInstance *desired(const DesiredSet *d, const char *name) {
        for (size_t i = 0; i < d->n_instances; i++)
                if (streq(d->instances[i].name, name))
                        return &d->instances[i];
        return NULL;
}

/* The desired set a reload computes (reconcile.c), on the files that used to crash supd. */
static void test_reconcile_desired_set(void **state) {
        _cleanup_(desired_set_done) DesiredSet d = {};
        ReconcileCurrent cur[3] = {
                { .name = "web@1", .has_file = true, .active = true },
                { .name = "web@2", .has_file = true, .active = false },
                { .name = "gone", .has_file = true, .active = true },
        };
        ReconcileOp ops[16];
        ReconcileGone gone[3];
        const DesiredInstance *di;
        static const char nul[] = "[Container]\nImage=a\0\n";

        put(0, "web.container",
            "[Container]\nImage=busybox\n[Deploy]\nReplicas=0\n[Install]\nWantedBy=multi-user.target\n");
        put(0, "tpl@.container", "[Container]\nImage=busybox\n[Install]\nWantedBy=multi-user.target\n");
        put(0, "huge.container", "[Container]\nImage=busybox\n[Deploy]\nReplicas=99999999999\n");
        put(0, "empty.container", "");
        put_n(0, "nul.container", nul, sizeof(nul) - 1);
        put(1, "big.container", "[Container]\nImage=busybox\n[Deploy]\nReplicas=3\n");
        put(0, "big@2.container", "[Container]\nImage=other\n");
        assert_int_equal(reconcile_desired_set(&ctx, &d), 0);

        /* Replicas=0: the unit alone, loaded, not wanted running. */
        assert_non_null(di = desired(&d, "web"));
        assert_ok(di->file);
        assert_null(di->replica);
        assert_true(reconcile_file_is_scaled_to_zero(di->file));
        assert_false(reconcile_file_wants_start(di->file));
        assert_null(desired(&d, "web@1"));
        /* A template without DefaultInstance= runs nothing. */
        assert_null(desired(&d, "tpl@"));
        /* Invalid files are in the set with their errors (listed as failed to load). */
        assert_non_null(di = desired(&d, "huge"));
        assert_true(di->file->n_errors > 0);
        assert_non_null(di = desired(&d, "nul"));
        assert_error(di->file, "NUL byte", 2);
        assert_non_null(di = desired(&d, "empty"));
        assert_true(di->file->n_errors > 0);
        /* A replica name taken by its own file appears once. */
        size_t n_big2 = 0;
        for (size_t i = 0; i < d.n_instances; i++)
                n_big2 += streq(d.instances[i].name, "big@2");
        assert_int_equal(n_big2, 1);
        assert_non_null(desired(&d, "big@3"));

        /* The diff: web@1/web@2 scaled away (stop the running one, forget the other). */
        assert_true(d.n_instances <= ELEMENTSOF(ops));
        assert_int_equal(reconcile_plan(&d, cur, 3, ops, gone), 0);
        assert_int_equal(gone[0], RECONCILE_STOP);
        assert_int_equal(gone[1], RECONCILE_REMOVE);
        assert_int_equal(gone[2], RECONCILE_STOP);
        for (size_t i = 0; i < d.n_instances; i++)
                if (streq(d.instances[i].name, "web"))
                        assert_int_equal(ops[i], RECONCILE_ADD);
                else if (streq(d.instances[i].name, "nul"))
                        assert_int_equal(ops[i], RECONCILE_KEEP_BAD);
}

/* Scaling a running single unit to zero stops it, although Replicas= is not in the hash. */
static void test_reconcile_scale_to_zero(void **state) {
        _cleanup_(desired_set_done) DesiredSet d = {};
        _cleanup_unit_file_free_ UnitFile *before = NULL;
        ReconcileCurrent cur[1] = { { .name = "web", .has_file = true, .active = true } };
        ReconcileOp ops[1];
        ReconcileGone gone[1];

        before = load_text("[Container]\nImage=busybox\n");
        cur[0].hash = unit_settings_hash(&before->settings);
        unlink(before->path);
        put(0, "web.container", "[Container]\nImage=busybox\n[Deploy]\nReplicas=0\n");
        assert_int_equal(reconcile_desired_set(&ctx, &d), 0);
        assert_int_equal(d.n_instances, 1);
        assert_int_equal(reconcile_plan(&d, cur, 1, ops, gone), 0);
        assert_int_equal(ops[0], RECONCILE_REPLACE);
        assert_int_equal(gone[0], RECONCILE_STAYS);
}

static bool any_diag_contains(const UnitFile *u, const char *text) {
        for (size_t i = 0; i < u->n_errors; i++)
                if (strstr(u->errors[i].message, text))
                        return true;
        for (size_t i = 0; i < u->n_warnings; i++)
                if (strstr(u->warnings[i].message, text))
                        return true;
        return false;
}

/* A symlinked unit file is followed only into the search path; nothing of another file is quoted. */
static void test_symlinks(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;
        _cleanup_free_ char *secret = path_join(tmp, "secret"), *outdir = path_join(tmp, "outside");
        _cleanup_free_ char *s_link = path_join(dirs[0], "s.container");
        _cleanup_free_ char *alias = path_join(dirs[0], "alias.container");
        _cleanup_free_ char *fifo = path_join(dirs[1], "fifo");
        _cleanup_free_ char *fifo_link = path_join(dirs[0], "f.container");
        _cleanup_free_ char *dangling = path_join(dirs[0], "dangling.container");
        _cleanup_free_ char *dropin_dir = path_join(dirs[0], "ok.container.d");
        _cleanup_free_ char *dropin_link = path_join(dirs[0], "ok2.container.d/10-x.conf");
        _cleanup_free_ char *outconf = path_join(tmp, "outside/10-x.conf");
        int fd;

        fd = open(secret, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_true(write(fd, "root:SECRETHASH:19000:0:99999:7:::\n", 36) == 36);
        close(fd);

        assert_int_equal(symlink(secret, s_link), 0);
        u = load("s");
        assert_error(u, "unit file is a symlink to a file outside the unit search path", 0);
        assert_false(any_diag_contains(u, "SECRET"));
        assert_false(any_diag_contains(u, "root"));
        unit_file_free(TAKE_PTR(u));

        /* verify FILE: the file's own directory is the search path. */
        assert_int_equal(unit_file_load_path(&ctx, s_link, &u), 0);
        assert_error(u, "symlink to a file outside the unit search path", 0);
        assert_false(any_diag_contains(u, "SECRET"));
        unit_file_free(TAKE_PTR(u));

        /* A link to another file of the search path is an alias: followed. */
        put(1, "real.container", "[Container]\nImage=busybox\n");
        assert_int_equal(symlink("../run/real.container", alias), 0);
        u = load("alias");
        assert_ok(u);
        assert_string_equal(u->settings.image, "busybox");
        unit_file_free(TAKE_PTR(u));

        /* Inside the search path, but a FIFO: refused without blocking. */
        alarm(20);
        assert_int_equal(mkfifo(fifo, 0644), 0);
        assert_int_equal(symlink(fifo, fifo_link), 0);
        u = load("f");
        assert_error(u, "not a regular file", 0);
        unit_file_free(TAKE_PTR(u));
        alarm(0);

        assert_int_equal(symlink("nowhere.container", dangling), 0);
        u = load("dangling");
        assert_error(u, "dangling", 0);
        unit_file_free(TAKE_PTR(u));

        /* Drop-ins: a symlinked drop-in, and a drop-in directory that is a link out. */
        put(0, "ok.container", "[Container]\nImage=a\n");
        assert_int_equal(mkdir(dropin_dir, 0755), 0);
        _cleanup_free_ char *dl = path_join(dropin_dir, "10-secret.conf");
        assert_int_equal(symlink(secret, dl), 0);
        u = load("ok");
        assert_error(u, "drop-in is a symlink to a file outside the unit search path", 0);
        assert_false(any_diag_contains(u, "SECRET"));
        unit_file_free(TAKE_PTR(u));

        assert_int_equal(mkdir(outdir, 0755), 0);
        fd = open(outconf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_true(write(fd, "SECRET=1\n", 9) == 9);
        close(fd);
        put(0, "ok2.container", "[Container]\nImage=a\n");
        *strrchr(dropin_link, '/') = 0;
        assert_int_equal(symlink(outdir, dropin_link), 0);
        u = load("ok2");
        assert_error(u, "drop-in resolves to a file outside the unit search path", 0);
        assert_false(any_diag_contains(u, "SECRET"));
}

/* Input quoted in a message is at most UNIT_TOKEN_MAX (40) bytes, then "…". */
static void test_quote_prefix_only(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        u = load_text("[Container]\nImage=a\n"
                      "root:$6$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ:19000:0\n"
                      "just some words and then a very long tail 0123456789abcdefghijklmnopqrstuvwxyz\n"
                      "UnknownKeyWithAVeryLongNameThatGoesOnAndOnForeverAndEver=1\n");
        assert_error(u, "root:' uses ':' as separator", 3);
        assert_error(u, "got 'just some words and then a very long tai\xe2\x80\xa6'", 4);
        assert_error(u, "unknown key 'UnknownKeyWithAVeryLongNameThatGoesOnAnd\xe2\x80\xa6'", 5);
        assert_false(any_diag_contains(u, "0123456789"));
        assert_false(any_diag_contains(u, "Forever"));
}

/* Quadlet reads single-valued [Container] keys with Lookup(): one pair of double quotes around the
 * whole value goes, nothing else does. systemd keeps its plain string keys verbatim. */
static void test_quadlet_unquote(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;

        u = load_text("[Unit]\n"
                      "Description=\"quoted\"\n"
                      "[Container]\n"
                      "Image=\"busybox\"\n"
                      "ContainerName=\"web\"\n"
                      "HostName=\"web-1\"\n"
                      "User=\"nobody\"\n"
                      "WorkingDir=\"/srv\"\n"
                      "Memory=\"64M\"\n"
                      "StopSignal=\"SIGINT\"\n"
                      "ReadOnly=\"yes\"\n"
                      "HealthCmd=\"/bin/sh -c \"echo \"hello\"\"\"\n"
                      "Notify=\"healthy\"\n"
                      "EnvironmentFile=\"/etc/my app.env\" -/etc/other.env\n");
        assert_ok(u);
        assert_string_equal(u->settings.description, "\"quoted\"");
        assert_string_equal(u->settings.image, "busybox");
        assert_string_equal(u->settings.container_name, "web");
        assert_string_equal(u->settings.hostname, "web-1");
        assert_string_equal(u->settings.user, "nobody");
        assert_string_equal(u->settings.working_dir, "/srv");
        assert_true(u->settings.memory == 64 * 1024 * 1024);
        assert_int_equal(u->settings.stop_signal, SIGINT);
        assert_int_equal(u->settings.read_only, 1);
        assert_string_equal(u->settings.health_cmd, "/bin/sh -c \"echo \"hello\"\"");
        assert_int_equal(u->settings.notify, NOTIFY_HEALTHY);
        assert_int_equal(strv_length(u->settings.environment_file), 2);
        assert_string_equal(u->settings.environment_file[0], "/etc/my app.env");
        assert_string_equal(u->settings.environment_file[1], "-/etc/other.env");
        unit_file_free(TAKE_PTR(u));

        /* Only a matched pair around the whole value; inner and single quotes stay and are judged
         * by the key's own rules. An empty pair is an empty assignment. */
        u = load_text("[Container]\nImage=a\n"
                      "ContainerName=\"a\"b\"\n"
                      "HostName='web'\n"
                      "IP=\"10.0.0.1\n"
                      "HealthCmd=/bin/sh -c \"echo 'hello world!'\"\n");
        assert_error(u, "invalid value 'a\"b' for ContainerName=", 3);
        assert_error(u, "invalid value ''web'' for HostName=", 4);
        assert_error(u, "invalid value '\"10.0.0.1' for IP=", 5);
        assert_string_equal(u->settings.health_cmd, "/bin/sh -c \"echo 'hello world!'\"");
        unit_file_free(TAKE_PTR(u));

        u = load_text("[Container]\nImage=a\nContainerName=web\nContainerName=\"\"\n");
        assert_ok(u);
        assert_null(u->settings.container_name);
}

/* Quadlet refuses a dependency on a .container file that is nowhere ("unable to translate
 * dependency"); other names are left to the start, other unit types are ignored with a warning. */
static void test_missing_container_dependency(void **state) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;
        _cleanup_free_ char *p = NULL;

        put(2, "db.container", "[Container]\nImage=db\n");
        put(1, "tmpl@.container", "[Container]\nImage=t\n");
        u = load_text("[Unit]\n"
                      "Requires=db.container tmpl@x.container t.container\n"
                      "After=db.container network-online.target\n"
                      "Wants=ghost other.service\n"
                      "[Container]\nImage=a\n");
        assert_ok(u);
        assert_warning(u, "After=network-online.target ignored", 3);
        assert_true(strv_equal(u->settings.requires, (char *[]){ "db", "tmpl@x", "t", NULL }));
        assert_true(strv_equal(u->settings.wants, (char *[]){ "ghost", "other", NULL }));
        unit_file_free(TAKE_PTR(u));

        u = load_text("[Unit]\n"
                      "Requires=ghost.container db.container\n"
                      "BindsTo=nope@1.container\n"
                      "After=late.container\n"
                      "[Container]\nImage=a\n");
        assert_error(u, "Requires=ghost.container: no such unit on the search path", 2);
        assert_error(u, "BindsTo=nope@1.container: no such unit on the search path", 3);
        assert_error(u, "After=late.container: no such unit on the search path", 4);
        assert_int_equal(u->n_errors, 3);
        assert_true(strv_equal(u->settings.requires, (char *[]){ "db", NULL }));
        unit_file_free(TAKE_PTR(u));

        /* verify FILE: the file's own directory is the search path. */
        put(1, "verify/app.container", "[Unit]\nRequires=web.container\n[Container]\nImage=a\n");
        p = path_join(dirs[1], "verify/app.container");
        assert_int_equal(unit_file_load_path(NULL, p, &u), 0);
        assert_error(u, "Requires=web.container: no such unit on the search path", 2);
        unit_file_free(TAKE_PTR(u));
        put(1, "verify/web.container", "[Container]\nImage=a\n");
        assert_int_equal(unit_file_load_path(NULL, p, &u), 0);
        assert_ok(u);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_basic_values, setup, teardown),
                cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rootfs_relative_and_entrypoint, setup, teardown),
                cmocka_unit_test_setup_teardown(test_continuation_and_comments, setup, teardown),
                cmocka_unit_test_setup_teardown(test_line_numbers_after_continuation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_quadlet_escapes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unsupported_escape_warns, setup, teardown),
                cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dropins_reset_and_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_directory_snapshot, setup, teardown),
                cmocka_unit_test_setup_teardown(test_main_file_precedence, setup, teardown),
                cmocka_unit_test_setup_teardown(test_templates, setup, teardown),
                cmocka_unit_test_setup_teardown(test_specifiers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_replicas, setup, teardown),
                cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_warnings, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_binary, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_sizes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_file_types, setup, teardown),
                cmocka_unit_test(test_unit_names),
                cmocka_unit_test_setup_teardown(test_enumerate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_verify_json, setup, teardown),
                cmocka_unit_test_setup_teardown(test_load_path, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hash, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reconcile_desired_set, setup, teardown),
                cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_quote_prefix_only, setup, teardown),
                cmocka_unit_test_setup_teardown(test_quadlet_unquote, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_container_dependency, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reconcile_scale_to_zero, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

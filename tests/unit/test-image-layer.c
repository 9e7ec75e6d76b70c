/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image store's pure parts and the layer unpacker's safety: reference and path
 * normalisation, whiteout names, digests, and every hostile-archive class (written here with
 * libarchive), checking that nothing outside the layer directory changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

/* cmocka.h needs the headers above first. */
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "basic/fileio.h"
#include "image/image-digest.h"
#include "image/image-layer.h"
#include "image/image-store.h"

static void test_ref_normalize(void **state) {
        static const struct {
                const char *in, *out;
        } ok[] = {
                { "busybox", "busybox:latest" },
                { "busybox:1.36", "busybox:1.36" },
                { "docker.io/library/busybox:1", "busybox:1" },
                { "docker.io/foo/bar", "foo/bar:latest" },
                { "127.0.0.1:5000/test/busybox", "127.0.0.1:5000/test/busybox:latest" },
                { "127.0.0.1:5000/test/busybox:2", "127.0.0.1:5000/test/busybox:2" },
                { "reg.example/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  "reg.example/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
        };
        static const char *const bad[] = { "", "/x", "a b", "x:", "x@sha256:12", "a//b", "../x", "@sha256:00" };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                char *n = NULL;
                assert_int_equal(image_ref_normalize(ok[i].in, &n), 0);
                assert_string_equal(n, ok[i].out);
                free(n);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *n = NULL;
                if (image_ref_normalize(bad[i], &n) >= 0)
                        fail_msg("accepted '%s' as '%s'", bad[i], n);
        }
        char *name, *tag;
        assert_int_equal(image_ref_split("127.0.0.1:5000/a:b", &name, &tag), 0);
        assert_string_equal(name, "127.0.0.1:5000/a");
        assert_string_equal(tag, "b");
        free(name);
        free(tag);
}

static void test_path_normalize(void **state) {
        static const struct {
                const char *in, *out;
        } ok[] = {
                { "./a/b", "a/b" }, { "a//b/./c/", "a/b/c" }, { "./", "" }, { "/", "" },
                { ".", "" },        { "a/..b", "a/..b" },
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                char *n = NULL;
                assert_int_equal(layer_path_normalize(ok[i].in, &n), 0);
                assert_string_equal(n, ok[i].out);
                free(n);
        }
        char *n = NULL;
        assert_int_equal(layer_path_normalize("../x", &n), -EPERM);
        assert_int_equal(layer_path_normalize("a/../../x", &n), -EPERM);
        assert_int_equal(layer_path_normalize("/etc/passwd", &n), -EPERM);
        assert_int_equal(layer_path_normalize("a/..", &n), -EPERM);
}

static void test_whiteout_kind(void **state) {
        assert_int_equal(layer_whiteout_kind("foo"), WHITEOUT_NONE);
        assert_int_equal(layer_whiteout_kind(".wh.foo"), WHITEOUT_FILE);
        assert_int_equal(layer_whiteout_kind(".wh..wh..opq"), WHITEOUT_OPAQUE);
        assert_int_equal(layer_whiteout_kind(".wh."), _WHITEOUT_INVALID);
        assert_int_equal(layer_whiteout_kind(".wh.."), _WHITEOUT_INVALID);
        assert_int_equal(layer_whiteout_kind(".wh..."), _WHITEOUT_INVALID);
        assert_int_equal(layer_whiteout_kind(".wh..wh.x"), _WHITEOUT_INVALID);
}

static void test_digest(void **state) {
        char hex[DIGEST_HEX_LEN + 1];
        assert_int_equal(digest_buffer_hex("abc", 3, hex), 0);
        assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_true(digest_hex_valid(hex));
        assert_false(digest_hex_valid("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
        assert_int_equal(digest_parse("sha512:00", hex), -EINVAL);
        assert_int_equal(digest_parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex),
                         0);
}

/* ---- archives ---- */

typedef struct Entry {
        const char *name;
        mode_t type;
        const char *data; /* file content, or symlink/hardlink target */
        mode_t perm;
} Entry;

static void *make_tar(const Entry *e, size_t n, bool gzip, size_t *ret_size) {
        size_t cap = 1 << 20, used = 0;
        void *buf = malloc(cap);
        struct archive *a = archive_write_new();
        assert_non_null(buf);
        archive_write_set_format_pax_restricted(a);
        if (gzip)
                archive_write_add_filter_gzip(a);
        assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *ae = archive_entry_new();
                archive_entry_set_pathname(ae, e[i].name);
                archive_entry_set_perm(ae, e[i].perm ?: 0644);
                if (e[i].type == AE_IFLNK && e[i].data && e[i].data[0] == '=') {
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_hardlink(ae, e[i].data + 1);
                } else {
                        archive_entry_set_filetype(ae, e[i].type);
                        if (e[i].type == AE_IFLNK)
                                archive_entry_set_symlink(ae, e[i].data);
                        if (e[i].type == AE_IFCHR)
                                archive_entry_set_rdev(ae, makedev(1, 3));
                        if (e[i].type == AE_IFREG)
                                archive_entry_set_size(ae, e[i].data ? (la_int64_t) strlen(e[i].data) : 0);
                }
                assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
                if (e[i].type == AE_IFREG && e[i].data)
                        archive_write_data(a, e[i].data, strlen(e[i].data));
                archive_entry_free(ae);
        }
        archive_write_close(a);
        archive_write_free(a);
        *ret_size = used;
        return buf;
}

typedef struct Sandbox {
        char dir[64];
        int layer_fd;
        char victim[128];
} Sandbox;

static void sandbox_init(Sandbox *s) {
        char p[256];
        strcpy(s->dir, "/tmp/test-image-layer.XXXXXX");
        assert_non_null(mkdtemp(s->dir));
        snprintf(p, sizeof(p), "%s/layer", s->dir);
        assert_int_equal(mkdir(p, 0755), 0);
        s->layer_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(s->layer_fd >= 0);
        snprintf(s->victim, sizeof(s->victim), "%s/victim", s->dir);
        assert_int_equal(mkdir(s->victim, 0755), 0);
        snprintf(p, sizeof(p), "%s/target", s->victim);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs("original", f);
        fclose(f);
        assert_int_equal(chmod(p, 0644), 0);
}

static void sandbox_check_victim(Sandbox *s) {
        char p[256], *c = NULL;
        struct stat st;
        size_t n;
        snprintf(p, sizeof(p), "%s/target", s->victim);
        assert_int_equal(read_file_at(AT_FDCWD, p, 100, &c, &n), 0);
        assert_string_equal(c, "original");
        free(c);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        snprintf(p, sizeof(p), "%s/pwned", s->victim);
        assert_int_equal(access(p, F_OK), -1);
}

static void sandbox_done(Sandbox *s) {
        close(s->layer_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, s->dir), 0);
}

static int unpack(Sandbox *s, const Entry *e, size_t n, bool gzip, LayerBudget *budget, LayerResult *res, char **err) {
        size_t size;
        void *tar = make_tar(e, n, gzip, &size);
        MemSource ms = { .data = tar, .size = size, .chunk = 1000 };
        LayerBudget def = { .limits = IMPORT_LIMITS_DEFAULT };
        int r = layer_unpack(s->layer_fd, mem_source_read, &ms, budget ?: &def, 0, res, err);
        free(tar);
        return r;
}

static void test_hostile(void **state) {
        Sandbox s;
        char outside[256], up[512], link_up[512];

        sandbox_init(&s);
        snprintf(outside, sizeof(outside), "%s/pwned", s.victim);
        snprintf(up, sizeof(up), "../../../../../../../..%s/pwned", s.victim);
        snprintf(link_up, sizeof(link_up), "../../../../../../../..%s", s.victim);
        {
                const Entry cases[][3] = {
                        { { up, AE_IFREG, "x" } },
                        { { outside, AE_IFREG, "x" } },
                        { { "evil", AE_IFLNK, s.victim }, { "evil/pwned", AE_IFREG, "x" } },
                        { { "evil", AE_IFLNK, link_up }, { "evil/pwned", AE_IFREG, "x" } },
                        { { "evil", AE_IFLNK, s.victim }, { "link", AE_IFLNK, "=evil/target" } },
                        { { "link", AE_IFLNK, "=../../victim/target" } },
                        { { "d", AE_IFDIR, NULL, 0755 }, { "d", AE_IFLNK, s.victim }, { "d/pwned", AE_IFREG, "x" } },
                        { { "evil", AE_IFLNK, s.victim }, { "evil/.wh.target", AE_IFREG, "" } },
                        { { "evil", AE_IFLNK, s.victim }, { "evil/.wh..wh..opq", AE_IFREG, "" } },
                        { { ".wh.", AE_IFREG, "" } },
                        { { "etc/.wh..", AE_IFREG, "" } },
                        { { "etc/.wh...", AE_IFREG, "" } },
                };
                for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                        size_t n = 0;
                        char *err = NULL;
                        LayerResult res;
                        while (n < 3 && cases[i][n].name)
                                n++;
                        int r = unpack(&s, cases[i], n, i % 2, NULL, &res, &err);
                        if (r >= 0)
                                fail_msg("hostile case %zu was accepted", i);
                        assert_non_null(err);
                        free(err);
                        sandbox_check_victim(&s);
                }
        }
        sandbox_done(&s);
}

static void test_contained(void **state) {
        Sandbox s;
        char target[256], *err = NULL;
        LayerResult res;
        struct stat st;

        sandbox_init(&s);
        snprintf(target, sizeof(target), "%s/target", s.victim);
        /* Metadata and content for a name that was a symlink to the victim: the symlink is
         * replaced, never followed. Hard links to symlinks link the symlink. Devices are skipped. */
        const Entry e[] = {
                { "evil", AE_IFLNK, target },  { "evil", AE_IFREG, "replaced", 04755 },
                { "sym", AE_IFLNK, target },   { "hl", AE_IFLNK, "=sym" },
                { "hl", AE_IFREG, "mine" },    { "dev/mem", AE_IFCHR, NULL },
                { "ok/file", AE_IFREG, "ok" },
        };
        assert_int_equal(unpack(&s, e, ELEMENTSOF(e), false, NULL, &res, &err), 0);
        sandbox_check_victim(&s);
        assert_int_equal(fstatat(s.layer_fd, "evil", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 04755); /* setuid kept */
        assert_int_equal(fstatat(s.layer_fd, "sym", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_int_equal(fstatat(s.layer_fd, "dev/mem", &st, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(res.skipped_devices, 1);
        assert_int_equal(res.entries, ELEMENTSOF(e));
        sandbox_done(&s);
}

static void test_whiteouts(void **state) {
        Sandbox s;
        char *err = NULL, v[4] = {};
        LayerResult res;
        struct stat st;
        int fd;

        sandbox_init(&s);
        const Entry e[] = {
                { "bin/.wh.cat", AE_IFREG, "" },
                { "var/www/.wh..wh..opq", AE_IFREG, "" },
                { "var/www/index.html", AE_IFREG, "new" },
                { "keep", AE_IFREG, "k" },
                { ".wh.keep", AE_IFREG, "" }, /* same layer: the entry stays */
        };
        assert_int_equal(unpack(&s, e, ELEMENTSOF(e), true, NULL, &res, &err), 0);
        assert_int_equal(fstatat(s.layer_fd, "bin/cat", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(0, 0));
        assert_int_equal(fstatat(s.layer_fd, "bin/.wh.cat", &st, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(fstatat(s.layer_fd, "keep", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(st.st_mode));
        fd = openat(s.layer_fd, "var/www", O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        assert_int_equal(fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)), 1);
        assert_int_equal(v[0], 'y');
        close(fd);
        sandbox_done(&s);
}

static void test_limits_and_digests(void **state) {
        Sandbox s;
        char *err = NULL, want[DIGEST_HEX_LEN + 1];
        LayerResult res;
        size_t size;
        const Entry e[] = { { "a", AE_IFREG, "aaaa" }, { "b", AE_IFREG, "bbbb" }, { "c", AE_IFREG, "cccc" } };
        LayerBudget few = { .limits = { .max_bytes = UINT64_MAX, .max_entries = 2 } };
        LayerBudget small = { .limits = { .max_bytes = 1024, .max_entries = 100 } };

        sandbox_init(&s);
        assert_int_equal(unpack(&s, e, 3, false, &few, &res, &err), -EFBIG);
        assert_non_null(strstr(err, "too many entries"));
        free(err);
        err = NULL;
        assert_int_equal(unpack(&s, e, 3, true, &small, &res, &err), -EFBIG);
        /* The whole import's limit, named as supd.conf spells it, not an entry's fault. */
        assert_string_equal(err, "import stopped: image larger than MaxImportSize=1K");
        assert_true(small.limit_hit);
        free(err);
        err = NULL;
        sandbox_done(&s);

        /* The diff id is the digest of the uncompressed tar, the blob digest of what was read. */
        sandbox_init(&s);
        void *plain = make_tar(e, 3, false, &size);
        assert_int_equal(digest_buffer_hex(plain, size, want), 0);
        free(plain);
        assert_int_equal(unpack(&s, e, 3, true, NULL, &res, &err), 0);
        assert_string_equal(res.diff_hex, want);
        assert_string_not_equal(res.blob_hex, want);
        sandbox_done(&s);

        /* A truncated compressed stream is an error, not a short layer. */
        sandbox_init(&s);
        void *gz = make_tar(e, 3, true, &size);
        MemSource ms = { .data = gz, .size = size / 2, .chunk = 7 };
        LayerBudget def = { .limits = IMPORT_LIMITS_DEFAULT };
        assert_true(layer_unpack(s.layer_fd, mem_source_read, &ms, &def, 0, &res, &err) < 0);
        free(err);
        free(gz);
        sandbox_done(&s);
}

static void test_free_space(void **state) {
        const uint64_t G = UINT64_C(1) << 30;
        ImportLimits def = IMPORT_LIMITS_DEFAULT;
        ImportLimits abs = { .min_free_bytes = 40 << 20 }, pct = { .min_free_percent = 70 }, none = {};
        char buf[24], *err = NULL;
        Sandbox s;
        LayerResult res;
        const Entry e[] = { { "big", AE_IFREG, "0123456789" } };

        /* The default is 5% or 1G, whichever is smaller. */
        assert_int_equal(import_limits_min_free(&def, 10 * G), 10 * G / 100 * 5);
        assert_int_equal(import_limits_min_free(&def, 100 * G), G);
        assert_int_equal(import_limits_min_free(&abs, 100 * G), 40 << 20);
        assert_int_equal(import_limits_min_free(&pct, 100 << 20), (100 << 20) / 100 * 70);
        assert_int_equal(import_limits_min_free(&none, 100 * G), 0);

        assert_string_equal(import_format_size(512, buf), "512");
        assert_string_equal(import_format_size(1 << 20, buf), "1M");
        assert_string_equal(import_format_size(64 * G, buf), "64G");
        assert_string_equal(import_format_size(3 << 19, buf), "1.5M");
        assert_string_equal(import_format_size(UINT64_MAX, buf), "infinity");

        /* A reserve no file system can keep: the first entry is refused before it is written,
         * with the setting named. */
        sandbox_init(&s);
        LayerBudget full = {
                .limits = { .max_bytes = UINT64_MAX, .max_entries = 100, .min_free_bytes = UINT64_MAX / 2 },
                .fs_path = "/store"
        };
        full.unchecked = LAYER_SPACE_CHECK_INTERVAL; /* as if 8 MiB were written already */
        assert_int_equal(unpack(&s, e, 1, false, &full, &res, &err), -ENOSPC);
        assert_non_null(strstr(err, "import stopped: it would leave less than "));
        assert_non_null(strstr(err, " free on /store (MinFreeSpace=8.0E)"));
        assert_true(full.limit_hit);
        assert_int_equal(faccessat(s.layer_fd, "big", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        free(err);
        err = NULL;
        sandbox_done(&s);

        /* Nothing reserved: never refused for space. */
        LayerBudget any = { .limits = { .max_bytes = UINT64_MAX, .max_entries = 100 } };
        any.unchecked = LAYER_SPACE_CHECK_INTERVAL;
        sandbox_init(&s);
        assert_int_equal(unpack(&s, e, 1, false, &any, &res, &err), 0);
        sandbox_done(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ref_normalize), cmocka_unit_test(test_path_normalize),
                cmocka_unit_test(test_whiteout_kind), cmocka_unit_test(test_digest),
                cmocka_unit_test(test_hostile),       cmocka_unit_test(test_contained),
                cmocka_unit_test(test_whiteouts),     cmocka_unit_test(test_limits_and_digests),
                cmocka_unit_test(test_free_space),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

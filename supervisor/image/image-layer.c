/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "image-layer.h"

#define LAYER_PATH_MAX 4096
#define LAYER_BUF_SIZE (256 * 1024)

static inline void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}

ssize_t mem_source_read(void *userdata, const void **ret_buf) {
        MemSource *m = userdata;
        size_t n = MIN(m->size - m->pos, m->chunk ?: m->size - m->pos);
        *ret_buf = (const uint8_t *) m->data + m->pos;
        m->pos += n;
        return (ssize_t) n;
}

int layer_path_normalize(const char *name, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        const char *p = name;

        if (!name)
                return -EINVAL;
        if (strlen(name) > LAYER_PATH_MAX)
                return -ENAMETOOLONG;
        /* umoci writes its root as "/": a name of only slashes and dots is the root. Any other
         * absolute name is refused. */
        if (name[0] == '/' && name[strspn(name, "/.")] != 0)
                return -EPERM;
        out = malloc(strlen(name) + 1);
        if (!out)
                return -ENOMEM;
        while (*p) {
                size_t n = strcspn(p, "/");
                if (n == 2 && strneq(p, "..", 2))
                        return -EPERM;
                if (n > 255)
                        return -ENAMETOOLONG;
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        if (len > 0)
                                out[len++] = '/';
                        memcpy(out + len, p, n);
                        len += n;
                }
                p += n;
                while (*p == '/')
                        p++;
        }
        out[len] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

WhiteoutKind layer_whiteout_kind(const char *base) {
        const char *n;
        if (!strneq(base, ".wh.", 4))
                return WHITEOUT_NONE;
        if (streq(base, ".wh..wh..opq"))
                return WHITEOUT_OPAQUE;
        n = base + 4;
        /* containerd's WhiteoutRoot/Parent/CurrentDirectory cases, and the reserved ".wh..wh." prefix. */
        if (isempty(n) || streq(n, ".") || streq(n, "..") || strneq(n, ".wh.", 4))
                return _WHITEOUT_INVALID;
        return WHITEOUT_FILE;
}

/* ---- import-wide limits ---- */

/* What an entry costs on disk besides its data: an inode, a directory entry, a block. */
#define ENTRY_OVERHEAD 4096

uint64_t import_limits_min_free(const ImportLimits *l, uint64_t fs_size) {
        uint64_t pct = l->min_free_percent > 0 ? fs_size / 100 * l->min_free_percent : UINT64_MAX;
        uint64_t abs = l->min_free_bytes > 0 ? l->min_free_bytes : UINT64_MAX;
        uint64_t v = MIN(pct, abs);
        return v == UINT64_MAX ? 0 : v;
}

char *import_format_size(uint64_t v, char buf[static 24]) {
        static const char units[] = "KMGTPE";
        int u = -1;
        double d = (double) v;

        if (v == UINT64_MAX) {
                snprintf(buf, 24, "infinity");
                return buf;
        }
        while (d >= 1024.0 && u < 5) {
                d /= 1024.0;
                u++;
        }
        if (u < 0)
                snprintf(buf, 24, "%" PRIu64, v);
        else if (v % (UINT64_C(1) << (10 * (u + 1))) == 0)
                snprintf(buf, 24, "%" PRIu64 "%c", v >> (10 * (u + 1)), units[u]);
        else
                snprintf(buf, 24, "%.1f%c", d, units[u]);
        return buf;
}

int layer_budget_check_space(LayerBudget *b, int fd, uint64_t upcoming, char **ret_error) {
        struct statvfs sv;
        uint64_t avail, min_free;
        char want[24], conf[32];

        if (b->limits.min_free_bytes == 0 && b->limits.min_free_percent == 0)
                return 0;
        if (fstatvfs(fd, &sv) < 0)
                return negative_errno();
        avail = (uint64_t) sv.f_bavail * sv.f_frsize;
        min_free = import_limits_min_free(&b->limits, (uint64_t) sv.f_blocks * sv.f_frsize);
        if (avail >= upcoming && avail - upcoming >= min_free)
                return 0;
        b->limit_hit = true;
        /* Name the setting as it was given: the reader should find it in supd.conf. */
        if (b->limits.min_free_percent > 0 && (b->limits.min_free_bytes == 0 || min_free < b->limits.min_free_bytes))
                snprintf(conf, sizeof(conf), "%u%%", b->limits.min_free_percent);
        else
                import_format_size(b->limits.min_free_bytes, conf);
        if (ret_error &&
            asprintf(ret_error, "import stopped: it would leave less than %s free on %s (MinFreeSpace=%s)",
                     import_format_size(min_free, want), b->fs_path ?: "the image store", conf) < 0)
                *ret_error = NULL;
        return -ENOSPC;
}

int layer_budget_account(LayerBudget *b, int fd, uint64_t cost, char **ret_error) {
        int r;
        if (b->unchecked + cost < LAYER_SPACE_CHECK_INTERVAL) {
                b->unchecked += cost;
                return 0;
        }
        /* What was accounted before is on disk by now, and so in what statvfs reports. */
        r = layer_budget_check_space(b, fd, cost, ret_error);
        if (r < 0)
                return r;
        b->unchecked = 0;
        return 0;
}

int layer_budget_too_big(LayerBudget *b, char **ret_error) {
        char max[24];
        b->limit_hit = true;
        if (ret_error && asprintf(ret_error, "import stopped: image larger than MaxImportSize=%s",
                                  import_format_size(b->limits.max_bytes, max)) < 0)
                *ret_error = NULL;
        return -EFBIG;
}

typedef struct DeferredTime {
        char *path;
        struct timespec ts[2];
} DeferredTime;

typedef struct Unpacker {
        int root_fd;
        char *cached_path; /* the last parent directory opened, and its fd */
        int cached_fd;
        bool privileged;
        DeferredTime *times;
        size_t n_times;
        LayerBudget *budget;
        LayerResult *res;
        char *error;

        /* the two stages: compressed bytes in, tar bytes out */
        LayerReadFn read_fn;
        void *userdata;
        Digest *blob;
        Digest *diff;
        struct archive *raw;
        uint8_t *buf;
        bool raw_eof;
        bool lenient;
        bool stop;
        bool too_big;
} Unpacker;

_printf_(3, 4) static int fail(Unpacker *u, int r, const char *fmt, ...) {
        va_list ap;
        if (!u->error) {
                va_start(ap, fmt);
                if (vasprintf(&u->error, fmt, ap) < 0)
                        u->error = NULL;
                va_end(ap);
        }
        return r < 0 ? r : -EINVAL;
}

static int fail_too_big(Unpacker *u) {
        _cleanup_free_ char *msg = NULL;
        int r = layer_budget_too_big(u->budget, &msg);
        free(u->error); /* whatever the entry's error was, the limit is the cause */
        u->error = TAKE_PTR(msg);
        return r;
}

static int space_account(Unpacker *u, uint64_t cost, bool now) {
        _cleanup_free_ char *msg = NULL;
        int r = now ? layer_budget_check_space(u->budget, u->root_fd, cost, &msg)
                    : layer_budget_account(u->budget, u->root_fd, cost, &msg);
        if (r < 0) {
                free(u->error);
                u->error = TAKE_PTR(msg);
        }
        return r;
}

static void cache_drop(Unpacker *u) {
        free(u->cached_path);
        u->cached_path = NULL;
        u->cached_fd = safe_close(u->cached_fd);
}

static int openat_beneath(int dir_fd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) flags | O_CLOEXEC | O_NOFOLLOW,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        long fd = syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
        return fd < 0 ? negative_errno() : (int) fd;
}

/* Opens the directory path (normalised, relative) below the root without following any symlink;
 * with create, missing components are made 0755. Returns an owned fd. */
static int open_dir(Unpacker *u, const char *path, bool create, const char *entry) {
        _cleanup_close_ int cur = -EBADF;
        const char *p = path;
        int fd;

        if (isempty(path))
                return RET_NERRNO(fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3));
        fd = openat_beneath(u->root_fd, path, O_RDONLY | O_DIRECTORY);
        if (fd >= 0)
                return fd;
        if (fd != -ENOENT && fd != -ENOSYS && fd != -ELOOP && fd != -ENOTDIR && fd != -EXDEV)
                return fail(u, fd, "%s: cannot open parent %s: %s", entry, path, strerror(-fd));

        /* Slow path: one component at a time, to create what is missing and say what is wrong. */
        cur = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return negative_errno();
        while (*p) {
                char comp[256];
                size_t n = strcspn(p, "/");
                struct stat st;

                memcpy(comp, p, n);
                comp[n] = 0;
                fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT && create) {
                        if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
                                return fail(u, -errno, "%s: cannot create %.*s: %m", entry, (int) (p - path + n),
                                            path);
                        fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (fd < 0) {
                        int e = errno;
                        if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISLNK(st.st_mode))
                                return fail(u, -ELOOP, "%s: refusing to go through the symlink %.*s", entry,
                                            (int) (p - path + n), path);
                        return fail(u, -e, "%s: cannot open %.*s: %s", entry, (int) (p - path + n), path, strerror(e));
                }
                safe_close(cur);
                cur = fd;
                p += n;
                while (*p == '/')
                        p++;
        }
        return TAKE_FD(cur);
}

/* The parent of the entry being created, cached because tar entries come grouped by directory. */
static int parent_fd(Unpacker *u, const char *dir, const char *entry) {
        int fd;
        if (isempty(dir))
                return u->root_fd;
        if (u->cached_path && streq(u->cached_path, dir))
                return u->cached_fd;
        cache_drop(u);
        fd = open_dir(u, dir, true, entry);
        if (fd < 0)
                return fd;
        u->cached_path = strdup(dir);
        if (!u->cached_path) {
                safe_close(fd);
                return -ENOMEM;
        }
        u->cached_fd = fd;
        return fd;
}

/* Tar semantics: a later entry replaces an earlier one of the same name. Directories merge. */
static int make_room(Unpacker *u, int dir_fd, const char *base, bool keep_dir) {
        struct stat st;
        if (fstatat(dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (keep_dir && S_ISDIR(st.st_mode))
                return 1;
        /* The cached parent could live below what we delete. */
        cache_drop(u);
        return rm_rf_at(dir_fd, base);
}

static void apply_xattrs(Unpacker *u, int fd, struct archive_entry *e) {
        const char *name;
        const void *value;
        size_t size;

        if (archive_entry_xattr_reset(e) <= 0)
                return;
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                /* trusted.overlay.* would let a layer forge whiteouts, opaque dirs or redirects;
                 * only user data and file capabilities travel with a layer. */
                if (!name || !(strneq(name, "user.", 5) || streq(name, "security.capability")))
                        continue;
                (void) fsetxattr(fd, name, value, size, 0);
        }
}

static int apply_fd_metadata(Unpacker *u, int fd, struct archive_entry *e) {
        mode_t mode = archive_entry_perm(e) & 07777;
        struct timespec ts[2] = {
                { .tv_sec = archive_entry_atime(e), .tv_nsec = archive_entry_atime_nsec(e) },
                { .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
        };
        if (!archive_entry_atime_is_set(e))
                ts[0] = ts[1];
        /* chown first: it clears setuid bits, which the chmod then sets again. */
        if (u->privileged && fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) < 0)
                return negative_errno();
        if (fchmod(fd, mode) < 0)
                return negative_errno();
        apply_xattrs(u, fd, e);
        (void) futimens(fd, ts);
        return 0;
}

static int unpack_file(Unpacker *u, struct archive *a, int dir_fd, const char *base, struct archive_entry *e,
                       const char *path) {
        _cleanup_close_ int fd = -EBADF;
        int64_t size = archive_entry_size(e), end = 0;
        uint64_t since_check = 0;
        const void *buf;
        size_t len;
        la_int64_t off;
        int r;

        r = make_room(u, dir_fd, base, false);
        if (r < 0)
                return fail(u, r, "%s: cannot replace: %s", path, strerror(-r));
        fd = openat(dir_fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return fail(u, -errno, "%s: cannot create: %m", path);
        for (;;) {
                r = archive_read_data_block(a, &buf, &len, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN && u->lenient && u->raw_eof && size >= 0 && end >= size) {
                        u->stop = true; /* only the padding is missing: see LAYER_UNPACK_LENIENT_END */
                        break;
                }
                if (r < ARCHIVE_WARN)
                        return u->too_big ? fail_too_big(u)
                                          : fail(u, -EIO, "%s: %s", path, archive_error_string(a) ?: "read error");
                if (off < 0 || (size >= 0 && (uint64_t) off + len > (uint64_t) size))
                        return fail(u, -EBADMSG, "%s: data beyond the entry's size", path);
                for (size_t done = 0; done < len;) {
                        ssize_t n = pwrite(fd, (const uint8_t *) buf + done, len - done, off + (off_t) done);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return fail(u, -errno, "%s: write failed: %m", path);
                        }
                        done += (size_t) n;
                }
                end = MAX(end, off + (int64_t) len);
                /* The whole entry was accounted before it began; look again now and then, for
                 * whatever else fills the file system meanwhile. */
                since_check += len;
                if (since_check >= LAYER_SPACE_CHECK_INTERVAL) {
                        since_check = 0;
                        r = space_account(u, size > end ? (uint64_t) (size - end) : 0, true);
                        if (r < 0)
                                return r;
                }
        }
        if (size > end && ftruncate(fd, size) < 0) /* a sparse file ending in a hole */
                return fail(u, -errno, "%s: cannot set size: %m", path);
        r = apply_fd_metadata(u, fd, e);
        if (r < 0)
                return fail(u, r, "%s: cannot set metadata: %s", path, strerror(-r));
        return 0;
}

static int unpack_dir(Unpacker *u, int dir_fd, const char *base, struct archive_entry *e, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        DeferredTime *t;
        int r;

        if (isempty(base))
                fd = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3);
        else {
                r = make_room(u, dir_fd, base, true);
                if (r < 0)
                        return fail(u, r, "%s: cannot replace: %s", path, strerror(-r));
                if (r == 0 && mkdirat(dir_fd, base, 0700) < 0)
                        return fail(u, -errno, "%s: cannot create: %m", path);
                fd = openat(dir_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return fail(u, -errno, "%s: cannot open: %m", path);
        r = apply_fd_metadata(u, fd, e);
        if (r < 0)
                return fail(u, r, "%s: cannot set metadata: %s", path, strerror(-r));
        /* Creating children changes the mtime again; set it once more at the end. */
        t = realloc(u->times, (u->n_times + 1) * sizeof(DeferredTime));
        if (!t)
                return -ENOMEM;
        u->times = t;
        t[u->n_times] = (DeferredTime){
                .path = strdup(path),
                .ts = { { .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
                        { .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) } },
        };
        if (!t[u->n_times].path)
                return -ENOMEM;
        u->n_times++;
        return 0;
}

static int unpack_hardlink(Unpacker *u, int dir_fd, const char *base, const char *target, const char *path) {
        _cleanup_free_ char *norm = NULL;
        _cleanup_close_ int tdir = -EBADF;
        const char *slash, *tbase;
        struct stat st;
        int r;

        r = layer_path_normalize(target, &norm);
        if (r < 0 || isempty(norm))
                return fail(u, r < 0 ? r : -EINVAL, "%s: refusing hard link to %s outside the layer", path, target);
        if (streq(norm, path))
                return 0;
        slash = strrchr(norm, '/');
        if (slash) {
                _cleanup_free_ char *d = strndup(norm, (size_t) (slash - norm));
                if (!d)
                        return -ENOMEM;
                tdir = open_dir(u, d, false, path);
                if (tdir < 0)
                        return fail(u, tdir, "%s: hard link target %s is not in the layer", path, target);
                tbase = slash + 1;
        } else {
                tdir = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3);
                tbase = norm;
        }
        if (tdir < 0)
                return negative_errno();
        if (fstatat(tdir, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(u, -errno, "%s: hard link target %s is not in the layer", path, target);
        if (S_ISDIR(st.st_mode))
                return fail(u, -EPERM, "%s: refusing hard link to directory %s", path, target);
        r = make_room(u, dir_fd, base, false);
        if (r < 0)
                return fail(u, r, "%s: cannot replace: %s", path, strerror(-r));
        /* No AT_SYMLINK_FOLLOW: a link to a symlink is a second symlink, never its target. */
        if (linkat(tdir, tbase, dir_fd, base, 0) < 0)
                return fail(u, -errno, "%s: cannot link to %s: %m", path, target);
        return 0;
}

static int unpack_symlink(Unpacker *u, int dir_fd, const char *base, struct archive_entry *e, const char *path) {
        const char *target = archive_entry_symlink(e);
        struct timespec ts[2] = {
                { .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
                { .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
        };
        int r;

        if (isempty(target) || strlen(target) > LAYER_PATH_MAX)
                return fail(u, -EINVAL, "%s: bad symlink target", path);
        r = make_room(u, dir_fd, base, false);
        if (r < 0)
                return fail(u, r, "%s: cannot replace: %s", path, strerror(-r));
        /* The target is only data: it is resolved inside the container, never here. */
        if (symlinkat(target, dir_fd, base) < 0)
                return fail(u, -errno, "%s: cannot create symlink: %m", path);
        if (u->privileged)
                (void) fchownat(dir_fd, base, archive_entry_uid(e), archive_entry_gid(e), AT_SYMLINK_NOFOLLOW);
        (void) utimensat(dir_fd, base, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
}

static int unpack_whiteout(Unpacker *u, int dir_fd, const char *base, WhiteoutKind k, const char *path) {
        struct stat st;
        if (k == WHITEOUT_OPAQUE) {
                if (fsetxattr(dir_fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return fail(u, -errno, "%s: cannot mark the directory opaque: %m", path);
                return 0;
        }
        /* A whiteout only hides lower layers: an entry of this layer of the same name stays. */
        if (fstatat(dir_fd, base + 4, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                return 0;
        if (mknodat(dir_fd, base + 4, S_IFCHR | 0000, makedev(0, 0)) < 0)
                return fail(u, -errno, "%s: cannot create the whiteout: %m", path);
        return 0;
}

static int unpack_entry(Unpacker *u, struct archive *a, struct archive_entry *e) {
        _cleanup_free_ char *path = NULL, *dir = NULL;
        const char *name = archive_entry_pathname(e), *base, *hardlink = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        WhiteoutKind wk;
        int dfd, r;

        if (!name)
                return fail(u, -EINVAL, "entry without a name");
        r = layer_path_normalize(name, &path);
        if (r == -EPERM)
                return fail(u, r, "%s: refusing a name outside the layer", name);
        if (r < 0)
                return fail(u, r, "%s: bad name: %s", name, strerror(-r));

        if (++u->budget->entries > u->budget->limits.max_entries)
                return fail(u, -EFBIG, "too many entries (limit %" PRIu64 ")", u->budget->limits.max_entries);
        u->res->entries++;

        /* Before anything is written: the entry's data as its header declares it (data beyond
         * that is refused), so one big file is checked before its first byte. */
        r = space_account(u,
                          ENTRY_OVERHEAD + (type == AE_IFREG && !hardlink && archive_entry_size(e) > 0
                                                    ? (uint64_t) archive_entry_size(e)
                                                    : 0),
                          false);
        if (r < 0)
                return r;

        base = strrchr(path, '/');
        if (base) {
                dir = strndup(path, (size_t) (base - path));
                if (!dir)
                        return -ENOMEM;
                base++;
        } else
                base = path;

        wk = isempty(path) ? WHITEOUT_NONE : layer_whiteout_kind(base);
        if (wk < 0)
                return fail(u, -EINVAL, "%s: malformed whiteout", name);

        if (isempty(path)) {
                if (type != AE_IFDIR)
                        return fail(u, -EINVAL, "%s: the layer root must be a directory", name);
                return unpack_dir(u, u->root_fd, "", e, "");
        }

        if (!hardlink && (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFSOCK) && wk == WHITEOUT_NONE) {
                u->res->skipped_devices++;
                return 0;
        }

        dfd = parent_fd(u, dir, name);
        if (dfd < 0)
                return dfd;

        if (wk != WHITEOUT_NONE)
                return unpack_whiteout(u, dfd, base, wk, name);
        if (hardlink)
                return unpack_hardlink(u, dfd, base, hardlink, path);
        switch (type) {
        case AE_IFREG:
                return unpack_file(u, a, dfd, base, e, path);
        case AE_IFDIR:
                return unpack_dir(u, dfd, base, e, path);
        case AE_IFLNK:
                return unpack_symlink(u, dfd, base, e, path);
        case AE_IFIFO:
                r = make_room(u, dfd, base, false);
                if (r < 0)
                        return fail(u, r, "%s: cannot replace: %s", name, strerror(-r));
                if (mkfifoat(dfd, base, archive_entry_perm(e) & 0777) < 0)
                        return fail(u, -errno, "%s: cannot create fifo: %m", name);
                return 0;
        default:
                return fail(u, -EINVAL, "%s: unknown entry type 0%o", name, (unsigned) type);
        }
}

/* Stage 1 → stage 2: the raw (decompressing) reader feeds the tar reader, and both are hashed. */
static la_ssize_t compressed_read(struct archive *a, void *userdata, const void **buf) {
        Unpacker *u = userdata;
        ssize_t n = u->read_fn(u->userdata, buf);
        if (n < 0) {
                archive_set_error(a, (int) -n, "read failed: %s", strerror((int) -n));
                return -1;
        }
        digest_update(u->blob, *buf, (size_t) n);
        return n;
}

static la_ssize_t tar_read(struct archive *a, void *userdata, const void **buf) {
        Unpacker *u = userdata;
        la_ssize_t n;

        if (u->raw_eof)
                return 0;
        n = archive_read_data(u->raw, u->buf, LAYER_BUF_SIZE);
        if (n < 0) {
                archive_set_error(a, EIO, "%s", archive_error_string(u->raw) ?: "decompression failed");
                return -1;
        }
        if (n == 0)
                u->raw_eof = true;
        u->res->size += (uint64_t) n;
        u->budget->bytes += (uint64_t) n;
        if (u->budget->bytes > u->budget->limits.max_bytes) {
                u->too_big = true;
                archive_set_error(a, EFBIG, "uncompressed size exceeds the limit of %" PRIu64 " bytes",
                                  u->budget->limits.max_bytes);
                return -1;
        }
        digest_update(u->diff, u->buf, (size_t) n);
        *buf = u->buf;
        return n;
}

static int open_stages(Unpacker *u, struct archive **ret_tar) {
        _cleanup_(archive_read_freep) struct archive *tar = NULL;
        struct archive_entry *e;
        int r;

        u->raw = archive_read_new();
        tar = archive_read_new();
        if (!u->raw || !tar)
                return -ENOMEM;
        /* Only in-process decompressors: libarchive would run external programs for others. */
        archive_read_support_filter_gzip(u->raw);
        archive_read_support_filter_xz(u->raw);
        archive_read_support_filter_zstd(u->raw);
        archive_read_support_filter_bzip2(u->raw);
        archive_read_support_format_raw(u->raw);
        if (archive_read_open(u->raw, u, NULL, compressed_read, NULL) != ARCHIVE_OK)
                return fail(u, -EINVAL, "%s", archive_error_string(u->raw) ?: "cannot read the stream");
        r = archive_read_next_header(u->raw, &e);
        if (r == ARCHIVE_EOF)
                return fail(u, -EBADMSG, "empty stream");
        if (r < ARCHIVE_WARN)
                return fail(u, -EBADMSG, "%s", archive_error_string(u->raw) ?: "cannot read the stream");

        archive_read_support_format_tar(tar);
        if (archive_read_open(tar, u, NULL, tar_read, NULL) != ARCHIVE_OK) {
                if (u->too_big)
                        return fail_too_big(u);
                return fail(u, -EBADMSG, "not a tar archive: %s", archive_error_string(tar) ?: "?");
        }
        *ret_tar = TAKE_PTR(tar);
        return 0;
}

static void fix_dir_times(Unpacker *u) {
        cache_drop(u);
        for (size_t i = u->n_times; i > 0; i--) {
                DeferredTime *t = &u->times[i - 1];
                _cleanup_close_ int fd = -EBADF;
                if (isempty(t->path))
                        fd = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3);
                else
                        fd = openat_beneath(u->root_fd, t->path, O_RDONLY | O_DIRECTORY);
                if (fd >= 0)
                        (void) futimens(fd, t->ts);
        }
}

int layer_unpack(int dir_fd, LayerReadFn read_fn, void *userdata, LayerBudget *budget, LayerUnpackFlags flags,
                 LayerResult *ret, char **ret_error) {
        _cleanup_(archive_read_freep) struct archive *tar = NULL;
        _cleanup_(digest_freep) Digest *blob = NULL, *diff = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        LayerResult res = {};
        Unpacker u = {
                .root_fd = dir_fd,
                .cached_fd = -EBADF,
                .privileged = geteuid() == 0,
                .budget = budget,
                .res = &res,
                .read_fn = read_fn,
                .userdata = userdata,
                .lenient = flags & LAYER_UNPACK_LENIENT_END,
        };
        struct archive_entry *e;
        int r;

        buf = malloc(LAYER_BUF_SIZE);
        if (!buf || digest_new(&blob) < 0 || digest_new(&diff) < 0)
                return -ENOMEM;
        u.buf = buf;
        u.blob = blob;
        u.diff = diff;

        r = open_stages(&u, &tar);
        while (r >= 0) {
                r = archive_read_next_header(tar, &e);
                if (r == ARCHIVE_EOF) {
                        r = 0;
                        break;
                }
                if (r < ARCHIVE_WARN && u.raw_eof && !u.too_big && (flags & LAYER_UNPACK_LENIENT_END)) {
                        /* Go's archive/tar (umoci) may end a layer without padding and the
                         * end-of-archive blocks; the caller checks the digest of what we read. */
                        r = 0;
                        break;
                }
                if (r < ARCHIVE_WARN) {
                        if (u.too_big)
                                r = fail_too_big(&u);
                        else
                                r = fail(&u, -EBADMSG, "%s", archive_error_string(tar) ?: "corrupt archive");
                        break;
                }
                r = unpack_entry(&u, tar, e);
                if (r >= 0 && u.stop)
                        break;
        }
        /* The diff id covers the whole stream, including padding after the end-of-archive marker;
         * reading to the end also catches truncated compressed streams. */
        while (r >= 0 && !u.raw_eof) {
                const void *b;
                if (tar_read(tar, &u, &b) < 0)
                        r = u.too_big ? fail_too_big(&u)
                                      : fail(&u, -EBADMSG, "%s", archive_error_string(tar) ?: "corrupt stream");
        }
        if (r >= 0) {
                fix_dir_times(&u);
                digest_final_hex(blob, res.blob_hex);
                digest_final_hex(diff, res.diff_hex);
                *ret = res;
        } else if (ret_error)
                *ret_error = TAKE_PTR(u.error);
        cache_drop(&u);
        for (size_t i = 0; i < u.n_times; i++)
                free(u.times[i].path);
        free(u.times);
        free(u.error);
        if (u.raw)
                archive_read_free(u.raw);
        return r;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "basic/dirent-util.h"
#include "basic/strv.h"
#include "image-store.h"

/* `supctl diff`: like docker diff, from the container's overlay upper dir. A char device 0/0 is a
 * whiteout (D); anything else is C if the merged lower layers had that path, else A. Lower layers
 * are looked into with RESOLVE_IN_ROOT, so their symlinks never lead onto the host. */

typedef struct DiffCtx {
        int *lower_fds;
        size_t n_lower;
        ImageDiffFn cb;
        void *userdata;
} DiffCtx;

static bool is_whiteout(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool lower_has(DiffCtx *c, const char *rel) {
        for (size_t i = 0; i < c->n_lower; i++) {
                struct open_how how = {
                        .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
                };
                struct stat st;
                long fd = syscall(SYS_openat2, c->lower_fds[i], rel, &how, sizeof(how));
                int r;
                if (fd < 0)
                        continue;
                r = fstat((int) fd, &st);
                close((int) fd);
                if (r < 0)
                        continue;
                return !is_whiteout(&st);
        }
        return false;
}

/* rel is dir_fd/name's path in the upper dir, "" for the upper dir itself ("."). */
static int walk(DiffCtx *c, int dir_fd, const char *name, const char *rel) {
        _cleanup_closedir_ DIR *d = NULL;
        int r;

        r = opendir_at(dir_fd, name, O_NOFOLLOW, &d);
        if (r < 0) /* a sub-directory that cannot be opened (removed meanwhile) is left out */
                return streq(name, ".") ? r : 0;
        FOREACH_DIRENT (de, d) {
                _cleanup_free_ char *p = NULL;
                struct stat st;
                char kind;

                if (asprintf(&p, "%s/%s", rel, de->d_name) < 0)
                        return -ENOMEM;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (is_whiteout(&st))
                        kind = 'D';
                else
                        kind = lower_has(c, p + 1) ? 'C' : 'A';
                r = c->cb(kind, p, c->userdata);
                if (r < 0)
                        return r;
                if (S_ISDIR(st.st_mode)) {
                        r = walk(c, dirfd(d), de->d_name, p);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int image_diff(const char *upper_dir, char *const *lower_dirs, ImageDiffFn cb, void *userdata) {
        _cleanup_close_ int up = -EBADF;
        DiffCtx c = { .cb = cb, .userdata = userdata };
        int r;

        up = open(upper_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (up < 0)
                return negative_errno();
        c.lower_fds = new0(int, strv_length(lower_dirs));
        if (!c.lower_fds)
                return -ENOMEM;
        STRV_FOREACH (l, lower_dirs) {
                int fd = open(*l, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0)
                        c.lower_fds[c.n_lower++] = fd;
        }
        r = walk(&c, up, ".", "");
        for (size_t i = 0; i < c.n_lower; i++)
                safe_close(c.lower_fds[i]);
        free(c.lower_fds);
        return r;
}

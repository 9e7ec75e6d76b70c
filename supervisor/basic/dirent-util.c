/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>

#include "dirent-util.h"

int opendir_at(int dir_fd, const char *path, int flags, DIR **ret) {
        int fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
        DIR *d;

        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                int r = negative_errno();
                safe_close(fd);
                return r;
        }
        *ret = d;
        return 0;
}

struct dirent *readdir_no_dot(DIR *d) {
        struct dirent *de;

        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return de;
        return NULL;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <dirent.h>

#include "macro.h"

/* A DIR* over dir_fd/path (AT_FDCWD for a plain path; "." for dir_fd itself), O_CLOEXEC, with
 * flags added to open's (O_NOFOLLOW: path must not be a symlink). It is a new open file
 * description, never a dup(): a dup shares the directory offset, and a second pass over the same
 * directory would silently see nothing. */
int opendir_at(int dir_fd, const char *path, int flags, DIR **ret);

/* The next entry other than "." and "..", NULL at the end (or on a read error, as readdir()). */
struct dirent *readdir_no_dot(DIR *d);

#define FOREACH_DIRENT(de, d) for (struct dirent *de = readdir_no_dot(d); de; de = readdir_no_dot(d))

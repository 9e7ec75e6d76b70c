/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <fcntl.h>
#include <stddef.h>
#include <sys/types.h>

/* Write via a temporary file, fsync, rename and fsync the directory, so that a crash leaves
 * either the old or the new content, never a torn file. */
int write_file_atomic(int dir_fd, const char *name, const void *data, size_t size, mode_t mode);
/* Replace a file's content via a temporary file and rename, without fsync: for files that are
 * regenerated anyway (a container's /etc/hosts), where a torn file must not be seen but
 * durability does not matter. Skips the write when the content is already the same. */
int write_file_replace(int dir_fd, const char *name, const void *data, size_t size, mode_t mode);
/* Read a whole regular file of at most max bytes; NUL-terminated. Refuses FIFOs and devices so a
 * hostile file cannot block or flood us. */
int read_file_at(int dir_fd, const char *name, size_t max, char **ret, size_t *ret_size);
/* mkdir -p, each component 0755 unless it exists. */
int mkdir_p(const char *path, mode_t mode);
/* rm -rf below dir_fd/name without following symlinks or crossing mounts. */
int rm_rf_at(int dir_fd, const char *name);
char *path_join(const char *a, const char *b);

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* User= and Group= of a container, resolved against the container's own /etc/passwd and
 * /etc/group relative to root_fd (after pivot_root and chdir("/"): AT_FDCWD; in tests a
 * directory fd in tests). Numbers need no entry; names must exist. */
typedef struct ContainerUser {
        uid_t uid;
        gid_t gid;
        gid_t *groups; /* supplementary groups from /etc/group membership */
        size_t n_groups;
        char *home; /* from passwd, "/" when unknown */
        char *name; /* NULL for a number without an entry */
} ContainerUser;

void container_user_done(ContainerUser *u);
/* On failure *ret_error says why ("no user 'www' in /etc/passwd"). */
int container_user_resolve(int root_fd, const char *user, const char *group, ContainerUser *ret, char **ret_error);

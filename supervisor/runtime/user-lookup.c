/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "user-lookup.h"

void container_user_done(ContainerUser *u) {
        free(u->groups);
        free(u->home);
        free(u->name);
        *u = (ContainerUser){};
}

static bool parse_id(const char *s, unsigned *ret) {
        unsigned v;
        if (safe_atou(s, &v) < 0 || v == (unsigned) -1 || v == 65535 * 65536U + 65535)
                return false;
        *ret = v;
        return true;
}

/* Calls cb with the colon-separated fields of each line of a passwd/group style file. */
static int for_each_entry(int root_fd, const char *path, int (*cb)(char **f, size_t n, void *ud), void *ud) {
        _cleanup_free_ char *data = NULL;
        int r;

        /* Called after pivot_root: symlinks in the image resolve inside the container. */
        r = read_file_at(root_fd, path, 16 * 1024 * 1024, &data, NULL);
        if (r == -ENOENT || r == -EISDIR || r == -ENOTDIR)
                return 0;
        if (r < 0)
                return r;
        for (char *save = NULL, *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[8];
                size_t n = 0;
                char *p = line;
                while (n < ELEMENTSOF(f)) {
                        f[n++] = p;
                        p = strchr(p, ':');
                        if (!p)
                                break;
                        *p++ = 0;
                }
                r = cb(f, n, ud);
                if (r != 0)
                        return r;
        }
        return 0;
}

typedef struct Lookup {
        const char *key; /* name or number as text */
        bool by_id;
        unsigned id;
        bool found;
        unsigned found_id, found_gid;
        char *home, *name;
} Lookup;

static int passwd_cb(char **f, size_t n, void *ud) {
        Lookup *l = ud;
        unsigned uid, gid;

        if (n < 4 || !parse_id(f[2], &uid) || !parse_id(f[3], &gid))
                return 0;
        if (l->by_id ? uid != l->id : !streq(f[0], l->key))
                return 0;
        l->found = true;
        l->found_id = uid;
        l->found_gid = gid;
        l->name = strdup(f[0]);
        l->home = n >= 6 && !isempty(f[5]) ? strdup(f[5]) : strdup("/");
        return 1;
}

static int group_cb(char **f, size_t n, void *ud) {
        Lookup *l = ud;
        unsigned gid;

        if (n < 3 || !parse_id(f[2], &gid))
                return 0;
        if (l->by_id ? gid != l->id : !streq(f[0], l->key))
                return 0;
        l->found = true;
        l->found_id = gid;
        return 1;
}

typedef struct Members {
        const char *user;
        gid_t *groups;
        size_t n;
} Members;

static int members_cb(char **f, size_t n, void *ud) {
        Members *m = ud;
        unsigned gid;

        if (n < 4 || !parse_id(f[2], &gid) || !m->user)
                return 0;
        for (char *save = NULL, *u = strtok_r(f[3], ",", &save); u; u = strtok_r(NULL, ",", &save))
                if (streq(u, m->user)) {
                        gid_t *g;
                        if (m->n >= 64) /* NGROUPS is far higher, but an image needs no more */
                                return 0;
                        g = realloc(m->groups, (m->n + 1) * sizeof(gid_t));
                        if (!g)
                                return -ENOMEM;
                        g[m->n++] = gid;
                        m->groups = g;
                }
        return 0;
}

int container_user_resolve(int root_fd, const char *user, const char *group, ContainerUser *ret, char **ret_error) {
        Lookup pw = { .key = user ?: "0" };
        Members members = {};
        ContainerUser u = {};
        int r;

        *ret_error = NULL;
        pw.by_id = parse_id(pw.key, &pw.id);
        r = for_each_entry(root_fd, "etc/passwd", passwd_cb, &pw);
        if (r < 0)
                return r;
        if (!pw.found && !pw.by_id) {
                if (asprintf(ret_error, "no user '%s' in the container's /etc/passwd", pw.key) < 0)
                        return -ENOMEM;
                return -ESRCH;
        }
        u.uid = pw.found ? pw.found_id : pw.id;
        u.gid = pw.found ? pw.found_gid : 0;
        u.home = pw.home ?: strdup("/");
        u.name = pw.name;

        if (group) {
                Lookup gr = { .key = group };
                gr.by_id = parse_id(group, &gr.id);
                r = for_each_entry(root_fd, "etc/group", group_cb, &gr);
                if (r < 0) {
                        container_user_done(&u);
                        return r;
                }
                if (!gr.found && !gr.by_id) {
                        container_user_done(&u);
                        if (asprintf(ret_error, "no group '%s' in the container's /etc/group", group) < 0)
                                return -ENOMEM;
                        return -ESRCH;
                }
                u.gid = gr.found ? gr.found_id : gr.id;
        }

        members.user = u.name;
        r = for_each_entry(root_fd, "etc/group", members_cb, &members);
        if (r < 0) {
                free(members.groups);
                container_user_done(&u);
                return r;
        }
        u.groups = members.groups;
        u.n_groups = members.n;
        if (!u.home) {
                container_user_done(&u);
                return -ENOMEM;
        }
        *ret = u;
        return 0;
}

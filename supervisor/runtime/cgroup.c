/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/string-table.h"
#include "basic/strv.h"
#include "cgroup.h"

#define CGROUP_FS "/sys/fs/cgroup"
#define HIERARCHY_MAX 6
#define ATTR_SIZE_MAX (64U * 1024U)
#define PROCS_SIZE_MAX (16U * 1024U * 1024U)
#define NAME_LEN_MAX 200
#define SUPERVISOR_CGROUP "supervisor"
#define WANTED_V2 (CGROUP_MASK_MEMORY | CGROUP_MASK_PIDS | CGROUP_MASK_CPU)
/* Bounds on the few places where we must wait for the kernel: a freeze to settle, SIGKILLed
 * processes to leave cgroup.procs, an emptied cgroup to become removable. */
#define WAIT_STEP_NSEC (2 * 1000 * 1000L)
#define FREEZE_WAIT_STEPS 25
#define KILL_ROUNDS 250
#define RMDIR_WAIT_STEPS 1000

typedef struct Hierarchy {
        const char *name; /* "unified" or the first v1 controller mounted there; static */
        bool v2;
        CgroupMask mask; /* what we use this hierarchy for */
        dev_t dev;
        char *path;         /* the subtree, on the host */
        int fd;             /* O_PATH of path */
        unsigned n_created; /* trailing components of the parent path that we created */
} Hierarchy;

struct CgroupRoot {
        CgroupLayout layout;
        bool delegated;
        char *parent; /* escaped, relative */
        Hierarchy h[HIERARCHY_MAX];
        size_t n_h;  /* h[0] tracks processes: cgroup2 wherever there is one */
        int lock_fd; /* cgroup_root_lock() */
};

struct Cgroup {
        CgroupRoot *root;
        char *name; /* escaped */
        char *path[HIERARCHY_MAX];
        int fd[HIERARCHY_MAX];
};

static const struct {
        const char *name;
        CgroupMask mask;
} controller_table[] = {
        /* Order of the v1 hierarchies: pids first, so that it tracks processes on legacy hosts. */
        { "pids", CGROUP_MASK_PIDS },       { "memory", CGROUP_MASK_MEMORY },   { "cpu", CGROUP_MASK_CPU },
        { "cpuacct", CGROUP_MASK_CPUACCT }, { "freezer", CGROUP_MASK_FREEZER },
};

static const char *const cgroup_layout_table[_CGROUP_LAYOUT_MAX] = {
        [CGROUP_LAYOUT_UNIFIED] = "unified",
        [CGROUP_LAYOUT_HYBRID] = "hybrid",
        [CGROUP_LAYOUT_LEGACY] = "legacy",
};

DEFINE_STRING_TABLE_LOOKUP(cgroup_layout, CgroupLayout);

static void nap(void) {
        struct timespec ts = { .tv_nsec = WAIT_STEP_NSEC };
        (void) nanosleep(&ts, NULL);
}

/* ---- attribute files ---- */

static int cg_write(int dfd, const char *attr, const char *value) {
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(value);
        ssize_t k;

        fd = openat(dfd, attr, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        k = write(fd, value, n);
        if (k < 0)
                return negative_errno();
        return (size_t) k == n ? 0 : -EIO;
}

/* Writes v, or inf when v is UINT64_MAX. */
static int cg_write_u64(int dfd, const char *attr, uint64_t v, const char *inf) {
        char buf[32];

        if (v == UINT64_MAX)
                return cg_write(dfd, attr, inf);
        (void) snprintf(buf, sizeof(buf), "%" PRIu64, v);
        return cg_write(dfd, attr, buf);
}

static int cg_write_optional(int dfd, const char *attr, const char *value) {
        int r = cg_write(dfd, attr, value);
        return r == -ENOENT ? 0 : r;
}

static int cg_read(int dfd, const char *attr, char **ret) {
        return read_file_at(dfd, attr, ATTR_SIZE_MAX, ret, NULL);
}

/* A file holding one number, or "max". */
static int cg_read_u64(int dfd, const char *attr, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = cg_read(dfd, attr, &s);
        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = 0;
        if (streq(s, "max")) {
                *ret = UINT64_MAX;
                return 0;
        }
        return safe_atou64(s, ret);
}

/* "key value" lines, as in cgroup.events, memory.events, memory.oom_control, cpu.stat. */
static int cg_read_key(int dfd, const char *attr, const char *key, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        size_t kl = strlen(key);
        int r;

        r = cg_read(dfd, attr, &s);
        if (r < 0)
                return r;
        for (char *line = s, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (strneq(line, key, kl) && line[kl] == ' ')
                        return safe_atou64(line + kl + 1, ret);
        }
        return -ENODATA;
}

static CgroupMask v2_mask_from_string(const char *s) {
        CgroupMask m = 0;

        for (const char *p = s; *p;) {
                size_t n = strcspn(p, " \n");
                if (n == 6 && strneq(p, "memory", 6))
                        m |= CGROUP_MASK_MEMORY;
                else if (n == 4 && strneq(p, "pids", 4))
                        m |= CGROUP_MASK_PIDS;
                else if (n == 3 && strneq(p, "cpu", 3))
                        m |= CGROUP_MASK_CPU;
                p += n;
                p += strspn(p, " \n");
        }
        return m;
}

/* Enables memory, pids and cpu for the children of dfd where the kernel offers them; returns the
 * mask the children get. */
static int v2_enable_controllers(int dfd, CgroupMask *ret) {
        _cleanup_free_ char *avail = NULL, *enabled = NULL;
        char buf[64] = "";
        CgroupMask m;
        int r;

        r = cg_read(dfd, "cgroup.controllers", &avail);
        if (r < 0)
                return r;
        m = v2_mask_from_string(avail) & WANTED_V2;
        if (m & CGROUP_MASK_MEMORY)
                strcat(buf, " +memory");
        if (m & CGROUP_MASK_PIDS)
                strcat(buf, " +pids");
        if (m & CGROUP_MASK_CPU)
                strcat(buf, " +cpu");
        if (buf[0]) {
                r = cg_write(dfd, "cgroup.subtree_control", buf + 1);
                if (r < 0)
                        return r;
        }
        r = cg_read(dfd, "cgroup.subtree_control", &enabled);
        if (r < 0)
                return r;
        *ret = v2_mask_from_string(enabled) & WANTED_V2;
        return 0;
}

/* ---- names ---- */

int cgroup_name_escape(const char *name, char **ret) {
        static const char *const prefixes[] = { "cgroup",  "cpu",     "cpuacct",  "cpuset",     "io",   "blkio",
                                                "memory",  "devices", "pids",     "rdma",       "misc", "hugetlb",
                                                "freezer", "net_cls", "net_prio", "perf_event", "debug" };
        const char *dot;
        bool prefix;
        char *s;

        if (!name || !name[0] || strlen(name) > NAME_LEN_MAX || streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        for (const char *p = name; *p; p++)
                if (*p == '/' || (unsigned char) *p < 0x20 || *p == 0x7f)
                        return -EINVAL;

        prefix = name[0] == '_' || name[0] == '.' || streq(name, "tasks") || streq(name, "notify_on_release") ||
                 streq(name, "release_agent");
        /* The first dot, not the last as systemd does, so that "memory.swap.max" is caught too. */
        dot = strchr(name, '.');
        for (size_t i = 0; !prefix && dot && i < ELEMENTSOF(prefixes); i++)
                prefix = (size_t) (dot - name) == strlen(prefixes[i]) && strneq(name, prefixes[i], dot - name);

        s = prefix ? NULL : strdup(name);
        if (prefix && asprintf(&s, "_%s", name) < 0)
                s = NULL;
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* Each component of a relative path, escaped. */
static int escape_relative_path(const char *path, char **ret) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;
        int r;

        if (isempty(path) || path[0] == '/')
                return -EINVAL;
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                char *e;
                r = cgroup_name_escape(c, &e);
                if (r < 0)
                        return r;
                r = strv_consume(&parts, e);
                if (r < 0)
                        return r;
        }
        if (strv_length(parts) == 0)
                return -EINVAL;
        *ret = strv_join(parts, "/");
        return *ret ? 0 : -ENOMEM;
}

/* ---- discovery ---- */

static int fs_magic(const char *path, long *ret) {
        struct statfs s;

        if (statfs(path, &s) < 0)
                return negative_errno();
        *ret = (long) s.f_type;
        return 0;
}

int cgroup_detect_layout(CgroupLayout *ret) {
        long m;

        if (fs_magic(CGROUP_FS, &m) < 0)
                return -ENOMEDIUM;
        if (m == CGROUP2_SUPER_MAGIC)
                *ret = CGROUP_LAYOUT_UNIFIED;
        else if (m != TMPFS_MAGIC)
                return -ENOMEDIUM;
        else if (fs_magic(CGROUP_FS "/unified", &m) >= 0 && m == CGROUP2_SUPER_MAGIC)
                *ret = CGROUP_LAYOUT_HYBRID;
        else
                *ret = CGROUP_LAYOUT_LEGACY;
        return 0;
}

/* This process's cgroup in the hierarchy of controller ctl ("" = cgroup2, "name=systemd"), from
 * the text of /proc/self/cgroup; -ENOENT if that hierarchy is not there. */
static int own_cgroup(const char *proc_cgroup, const char *ctl, char **ret) {
        size_t cl = strlen(ctl);

        for (const char *line = proc_cgroup; line && *line;) {
                const char *end = strchrnul(line, '\n'), *c1 = memchr(line, ':', end - line), *c2;
                if (c1 && (c2 = memchr(c1 + 1, ':', end - c1 - 1))) {
                        bool match = cl == 0 && c2 == c1 + 1 && c1 - line == 1 && line[0] == '0';
                        for (const char *w = c1 + 1; cl > 0 && !match && w < c2;) {
                                size_t n = strcspn(w, ",:");
                                match = n == cl && strneq(w, ctl, cl);
                                w += n + 1;
                        }
                        if (match) {
                                char *p = strndup(c2 + 1, end - c2 - 1);
                                if (!p)
                                        return -ENOMEM;
                                *ret = p;
                                return 0;
                        }
                }
                line = *end ? end + 1 : end;
        }
        return -ENOENT;
}

static bool is_delegated(const char *path) {
        static const char *const names[] = { "trusted.delegate", "user.delegate" };
        char v[8];

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                ssize_t n = getxattr(path, names[i], v, sizeof(v));
                if (n == 1 && v[0] == '1')
                        return true;
        }
        return false;
}

/* Creates each component of rel below dfd (v2: enabling controllers in the ones we create, so
 * the next level gets them). Returns an O_PATH fd of the last one. */
static int mkdir_components(int dfd, const char *rel, bool v2, unsigned *ret_created, int *ret_fd) {
        _cleanup_free_ char *copy = strdup(rel);
        _cleanup_close_ int cur = -EBADF;
        unsigned created = 0;
        char *save = NULL;
        int r;

        if (!copy)
                return -ENOMEM;
        for (char *c = strtok_r(copy, "/", &save), *n; c; c = n) {
                int parent = cur >= 0 ? cur : dfd, fd;
                CgroupMask ignored;

                n = strtok_r(NULL, "/", &save);
                if (mkdirat(parent, c, 0755) >= 0)
                        created++;
                else if (errno != EEXIST)
                        return negative_errno();
                fd = openat(parent, c, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return negative_errno();
                safe_close(cur);
                cur = fd;
                if (v2 && n && created > 0) {
                        r = v2_enable_controllers(cur, &ignored);
                        if (r < 0)
                                return r;
                }
        }
        *ret_created = created;
        *ret_fd = TAKE_FD(cur);
        return 0;
}

static int root_add(CgroupRoot *r, const char *name, bool v2, CgroupMask mask, const char *mount, const char *base) {
        _cleanup_free_ char *base_path = path_join(mount, base), *path = NULL;
        _cleanup_close_ int base_fd = -EBADF;
        struct stat st;
        Hierarchy *h;
        int rr;

        if (!base_path)
                return -ENOMEM;
        if (r->n_h >= HIERARCHY_MAX)
                return -E2BIG;
        h = &r->h[r->n_h];
        path = path_join(base_path, r->parent);
        if (!path)
                return -ENOMEM;
        if (stat(mount, &st) < 0)
                return negative_errno();
        base_fd = open(base_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (base_fd < 0)
                return negative_errno();
        *h = (Hierarchy){ .name = name, .v2 = v2, .mask = mask, .dev = st.st_dev, .fd = -EBADF };
        rr = mkdir_components(base_fd, r->parent, v2, &h->n_created, &h->fd);
        if (rr < 0)
                return rr;
        h->path = TAKE_PTR(path);
        r->n_h++;
        return 0;
}

static int root_add_v1(CgroupRoot *r, const char *proc_cgroup) {
        for (size_t i = 0; i < ELEMENTSOF(controller_table); i++) {
                const char *ctl = controller_table[i].name;
                _cleanup_free_ char *mount = NULL, *own = NULL;
                CgroupMask m = controller_table[i].mask;
                bool shared = false;
                struct stat st;
                long magic;
                int rr;

                if (cgroup_root_controllers(r) & m)
                        continue;
                if (asprintf(&mount, CGROUP_FS "/%s", ctl) < 0)
                        return -ENOMEM;
                if (fs_magic(mount, &magic) < 0 || magic != CGROUP_SUPER_MAGIC || stat(mount, &st) < 0)
                        continue;
                /* co-mounted controllers (cpu,cpuacct) share one directory tree */
                for (size_t j = 0; j < r->n_h; j++)
                        if (!r->h[j].v2 && r->h[j].dev == st.st_dev) {
                                r->h[j].mask |= m;
                                shared = true;
                        }
                if (shared)
                        continue;
                rr = own_cgroup(proc_cgroup, ctl, &own);
                if (rr < 0 && rr != -ENOENT)
                        return rr;
                rr = root_add(r, ctl, false, m, mount, r->delegated && own ? own : "/");
                if (rr < 0)
                        return rr;
        }
        return 0;
}

/* Under Delegate=yes: leave the delegated cgroup's inner node free of processes, then hand its
 * controllers down (the delegated cgroup's subtree_control is ours to write, by Delegate=yes). */
static int move_into_supervisor(const char *own_path) {
        _cleanup_close_ int own_fd = -EBADF, sup_fd = -EBADF;
        CgroupMask ignored;
        int r;

        own_fd = open(own_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (own_fd < 0)
                return negative_errno();
        if (mkdirat(own_fd, SUPERVISOR_CGROUP, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        sup_fd = openat(own_fd, SUPERVISOR_CGROUP, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (sup_fd < 0)
                return negative_errno();
        r = cg_write(sup_fd, "cgroup.procs", "0");
        if (r < 0)
                return r;
        return v2_enable_controllers(own_fd, &ignored);
}

static int v2_delegated(const char *v2_mount, const char *own2, const char *own_sd_delegated, bool *ret) {
        _cleanup_free_ char *p = path_join(v2_mount, own2);

        if (!p)
                return -ENOMEM;
        *ret = (own_sd_delegated && streq(own2, own_sd_delegated)) || is_delegated(p);
        return 0;
}

/* Whether systemd delegated our cgroup to us: trusted.delegate or user.delegate on the cgroup2
 * cgroup, or on the name=systemd one on hybrid hosts (where systemd 252 puts it). A trailing
 * "/supervisor" in own2, where an earlier call moved us (a reload, a re-exec), is cut off. */
static int detect_delegation(const char *v2_mount, char *own2, const char *own_sd, bool *ret) {
        const char *sd = NULL;
        char *slash;
        bool d;
        int r;

        if (own_sd && !streq(own_sd, "/")) {
                _cleanup_free_ char *p = path_join(CGROUP_FS "/systemd", own_sd);
                if (!p)
                        return -ENOMEM;
                sd = is_delegated(p) ? own_sd : NULL;
        }
        if (!own2 || streq(own2, "/")) {
                *ret = !own2 && sd; /* legacy: name=systemd decides */
                return 0;
        }
        r = v2_delegated(v2_mount, own2, sd, &d);
        if (r < 0 || d) {
                *ret = d;
                return r;
        }
        slash = strrchr(own2, '/');
        if (slash && slash != own2 && streq(slash + 1, SUPERVISOR_CGROUP)) {
                *slash = 0;
                r = v2_delegated(v2_mount, own2, sd, &d);
                if (r < 0)
                        return r;
                if (d) {
                        *ret = true;
                        return 0;
                }
                *slash = '/';
        }
        *ret = false;
        return 0;
}

int cgroup_root_new(const char *parent, CgroupRoot **ret) {
        _cleanup_(cgroup_root_freep) CgroupRoot *r = NULL;
        _cleanup_free_ char *proc_cgroup = NULL, *own2 = NULL, *own_sd = NULL;
        const char *v2_mount;
        CgroupLayout layout;
        int rr;

        rr = cgroup_detect_layout(&layout);
        if (rr < 0)
                return rr;
        rr = read_file_at(AT_FDCWD, "/proc/self/cgroup", ATTR_SIZE_MAX, &proc_cgroup, NULL);
        if (rr < 0)
                return rr;
        r = new0(CgroupRoot, 1);
        if (!r)
                return -ENOMEM;
        r->layout = layout;
        r->lock_fd = -EBADF;
        rr = escape_relative_path(parent, &r->parent);
        if (rr < 0)
                return rr;

        v2_mount = layout == CGROUP_LAYOUT_UNIFIED  ? CGROUP_FS
                   : layout == CGROUP_LAYOUT_HYBRID ? CGROUP_FS "/unified"
                                                    : NULL;
        if (v2_mount) {
                rr = own_cgroup(proc_cgroup, "", &own2);
                if (rr < 0 && rr != -ENOENT)
                        return rr;
        }
        if (layout != CGROUP_LAYOUT_UNIFIED) {
                rr = own_cgroup(proc_cgroup, "name=systemd", &own_sd);
                if (rr < 0 && rr != -ENOENT)
                        return rr;
        }
        rr = detect_delegation(v2_mount, own2, own_sd, &r->delegated);
        if (rr < 0)
                return rr;
        if (r->delegated && (streq(r->parent, SUPERVISOR_CGROUP) || strneq(r->parent, SUPERVISOR_CGROUP "/", 11)))
                return -EINVAL;

        if (v2_mount) {
                const char *base = r->delegated && own2 ? own2 : "/";
                CgroupMask m = 0;

                if (r->delegated && own2 && !streq(own2, "/")) {
                        _cleanup_free_ char *p = path_join(v2_mount, own2);
                        if (!p)
                                return -ENOMEM;
                        rr = move_into_supervisor(p);
                        if (rr < 0)
                                return rr;
                }
                rr = root_add(r, "unified", true, 0, v2_mount, base);
                if (rr < 0)
                        return rr;
                rr = v2_enable_controllers(r->h[0].fd, &m);
                if (rr < 0)
                        return rr;
                /* cgroup.freeze and cpu.stat are core files of every non-root cgroup2 cgroup */
                r->h[0].mask = m | CGROUP_MASK_FREEZER | (layout == CGROUP_LAYOUT_UNIFIED ? CGROUP_MASK_CPUACCT : 0);
        }
        if (layout != CGROUP_LAYOUT_UNIFIED) {
                rr = root_add_v1(r, proc_cgroup);
                if (rr < 0)
                        return rr;
                /* hybrid without a v1 cpuacct: the cgroup2 cpu.stat still counts */
                if (v2_mount && !(cgroup_root_controllers(r) & CGROUP_MASK_CPUACCT))
                        r->h[0].mask |= CGROUP_MASK_CPUACCT;
        }
        if (r->n_h == 0)
                return -ENOMEDIUM;
        *ret = TAKE_PTR(r);
        return 0;
}

CgroupRoot *cgroup_root_free(CgroupRoot *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_h; i++) {
                safe_close(r->h[i].fd);
                free(r->h[i].path);
        }
        safe_close(r->lock_fd);
        free(r->parent);
        free(r);
        return NULL;
}

#define OWNER_XATTR "user.supd.owner"

int cgroup_root_lock(CgroupRoot *r, const char *owner, char **ret_holder) {
        _cleanup_close_ int fd = -EBADF;

        if (r->lock_fd >= 0)
                return 0;
        /* flock() needs a real open, not the O_PATH fd we keep. */
        fd = openat(r->h[0].fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                char buf[512];
                ssize_t n;

                if (errno != EWOULDBLOCK)
                        return negative_errno();
                if (ret_holder) {
                        n = fgetxattr(fd, OWNER_XATTR, buf, sizeof(buf) - 1);
                        *ret_holder = n > 0 ? strndup(buf, (size_t) n) : NULL;
                }
                return -EBUSY;
        }
        /* Only to name us in the other's error: cgroup2 has user xattrs since Linux 5.7, v1 none. */
        if (owner)
                (void) fsetxattr(fd, OWNER_XATTR, owner, strlen(owner), 0);
        r->lock_fd = TAKE_FD(fd);
        return 0;
}

CgroupLayout cgroup_root_layout(const CgroupRoot *r) {
        return r->layout;
}

CgroupMask cgroup_root_controllers(const CgroupRoot *r) {
        CgroupMask m = 0;
        for (size_t i = 0; i < r->n_h; i++)
                m |= r->h[i].mask;
        return m;
}

bool cgroup_root_delegated(const CgroupRoot *r) {
        return r->delegated;
}

/* "unified" names the cgroup2 hierarchy; a controller name the v1 hierarchy that carries it. */
static int hierarchy_by_name(const CgroupRoot *r, const char *name) {
        for (size_t i = 0; name && i < r->n_h; i++) {
                if (r->h[i].v2) {
                        if (streq(name, "unified"))
                                return (int) i;
                        continue;
                }
                for (size_t j = 0; j < ELEMENTSOF(controller_table); j++)
                        if (streq(name, controller_table[j].name) && (r->h[i].mask & controller_table[j].mask))
                                return (int) i;
        }
        return -ENOENT;
}

static int hierarchy_by_mask(const CgroupRoot *r, CgroupMask m) {
        for (size_t i = 0; i < r->n_h; i++)
                if (r->h[i].mask & m)
                        return (int) i;
        return -ENOENT;
}

const char *cgroup_root_path(const CgroupRoot *r, const char *hierarchy) {
        int i = hierarchy_by_name(r, hierarchy);
        return i >= 0 ? r->h[i].path : NULL;
}

int cgroup_root_destroy(CgroupRoot *r) {
        int ret = 0;

        for (size_t i = 0; i < r->n_h; i++) {
                _cleanup_free_ char *p = strdup(r->h[i].path);
                if (!p)
                        return -ENOMEM;
                /* the leaf is ours by configuration; parent components only if we made them */
                for (unsigned k = 0; k < MAX(r->h[i].n_created, 1U); k++) {
                        char *slash;
                        if (rmdir(p) < 0 && errno != ENOENT) {
                                if (ret == 0)
                                        ret = errno == ENOTEMPTY ? -EBUSY : negative_errno();
                                break;
                        }
                        slash = strrchr(p, '/');
                        if (!slash)
                                break;
                        *slash = 0;
                }
        }
        return ret;
}

/* ---- container cgroups ---- */

static int cgroup_alloc(CgroupRoot *r, const char *name, Cgroup **ret) {
        _cleanup_free_ Cgroup *c = new0(Cgroup, 1);
        int rr;

        if (!c)
                return -ENOMEM;
        rr = cgroup_name_escape(name, &c->name);
        if (rr < 0)
                return rr;
        c->root = r;
        for (size_t i = 0; i < HIERARCHY_MAX; i++)
                c->fd[i] = -EBADF;
        for (size_t i = 0; i < r->n_h; i++) {
                c->path[i] = path_join(r->h[i].path, c->name);
                if (!c->path[i]) {
                        cgroup_free(TAKE_PTR(c));
                        return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}

Cgroup *cgroup_free(Cgroup *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < HIERARCHY_MAX; i++) {
                safe_close(c->fd[i]);
                free(c->path[i]);
        }
        free(c->name);
        free(c);
        return NULL;
}

static int apply_limits(Cgroup *c, const CgroupLimits *l) {
        uint64_t quota = UINT64_MAX, shares = 1024;
        char buf[64];
        int r;

        if (l->cpu_quota_per_sec != USEC_INFINITY)
                quota = MAX(l->cpu_quota_per_sec * CGROUP_CPU_PERIOD_USEC / USEC_PER_SEC, USEC_PER_MSEC);
        if (l->cpu_weight != UINT64_MAX)
                shares = MAX(l->cpu_weight * 1024 / 100, UINT64_C(2));

        for (size_t i = 0; i < c->root->n_h; i++) {
                const Hierarchy *h = &c->root->h[i];
                int fd = c->fd[i];

                if ((h->mask & CGROUP_MASK_MEMORY) && h->v2) {
                        if ((r = cg_write_u64(fd, "memory.max", l->memory_max, "max")) < 0 ||
                            (r = cg_write_optional(fd, "memory.swap.max", l->memory_max == UINT64_MAX ? "max" : "0")) <
                                    0 ||
                            (r = cg_write_optional(fd, "memory.oom.group", "1")) < 0)
                                return r;
                } else if (h->mask & CGROUP_MASK_MEMORY) {
                        /* memsw must never be below the memory limit: open it up first */
                        if ((r = cg_write_optional(fd, "memory.memsw.limit_in_bytes", "-1")) < 0 ||
                            (r = cg_write_u64(fd, "memory.limit_in_bytes", l->memory_max, "-1")) < 0)
                                return r;
                        if (l->memory_max != UINT64_MAX) {
                                (void) snprintf(buf, sizeof(buf), "%" PRIu64, l->memory_max);
                                if ((r = cg_write_optional(fd, "memory.memsw.limit_in_bytes", buf)) < 0)
                                        return r;
                        }
                }
                if ((h->mask & CGROUP_MASK_PIDS) && (r = cg_write_u64(fd, "pids.max", l->pids_max, "max")) < 0)
                        return r;
                if ((h->mask & CGROUP_MASK_CPU) && h->v2) {
                        if (quota == UINT64_MAX)
                                (void) snprintf(buf, sizeof(buf), "max %" PRIu64, CGROUP_CPU_PERIOD_USEC);
                        else
                                (void) snprintf(buf, sizeof(buf), "%" PRIu64 " %" PRIu64, quota,
                                                CGROUP_CPU_PERIOD_USEC);
                        if ((r = cg_write(fd, "cpu.max", buf)) < 0 ||
                            (r = cg_write_u64(fd, "cpu.weight",
                                              l->cpu_weight == UINT64_MAX ? CGROUP_CPU_WEIGHT_DEFAULT : l->cpu_weight,
                                              "")) < 0)
                                return r;
                } else if (h->mask & CGROUP_MASK_CPU) {
                        if ((r = cg_write(fd, "cpu.cfs_quota_us", "-1")) < 0 ||
                            (r = cg_write_u64(fd, "cpu.cfs_period_us", CGROUP_CPU_PERIOD_USEC, "")) < 0 ||
                            (r = cg_write_u64(fd, "cpu.cfs_quota_us", quota, "-1")) < 0 ||
                            (r = cg_write_u64(fd, "cpu.shares", shares, "")) < 0)
                                return r;
                }
        }
        return 0;
}

/* Opens (and with limits, creates and configures) the directories; created[] records what to
 * undo on failure. */
static int cgroup_setup(Cgroup *c, const CgroupLimits *limits, bool created[static HIERARCHY_MAX]) {
        CgroupRoot *r = c->root;
        bool existed = false;
        int rr;

        for (size_t i = 0; i < r->n_h; i++) {
                if (limits) {
                        if (mkdirat(r->h[i].fd, c->name, 0755) >= 0)
                                created[i] = true;
                        else if (errno == EEXIST)
                                existed = true;
                        else
                                return negative_errno();
                }
                c->fd[i] = openat(r->h[i].fd, c->name, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (c->fd[i] < 0)
                        return negative_errno();
        }
        if (!limits)
                return 0;
        /* a leftover of a crash is reused only when nothing runs in it any more */
        rr = existed ? cgroup_is_populated(c) : 0;
        if (rr != 0)
                return rr > 0 ? -EBUSY : rr;
        return apply_limits(c, limits);
}

static int cgroup_open_internal(CgroupRoot *r, const char *name, const CgroupLimits *limits, Cgroup **ret) {
        _cleanup_(cgroup_freep) Cgroup *c = NULL;
        bool created[HIERARCHY_MAX] = {};
        int rr;

        rr = cgroup_alloc(r, name, &c);
        if (rr < 0)
                return rr;
        rr = cgroup_setup(c, limits, created);
        if (rr < 0) {
                for (size_t i = 0; i < r->n_h; i++)
                        if (created[i])
                                (void) unlinkat(r->h[i].fd, c->name, AT_REMOVEDIR);
                return rr;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int cgroup_new(CgroupRoot *r, const char *name, const CgroupLimits *limits, Cgroup **ret) {
        CgroupLimits l = limits ? *limits : CGROUP_LIMITS_NONE;
        CgroupMask need = 0;

        if (l.cpu_weight != UINT64_MAX &&
            (l.cpu_weight < CGROUP_CPU_WEIGHT_MIN || l.cpu_weight > CGROUP_CPU_WEIGHT_MAX))
                return -EINVAL;
        if (l.cpu_quota_per_sec == 0)
                return -EINVAL;
        if (l.cpu_quota_per_sec != USEC_INFINITY && l.cpu_quota_per_sec > UINT64_MAX / CGROUP_CPU_PERIOD_USEC)
                return -ERANGE;
        if (l.memory_max != UINT64_MAX)
                need |= CGROUP_MASK_MEMORY;
        if (l.pids_max != UINT64_MAX)
                need |= CGROUP_MASK_PIDS;
        if (l.cpu_quota_per_sec != USEC_INFINITY || l.cpu_weight != UINT64_MAX)
                need |= CGROUP_MASK_CPU;
        if (need & ~cgroup_root_controllers(r))
                return -EOPNOTSUPP;
        return cgroup_open_internal(r, name, &l, ret);
}

int cgroup_open(CgroupRoot *r, const char *name, Cgroup **ret) {
        return cgroup_open_internal(r, name, NULL, ret);
}

int cgroup_clone_fd(const Cgroup *c) {
        return c->root->h[0].v2 ? c->fd[0] : -EOPNOTSUPP;
}

bool cgroup_needs_attach(const Cgroup *c) {
        return c->root->layout != CGROUP_LAYOUT_UNIFIED;
}

/* Called in the (still single-threaded) child: a thread moving itself ("0" to tasks) skips the
 * global cgroup_threadgroup_rwsem and so its RCU grace period (kernel >= 6.0). */
int cgroup_attach_self(Cgroup *c, bool skip_v2) {
        for (size_t i = 0; i < c->root->n_h; i++) {
                int r;
                if (c->root->h[i].v2) {
                        if (skip_v2)
                                continue;
                        r = cg_write(c->fd[i], "cgroup.procs", "0");
                } else
                        r = cg_write(c->fd[i], "tasks", "0");
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_attach(Cgroup *c, pid_t pid) {
        char buf[32];

        if (pid <= 0)
                return -EINVAL;
        (void) snprintf(buf, sizeof(buf), "%d", (int) pid);
        for (size_t i = 0; i < c->root->n_h; i++) {
                int r = cg_write(c->fd[i], "cgroup.procs", buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

const char *cgroup_path(const Cgroup *c, const char *hierarchy) {
        int i = hierarchy_by_name(c->root, hierarchy);
        return i >= 0 ? c->path[i] : NULL;
}

char **cgroup_hierarchies(const Cgroup *c) {
        _cleanup_strv_free_ char **l = NULL;

        for (size_t i = 0; i < c->root->n_h; i++)
                if (strv_extend(&l, c->root->h[i].name) < 0)
                        return NULL;
        return l ? TAKE_PTR(l) : calloc(1, sizeof(char *));
}

const char *cgroup_name(const Cgroup *c) {
        return c->name;
}

/* Signals (sig > 0) or just counts (sig == 0) the processes of dfd and its sub-cgroups. */
static int signal_tree(int dfd, int sig) {
        _cleanup_free_ char *procs = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int n = 0, fd, r;

        r = read_file_at(dfd, "cgroup.procs", PROCS_SIZE_MAX, &procs, NULL);
        if (r < 0)
                return r;
        for (char *p = procs; *p;) {
                unsigned pid;
                size_t len = strcspn(p, "\n");
                char save = p[len];

                p[len] = 0;
                if (safe_atou(p, &pid) >= 0 && pid > 0) {
                        if (sig == 0 || kill((pid_t) pid, sig) >= 0 || errno != ESRCH)
                                n++;
                }
                p[len] = save;
                p += len + (save ? 1 : 0);
        }

        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return negative_errno();
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int sub = -EBADF;
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                sub = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (sub < 0) {
                        if (errno == ENOENT)
                                continue;
                        return negative_errno();
                }
                r = signal_tree(sub, sig);
                if (r < 0 && r != -ENOENT)
                        return r;
                n += MAX(r, 0);
        }
        return n;
}

/* Freezes (or thaws) the cgroup; returns 1 if it changed the state, 0 if there is no freezer or
 * nothing to do. Waits a little for a freeze to complete, but goes on without it: a task in D
 * state can keep a cgroup FREEZING for ever, and signalling it anyway is still right. */
static int cgroup_freeze(Cgroup *c, bool freeze) {
        int i = hierarchy_by_mask(c->root, CGROUP_MASK_FREEZER), r;
        const char *attr, *want;
        _cleanup_free_ char *cur = NULL;

        if (i < 0)
                return 0;
        attr = c->root->h[i].v2 ? "cgroup.freeze" : "freezer.state";
        want = c->root->h[i].v2 ? (freeze ? "1" : "0") : (freeze ? "FROZEN" : "THAWED");
        r = cg_read(c->fd[i], attr, &cur);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        cur[strcspn(cur, "\n")] = 0;
        if (streq(cur, want) || (freeze && streq(cur, "FREEZING")))
                return 0;
        r = cg_write(c->fd[i], attr, want);
        if (r < 0)
                return r;
        for (int k = 0; freeze && k < FREEZE_WAIT_STEPS; k++) {
                uint64_t frozen = 0;
                _cleanup_free_ char *s = NULL;

                if (c->root->h[i].v2 ? cg_read_key(c->fd[i], "cgroup.events", "frozen", &frozen) < 0 || frozen
                                     : cg_read(c->fd[i], attr, &s) < 0 || strneq(s, "FROZEN", 6))
                        break;
                nap();
        }
        return 1;
}

int cgroup_kill(Cgroup *c, int sig) {
        int r;

        if (sig < 0 || sig >= _NSIG)
                return -EINVAL;
        if (sig == SIGKILL && c->root->h[0].v2) {
                r = cg_write(c->fd[0], "cgroup.kill", "1");
                if (r != -ENOENT)
                        return r;
        }
        for (int round = 0; round < KILL_ROUNDS; round++) {
                int frozen = cgroup_freeze(c, true), n;

                n = signal_tree(c->fd[0], sig);
                if (frozen > 0)
                        (void) cgroup_freeze(c, false);
                if (n < 0)
                        return n;
                if (sig != SIGKILL || n == 0)
                        return 0;
                nap();
        }
        return -EBUSY;
}

int cgroup_is_populated(Cgroup *c) {
        uint64_t v;
        int r;

        if (c->root->h[0].v2) {
                r = cg_read_key(c->fd[0], "cgroup.events", "populated", &v);
                return r < 0 ? r : v > 0;
        }
        r = signal_tree(c->fd[0], 0);
        return r < 0 ? r : r > 0;
}

/* Reads one statistic into *v, leaving it unknown when the file is missing. */
static int stat_read(int fd, const char *attr, const char *key, uint64_t *v) {
        int r = key ? cg_read_key(fd, attr, key, v) : cg_read_u64(fd, attr, v);
        if (r < 0)
                *v = UINT64_MAX;
        return r == -ENOENT || r == -ENODATA ? 0 : r;
}

int cgroup_stats(Cgroup *c, CgroupStats *ret) {
        CgroupStats s = { UINT64_MAX, UINT64_MAX, USEC_INFINITY, UINT64_MAX };
        int i, r;

        if ((i = hierarchy_by_mask(c->root, CGROUP_MASK_MEMORY)) >= 0) {
                bool v2 = c->root->h[i].v2;
                if ((r = stat_read(c->fd[i], v2 ? "memory.current" : "memory.usage_in_bytes", NULL,
                                   &s.memory_current)) < 0 ||
                    (r = stat_read(c->fd[i], v2 ? "memory.events" : "memory.oom_control", "oom_kill", &s.oom_kills)) <
                            0)
                        return r;
        }
        if ((i = hierarchy_by_mask(c->root, CGROUP_MASK_PIDS)) >= 0 &&
            (r = stat_read(c->fd[i], "pids.current", NULL, &s.tasks)) < 0)
                return r;
        if ((i = hierarchy_by_mask(c->root, CGROUP_MASK_CPUACCT)) >= 0) {
                if (c->root->h[i].v2)
                        r = stat_read(c->fd[i], "cpu.stat", "usage_usec", &s.cpu_usage);
                else if ((r = stat_read(c->fd[i], "cpuacct.usage", NULL, &s.cpu_usage)) >= 0 &&
                         s.cpu_usage != USEC_INFINITY)
                        s.cpu_usage /= NSEC_PER_USEC;
                if (r < 0)
                        return r;
        }
        *ret = s;
        return 0;
}

/* rmdir dfd/name after its sub-cgroups, depth first. */
static int rmdir_tree(int dfd, const char *name) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return negative_errno();
        }
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    (r = rmdir_tree(dirfd(d), de->d_name)) < 0)
                        return r;
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return errno == ENOTEMPTY ? -EBUSY : negative_errno();
        return 0;
}

int cgroup_destroy(Cgroup *c) {
        int r = 0;

        if (cgroup_is_populated(c) > 0)
                (void) cgroup_kill(c, SIGKILL);
        for (size_t i = 0; i < c->root->n_h; i++) {
                for (int k = 0; k < RMDIR_WAIT_STEPS; k++) {
                        r = rmdir_tree(c->root->h[i].fd, c->name);
                        if (r != -EBUSY)
                                break;
                        nap();
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_populated_fd(Cgroup *c, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *events = NULL;

        if (!c->root->h[0].v2)
                return -EOPNOTSUPP; /* v1 has no notification that works for every host */
        events = path_join(c->path[0], "cgroup.events");
        if (!events)
                return -ENOMEM;
        /* The kernel notifies cgroup.events whenever populated (or frozen) changes: kernfs makes
         * the open file poll with POLLPRI until it is read again. Not inotify: closing an
         * inotify instance waits for an SRCU grace period, 10-15 ms of a blocked event loop. */
        fd = openat(AT_FDCWD, events, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        cgroup_populated_fd_drain(fd);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

void cgroup_populated_fd_drain(int fd) {
        char buf[256];

        /* Reading acknowledges the notification. */
        (void) !pread(fd, buf, sizeof(buf), 0);
}

int cgroup_try_destroy(Cgroup *c) {
        int r = cgroup_is_populated(c);

        if (r < 0 && r != -ENOENT)
                return r;
        if (r > 0) {
                /* One kill, no waiting: cgroup.kill, or one round through cgroup.procs (a fork
                 * that races it is caught by the next call). */
                if (!c->root->h[0].v2 || cg_write(c->fd[0], "cgroup.kill", "1") < 0)
                        (void) signal_tree(c->fd[0], SIGKILL);
                return -EBUSY;
        }
        for (size_t i = 0; i < c->root->n_h; i++) {
                r = rmdir_tree(c->root->h[i].fd, c->name);
                if (r < 0)
                        return r;
        }
        return 0;
}

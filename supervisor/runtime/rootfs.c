/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "cgroup.h"
#include "rootfs.h"

/* Docker's defaults (moby oci/defaults.go), in its order; supd.container(5) lists them too. */
const char *const rootfs_masked_paths[] = {
        "proc/asound",
        "proc/acpi",
        "proc/interrupts",
        "proc/kcore",
        "proc/keys",
        "proc/latency_stats",
        "proc/timer_list",
        "proc/timer_stats",
        "proc/sched_debug",
        "proc/scsi",
        "sys/firmware",
        "sys/devices/virtual/powercap",
        NULL,
};

const char *const rootfs_readonly_paths[] = {
        "proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger", NULL,
};

#define FAIL(what_, ...)                                                                                              \
        ({                                                                                                            \
                int _e = negative_errno();                                                                            \
                snprintf(what, what_size, what_, ##__VA_ARGS__);                                                      \
                _e;                                                                                                   \
        })

static int openat2_in_root(int root_fd, const char *path) {
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        return (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

/* O_PATH fd of root/path, creating a missing directory (or, with file, an empty file) and its
 * missing parents; symlinks resolve inside the root, and a dangling one is followed to create
 * its target inside the root too (bounded, like the kernel's 40 links). */
static int open_in_root_depth(int root_fd, const char *path, bool create, bool file, unsigned depth) {
        _cleanup_free_ char *copy = NULL, *base = NULL;
        _cleanup_close_ int parent = -EBADF;
        char *slash;
        int fd;

        if (depth > 40)
                return -ELOOP;
        fd = openat2_in_root(root_fd, path);
        if (fd >= 0 || errno != ENOENT || !create)
                return fd >= 0 ? fd : negative_errno();

        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
                copy[strlen(copy) - 1] = 0;
        slash = strrchr(copy, '/');
        base = strdup(slash ? slash + 1 : copy);
        if (!base)
                return -ENOMEM;
        if (slash) {
                *slash = 0;
                parent = open_in_root_depth(root_fd, *copy ? copy : "/", true, false, depth + 1);
                if (parent < 0)
                        return parent;
        } else {
                parent = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
                if (parent < 0)
                        return negative_errno();
                *copy = 0;
        }

        {
                char target[PATH_MAX];
                ssize_t n = readlinkat(parent, base, target, sizeof(target) - 1);
                if (n > 0) {
                        /* A dangling symlink: create what it points to, inside the root. */
                        _cleanup_free_ char *next = NULL;
                        target[n] = 0;
                        if (target[0] == '/')
                                next = strdup(target);
                        else if (asprintf(&next, "%s/%s", copy, target) < 0)
                                next = NULL;
                        if (!next)
                                return -ENOMEM;
                        return open_in_root_depth(root_fd, next, create, file, depth + 1);
                }
        }
        if (file) {
                int f = openat(parent, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (f < 0 && errno != EEXIST)
                        return negative_errno();
                safe_close(f);
        } else if (mkdirat(parent, base, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        fd = openat2_in_root(root_fd, path);
        return fd >= 0 ? fd : negative_errno();
}

static int open_in_root(int root_fd, const char *path, bool create, bool file) {
        return open_in_root_depth(root_fd, path, create, file, 0);
}

static void fd_path(int fd, char *buf, size_t size) {
        snprintf(buf, size, "/proc/self/fd/%d", fd);
}

static int mount_in_root(int root_fd, const char *source, const char *target, const char *fstype, unsigned long flags,
                         const char *data, bool file) {
        _cleanup_close_ int fd = open_in_root(root_fd, target, true, file);
        char p[64];

        if (fd < 0)
                return fd;
        fd_path(fd, p, sizeof(p));
        return RET_NERRNO(mount(source, p, fstype, flags, data));
}

/* Turns an existing mount read-only (and nosuid etc.), keeping its other flags. */
static int remount_ro(int root_fd, const char *target, unsigned long extra) {
        _cleanup_close_ int fd = open_in_root(root_fd, target, false, false);
        char p[64];

        if (fd < 0)
                return fd;
        fd_path(fd, p, sizeof(p));
        return RET_NERRNO(mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | extra, NULL));
}

static int mask_path(int root_fd, const char *path) {
        _cleanup_close_ int fd = open_in_root(root_fd, path, false, false);
        struct stat st;
        char p[64];

        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        fd_path(fd, p, sizeof(p));
        if (S_ISDIR(st.st_mode))
                return RET_NERRNO(mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0"));
        return RET_NERRNO(mount("/dev/null", p, NULL, MS_BIND, NULL));
}

static int readonly_path(int root_fd, const char *path) {
        _cleanup_close_ int fd = open_in_root(root_fd, path, false, false);
        char p[64];

        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        fd_path(fd, p, sizeof(p));
        if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
                return negative_errno();
        /* The fd still names the covered dentry; remount_ro() opens the new mount. */
        return remount_ro(root_fd, path, MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

static int setup_dev(int root_fd, char *what, size_t what_size) {
        static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
        static const struct {
                const char *link, *target;
        } links[] = {
                { "dev/fd", "/proc/self/fd" },       { "dev/stdin", "/proc/self/fd/0" },
                { "dev/stdout", "/proc/self/fd/1" }, { "dev/stderr", "/proc/self/fd/2" },
                { "dev/ptmx", "pts/ptmx" },          { "dev/core", "/proc/kcore" },
        };
        _cleanup_close_ int dev = -EBADF;
        int r;

        r = mount_in_root(root_fd, "tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k", false);
        if (r < 0)
                return FAIL("mount /dev");
        for (size_t i = 0; i < ELEMENTSOF(devices); i++) {
                char target[64], source[64];
                snprintf(target, sizeof(target), "dev/%s", devices[i]);
                snprintf(source, sizeof(source), "/dev/%s", devices[i]);
                r = mount_in_root(root_fd, source, target, NULL, MS_BIND, NULL, true);
                if (r < 0)
                        return FAIL("bind %s", source);
        }
        dev = open_in_root(root_fd, "dev", false, false);
        if (dev < 0)
                return FAIL("open /dev");
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i].target, dev, links[i].link + 4) < 0)
                        return FAIL("symlink /%s", links[i].link);
        r = mount_in_root(root_fd, "devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                          "newinstance,ptmxmode=0666,mode=0620,gid=5", false);
        if (r < 0) /* no tty group in the image: gid= is a convenience only */
                r = mount_in_root(root_fd, "devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                                  "newinstance,ptmxmode=0666,mode=0620", false);
        if (r < 0)
                return FAIL("mount /dev/pts");
        r = mount_in_root(root_fd, "shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "mode=1777,size=65536k", false);
        if (r < 0)
                return FAIL("mount /dev/shm");
        r = mount_in_root(root_fd, "mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false);
        if (r < 0)
                return FAIL("mount /dev/mqueue");
        return 0;
}

static int setup_cgroup_fs(int root_fd, const RootfsConfig *c, char *what, size_t what_size) {
        const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
        int r;

        /* We are in a new cgroup namespace rooted at the container's cgroup: a fresh mount shows
         * that cgroup as the root, and nothing above it. */
        if (c->cgroup_unified) {
                r = mount_in_root(root_fd, "cgroup2", "sys/fs/cgroup", "cgroup2", flags, NULL, false);
                return r < 0 ? FAIL("mount /sys/fs/cgroup") : 0;
        }
        if (strv_length(c->cgroup_v1) == 0 && !c->cgroup_hybrid_unified)
                return 0;
        r = mount_in_root(root_fd, "tmpfs", "sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755",
                          false);
        if (r < 0)
                return FAIL("mount /sys/fs/cgroup");
        STRV_FOREACH (h, c->cgroup_v1) {
                char target[128];
                snprintf(target, sizeof(target), "sys/fs/cgroup/%s", *h);
                r = mount_in_root(root_fd, "cgroup", target, "cgroup", flags, *h, false);
                if (r < 0)
                        return FAIL("mount /%s", target);
        }
        if (c->cgroup_hybrid_unified) {
                r = mount_in_root(root_fd, "cgroup2", "sys/fs/cgroup/unified", "cgroup2", flags, NULL, false);
                if (r < 0)
                        return FAIL("mount /sys/fs/cgroup/unified");
        }
        r = remount_ro(root_fd, "sys/fs/cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC);
        return r < 0 ? FAIL("remount /sys/fs/cgroup") : 0;
}

int rootfs_setup(const RootfsConfig *c, char *what, size_t what_size) {
        _cleanup_free_ char *lower = NULL, *opts = NULL;
        _cleanup_close_ int root_fd = -EBADF;
        int r;

        /* Nothing we mount may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return FAIL("make / private");

        lower = strv_join(c->lower_dirs, ":");
        if (!lower || asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, c->upper_dir, c->work_dir) < 0)
                return -ENOMEM;
        if (mount("overlay", c->mount_dir, "overlay", MS_NODEV, opts) < 0) {
                /* No overlayfs (or a lower dir it cannot stack on): a single layer can still run
                 * from a read-only bind, so the layer itself is never written to. */
                if (strv_length(c->lower_dirs) != 1)
                        return FAIL("mount overlay on %s", c->mount_dir);
                if (mount(c->lower_dirs[0], c->mount_dir, NULL, MS_BIND | MS_REC, NULL) < 0 ||
                    mount(NULL, c->mount_dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                        return FAIL("bind %s", c->lower_dirs[0]);
        }
        root_fd = open(c->mount_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return FAIL("open %s", c->mount_dir);

        r = mount_in_root(root_fd, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false);
        if (r < 0)
                return FAIL("mount /proc");
        r = mount_in_root(root_fd, "sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL, false);
        if (r < 0)
                return FAIL("mount /sys");
        r = setup_cgroup_fs(root_fd, c, what, what_size);
        if (r < 0)
                return r;
        r = setup_dev(root_fd, what, what_size);
        if (r < 0)
                return r;

        for (const char *const *p = rootfs_masked_paths; *p; p++)
                if (mask_path(root_fd, *p) < 0)
                        return FAIL("mask /%s", *p);
        for (const char *const *p = rootfs_readonly_paths; *p; p++)
                if (readonly_path(root_fd, *p) < 0)
                        return FAIL("make /%s read-only", *p);

        for (size_t i = 0; i < c->n_binds; i++) {
                const RootfsBind *b = &c->binds[i];
                struct stat st;
                if (stat(b->source, &st) < 0)
                        return FAIL("bind source %s", b->source);
                r = mount_in_root(root_fd, b->source, b->target, NULL, MS_BIND | MS_REC, NULL, !S_ISDIR(st.st_mode));
                if (r < 0)
                        return FAIL("bind %s on %s", b->source, b->target);
                if (b->read_only && remount_ro(root_fd, b->target, 0) < 0)
                        return FAIL("make %s read-only", b->target);
        }

        for (size_t i = 0; i < c->n_tmpfs; i++) {
                r = mount_in_root(root_fd, "tmpfs", c->tmpfs[i].target, "tmpfs", MS_NOSUID | MS_NODEV,
                                  c->tmpfs[i].options ?: "mode=1777", false);
                if (r < 0)
                        return FAIL("mount tmpfs on %s", c->tmpfs[i].target);
        }

        if (c->read_only) {
                /* Like podman's ReadOnlyTmpfs=yes default: the places programs must write stay
                 * writable, everything else of the image is not. */
                static const char *const rw[] = { "tmp", "var/tmp", "run" };
                for (size_t i = 0; i < ELEMENTSOF(rw); i++) {
                        r = mount_in_root(root_fd, "tmpfs", rw[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", false);
                        if (r < 0)
                                return FAIL("mount tmpfs on /%s", rw[i]);
                }
                if (mount(NULL, c->mount_dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                        return FAIL("make / read-only");
        }

        /* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves the
         * container with no path back to the host's tree. */
        if (chdir(c->mount_dir) < 0)
                return FAIL("chdir %s", c->mount_dir);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return FAIL("pivot_root %s", c->mount_dir);
        if (umount2(".", MNT_DETACH) < 0)
                return FAIL("detach the old root");
        if (chdir("/") < 0)
                return FAIL("chdir /");
        return 0;
}

int rootfs_detect_cgroups(bool *ret_unified, char ***ret_v1, bool *ret_hybrid_unified) {
        _cleanup_free_ char *data = NULL;
        _cleanup_strv_free_ char **v1 = NULL;
        CgroupLayout layout;
        int r;

        /* The layout is cgroup.c's to decide; the mount table only names the v1 mounts. */
        r = cgroup_detect_layout(&layout);
        if (r == -ENOMEDIUM) {
                *ret_unified = *ret_hybrid_unified = false;
                *ret_v1 = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        if (layout == CGROUP_LAYOUT_UNIFIED) {
                *ret_unified = true;
                *ret_v1 = NULL;
                *ret_hybrid_unified = false;
                return 0;
        }
        r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 4 * 1024 * 1024, &data, NULL);
        if (r < 0)
                return r;
        for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
                char mountpoint[512], fstype[64], super[512];
                const char *sep = strstr(line, " - ");
                if (!sep || sscanf(line, "%*s %*s %*s %*s %511s", mountpoint) != 1 ||
                    sscanf(sep + 3, "%63s %*s %511s", fstype, super) != 2)
                        continue;
                if (streq(fstype, "cgroup") && strneq(mountpoint, "/sys/fs/cgroup/", 15)) {
                        /* The directory name is the controller list as mounted ("memory",
                         * "cpu,cpuacct"), which is also the mount option that shows it again;
                         * named hierarchies (name=systemd) are not for containers. */
                        if (strstr(super, "name=") || strchr(mountpoint + 15, '/'))
                                continue;
                        if (strv_extend(&v1, mountpoint + 15) < 0)
                                return -ENOMEM;
                }
        }
        *ret_unified = false;
        *ret_v1 = TAKE_PTR(v1);
        *ret_hybrid_unified = layout == CGROUP_LAYOUT_HYBRID;
        return 0;
}

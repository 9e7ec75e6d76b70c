/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "bus/names.h"
#include "supctl-manage.h"

#define UNIT_SUFFIX ".container"
#define ENABLE_DROPIN "50-supctl-enable.conf"
#define EDIT_DROPIN "override.conf"
#define EDIT_MAX (1024 * 1024)

static const char *const search_dirs[] = { "/etc/supd/units", "/run/supd/units", "/usr/lib/supd/units" };

static const char *root_prefix(const char *root) {
        return root && !streq(root, "/") ? root : "";
}

static bool name_is_valid(const char *name) {
        return !isempty(name) && name[0] != '.' && !strchr(name, '/') && strlen(name) < 200;
}

/* The unit's file as supd would find it: NAME.container, or for an instance a@b its template
 * a@.container, in any search directory. */
static int find_unit_file(const char *root, const char *name) {
        _cleanup_free_ char *template = NULL;
        const char *at = strchr(name, '@');
        struct stat st;

        if (at && asprintf(&template, "%.*s@", (int) (at - name), name) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(search_dirs); i++)
                for (int t = 0; t < (template ? 2 : 1); t++) {
                        _cleanup_free_ char *p = NULL;
                        if (asprintf(&p, "%s%s/%s" UNIT_SUFFIX, root_prefix(root), search_dirs[i],
                                     t ? template : name) < 0)
                                return -ENOMEM;
                        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
                                return 0;
                }
        return -ENOENT;
}

/* Checks name and that its unit file exists; logs as systemctl does. */
static int check_unit(const char *root, const char *name) {
        int r;

        if (!name_is_valid(name)) {
                log_error("supctl: invalid unit name '%s'.", name);
                return -EINVAL;
        }
        r = find_unit_file(root, name);
        if (r == -ENOENT)
                log_error("Unit file %s" UNIT_SUFFIX " does not exist.", name);
        else if (r < 0)
                log_error_errno(r, "supctl: %s: %m", name);
        return r;
}

static char *dropin_dir(const char *root, const char *name) {
        char *p;
        if (asprintf(&p, "%s/etc/supd/units/%s" UNIT_SUFFIX ".d", root_prefix(root), name) < 0)
                return NULL;
        return p;
}

/* Reload, printing what it did as `supctl reload` does. Returns 0 or 1. */
static int reload(sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *action, *unit, *detail;
        int r, ret = 0;

        r = sd_bus_call_method(bus, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE, "Reload", &error, &reply, "");
        if (r < 0) {
                log_error("supctl: reload: %s", error.message ?: strerror(-r));
                return 1;
        }
        r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        if (r < 0)
                return log_error_errno(r, "Bad reply from supd: %m"), 1;
        while (sd_bus_message_read(reply, "(sss)", &action, &unit, &detail) > 0) {
                printf("%s %s%s%s\n", action, unit, isempty(detail) ? "" : ": ", strempty(detail));
                if (streq(action, "failed"))
                        ret = 1;
        }
        return ret;
}

static int call_unit(sd_bus *bus, const char *method, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, "io.supd", SUPD_BUS_PATH, SUPD_BUS_INTERFACE, method, &error, &reply, "s", name);
        if (r < 0) {
                log_error("%s", error.message ?: strerror(-r));
                return 1;
        }
        return 0;
}

int supctl_enable(sd_bus *bus, const char *root, char **names, bool enable, bool now) {
        /* An empty WantedBy= resets the list, so a disable wins over the unit file's own. */
        const char *content = enable ? "# Written by supctl enable; supctl disable replaces it.\n"
                                       "[Install]\nWantedBy=multi-user.target\n"
                                     : "# Written by supctl disable; supctl enable replaces it.\n"
                                       "[Install]\nWantedBy=\n";
        int r, ret = 0;

        /* All or nothing about names, as systemctl: no file is written for a list with a bad one. */
        STRV_FOREACH (name, names)
                if (check_unit(root, *name) < 0)
                        return 1;
        STRV_FOREACH (name, names) {
                _cleanup_free_ char *dir = dropin_dir(root, *name);
                _cleanup_close_ int fd = -EBADF;

                if (!dir)
                        return log_oom(), 1;
                r = mkdir_p(dir, 0755);
                if (r >= 0) {
                        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        r = fd < 0 ? -errno : write_file_atomic(fd, ENABLE_DROPIN, content, strlen(content), 0644);
                }
                if (r < 0) {
                        log_error_errno(r, "supctl: cannot write %s/" ENABLE_DROPIN ": %m", dir);
                        return 1;
                }
                printf("Wrote %s/" ENABLE_DROPIN " (autostart %s).\n", dir, enable ? "on" : "off");
        }
        if (!now)
                return 0;
        ret = reload(bus);
        STRV_FOREACH (name, names)
                if (call_unit(bus, enable ? "StartUnit" : "StopUnit", *name) != 0)
                        ret = 1;
        return ret;
}

/* Runs $VISUAL, $EDITOR or vi on path through the shell (an editor may carry options, "code -w").
 * Returns its exit status, or a negative errno. */
static int run_editor(const char *path) {
        const char *editor = getenv("VISUAL");
        _cleanup_free_ char *cmd = NULL;
        int status;
        pid_t pid;

        if (isempty(editor))
                editor = getenv("EDITOR");
        if (isempty(editor))
                editor = "vi";
        if (asprintf(&cmd, "%s \"$1\"", editor) < 0)
                return -ENOMEM;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *) NULL);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int supctl_edit(sd_bus *bus, const char *root, const char *name) {
        _cleanup_free_ char *dir = NULL, *tmp = NULL, *old = NULL, *new = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        size_t old_size = 0, new_size = 0;
        int r;

        if (check_unit(root, name) < 0)
                return 1;
        dir = dropin_dir(root, name);
        if (!dir)
                return log_oom(), 1;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return log_error_errno(r, "supctl: cannot create %s: %m", dir), 1;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return log_error_errno(errno, "supctl: cannot open %s: %m", dir), 1;
        r = read_file_at(dfd, EDIT_DROPIN, EDIT_MAX, &old, &old_size);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "supctl: cannot read %s/" EDIT_DROPIN ": %m", dir), 1;
        /* The editor works on a copy that supd does not read (a dot file): a reload meanwhile, or
         * an editor that fails, leaves the drop-in as it was. */
        if (asprintf(&tmp, "%s/.#" EDIT_DROPIN "XXXXXX", dir) < 0)
                return log_oom(), 1;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "supctl: cannot create a file in %s: %m", dir), 1;
        if (old_size > 0 && write(fd, old, old_size) != (ssize_t) old_size) {
                r = -errno;
                (void) unlink(tmp);
                return log_error_errno(r, "supctl: cannot write %s: %m", tmp), 1;
        }
        fd = safe_close(fd);
        r = run_editor(tmp);
        if (r != 0) {
                (void) unlink(tmp);
                if (r < 0)
                        log_error_errno(r, "supctl: cannot run the editor: %m");
                else
                        log_error("supctl: the editor failed (exit status %d); %s/" EDIT_DROPIN " is unchanged.", r,
                                  dir);
                return 1;
        }
        r = read_file_at(AT_FDCWD, tmp, EDIT_MAX, &new, &new_size);
        if (r < 0) {
                (void) unlink(tmp);
                return log_error_errno(r, "supctl: cannot read back %s: %m", tmp), 1;
        }
        if (new_size == old_size && (old_size == 0 || memcmp(old, new, old_size) == 0)) {
                (void) unlink(tmp);
                printf("%s/" EDIT_DROPIN ": no changes.\n", dir);
                return 0;
        }
        if (renameat(AT_FDCWD, tmp, dfd, EDIT_DROPIN) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return log_error_errno(r, "supctl: cannot install %s/" EDIT_DROPIN ": %m", dir), 1;
        }
        printf("Wrote %s/" EDIT_DROPIN ".\n", dir);
        return reload(bus);
}

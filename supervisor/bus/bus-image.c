/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "bus-internal.h"
#include "container.h"
#include "image-worker.h"
#include "image/image-store.h"
#include "instance.h"
#include "manager.h"

/* Image1: the image store's calls. The long ones (import, pull, rm, prune) are answered when
 * their worker (image-worker.c) is done. */

static int open_store(Manager *m, ImageStore **ret, sd_bus_error *error) {
        int r = image_store_open(m->state_dir, 0, ret);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot open the image store: %s", strerror(-r));
        return 0;
}

static int reply_store_error(sd_bus_error *error, int r, const char *what) {
        if (r == -ENOENT)
                return sd_bus_error_setf(error, "io.supd.Error.NoSuchImage", "No such image: %s", what);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, "io.supd.Error.ImageInUse", "Image %s is used by a running container.",
                                         what);
        if (r == -ENOTUNIQ)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Image id prefix %s is ambiguous.", what);
        return sd_bus_error_set_errnof(error, r, "%s: %s", what, strerror(-r));
}

/* ---- calls answered when their worker is done ---- */

typedef enum CallKind { CALL_IMPORT, CALL_PULL, CALL_REMOVE, CALL_PRUNE } CallKind;

typedef struct ImageCall {
        sd_bus_message *msg;
        CallKind kind;
        char *what;
} ImageCall;

static ImageCall *image_call_free(ImageCall *c) {
        if (!c)
                return NULL;
        sd_bus_message_unref(c->msg);
        free(c->what);
        return mfree(c);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(ImageCall *, image_call_free);

static int image_call_new(sd_bus_message *msg, CallKind kind, const char *what, ImageCall **ret) {
        ImageCall *c = new0(ImageCall, 1);
        if (!c)
                return -ENOMEM;
        *c = (ImageCall){ .msg = sd_bus_message_ref(msg), .kind = kind, .what = strdup(what) };
        if (!c->what) {
                image_call_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

static int image_call_reply(ImageCall *c, int r, const char *text) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int q;

        if (r < 0) {
                if ((r == -ENOENT && c->kind == CALL_REMOVE) || r == -EBUSY)
                        (void) reply_store_error(&error, r, c->what);
                else
                        (void) sd_bus_error_set_errnof(&error, r, "%s", text);
                return sd_bus_reply_method_error(c->msg, &error);
        }
        q = sd_bus_message_new_method_return(c->msg, &reply);
        if (q < 0)
                return q;
        switch (c->kind) {
        case CALL_IMPORT:
        case CALL_PULL:
                q = sd_bus_message_append(reply, "s", text);
                break;
        case CALL_REMOVE:
                q = sd_bus_message_append(reply, "t", (uint64_t) strtoull(text, NULL, 10));
                break;
        case CALL_PRUNE: {
                _cleanup_free_ char *copy = strdup(text);
                char *p = copy, *line;
                uint64_t freed = strtoull(text, NULL, 10);
                if (!copy)
                        return -ENOMEM;
                q = sd_bus_message_open_container(reply, 'a', "s");
                (void) strsep(&p, "\n");
                while (q >= 0 && (line = strsep(&p, "\n")))
                        if (!isempty(line))
                                q = sd_bus_message_append(reply, "s", line);
                if (q >= 0)
                        q = sd_bus_message_close_container(reply);
                if (q >= 0)
                        q = sd_bus_message_append(reply, "t", freed);
                break;
        }
        }
        if (q < 0)
                return q;
        return sd_bus_send(NULL, reply, NULL);
}

static void on_image_call_done(Manager *m, int r, const char *text, void *userdata) {
        _cleanup_(image_call_freep) ImageCall *c = userdata;
        int q = image_call_reply(c, r, text);
        if (q < 0)
                log_warning_errno(q, "Failed to answer the image call for %s: %m", c->what);
}

/* ---- methods ---- */

static int method_import(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(image_call_freep) ImageCall *c = NULL;
        _cleanup_close_ int pfd = -EBADF;
        const char *path, *name;
        int fd, r;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "ssh", &path, &name, &fd);
        if (r < 0)
                return r;
        if (path[0] != '/')
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Path %s is not absolute.", path);
        if (!isempty(name)) {
                _cleanup_free_ char *norm = NULL;
                if (image_ref_normalize(name, &norm) < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid image name %s.", name);
        }
        r = image_call_new(msg, CALL_IMPORT, path, &c);
        if (r < 0)
                return r;
        pfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        r = image_worker_import(m, path, isempty(name) ? NULL : name, pfd, on_image_call_done, c);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot start the import: %s", strerror(-r));
        TAKE_PTR(c);
        log_info("Importing image from %s.", path);
        return 1;
}

static int method_pull(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(image_call_freep) ImageCall *c = NULL;
        _cleanup_close_ int pfd = -EBADF;
        _cleanup_free_ char *norm = NULL;
        const char *ref;
        int fd, r;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "sh", &ref, &fd);
        if (r < 0)
                return r;
        if (image_ref_normalize(ref, &norm) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid image reference %s.", ref);
        r = image_call_new(msg, CALL_PULL, ref, &c);
        if (r < 0)
                return r;
        pfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        r = image_worker_pull(m, ref, pfd, on_image_call_done, c);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot start the pull: %s", strerror(-r));
        TAKE_PTR(c);
        log_info("Pulling image %s.", ref);
        return 1;
}

static int method_remove_or_prune(sd_bus_message *msg, Manager *m, CallKind kind, const char *ref,
                                  sd_bus_error *error) {
        _cleanup_(image_call_freep) ImageCall *c = NULL;
        int r;

        r = image_call_new(msg, kind, ref, &c);
        if (r < 0)
                return r;
        r = kind == CALL_REMOVE ? image_worker_remove(m, ref, on_image_call_done, c)
                                : image_worker_prune(m, on_image_call_done, c);
        if (r == -ENOENT || r == -ENOTUNIQ)
                return reply_store_error(error, r, ref);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot start the worker: %s", strerror(-r));
        TAKE_PTR(c);
        return 1;
}

static int method_remove(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *ref;
        int r;
        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "s", &ref);
        if (r < 0)
                return r;
        return method_remove_or_prune(msg, userdata, CALL_REMOVE, ref, error);
}

static int method_prune(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        CHECK_ACCESS(msg, error);
        return method_remove_or_prune(msg, userdata, CALL_PRUNE, "prune", error);
}

static int method_list(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ImageListEntry *l = NULL;
        size_t n = 0;
        int r;

        CHECK_ACCESS(msg, error);
        r = open_store(userdata, &s, error);
        if (r < 0)
                return r;
        r = image_store_list(s, &l, &n);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot list images: %s", strerror(-r));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssstt)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(ssstt)", l[i].name, l[i].tag, l[i].id, l[i].size, l[i].created);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        image_list_free(l, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_history(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ImageHistoryEntry *h = NULL;
        const char *ref;
        size_t n = 0;
        int r;

        CHECK_ACCESS(msg, error);
        r = sd_bus_message_read(msg, "s", &ref);
        if (r < 0)
                return r;
        r = open_store(userdata, &s, error);
        if (r < 0)
                return r;
        r = image_store_history(s, ref, &h, &n);
        if (r == -EBADMSG && image_store_damage(s))
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s: %s", ref, image_store_damage(s));
        if (r < 0)
                return reply_store_error(error, r, ref);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(stts)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(stts)", h[i].digest, h[i].size, h[i].created, h[i].created_by);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        image_history_free(h, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int diff_append(char kind, const char *path, void *userdata) {
        char k[2] = { kind, 0 };
        return sd_bus_message_append(userdata, "(ss)", k, path);
}

static int method_diff(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_strv_free_ char **lower = NULL;
        _cleanup_free_ char *layer = NULL, *upper = NULL;
        const UnitSettings *st;
        Unit *u;
        int r;

        r = bus_read_unit(msg, m, error, &u);
        if (r < 0)
                return r;
        st = unit_settings(u);
        if (st && !isempty(st->image)) {
                r = open_store(m, &s, error);
                if (r < 0)
                        return r;
                if (image_store_lookup(s, st->image, &img) >= 0)
                        lower = strv_copy(img->layer_dirs);
        } else if (st && !isempty(st->rootfs))
                (void) strv_extend(&lower, st->rootfs);
        /* The writable layer is the current run's: a unit that is down has none. */
        if (!u->instance)
                return sd_bus_error_setf(error, "io.supd.Error.NotRunning", "%s has no running container.", u->name);
        r = container_layer_path(m->state_dir, u->name, u->instance->id, &layer);
        if (r < 0)
                return r;
        if (asprintf(&upper, "%s/upper", layer) < 0)
                return -ENOMEM;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        if (r >= 0) {
                r = image_diff(upper, lower, diff_append, reply);
                if (r == -ENOENT)
                        return sd_bus_error_setf(error, "io.supd.Error.NotRunning",
                                                 "Unit %s has no writable layer (never started?).", u->name);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Cannot read %s: %s", upper, strerror(-r));
                r = sd_bus_message_close_container(reply);
        }
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("Import", "ssh", SD_BUS_PARAM(path) SD_BUS_PARAM(name) SD_BUS_PARAM(progress), "s",
                                 SD_BUS_PARAM(id), method_import, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Pull", "sh", SD_BUS_PARAM(reference) SD_BUS_PARAM(progress), "s", SD_BUS_PARAM(id),
                                 method_pull, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("List", "", , "a(ssstt)", SD_BUS_PARAM(images), method_list,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Remove", "s", SD_BUS_PARAM(reference), "t", SD_BUS_PARAM(freed), method_remove,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Prune", "", , "ast", SD_BUS_PARAM(removed) SD_BUS_PARAM(freed), method_prune,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("History", "s", SD_BUS_PARAM(reference), "a(stts)", SD_BUS_PARAM(layers),
                                 method_history, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Diff", "s", SD_BUS_PARAM(unit), "a(ss)", SD_BUS_PARAM(changes), method_diff,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_image_register(sd_bus *bus, Manager *m) {
        return sd_bus_add_object_vtable(bus, NULL, SUPD_BUS_PATH, SUPD_IMAGE_INTERFACE, image_vtable, m);
}

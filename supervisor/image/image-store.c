/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "basic/dirent-util.h"
#include "basic/fileio.h"
#include "basic/parse-util.h"
#include "basic/strv.h"
#include "image-store.h"

#define CONFIG_MAX (8u << 20)
#define TAGS_MAX (16u << 20)

struct ImageStore {
        char *dir;
        int dir_fd;
        int layers_fd;
        int images_fd;
        int tmp_fd;
        int lock_fd;
        bool locked;  /* this handle holds lock_fd's flock */
        char *damage; /* what the last -EBADMSG of a lookup met, naming the file */
};

static ImageStoreWarnFn warn_fn = NULL;
static void *warn_userdata = NULL;

void image_store_set_warn(ImageStoreWarnFn fn, void *userdata) {
        warn_fn = fn;
        warn_userdata = userdata;
}

_printf_(1, 2) static void store_warn(const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        if (!warn_fn)
                return;
        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r >= 0)
                warn_fn(msg, warn_userdata);
}

static inline void json_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

void image_config_done(ImageConfig *c) {
        c->entrypoint = strv_free(c->entrypoint);
        c->cmd = strv_free(c->cmd);
        c->env = strv_free(c->env);
        c->exposed_ports = strv_free(c->exposed_ports);
        c->labels = strv_free(c->labels);
        free(c->working_dir);
        free(c->user);
        c->working_dir = c->user = NULL;
}

Image *image_free(Image *i) {
        if (!i)
                return NULL;
        free(i->name);
        free(i->tag);
        free(i->id);
        strv_free(i->layer_dirs);
        strv_free(i->layer_ids);
        image_config_done(&i->config);
        free(i);
        return NULL;
}

ImageStore *image_store_free(ImageStore *s) {
        if (!s)
                return NULL;
        free(s->dir);
        free(s->damage);
        safe_close(s->dir_fd);
        safe_close(s->layers_fd);
        safe_close(s->images_fd);
        safe_close(s->tmp_fd);
        safe_close(s->lock_fd);
        free(s);
        return NULL;
}

const char *image_store_dir(const ImageStore *s) {
        return s->dir;
}

/* ---- references ---- */

static bool ref_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._-/:@", c);
}

int image_ref_normalize(const char *ref, char **ret) {
        _cleanup_free_ char *name = NULL;
        const char *at, *slash, *colon, *p;
        char *out;

        if (isempty(ref) || strlen(ref) > 512 || ref[0] == '/' || ref[0] == ':' || ref[0] == '@')
                return -EINVAL;
        for (p = ref; *p; p++)
                if (!ref_char_ok(*p))
                        return -EINVAL;
        if (strstr(ref, "//") || strstr(ref, ".."))
                return -EINVAL;

        at = strchr(ref, '@');
        if (at) {
                char hex[DIGEST_HEX_LEN + 1];
                if (digest_parse(at + 1, hex) < 0 || at == ref)
                        return -EINVAL;
                name = strndup(ref, (size_t) (at - ref));
        } else {
                slash = strrchr(ref, '/');
                colon = strrchr(ref, ':');
                if (colon && (!slash || colon > slash)) {
                        if (isempty(colon + 1) || colon == ref)
                                return -EINVAL;
                        name = strndup(ref, (size_t) (colon - ref));
                } else
                        name = strdup(ref);
        }
        if (!name)
                return -ENOMEM;
        if (isempty(name) || name[strlen(name) - 1] == '/' || strchr(name, '@'))
                return -EINVAL;
        /* Docker Hub's implicit names: docker.io/library/x is x. */
        p = name;
        if (strneq(p, "docker.io/", 10))
                p += 10;
        else if (strneq(p, "index.docker.io/", 16))
                p += 16;
        if (p != name && strneq(p, "library/", 8) && strchr(p + 8, '/') == NULL)
                p += 8;
        if (isempty(p))
                return -EINVAL;
        if (at) {
                if (asprintf(&out, "%s%s", p, at) < 0)
                        return -ENOMEM;
        } else {
                const char *tag = strrchr(ref, ':');
                slash = strrchr(ref, '/');
                if (!tag || (slash && tag < slash))
                        tag = ":latest";
                if (strchr(tag + 1, '/'))
                        return -EINVAL;
                if (asprintf(&out, "%s%s", p, tag) < 0)
                        return -ENOMEM;
        }
        *ret = out;
        return 0;
}

int image_ref_split(const char *norm, char **ret_name, char **ret_tag) {
        const char *sep = strchr(norm, '@'), *slash = strrchr(norm, '/');
        char *n, *t;

        if (!sep) {
                sep = strrchr(norm, ':');
                if (!sep || (slash && sep < slash))
                        return -EINVAL;
        }
        n = strndup(norm, (size_t) (sep - norm));
        t = strdup(sep + 1);
        if (!n || !t) {
                free(n);
                free(t);
                return -ENOMEM;
        }
        *ret_name = n;
        *ret_tag = t;
        return 0;
}

/* ---- opening and cleaning ---- */

static int open_subdir(int dir_fd, const char *name) {
        if (mkdirat(dir_fd, name, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        return RET_NERRNO(openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

static int store_lock(ImageStore *s) {
        while (flock(s->lock_fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return negative_errno();
        s->locked = true;
        return 0;
}

static void store_unlockp(ImageStore **s) {
        if (*s && (*s)->locked) {
                (void) flock((*s)->lock_fd, LOCK_UN);
                (*s)->locked = false;
        }
}
#define STORE_LOCKED(s, var)                                                                                          \
        _unused_ _cleanup_(store_unlockp)                                                                             \
        ImageStore *var = (s)

static int read_tags(ImageStore *s, json_object **ret);
static void tag_records_sync(ImageStore *s, json_object *tags);

/* Scratch dirs of dead imports and half-deleted layers. Caller holds the lock. */
static void clean_tmp(ImageStore *s) {
        _cleanup_closedir_ DIR *d = NULL;

        if (opendir_at(s->tmp_fd, ".", 0, &d) < 0)
                return;
        FOREACH_DIRENT (de, d) {
                _cleanup_close_ int lfd = -EBADF;
                if (strneq(de->d_name, "imp-", 4)) {
                        _cleanup_free_ char *lp = path_join(de->d_name, "lock");
                        if (!lp)
                                continue;
                        lfd = openat(s->tmp_fd, lp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0)
                                continue; /* a live import */
                }
                (void) rm_rf_at(s->tmp_fd, de->d_name);
        }
}

/* write_file_atomic()'s temporary files (".#NAME.PID") left by a crash. Caller holds the lock. */
static void clean_write_temps(int dir_fd) {
        _cleanup_closedir_ DIR *d = NULL;

        if (opendir_at(dir_fd, ".", 0, &d) < 0)
                return;
        FOREACH_DIRENT (de, d)
                if (strneq(de->d_name, ".#", 2))
                        (void) unlinkat(dir_fd, de->d_name, 0);
}

static int read_config_at(ImageStore *s, const char *id, char **ret, size_t *ret_size) {
        char name[DIGEST_HEX_LEN + 8];
        snprintf(name, sizeof(name), "%s.json", id);
        return read_file_at(s->images_fd, name, CONFIG_MAX, ret, ret_size);
}

static bool image_config_name(const char *name, char ret_id[static DIGEST_HEX_LEN + 1]);

/* Reads and checks images/<id>.json. -EBADMSG with *ret_why set when the file is there but damaged
 * (unreadable, empty, not a config, or not the content its name promises: the id is the config's
 * sha256, so any change to it is damage). Other errors (-ENOENT, -ENOMEM) leave *ret_why alone. */
static int load_config(ImageStore *s, const char *id, char **ret_data, size_t *ret_size, char ***ret_diff_hex,
                       ImageConfig *ret_config, uint64_t *ret_created, const char **ret_why) {
        _cleanup_free_ char *data = NULL;
        char digest[DIGEST_HEX_LEN + 1];
        size_t size = 0;
        int r;

        r = read_config_at(s, id, &data, &size);
        if (r == -ENOENT || r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_why = r == -EFBIG ? "too large" : "cannot be read";
                return -EBADMSG;
        }
        if (size == 0) {
                *ret_why = "empty";
                return -EBADMSG;
        }
        if (digest_buffer_hex(data, size, digest) < 0 || !streq(digest, id)) {
                *ret_why = "its content does not match its id";
                return -EBADMSG;
        }
        r = image_config_parse(data, size, ret_diff_hex, ret_config, ret_created);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_why = "not an image configuration";
                return -EBADMSG;
        }
        if (ret_data)
                *ret_data = TAKE_PTR(data);
        if (ret_size)
                *ret_size = size;
        return 0;
}

/* A damaged configuration is reported naming the file. */
static void warn_damaged_config(ImageStore *s, const char *id, const char *why, const char *consequence) {
        store_warn("Image store: %s/images/%s.json is damaged (%s); %s", s->dir, id, why, consequence);
}

const char *image_store_damage(const ImageStore *s) {
        return s->damage;
}

/* For a lookup that met a damaged configuration: remembered for the caller's message, and reported. */
static int config_damaged(ImageStore *s, const char *id, const char *why) {
        free(s->damage);
        if (asprintf(&s->damage, "%s/images/%s.json is damaged (%s); supctl image rm %.12s removes the image", s->dir,
                     id, why, id) < 0)
                s->damage = NULL;
        warn_damaged_config(s, id, why, "the image cannot be used; supctl image rm ID removes it.");
        return -EBADMSG;
}

/* Only digits, as the importers write it (a trailing newline tolerated). */
static int parse_size_file(const char *c, uint64_t *ret) {
        size_t l = strspn(c, "0123456789");
        char t[24];

        if (l == 0 || l >= sizeof(t) || !(c[l] == 0 || (c[l] == '\n' && c[l + 1] == 0)))
                return -EBADMSG;
        memcpy(t, c, l);
        t[l] = 0;
        return safe_atou64(t, ret);
}

static int du_at(int dir_fd, uint64_t *sum) {
        _cleanup_closedir_ DIR *d = NULL;
        int r;

        r = opendir_at(dir_fd, ".", 0, &d);
        if (r < 0)
                return r;
        FOREACH_DIRENT (de, d) {
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0) {
                                (void) du_at(sub, sum);
                                safe_close(sub);
                        }
                } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
                        *sum += (uint64_t) st.st_size;
        }
        return 0;
}

/* layers/<hex>/size. A missing or damaged one never reads as 0: the size is recomputed from the
 * layer's files (the sum of their sizes, a little less than the tar it came from), reported, and,
 * when this handle holds the lock, written back. */
static uint64_t layer_size(ImageStore *s, const char *hex) {
        _cleanup_free_ char *p = path_join(hex, "size"), *c = NULL, *diff = path_join(hex, "diff");
        _cleanup_close_ int layer_fd = -EBADF, diff_fd = -EBADF;
        uint64_t v = 0;
        char buf[32];
        int r;

        if (!p || !diff)
                return 0;
        r = read_file_at(s->layers_fd, p, 64, &c, NULL);
        if (r >= 0 && parse_size_file(c, &v) >= 0)
                return v;
        layer_fd = openat(s->layers_fd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (layer_fd < 0)
                return 0; /* the layer itself is gone (collected meanwhile) */
        diff_fd = openat(layer_fd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (diff_fd >= 0)
                (void) du_at(diff_fd, &v);
        if (s->locked) {
                snprintf(buf, sizeof(buf), "%" PRIu64, v);
                (void) write_file_atomic(layer_fd, "size", buf, strlen(buf), 0600);
        }
        store_warn("Image store: %s/layers/%s/size is %s; the layer's size was recomputed from its files (%" PRIu64
                   " bytes)%s.",
                   s->dir, hex, r == -ENOENT ? "missing" : "damaged", v, s->locked ? " and written back" : "");
        return v;
}

typedef struct ImageRec {
        char id[DIGEST_HEX_LEN + 1];
        char **diff_hex;
        uint64_t created;
        const char *damaged; /* why images/<id>.json cannot be used; its layers are then unknown */
} ImageRec;

static void image_recs_free(ImageRec *r, size_t n) {
        for (size_t i = 0; i < n; i++)
                strv_free(r[i].diff_hex);
        free(r);
}

/* Every image, a damaged one too (with .damaged set): a damaged record must never look absent, or
 * its layers would be collected. */
static int load_images(ImageStore *s, ImageRec **ret, size_t *ret_n) {
        _cleanup_closedir_ DIR *d = NULL;
        ImageRec *recs = NULL;
        size_t n = 0;
        int r;

        r = opendir_at(s->images_fd, ".", 0, &d);
        if (r < 0)
                return r;
        FOREACH_DIRENT (de, d) {
                char id[DIGEST_HEX_LEN + 1];
                const char *why = NULL;
                ImageRec *t;

                if (!image_config_name(de->d_name, id))
                        continue;
                t = realloc(recs, (n + 1) * sizeof(ImageRec));
                if (!t) {
                        image_recs_free(recs, n);
                        return -ENOMEM;
                }
                recs = t;
                recs[n] = (ImageRec){};
                memcpy(recs[n].id, id, sizeof(id));
                r = load_config(s, id, NULL, NULL, &recs[n].diff_hex, NULL, &recs[n].created, &why);
                if (r == -ENOENT)
                        continue; /* removed meanwhile */
                if (r == -ENOMEM) {
                        image_recs_free(recs, n);
                        return r;
                }
                if (r < 0)
                        recs[n].damaged = why;
                n++;
        }
        *ret = recs;
        *ret_n = n;
        return 0;
}

/* Removes layers that no image names. Caller holds the lock. */
static int gc_layers(ImageStore *s, uint64_t *freed) {
        _cleanup_closedir_ DIR *d = NULL;
        ImageRec *recs = NULL;
        size_t n = 0;
        int r;

        r = load_images(s, &recs, &n);
        if (r < 0)
                return r;
        /* An image whose configuration is damaged may use any layer: collect none until it is
         * removed (or restored). */
        for (size_t i = 0; i < n; i++)
                if (recs[i].damaged) {
                        for (size_t j = i; j < n; j++)
                                if (recs[j].damaged)
                                        warn_damaged_config(s, recs[j].id, recs[j].damaged,
                                                            "the layers it uses are unknown, so no layer is removed "
                                                            "until it is removed (supctl image rm ID).");
                        image_recs_free(recs, n);
                        return 0;
                }
        r = opendir_at(s->layers_fd, ".", 0, &d);
        if (r < 0) {
                image_recs_free(recs, n);
                return r;
        }
        FOREACH_DIRENT (de, d) {
                bool used = false;
                char tmpname[DIGEST_HEX_LEN + 32];
                uint64_t rnd = 0;

                if (!digest_hex_valid(de->d_name))
                        continue;
                for (size_t i = 0; i < n && !used; i++)
                        used = strv_contains(recs[i].diff_hex, de->d_name);
                if (used)
                        continue;
                if (freed)
                        *freed += layer_size(s, de->d_name);
                /* Disappear atomically, then delete at leisure. */
                (void) getrandom(&rnd, sizeof(rnd), 0);
                snprintf(tmpname, sizeof(tmpname), "del-%016llx", (unsigned long long) rnd);
                if (renameat(s->layers_fd, de->d_name, s->tmp_fd, tmpname) >= 0)
                        (void) rm_rf_at(s->tmp_fd, tmpname);
        }
        image_recs_free(recs, n);
        return 0;
}

/* Rewrites damaged or missing layer size files (layer_size() does, under the lock). */
static void check_layer_sizes(ImageStore *s) {
        _cleanup_closedir_ DIR *d = NULL;

        if (opendir_at(s->layers_fd, ".", 0, &d) < 0)
                return;
        FOREACH_DIRENT (de, d)
                if (digest_hex_valid(de->d_name))
                        (void) layer_size(s, de->d_name);
}

int image_store_open(const char *state_dir, ImageStoreFlags flags, ImageStore **ret) {
        _cleanup_(image_store_freep) ImageStore *s = NULL;
        int r;

        s = new0(ImageStore, 1);
        if (!s)
                return -ENOMEM;
        s->dir_fd = s->layers_fd = s->images_fd = s->tmp_fd = s->lock_fd = -EBADF;
        s->dir = strdup(state_dir);
        if (!s->dir)
                return -ENOMEM;
        r = mkdir_p(state_dir, 0700);
        if (r < 0)
                return r;
        s->dir_fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dir_fd < 0)
                return negative_errno();
        if ((s->layers_fd = open_subdir(s->dir_fd, "layers")) < 0)
                return s->layers_fd;
        if ((s->images_fd = open_subdir(s->dir_fd, "images")) < 0)
                return s->images_fd;
        if ((s->tmp_fd = open_subdir(s->dir_fd, "tmp")) < 0)
                return s->tmp_fd;
        s->lock_fd = openat(s->dir_fd, "images.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (s->lock_fd < 0)
                return negative_errno();
        if (flags & IMAGE_STORE_CLEANUP) {
                STORE_LOCKED(s, locked);
                r = store_lock(s);
                if (r < 0)
                        return r;
                _cleanup_json_ json_object *tags = NULL;
                clean_tmp(s);
                clean_write_temps(s->dir_fd);
                clean_write_temps(s->images_fd);
                (void) gc_layers(s, NULL);
                check_layer_sizes(s);
                /* Stores from before the per-image records get them here. */
                if (read_tags(s, &tags) >= 0)
                        tag_records_sync(s, tags);
        }
        *ret = TAKE_PTR(s);
        return 0;
}

void image_store_scratch_remove(ImageStore *s, const char *name) {
        if (name && strneq(name, "imp-", 4))
                (void) rm_rf_at(s->tmp_fd, name);
}

int image_store_scratch(ImageStore *s, char **ret_name, int *ret_dir_fd, int *ret_lock_fd) {
        _cleanup_close_ int dfd = -EBADF, lfd = -EBADF;
        char name[32];
        uint64_t rnd;
        int r;

        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                return -EIO;
        snprintf(name, sizeof(name), "imp-%016llx", (unsigned long long) rnd);
        {
                /* Under the store lock, so that a cleanup never sees the dir without its lock. */
                STORE_LOCKED(s, locked);
                r = store_lock(s);
                if (r < 0)
                        return r;
                if (mkdirat(s->tmp_fd, name, 0700) < 0)
                        return negative_errno();
                dfd = openat(s->tmp_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0)
                        return negative_errno();
                lfd = openat(dfd, "lock", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (lfd < 0 || flock(lfd, LOCK_EX) < 0)
                        return negative_errno();
        }
        if (ret_name) {
                *ret_name = strdup(name);
                if (!*ret_name)
                        return -ENOMEM;
        }
        *ret_dir_fd = TAKE_FD(dfd);
        *ret_lock_fd = TAKE_FD(lfd);
        return 0;
}

/* ---- tags ---- */

/* tags.json is the index; each image's tags are also kept in images/<id>.tags.json (a sorted JSON
 * array), so that a damaged index can be rebuilt. tags.json is written first and wins; a crash
 * between the two writes leaves a record stale, and a rebuild then prefers the newest record. */

#define TAG_RECORD_SUFFIX ".tags.json"
#define TAG_RECORD_MAX (1u << 20)

static bool tag_record_name(const char *name, char ret_id[static DIGEST_HEX_LEN + 1]) {
        if (strlen(name) != DIGEST_HEX_LEN + strlen(TAG_RECORD_SUFFIX) ||
            !streq(name + DIGEST_HEX_LEN, TAG_RECORD_SUFFIX))
                return false;
        memcpy(ret_id, name, DIGEST_HEX_LEN);
        ret_id[DIGEST_HEX_LEN] = 0;
        return digest_hex_valid(ret_id);
}

static bool image_config_name(const char *name, char ret_id[static DIGEST_HEX_LEN + 1]) {
        if (strlen(name) != DIGEST_HEX_LEN + 5 || !streq(name + DIGEST_HEX_LEN, ".json"))
                return false;
        memcpy(ret_id, name, DIGEST_HEX_LEN);
        ret_id[DIGEST_HEX_LEN] = 0;
        return digest_hex_valid(ret_id);
}

static bool image_exists(ImageStore *s, const char *id) {
        char name[DIGEST_HEX_LEN + 8];
        struct stat st;
        snprintf(name, sizeof(name), "%s.json", id);
        return fstatat(s->images_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode);
}

/* Why parsed tags.json content is not a usable index, or NULL if it is. */
static const char *tags_invalid(json_object *o) {
        if (!o || !json_object_is_type(o, json_type_object))
                return "not a JSON object";
        json_object_object_foreach(o, k, v) {
                _cleanup_free_ char *norm = NULL;
                if (!json_object_is_type(v, json_type_string) || !digest_hex_valid(json_object_get_string(v)))
                        return "an entry does not name an image id";
                if (image_ref_normalize(k, &norm) < 0 || !streq(norm, k))
                        return "an entry is not an image name";
        }
        return NULL;
}

static int tags_parse(const char *data, size_t size, json_object **ret, const char **ret_why) {
        struct json_tokener *tok;
        json_object *o;
        const char *why;

        if (size == 0) {
                *ret_why = "empty";
                return -EBADMSG;
        }
        if (memchr(data, 0, size)) {
                *ret_why = "contains NUL bytes";
                return -EBADMSG;
        }
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, data, (int) MIN(size, (size_t) INT32_MAX));
        if (o) {
                /* Trailing garbage after a valid object is damage too. */
                size_t end = json_tokener_get_parse_end(tok);
                if (end < size && data[end + strspn(data + end, " \t\r\n")] != 0) {
                        json_object_put(o);
                        o = NULL;
                }
        }
        json_tokener_free(tok);
        if (!o) {
                *ret_why = "not valid JSON (truncated?)";
                return -EBADMSG;
        }
        why = tags_invalid(o);
        if (why) {
                json_object_put(o);
                *ret_why = why;
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

/* tags.json from the per-image records; where two records claim a name, the newer one wins. */
static int tags_rebuild(ImageStore *s, json_object **ret) {
        _cleanup_json_ json_object *tags = json_object_new_object(), *stamps = json_object_new_object();
        _cleanup_closedir_ DIR *d = NULL;
        int r;

        r = opendir_at(s->images_fd, ".", 0, &d);
        if (r < 0)
                return r;
        if (!tags || !stamps)
                return -ENOMEM;
        FOREACH_DIRENT (de, d) {
                _cleanup_free_ char *data = NULL;
                _cleanup_json_ json_object *arr = NULL;
                char id[DIGEST_HEX_LEN + 1];
                struct stat st;
                int64_t stamp;

                if (!tag_record_name(de->d_name, id) || !image_exists(s, id))
                        continue;
                if (fstatat(s->images_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    read_file_at(s->images_fd, de->d_name, TAG_RECORD_MAX, &data, NULL) < 0)
                        continue;
                arr = json_tokener_parse(data);
                if (!arr || !json_object_is_type(arr, json_type_array))
                        continue; /* a damaged record loses only its own tags */
                stamp = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
                for (size_t i = 0; i < json_object_array_length(arr); i++) {
                        json_object *e = json_object_array_get_idx(arr, i), *old;
                        _cleanup_free_ char *norm = NULL;
                        const char *t = json_object_get_string(e);
                        if (!json_object_is_type(e, json_type_string) || image_ref_normalize(t, &norm) < 0 ||
                            !streq(norm, t))
                                continue;
                        if (json_object_object_get_ex(stamps, t, &old) && json_object_get_int64(old) >= stamp)
                                continue;
                        if (json_object_object_add(tags, t, json_object_new_string(id)) < 0 ||
                            json_object_object_add(stamps, t, json_object_new_int64(stamp)) < 0)
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(tags);
        return 0;
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Brings every image's record in line with tags, and removes records of images that are gone.
 * Best effort: the records are only a backup of tags.json. */
static void tag_records_sync(ImageStore *s, json_object *tags) {
        _cleanup_closedir_ DIR *d = NULL;

        if (opendir_at(s->images_fd, ".", 0, &d) < 0)
                return;
        FOREACH_DIRENT (de, d) {
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_json_ json_object *arr = NULL;
                _cleanup_free_ char *old = NULL;
                char id[DIGEST_HEX_LEN + 1], rec[DIGEST_HEX_LEN + sizeof(TAG_RECORD_SUFFIX)];
                const char *out;
                size_t size, old_size;

                if (tag_record_name(de->d_name, id)) {
                        if (!image_exists(s, id))
                                (void) unlinkat(s->images_fd, de->d_name, 0);
                        continue;
                }
                if (!image_config_name(de->d_name, id))
                        continue;
                snprintf(rec, sizeof(rec), "%s%s", id, TAG_RECORD_SUFFIX);
                json_object_object_foreach(tags, k, v) {
                        if (streq(json_object_get_string(v), id) && strv_extend(&names, k) < 0)
                                return;
                }
                if (strv_length(names) == 0) {
                        (void) unlinkat(s->images_fd, rec, 0);
                        continue;
                }
                qsort(names, strv_length(names), sizeof(char *), strcmp_ptr);
                arr = json_object_new_array();
                if (!arr)
                        return;
                STRV_FOREACH (n, names)
                        (void) json_object_array_add(arr, json_object_new_string(*n));
                out = json_object_to_json_string_length(arr, JSON_C_TO_STRING_PLAIN, &size);
                if (!out)
                        return;
                if (read_file_at(s->images_fd, rec, TAG_RECORD_MAX, &old, &old_size) >= 0 && old_size == size &&
                    memcmp(old, out, size) == 0)
                        continue;
                (void) write_file_atomic(s->images_fd, rec, out, size, 0600);
        }
}

static int write_tags(ImageStore *s, json_object *tags) {
        size_t size = 0;
        const char *buf = json_object_to_json_string_length(tags, JSON_C_TO_STRING_PRETTY, &size);
        int r;
        if (!buf)
                return -ENOMEM;
        r = write_file_atomic(s->dir_fd, "tags.json", buf, size, 0600);
        if (r < 0)
                return r;
        tag_records_sync(s, tags);
        return 0;
}

/* Reads tags.json; NULL *ret_why when it is fine (or absent), else why not. */
static int tags_load(ImageStore *s, json_object **ret, const char **ret_why) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        *ret_why = NULL;
        r = read_file_at(s->dir_fd, "tags.json", TAGS_MAX, &data, &size);
        if (r == -ENOENT) {
                *ret = json_object_new_object();
                return *ret ? 0 : -ENOMEM;
        }
        if (r == -EISDIR || r == -EBADFD || r == -EFBIG) {
                *ret_why = r == -EFBIG ? "too large" : "not a regular file";
                return -EBADMSG;
        }
        if (r < 0)
                return r;
        return tags_parse(data, size, ret, ret_why);
}

/* A damaged tags.json never takes the store down: its content is rebuilt from the per-image
 * records; when the store lock can be had, the damaged file is set aside and the rebuilt one
 * written, else (a reader while an import commits) the rebuilt tags are used for this call only. */
static int read_tags(ImageStore *s, json_object **ret) {
        _cleanup_json_ json_object *tags = NULL;
        const char *why;
        bool took_lock = false;
        char aside[64] = "";
        int r;

        r = tags_load(s, &tags, &why);
        if (r != -EBADMSG || !why) {
                if (r >= 0)
                        *ret = TAKE_PTR(tags);
                return r;
        }
        if (!s->locked && flock(s->lock_fd, LOCK_EX | LOCK_NB) >= 0)
                s->locked = took_lock = true;
        if (s->locked) {
                /* Someone may have repaired it while we waited for nothing. */
                r = tags_load(s, &tags, &why);
                if (r != -EBADMSG || !why) {
                        if (took_lock) {
                                (void) flock(s->lock_fd, LOCK_UN);
                                s->locked = false;
                        }
                        if (r >= 0)
                                *ret = TAKE_PTR(tags);
                        return r;
                }
        }
        r = tags_rebuild(s, &tags);
        if (r >= 0 && s->locked) {
                struct tm tm;
                time_t now = time(NULL);
                strftime(aside, sizeof(aside), "tags.json.corrupt-%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
                if (renameat(s->dir_fd, "tags.json", s->dir_fd, aside) < 0)
                        aside[0] = 0;
                (void) fsync(s->dir_fd);
                size_t size = 0;
                const char *buf = json_object_to_json_string_length(tags, JSON_C_TO_STRING_PRETTY, &size);
                if (buf)
                        (void) write_file_atomic(s->dir_fd, "tags.json", buf, size, 0600);
        }
        if (took_lock) {
                (void) flock(s->lock_fd, LOCK_UN);
                s->locked = false;
        }
        if (r < 0)
                return r;
        if (aside[0])
                store_warn("Image store: %s/tags.json was damaged (%s); set aside as %s, %d tag(s) recovered "
                           "from the per-image records.",
                           s->dir, why, aside, json_object_object_length(tags));
        else
                store_warn("Image store: %s/tags.json is damaged (%s); using %d tag(s) recovered from the "
                           "per-image records.",
                           s->dir, why, json_object_object_length(tags));
        *ret = TAKE_PTR(tags);
        return 0;
}

static bool image_tagged(json_object *tags, const char *id) {
        json_object_object_foreach(tags, k, v) {
                (void) k;
                if (streq(json_object_get_string(v), id))
                        return true;
        }
        return false;
}

/* ---- config blobs ---- */

static uint64_t parse_rfc3339(const char *s) {
        struct tm tm = {};
        const char *p;
        uint64_t frac = 0, scale = 1000000;
        int64_t t, off = 0;

        if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
                return 0;
        if (*p == '.')
                for (p++; *p >= '0' && *p <= '9'; p++)
                        if (scale > 1) {
                                scale /= 10;
                                frac += (uint64_t) (*p - '0') * scale;
                        }
        if ((*p == '+' || *p == '-') && strlen(p) >= 6)
                off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
        if (*p == '+')
                off = -off;
        t = (int64_t) timegm(&tm) + off;
        return t < 0 ? 0 : (uint64_t) t * 1000000 + frac;
}

static int json_strv_get(json_object *o, const char *key, char ***ret) {
        json_object *a;
        char **l = NULL;

        if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
                return 0;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);
                if (!json_object_is_type(e, json_type_string) || strv_extend(&l, json_object_get_string(e)) < 0) {
                        strv_free(l);
                        return -EBADMSG;
                }
        }
        *ret = l;
        return 0;
}

static int json_str_get(json_object *o, const char *key, char **ret) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return 0;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

int image_config_parse(const void *data, size_t size, char ***ret_diff_hex, ImageConfig *ret_config,
                       uint64_t *ret_created) {
        _cleanup_json_ json_object *root = NULL;
        _cleanup_strv_free_ char **ids = NULL, **hex = NULL;
        json_object *rootfs, *cfg, *created;
        struct json_tokener *tok;
        int r;

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, data, (int) MIN(size, (size_t) INT32_MAX));
        json_tokener_free(tok);
        if (!root || !json_object_is_type(root, json_type_object))
                return -EBADMSG;
        if (!json_object_object_get_ex(root, "rootfs", &rootfs))
                return -EBADMSG;
        r = json_strv_get(rootfs, "diff_ids", &ids);
        if (r < 0)
                return r;
        STRV_FOREACH (i, ids) {
                char h[DIGEST_HEX_LEN + 1];
                if (digest_parse(*i, h) < 0)
                        return -EBADMSG;
                if (strv_extend(&hex, h) < 0)
                        return -ENOMEM;
        }
        if (ret_config) {
                ImageConfig c = {};
                if (json_object_object_get_ex(root, "config", &cfg) && json_object_is_type(cfg, json_type_object)) {
                        json_object *o;
                        if ((r = json_strv_get(cfg, "Entrypoint", &c.entrypoint)) < 0 ||
                            (r = json_strv_get(cfg, "Cmd", &c.cmd)) < 0 ||
                            (r = json_strv_get(cfg, "Env", &c.env)) < 0 ||
                            (r = json_str_get(cfg, "WorkingDir", &c.working_dir)) < 0 ||
                            (r = json_str_get(cfg, "User", &c.user)) < 0) {
                                image_config_done(&c);
                                return r;
                        }
                        if (json_object_object_get_ex(cfg, "ExposedPorts", &o) &&
                            json_object_is_type(o, json_type_object)) {
                                json_object_object_foreach(o, k, v) {
                                        (void) v;
                                        (void) strv_extend(&c.exposed_ports, k);
                                }
                        }
                        if (json_object_object_get_ex(cfg, "Labels", &o) && json_object_is_type(o, json_type_object)) {
                                json_object_object_foreach(o, k, v) {
                                        _cleanup_free_ char *kv = NULL;
                                        if (asprintf(&kv, "%s=%s", k, strempty(json_object_get_string(v))) >= 0)
                                                (void) strv_consume(&c.labels, TAKE_PTR(kv));
                                }
                        }
                }
                *ret_config = c;
        }
        if (ret_created)
                *ret_created = json_object_object_get_ex(root, "created", &created)
                                       ? parse_rfc3339(json_object_get_string(created))
                                       : 0;
        if (ret_diff_hex)
                *ret_diff_hex = TAKE_PTR(hex);
        return 0;
}

/* ---- lookup ---- */

/* ref → image id: a tag, or an id/prefix. */
static int resolve_ref(ImageStore *s, json_object *tags, const char *ref, char **ret_norm, char ret_id[static 65]) {
        _cleanup_free_ char *norm = NULL;
        const char *hexp = strneq(ref, "sha256:", 7) ? ref + 7 : ref;
        size_t l = strlen(hexp);
        json_object *v;

        if (image_ref_normalize(ref, &norm) >= 0 && json_object_object_get_ex(tags, norm, &v)) {
                if (!digest_hex_valid(json_object_get_string(v)))
                        return -EBADMSG;
                memcpy(ret_id, json_object_get_string(v), DIGEST_HEX_LEN + 1);
                if (ret_norm)
                        *ret_norm = TAKE_PTR(norm);
                return 0;
        }
        if (l >= 4 && l <= DIGEST_HEX_LEN && strspn(hexp, "0123456789abcdef") == l) {
                _cleanup_closedir_ DIR *d = NULL;
                char cand[DIGEST_HEX_LEN + 1];
                int found = 0, r;

                r = opendir_at(s->images_fd, ".", 0, &d);
                if (r < 0)
                        return r;
                FOREACH_DIRENT (de, d)
                        if (image_config_name(de->d_name, cand) && strneq(de->d_name, hexp, l)) {
                                memcpy(ret_id, de->d_name, DIGEST_HEX_LEN);
                                ret_id[DIGEST_HEX_LEN] = 0;
                                found++;
                        }
                if (found == 1) {
                        if (ret_norm)
                                *ret_norm = NULL;
                        return 0;
                }
                if (found > 1)
                        return -ENOTUNIQ;
        }
        return -ENOENT;
}

int image_store_resolve(ImageStore *s, const char *ref, char ret_id[static DIGEST_HEX_LEN + 1]) {
        _cleanup_json_ json_object *tags = NULL;
        char id[DIGEST_HEX_LEN + 1];
        int r;

        r = read_tags(s, &tags);
        if (r < 0)
                return r;
        r = resolve_ref(s, tags, ref, NULL, id);
        if (r < 0)
                return r;
        if (!image_exists(s, id))
                return -ENOENT;
        memcpy(ret_id, id, sizeof(id));
        return 0;
}

int image_store_lookup(ImageStore *s, const char *ref, Image **ret) {
        _cleanup_json_ json_object *tags = NULL;
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_free_ char *norm = NULL;
        _cleanup_strv_free_ char **hex = NULL;
        char id[DIGEST_HEX_LEN + 1];
        const char *why = NULL;
        int r;

        r = read_tags(s, &tags);
        if (r < 0)
                return r;
        r = resolve_ref(s, tags, ref, &norm, id);
        if (r < 0)
                return r;
        img = new0(Image, 1);
        if (!img)
                return -ENOMEM;
        r = load_config(s, id, NULL, NULL, &hex, &img->config, &img->created, &why);
        if (r == -EBADMSG)
                return config_damaged(s, id, why);
        if (r < 0)
                return r;
        img->id = strdup(id);
        if (!img->id)
                return -ENOMEM;
        if (norm && (r = image_ref_split(norm, &img->name, &img->tag)) < 0)
                return r;
        for (size_t i = strv_length(hex); i > 0; i--) {
                _cleanup_free_ char *d = NULL, *lid = NULL;
                struct stat st;
                if (asprintf(&d, "%s/layers/%s/diff", s->dir, hex[i - 1]) < 0 ||
                    asprintf(&lid, "sha256:%s", hex[i - 1]) < 0)
                        return -ENOMEM;
                /* A missing layer is a corrupt store: say so rather than mount a partial rootfs. */
                if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode))
                        return -EUCLEAN;
                img->size += layer_size(s, hex[i - 1]);
                if (strv_consume(&img->layer_dirs, TAKE_PTR(d)) < 0 || strv_extend(&img->layer_ids, lid) < 0)
                        return -ENOMEM;
        }
        /* layer_ids bottom first */
        for (size_t i = 0, n = strv_length(img->layer_ids); i < n / 2; i++) {
                char *t = img->layer_ids[i];
                img->layer_ids[i] = img->layer_ids[n - 1 - i];
                img->layer_ids[n - 1 - i] = t;
        }
        *ret = TAKE_PTR(img);
        return 0;
}

bool image_store_has_layer(ImageStore *s, const char *diff_hex) {
        _cleanup_free_ char *p = path_join(diff_hex, "diff");
        struct stat st;
        return p && digest_hex_valid(diff_hex) && fstatat(s->layers_fd, p, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
               S_ISDIR(st.st_mode);
}

/* ---- list, history ---- */

void image_list_free(ImageListEntry *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].name);
                free(l[i].tag);
        }
        free(l);
}

static uint64_t image_rec_size(ImageStore *s, const ImageRec *r) {
        uint64_t sz = 0;
        if (r->damaged)
                return IMAGE_SIZE_DAMAGED;
        STRV_FOREACH (h, r->diff_hex)
                sz += layer_size(s, *h);
        return sz;
}

static int list_add(ImageListEntry **l, size_t *n, const char *name, const char *tag, const ImageRec *r,
                    uint64_t size) {
        ImageListEntry *t = realloc(*l, (*n + 1) * sizeof(ImageListEntry));
        if (!t)
                return -ENOMEM;
        *l = t;
        t[*n] = (ImageListEntry){ .name = strdup(name), .tag = strdup(tag), .size = size, .created = r->created };
        memcpy(t[*n].id, r->id, sizeof(r->id));
        if (!t[*n].name || !t[*n].tag) {
                free(t[*n].name);
                free(t[*n].tag);
                return -ENOMEM;
        }
        (*n)++;
        return 0;
}

static int list_cmp(const void *a, const void *b) {
        const ImageListEntry *x = a, *y = b;
        if (x->created != y->created)
                return x->created > y->created ? -1 : 1;
        return strcmp(x->name, y->name) ?: strcmp(x->tag, y->tag);
}

int image_store_list(ImageStore *s, ImageListEntry **ret, size_t *ret_n) {
        _cleanup_json_ json_object *tags = NULL;
        ImageRec *recs = NULL;
        ImageListEntry *l = NULL;
        size_t n = 0, nl = 0;
        int r;

        r = read_tags(s, &tags);
        if (r < 0)
                return r;
        r = load_images(s, &recs, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                uint64_t size = image_rec_size(s, &recs[i]);
                if (recs[i].damaged)
                        warn_damaged_config(s, recs[i].id, recs[i].damaged,
                                            "it is listed with no size; supctl image rm ID removes it.");
                bool tagged = false;
                json_object_object_foreach(tags, k, v) {
                        _cleanup_free_ char *name = NULL, *tag = NULL;
                        if (!streq(json_object_get_string(v), recs[i].id) || image_ref_split(k, &name, &tag) < 0)
                                continue;
                        tagged = true;
                        r = list_add(&l, &nl, name, tag, &recs[i], size);
                        if (r < 0)
                                break;
                }
                if (!tagged && r >= 0)
                        r = list_add(&l, &nl, "<none>", "<none>", &recs[i], size);
        }
        image_recs_free(recs, n);
        if (r < 0) {
                image_list_free(l, nl);
                return r;
        }
        if (nl > 1)
                qsort(l, nl, sizeof(ImageListEntry), list_cmp);
        *ret = l;
        *ret_n = nl;
        return 0;
}

void image_history_free(ImageHistoryEntry *h, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(h[i].digest);
                free(h[i].created_by);
        }
        free(h);
}

int image_store_history(ImageStore *s, const char *ref, ImageHistoryEntry **ret, size_t *ret_n) {
        _cleanup_json_ json_object *tags = NULL, *root = NULL;
        _cleanup_free_ char *data = NULL;
        _cleanup_strv_free_ char **hex = NULL;
        char id[DIGEST_HEX_LEN + 1];
        ImageHistoryEntry *h = NULL;
        json_object *hist = NULL;
        size_t size, n = 0, layer = 0, nhist;
        const char *why = NULL;
        int r;

        r = read_tags(s, &tags);
        if (r < 0)
                return r;
        r = resolve_ref(s, tags, ref, NULL, id);
        if (r < 0)
                return r;
        r = load_config(s, id, &data, &size, &hex, NULL, NULL, &why);
        if (r == -EBADMSG)
                return config_damaged(s, id, why);
        if (r < 0)
                return r;
        root = json_tokener_parse(data);
        if (root)
                (void) json_object_object_get_ex(root, "history", &hist);
        nhist = hist && json_object_is_type(hist, json_type_array) ? json_object_array_length(hist) : 0;

        /* History entries map onto layers in order, skipping the empty_layer ones; layers without
         * history get a row of their own. */
        h = new0(ImageHistoryEntry, nhist + strv_length(hex) + 1);
        if (!h)
                return -ENOMEM;
        for (size_t i = 0; i < nhist; i++) {
                json_object *e = json_object_array_get_idx(hist, i), *v;
                bool empty = json_object_object_get_ex(e, "empty_layer", &v) && json_object_get_boolean(v);
                if (!empty && layer < strv_length(hex)) {
                        if (asprintf(&h[n].digest, "sha256:%s", hex[layer]) < 0)
                                h[n].digest = NULL;
                        h[n].size = layer_size(s, hex[layer]);
                        layer++;
                } else
                        h[n].digest = strdup("<missing>");
                h[n].created_by = strdup(
                        json_object_object_get_ex(e, "created_by", &v) ? strempty(json_object_get_string(v)) : "");
                h[n].created =
                        json_object_object_get_ex(e, "created", &v) ? parse_rfc3339(json_object_get_string(v)) : 0;
                n++;
        }
        for (; layer < strv_length(hex); layer++, n++) {
                if (asprintf(&h[n].digest, "sha256:%s", hex[layer]) < 0)
                        h[n].digest = NULL;
                h[n].size = layer_size(s, hex[layer]);
                h[n].created_by = strdup("");
        }
        for (size_t i = 0; i < n; i++)
                if (!h[i].digest || !h[i].created_by) {
                        image_history_free(h, n);
                        return -ENOMEM;
                }
        for (size_t i = 0; i < n / 2; i++) {
                ImageHistoryEntry t = h[i];
                h[i] = h[n - 1 - i];
                h[n - 1 - i] = t;
        }
        *ret = h;
        *ret_n = n;
        return 0;
}

/* ---- remove, prune ---- */

static int delete_image(ImageStore *s, const char *id) {
        char name[DIGEST_HEX_LEN + sizeof(TAG_RECORD_SUFFIX)];
        snprintf(name, sizeof(name), "%s" TAG_RECORD_SUFFIX, id);
        (void) unlinkat(s->images_fd, name, 0);
        snprintf(name, sizeof(name), "%s.json", id);
        if (unlinkat(s->images_fd, name, 0) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

int image_store_remove(ImageStore *s, const char *ref, ImageInUseFn in_use, void *userdata, uint64_t *ret_freed) {
        _cleanup_json_ json_object *tags = NULL;
        _cleanup_free_ char *norm = NULL;
        char id[DIGEST_HEX_LEN + 1];
        uint64_t freed = 0;
        int r;

        STORE_LOCKED(s, locked);
        r = store_lock(s);
        if (r < 0)
                return r;
        r = read_tags(s, &tags);
        if (r < 0)
                return r;
        r = resolve_ref(s, tags, ref, &norm, id);
        if (r < 0)
                return r;
        if (norm) {
                /* Another tag keeps the image: only the name goes, as with docker rmi. */
                json_object_object_del(tags, norm);
                if (!image_tagged(tags, id)) {
                        if (in_use && in_use(id, userdata))
                                return -EBUSY;
                }
        } else {
                bool again = true;
                if (in_use && in_use(id, userdata))
                        return -EBUSY;
                while (again) {
                        again = false;
                        json_object_object_foreach(tags, k, v) {
                                if (streq(json_object_get_string(v), id)) {
                                        json_object_object_del(tags, k);
                                        again = true;
                                        break;
                                }
                        }
                }
        }
        r = write_tags(s, tags);
        if (r < 0)
                return r;
        if (!image_tagged(tags, id)) {
                r = delete_image(s, id);
                if (r < 0)
                        return r;
                r = gc_layers(s, &freed);
                if (r < 0)
                        return r;
        }
        if (ret_freed)
                *ret_freed = freed;
        return 0;
}

int image_store_prune(ImageStore *s, ImageInUseFn in_use, void *userdata, char ***ret_removed, uint64_t *ret_freed) {
        _cleanup_json_ json_object *tags = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        ImageRec *recs = NULL;
        uint64_t freed = 0;
        size_t n = 0;
        int r;

        STORE_LOCKED(s, locked);
        r = store_lock(s);
        if (r < 0)
                return r;
        r = read_tags(s, &tags);
        if (r < 0)
                return r;
        r = load_images(s, &recs, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                /* A damaged image goes only when asked for by name: it may be the one a tag meant. */
                if (recs[i].damaged || image_tagged(tags, recs[i].id) || (in_use && in_use(recs[i].id, userdata)))
                        continue;
                if (delete_image(s, recs[i].id) >= 0)
                        (void) strv_extend(&removed, recs[i].id);
        }
        image_recs_free(recs, n);
        clean_tmp(s);
        r = gc_layers(s, &freed);
        if (r < 0)
                return r;
        if (ret_removed)
                *ret_removed = TAKE_PTR(removed);
        if (ret_freed)
                *ret_freed = freed;
        return 0;
}

/* ---- commit ---- */

int image_store_commit(ImageStore *s, int scratch_fd, const void *config, size_t config_size, ImportedLayer *layers,
                       size_t n_layers, char *const *tags, char **ret_id) {
        _cleanup_json_ json_object *tj = NULL;
        char id[DIGEST_HEX_LEN + 1], name[DIGEST_HEX_LEN + 8];
        int r;

        r = digest_buffer_hex(config, config_size, id);
        if (r < 0)
                return r;
        /* Layers must be on disk before anything names them. */
        if (syncfs(scratch_fd) < 0)
                return negative_errno();

        STORE_LOCKED(s, locked);
        r = store_lock(s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_layers; i++) {
                if (!layers[i].scratch_name)
                        continue;
                if (renameat(scratch_fd, layers[i].scratch_name, s->layers_fd, layers[i].diff_hex) < 0 &&
                    errno != EEXIST && errno != ENOTEMPTY)
                        return negative_errno();
        }
        for (size_t i = 0; i < n_layers; i++)
                if (!image_store_has_layer(s, layers[i].diff_hex))
                        return -EUCLEAN; /* pruned between our check and now: import again */
        (void) fsync(s->layers_fd);
        snprintf(name, sizeof(name), "%s.json", id);
        r = write_file_atomic(s->images_fd, name, config, config_size, 0600);
        if (r < 0)
                return r;
        if (strv_length((char **) tags) > 0) {
                r = read_tags(s, &tj);
                if (r < 0)
                        return r;
                STRV_FOREACH (t, tags) {
                        json_object *v = json_object_new_string(id);
                        if (!v || json_object_object_add(tj, *t, v) < 0)
                                return -ENOMEM;
                }
                r = write_tags(s, tj);
                if (r < 0)
                        return r;
        }
        if (ret_id) {
                *ret_id = strdup(id);
                if (!*ret_id)
                        return -ENOMEM;
        }
        return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "basic/time-util.h"
#include "image-import.h"

#define SMALL_MEMBER_MAX (1u << 20) /* members read into memory on the first pass */
#define SMALL_TOTAL_MAX (64u << 20) /* ... at most this much in all */
#define READ_CHUNK (1u << 20)

static inline void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}
static inline void json_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

const char *image_host_arch(void) {
        static const struct {
                const char *uname, *oci;
        } map[] = {
                { "x86_64", "amd64" }, { "aarch64", "arm64" },   { "armv7l", "arm" },  { "armv6l", "arm" },
                { "i686", "386" },     { "ppc64le", "ppc64le" }, { "s390x", "s390x" }, { "riscv64", "riscv64" },
        };
        static struct utsname u;
        if (uname(&u) < 0)
                return "amd64";
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(u.machine, map[i].uname))
                        return map[i].oci;
        return u.machine;
}

void import_progress_report(ImportProgress *p, bool force) {
        usec_t now;
        if (!p->fn)
                return;
        now = now_usec(CLOCK_MONOTONIC);
        if (!force && now < p->last_usec + 100 * USEC_PER_MSEC)
                return;
        p->last_usec = now;
        p->fn(p->userdata, p->done, p->total, p->layers_done, p->layers_total);
}

/* ---- sources: an archive file or a directory ---- */

typedef struct Member {
        char *name;
        char *link; /* symlink target, normalised relative to the archive root */
        uint64_t size;
        char *data; /* loaded on the first pass when small */
} Member;

typedef enum Format { FORMAT_ROOTFS, FORMAT_DOCKER, FORMAT_OCI } Format;

typedef struct Source {
        int fd;
        bool is_dir;
        Member *members;
        size_t n_members;
        uint64_t loaded;
} Source;

static void source_done(Source *s) {
        for (size_t i = 0; i < s->n_members; i++) {
                free(s->members[i].name);
                free(s->members[i].link);
                free(s->members[i].data);
        }
        free(s->members);
        safe_close(s->fd);
}

static bool is_hex_name(const char *s, const char *suffix) {
        size_t l = strlen(s), ls = strlen(suffix);
        char buf[DIGEST_HEX_LEN + 1];
        if (l != DIGEST_HEX_LEN + ls || !streq(s + DIGEST_HEX_LEN, suffix))
                return false;
        memcpy(buf, s, DIGEST_HEX_LEN);
        buf[DIGEST_HEX_LEN] = 0;
        return digest_hex_valid(buf);
}

/* Names that may appear in a docker save or OCI archive; any other name makes it a rootfs. */
static bool image_member_name(const char *n) {
        const char *slash;
        if (streq(n, "manifest.json") || streq(n, "repositories") || streq(n, "index.json") ||
            streq(n, "oci-layout") || streq(n, "blobs") || streq(n, "blobs/sha256"))
                return true;
        if (strneq(n, "blobs/sha256/", 13))
                return digest_hex_valid(n + 13);
        if (is_hex_name(n, ".json") || is_hex_name(n, ".tar") || is_hex_name(n, ""))
                return true;
        slash = strchr(n, '/');
        if (slash && (size_t) (slash - n) == DIGEST_HEX_LEN) {
                _cleanup_free_ char *d = strndup(n, DIGEST_HEX_LEN);
                return d && digest_hex_valid(d) &&
                       (streq(slash, "/layer.tar") || streq(slash, "/json") || streq(slash, "/VERSION"));
        }
        return false;
}

static struct archive *archive_for_fd(int fd) {
        struct archive *a = archive_read_new();
        if (!a)
                return NULL;
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_xz(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_bzip2(a);
        archive_read_support_format_tar(a);
        if (lseek(fd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK) {
                archive_read_free(a);
                return NULL;
        }
        return a;
}

static int member_add(Source *src, const char *name, const char *link, uint64_t size, Member **ret) {
        Member *t = realloc(src->members, (src->n_members + 1) * sizeof(Member));
        if (!t)
                return -ENOMEM;
        src->members = t;
        t[src->n_members] = (Member){ .name = strdup(name), .size = size };
        if (!t[src->n_members].name)
                return -ENOMEM;
        if (link) {
                _cleanup_free_ char *joined = NULL, *dir = strdup(name);
                char *slash;
                if (!dir)
                        return -ENOMEM;
                slash = strrchr(dir, '/');
                if (slash)
                        *slash = 0;
                else
                        dir[0] = 0;
                if (asprintf(&joined, "%s%s%s", dir, *dir ? "/" : "", link) < 0)
                        return -ENOMEM;
                /* ".." within the archive is fine here: resolve it by hand, never outside. */
                char **parts = NULL, *p = joined, *tok;
                while ((tok = strsep(&p, "/"))) {
                        if (isempty(tok) || streq(tok, "."))
                                continue;
                        if (streq(tok, "..")) {
                                size_t n = strv_length(parts);
                                if (n == 0) {
                                        strv_free(parts);
                                        return -EPERM;
                                }
                                free(parts[n - 1]);
                                parts[n - 1] = NULL;
                        } else if (strv_extend(&parts, tok) < 0) {
                                strv_free(parts);
                                return -ENOMEM;
                        }
                }
                t[src->n_members].link = strv_join(parts, "/");
                strv_free(parts);
                if (!t[src->n_members].link)
                        return -ENOMEM;
        }
        *ret = &t[src->n_members++];
        return 0;
}

/* First pass over an archive file: which kind it is, and its small members in memory. */
static int scan_archive(Source *src, Format *ret_format, char **ret_error) {
        _cleanup_(archive_read_freep) struct archive *a = archive_for_fd(src->fd);
        struct archive_entry *e;
        bool manifest = false, index = false;
        int r;

        if (!a) {
                /* libarchive found no tar (compressed or not) in it. */
                if (asprintf(ret_error, "not a tar archive, docker save or oci-archive") < 0)
                        return -ENOMEM;
                return -EBADMSG;
        }
        for (;;) {
                _cleanup_free_ char *name = NULL;
                Member *m;
                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        if (asprintf(ret_error, "not a readable archive: %s", archive_error_string(a) ?: "?") < 0)
                                *ret_error = NULL;
                        return -EBADMSG;
                }
                if (!archive_entry_pathname(e) || layer_path_normalize(archive_entry_pathname(e), &name) < 0 ||
                    (!isempty(name) && !image_member_name(name))) {
                        *ret_format = FORMAT_ROOTFS;
                        return 0;
                }
                if (archive_entry_filetype(e) == AE_IFDIR || isempty(name))
                        continue;
                if (archive_entry_filetype(e) != AE_IFREG && archive_entry_filetype(e) != AE_IFLNK &&
                    !archive_entry_hardlink(e))
                        continue;
                manifest = manifest || streq(name, "manifest.json");
                index = index || streq(name, "index.json");
                r = member_add(src, name, archive_entry_symlink(e) ?: archive_entry_hardlink(e),
                               (uint64_t) MAX(archive_entry_size(e), 0), &m);
                if (r < 0)
                        return r;
                if (archive_entry_hardlink(e)) { /* hard link targets are archive-root relative */
                        free(m->link);
                        m->link = NULL;
                        r = layer_path_normalize(archive_entry_hardlink(e), &m->link);
                        if (r < 0)
                                return r;
                }
                if (archive_entry_filetype(e) == AE_IFREG && !m->link && m->size <= SMALL_MEMBER_MAX &&
                    src->loaded + m->size <= SMALL_TOTAL_MAX) {
                        la_ssize_t n;
                        m->data = malloc(m->size + 1);
                        if (!m->data)
                                return -ENOMEM;
                        n = archive_read_data(a, m->data, m->size);
                        if (n < 0 || (uint64_t) n != m->size) {
                                if (asprintf(ret_error, "%s: %s", name, archive_error_string(a) ?: "short read") < 0)
                                        *ret_error = NULL;
                                return -EBADMSG;
                        }
                        m->data[m->size] = 0;
                        src->loaded += m->size;
                }
        }
        *ret_format = manifest ? FORMAT_DOCKER : index ? FORMAT_OCI : FORMAT_ROOTFS;
        return 0;
}

static const Member *member_find(const Source *src, const char *name) {
        for (unsigned hops = 0; hops < 8; hops++) {
                const Member *m = NULL;
                for (size_t i = 0; i < src->n_members; i++)
                        if (streq(src->members[i].name, name)) {
                                m = &src->members[i];
                                break;
                        }
                if (!m || !m->link)
                        return m;
                name = m->link;
        }
        return NULL;
}

static int open_beneath(int dir_fd, const char *name) {
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
        return fd < 0 ? negative_errno() : (int) fd;
}

/* A small member (manifest, config, index) by name. */
static int source_read_small(Source *src, const char *name, char **ret, size_t *ret_size) {
        _cleanup_free_ char *norm = NULL;
        const Member *m;
        int r = layer_path_normalize(name, &norm);
        if (r < 0)
                return r;
        if (src->is_dir) {
                _cleanup_close_ int fd = open_beneath(src->fd, norm);
                char p[64];
                if (fd < 0)
                        return fd;
                snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
                return read_file_at(AT_FDCWD, p, SMALL_MEMBER_MAX, ret, ret_size);
        }
        m = member_find(src, norm);
        if (!m)
                return -ENOENT;
        if (!m->data)
                return -EFBIG;
        *ret = malloc(m->size + 1);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, m->data, m->size + 1);
        if (!*ret)
                return -ENOMEM;
        *ret_size = m->size;
        return 0;
}

/* ---- the plan: which layers, with which digests ---- */

typedef struct PlanLayer {
        char *member;                      /* resolved member name */
        char blob_hex[DIGEST_HEX_LEN + 1]; /* "" when the format gives none */
        char diff_hex[DIGEST_HEX_LEN + 1]; /* "" for a plain rootfs, known after unpacking */
        uint64_t size;
        bool needed; /* not in the store, and first of its diff id in this image */
        bool done;
        char *scratch_name;
} PlanLayer;

typedef struct Import {
        ImageStore *store;
        Source src;
        Format format;
        PlanLayer *layers;
        size_t n_layers;
        char *config;
        size_t config_size;
        char **tags;
        char *scratch_name;
        int scratch_fd;
        int scratch_lock;
        LayerBudget budget;
        ImportProgress progress;
        char *error;
} Import;

static void import_done(Import *im) {
        source_done(&im->src);
        for (size_t i = 0; i < im->n_layers; i++) {
                free(im->layers[i].member);
                free(im->layers[i].scratch_name);
        }
        free(im->layers);
        free(im->config);
        strv_free(im->tags);
        if (im->scratch_name)
                image_store_scratch_remove(im->store, im->scratch_name);
        free(im->scratch_name);
        safe_close(im->scratch_fd);
        safe_close(im->scratch_lock);
        free(im->error);
}

_printf_(3, 4) static int import_fail(Import *im, int r, const char *fmt, ...) {
        va_list ap;
        if (!im->error) {
                va_start(ap, fmt);
                if (vasprintf(&im->error, fmt, ap) < 0)
                        im->error = NULL;
                va_end(ap);
        }
        return r < 0 ? r : -EINVAL;
}

static int add_tag(Import *im, const char *ref) {
        _cleanup_free_ char *norm = NULL;
        int r = image_ref_normalize(ref, &norm);
        if (r < 0)
                return import_fail(im, r, "invalid image name '%s'", ref);
        if (strv_contains(im->tags, norm))
                return 0;
        return strv_consume(&im->tags, TAKE_PTR(norm));
}

/* Reads the blob "blobs/sha256/<hex>" and checks its digest. */
static int read_blob(Import *im, const char *digest, char **ret, size_t *ret_size) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        char hex[DIGEST_HEX_LEN + 1], got[DIGEST_HEX_LEN + 1];
        size_t size;
        int r;

        if (digest_parse(digest, hex) < 0)
                return import_fail(im, -EBADMSG, "unsupported digest '%s'", digest);
        if (asprintf(&path, "blobs/sha256/%s", hex) < 0)
                return -ENOMEM;
        r = source_read_small(&im->src, path, &data, &size);
        if (r < 0)
                return import_fail(im, r, "blob %s: %s", digest, r == -ENOENT ? "missing" : strerror(-r));
        r = digest_buffer_hex(data, size, got);
        if (r < 0)
                return r;
        if (!streq(got, hex))
                return import_fail(im, -EBADMSG, "blob %s: digest mismatch (content is sha256:%s)", digest, got);
        *ret = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

static int set_config(Import *im, char *data, size_t size, size_t n_layers) {
        _cleanup_strv_free_ char **hex = NULL;
        int r = image_config_parse(data, size, &hex, NULL, NULL);
        if (r < 0)
                return import_fail(im, r, "image config: cannot parse");
        if (strv_length(hex) != n_layers)
                return import_fail(im, -EBADMSG, "image config names %zu layers, the manifest %zu", strv_length(hex),
                                   n_layers);
        im->layers = new0(PlanLayer, n_layers);
        if (!im->layers)
                return -ENOMEM;
        im->n_layers = n_layers;
        for (size_t i = 0; i < n_layers; i++)
                memcpy(im->layers[i].diff_hex, hex[i], DIGEST_HEX_LEN + 1);
        im->config = data;
        im->config_size = size;
        return 0;
}

static int set_member(Import *im, size_t i, const char *name) {
        _cleanup_free_ char *norm = NULL;
        int r = layer_path_normalize(name, &norm);
        if (r < 0 || isempty(norm))
                return import_fail(im, -EBADMSG, "bad layer name '%s'", name);
        if (!im->src.is_dir) {
                const Member *m = member_find(&im->src, norm);
                if (!m)
                        return import_fail(im, -EBADMSG, "layer %zu/%zu (%s) is missing from the archive", i + 1,
                                           im->n_layers, name);
                free(norm);
                norm = strdup(m->name);
                if (!norm)
                        return -ENOMEM;
                im->layers[i].size = m->size;
        } else {
                _cleanup_close_ int fd = open_beneath(im->src.fd, norm);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0)
                        return import_fail(im, -EBADMSG, "layer %zu/%zu (%s) is missing", i + 1, im->n_layers, name);
                im->layers[i].size = (uint64_t) st.st_size;
        }
        if (strneq(norm, "blobs/sha256/", 13))
                memcpy(im->layers[i].blob_hex, norm + 13, DIGEST_HEX_LEN + 1);
        im->layers[i].member = TAKE_PTR(norm);
        return 0;
}

static int plan_docker(Import *im, const char *name) {
        _cleanup_json_ json_object *root = NULL;
        _cleanup_free_ char *data = NULL, *cfg = NULL, *cfgnorm = NULL;
        json_object *entry, *v, *layers, *tags;
        size_t size, cfg_size;
        const char *cfgname;
        int r;

        r = source_read_small(&im->src, "manifest.json", &data, &size);
        if (r < 0)
                return import_fail(im, r, "manifest.json: %s", strerror(-r));
        root = json_tokener_parse(data);
        if (!root || !json_object_is_type(root, json_type_array) || json_object_array_length(root) < 1)
                return import_fail(im, -EBADMSG, "manifest.json: not a non-empty array");
        entry = json_object_array_get_idx(root, 0);
        if (!json_object_object_get_ex(entry, "Config", &v) || !json_object_is_type(v, json_type_string))
                return import_fail(im, -EBADMSG, "manifest.json: no Config");
        cfgname = json_object_get_string(v);
        if (!json_object_object_get_ex(entry, "Layers", &layers) || !json_object_is_type(layers, json_type_array))
                return import_fail(im, -EBADMSG, "manifest.json: no Layers");
        r = source_read_small(&im->src, cfgname, &cfg, &cfg_size);
        if (r < 0)
                return import_fail(im, r, "%s: %s", cfgname, strerror(-r));
        /* The config's name is its digest in both Docker layouts: check it. */
        if (layer_path_normalize(cfgname, &cfgnorm) >= 0) {
                const char *b = strrchr(cfgnorm, '/') ? strrchr(cfgnorm, '/') + 1 : cfgnorm;
                char want[DIGEST_HEX_LEN + 1], got[DIGEST_HEX_LEN + 1];
                if (strlen(b) >= DIGEST_HEX_LEN) {
                        memcpy(want, b, DIGEST_HEX_LEN);
                        want[DIGEST_HEX_LEN] = 0;
                        if (digest_hex_valid(want) && digest_buffer_hex(cfg, cfg_size, got) >= 0 && !streq(want, got))
                                return import_fail(im, -EBADMSG, "%s: digest mismatch (content is sha256:%s)", cfgname,
                                                   got);
                }
        }
        r = set_config(im, TAKE_PTR(cfg), cfg_size, json_object_array_length(layers));
        if (r < 0)
                return r;
        for (size_t i = 0; i < im->n_layers; i++) {
                json_object *l = json_object_array_get_idx(layers, i);
                if (!json_object_is_type(l, json_type_string))
                        return import_fail(im, -EBADMSG, "manifest.json: bad layer %zu", i + 1);
                r = set_member(im, i, json_object_get_string(l));
                if (r < 0)
                        return r;
        }
        if (name)
                return add_tag(im, name);
        if (json_object_object_get_ex(entry, "RepoTags", &tags) && json_object_is_type(tags, json_type_array))
                for (size_t i = 0; i < json_object_array_length(tags); i++) {
                        r = add_tag(im, json_object_get_string(json_object_array_get_idx(tags, i)));
                        if (r < 0)
                                return r;
                }
        return 0;
}

static bool media_is_index(const char *t) {
        return t && (streq(t, "application/vnd.oci.image.index.v1+json") ||
                     streq(t, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

int image_index_pick(const void *data, size_t size, char ret_hex[static DIGEST_HEX_LEN + 1], char **ret_media_type) {
        _cleanup_json_ json_object *root = NULL;
        json_object *ms;
        const char *arch = image_host_arch();
        _cleanup_free_ char *copy = strndup(data, size);

        if (!copy)
                return -ENOMEM;
        root = json_tokener_parse(copy);
        if (!root || !json_object_object_get_ex(root, "manifests", &ms) || !json_object_is_type(ms, json_type_array))
                return -EBADMSG;
        /* Exact platform first; an entry without a platform (OCI layouts) as a fallback. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < json_object_array_length(ms); i++) {
                        json_object *d = json_object_array_get_idx(ms, i), *p, *v, *mt;
                        bool match;
                        if (!json_object_object_get_ex(d, "digest", &v) ||
                            digest_parse(json_object_get_string(v), ret_hex) < 0)
                                continue;
                        if (json_object_object_get_ex(d, "platform", &p)) {
                                json_object *os, *a;
                                match = json_object_object_get_ex(p, "os", &os) &&
                                        streq(strempty(json_object_get_string(os)), "linux") &&
                                        json_object_object_get_ex(p, "architecture", &a) &&
                                        streq(strempty(json_object_get_string(a)), arch);
                        } else
                                match = pass == 1;
                        if (!match)
                                continue;
                        if (ret_media_type)
                                *ret_media_type = json_object_object_get_ex(d, "mediaType", &mt)
                                                          ? strdup(strempty(json_object_get_string(mt)))
                                                          : NULL;
                        return 0;
                }
        return -ENOENT;
}

static int plan_oci(Import *im, const char *name) {
        _cleanup_json_ json_object *index = NULL, *manifest = NULL;
        _cleanup_free_ char *data = NULL, *mdata = NULL, *cfg = NULL, *tag = NULL;
        json_object *ms, *d, *v, *layers, *config, *ann;
        size_t size, msize, cfg_size;
        char *digest = NULL;
        int r;

        r = source_read_small(&im->src, "index.json", &data, &size);
        if (r < 0)
                return import_fail(im, r, "index.json: %s", strerror(-r));
        index = json_tokener_parse(data);
        if (!index || !json_object_object_get_ex(index, "manifests", &ms) ||
            !json_object_is_type(ms, json_type_array) || json_object_array_length(ms) < 1)
                return import_fail(im, -EBADMSG, "index.json: no manifests");
        d = json_object_array_get_idx(ms, 0);
        if (json_object_object_get_ex(d, "annotations", &ann)) {
                if (json_object_object_get_ex(ann, "io.containerd.image.name", &v) ||
                    json_object_object_get_ex(ann, "org.opencontainers.image.ref.name", &v))
                        tag = strdup(strempty(json_object_get_string(v)));
        }
        if (!json_object_object_get_ex(d, "digest", &v))
                return import_fail(im, -EBADMSG, "index.json: manifest without digest");
        digest = strdup(strempty(json_object_get_string(v)));
        if (!digest)
                return -ENOMEM;
        /* Follow nested indexes down to this host's platform. */
        for (unsigned depth = 0;; depth++) {
                _cleanup_json_ json_object *m = NULL;
                char hex[DIGEST_HEX_LEN + 1];
                json_object *mt;

                free(mdata);
                mdata = NULL;
                r = read_blob(im, digest, &mdata, &msize);
                free(digest);
                digest = NULL;
                if (r < 0)
                        return r;
                m = json_tokener_parse(mdata);
                if (!m)
                        return import_fail(im, -EBADMSG, "manifest: cannot parse");
                if (!(json_object_object_get_ex(m, "mediaType", &mt) && media_is_index(json_object_get_string(mt))) &&
                    !json_object_object_get_ex(m, "manifests", &mt)) {
                        manifest = TAKE_PTR(m);
                        break;
                }
                if (depth >= 4)
                        return import_fail(im, -ELOOP, "image indexes nested too deeply");
                r = image_index_pick(mdata, msize, hex, NULL);
                if (r < 0)
                        return import_fail(im, r, "no manifest for linux/%s in the image index", image_host_arch());
                if (asprintf(&digest, "sha256:%s", hex) < 0)
                        return -ENOMEM;
        }
        if (!json_object_object_get_ex(manifest, "config", &config) ||
            !json_object_object_get_ex(config, "digest", &v))
                return import_fail(im, -EBADMSG, "manifest: no config");
        r = read_blob(im, json_object_get_string(v), &cfg, &cfg_size);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(manifest, "layers", &layers) || !json_object_is_type(layers, json_type_array))
                return import_fail(im, -EBADMSG, "manifest: no layers");
        r = set_config(im, TAKE_PTR(cfg), cfg_size, json_object_array_length(layers));
        if (r < 0)
                return r;
        for (size_t i = 0; i < im->n_layers; i++) {
                json_object *l = json_object_array_get_idx(layers, i);
                char hex[DIGEST_HEX_LEN + 1];
                _cleanup_free_ char *path = NULL;
                if (!json_object_object_get_ex(l, "digest", &v) || digest_parse(json_object_get_string(v), hex) < 0)
                        return import_fail(im, -EBADMSG, "manifest: bad digest for layer %zu", i + 1);
                if (asprintf(&path, "blobs/sha256/%s", hex) < 0)
                        return -ENOMEM;
                r = set_member(im, i, path);
                if (r < 0)
                        return r;
        }
        if (name)
                return add_tag(im, name);
        if (!isempty(tag))
                return add_tag(im, tag);
        return 0;
}

/* ---- unpacking ---- */

typedef struct Reader {
        LayerReadFn inner;
        void *inner_data;
        ImportProgress *progress;
} Reader;

static ssize_t reader_read(void *userdata, const void **ret_buf) {
        Reader *r = userdata;
        ssize_t n = r->inner(r->inner_data, ret_buf);
        if (n > 0 && r->progress) {
                r->progress->done += (uint64_t) n;
                import_progress_report(r->progress, false);
        }
        return n;
}

typedef struct FdSource {
        int fd;
        uint8_t *buf;
} FdSource;

static ssize_t fd_source_read(void *userdata, const void **ret_buf) {
        FdSource *f = userdata;
        for (;;) {
                ssize_t n = read(f->fd, f->buf, READ_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                *ret_buf = f->buf;
                return n;
        }
}

typedef struct ArchiveSource {
        struct archive *a;
        uint8_t *buf;
} ArchiveSource;

static ssize_t archive_source_read(void *userdata, const void **ret_buf) {
        ArchiveSource *s = userdata;
        la_ssize_t n = archive_read_data(s->a, s->buf, READ_CHUNK);
        if (n < 0)
                return -EIO;
        *ret_buf = s->buf;
        return n;
}

int import_layer(int scratch_fd, size_t index, size_t n_layers, LayerReadFn read_fn, void *userdata,
                 LayerBudget *budget, const char *blob_hex, const char *diff_hex,
                 char ret_diff_hex[static DIGEST_HEX_LEN + 1], char **ret_scratch_name, char **ret_error) {
        _cleanup_free_ char *name = NULL, *diffdir = NULL, *err = NULL;
        _cleanup_close_ int fd = -EBADF;
        char sizebuf[32];
        LayerResult res = {};
        const char *id = !isempty(diff_hex) ? diff_hex : !isempty(blob_hex) ? blob_hex : NULL;
        int r;

        if (asprintf(&name, "%zu", index) < 0 || !(diffdir = path_join(name, "diff")))
                return -ENOMEM;
        if (mkdirat(scratch_fd, name, 0700) < 0 || mkdirat(scratch_fd, diffdir, 0755) < 0)
                return negative_errno();
        fd = openat(scratch_fd, diffdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = layer_unpack(fd, read_fn, userdata, budget, isempty(diff_hex) ? 0 : LAYER_UNPACK_LENIENT_END, &res, &err);
        if (r < 0 && budget->limit_hit) { /* a limit of the whole import: no layer to blame */
                *ret_error = TAKE_PTR(err);
                return r;
        }
        if (r < 0) {
                if (asprintf(ret_error, "layer %zu/%zu%s%.12s%s: %s", index + 1, n_layers, id ? " (sha256:" : "",
                             strempty(id), id ? ")" : "", err ?: strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        if (!isempty(blob_hex) && !streq(blob_hex, res.blob_hex)) {
                if (asprintf(ret_error, "layer %zu/%zu (sha256:%.12s): digest mismatch, content is sha256:%s",
                             index + 1, n_layers, blob_hex, res.blob_hex) < 0)
                        *ret_error = NULL;
                return -EBADMSG;
        }
        if (!isempty(diff_hex) && !streq(diff_hex, res.diff_hex)) {
                if (asprintf(ret_error,
                             "layer %zu/%zu (sha256:%.12s): uncompressed digest mismatch, content is sha256:%s",
                             index + 1, n_layers, diff_hex, res.diff_hex) < 0)
                        *ret_error = NULL;
                return -EBADMSG;
        }
        snprintf(sizebuf, sizeof(sizebuf), "%" PRIu64 "\n", res.size);
        safe_close(fd);
        fd = openat(scratch_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = write_file_atomic(fd, "size", sizebuf, strlen(sizebuf), 0600);
        if (r < 0)
                return r;
        memcpy(ret_diff_hex, res.diff_hex, DIGEST_HEX_LEN + 1);
        budget->skipped_devices += res.skipped_devices;
        *ret_scratch_name = TAKE_PTR(name);
        return 0;
}

static int unpack_one(Import *im, size_t i, LayerReadFn fn, void *data) {
        PlanLayer *l = &im->layers[i];
        Reader rd = { .inner = fn, .inner_data = data, .progress = &im->progress };
        char got[DIGEST_HEX_LEN + 1];
        int r;

        r = import_layer(im->scratch_fd, i, im->n_layers, reader_read, &rd, &im->budget, l->blob_hex, l->diff_hex, got,
                         &l->scratch_name, &im->error);
        if (r < 0)
                return r;
        memcpy(l->diff_hex, got, sizeof(got));
        l->done = true;
        im->progress.layers_done++;
        import_progress_report(&im->progress, true);
        return 0;
}

static int unpack_layers(Import *im) {
        _cleanup_free_ uint8_t *buf = malloc(READ_CHUNK);
        size_t missing = 0;
        int r;

        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < im->n_layers; i++) {
                PlanLayer *l = &im->layers[i];
                if (!l->needed)
                        continue;
                if (im->src.is_dir) {
                        FdSource fs = { .fd = open_beneath(im->src.fd, l->member), .buf = buf };
                        if (fs.fd < 0)
                                return import_fail(im, fs.fd, "layer %zu/%zu: cannot open %s", i + 1, im->n_layers,
                                                   l->member);
                        r = unpack_one(im, i, fd_source_read, &fs);
                        safe_close(fs.fd);
                        if (r < 0)
                                return r;
                        continue;
                }
                const Member *m = member_find(&im->src, l->member);
                if (m && m->data) {
                        MemSource ms = { .data = m->data, .size = m->size, .chunk = 64 * 1024 };
                        r = unpack_one(im, i, mem_source_read, &ms);
                        if (r < 0)
                                return r;
                } else
                        missing++;
        }
        if (missing > 0) {
                /* Second pass: stream the big members in archive order. */
                _cleanup_(archive_read_freep) struct archive *a = archive_for_fd(im->src.fd);
                struct archive_entry *e;
                if (!a)
                        return -ENOMEM;
                while (missing > 0) {
                        _cleanup_free_ char *name = NULL;
                        r = archive_read_next_header(a, &e);
                        if (r == ARCHIVE_EOF)
                                break;
                        if (r < ARCHIVE_WARN)
                                return import_fail(im, -EBADMSG, "archive: %s", archive_error_string(a) ?: "?");
                        if (layer_path_normalize(strempty(archive_entry_pathname(e)), &name) < 0)
                                continue;
                        for (size_t i = 0; i < im->n_layers; i++) {
                                PlanLayer *l = &im->layers[i];
                                if (!l->needed || l->done || !streq(l->member, name))
                                        continue;
                                ArchiveSource as = { .a = a, .buf = buf };
                                r = unpack_one(im, i, archive_source_read, &as);
                                if (r < 0)
                                        return r;
                                missing--;
                                break;
                        }
                }
        }
        for (size_t i = 0; i < im->n_layers; i++)
                if (im->layers[i].needed && !im->layers[i].done)
                        return import_fail(im, -EBADMSG, "layer %zu/%zu (%s) is missing from the archive", i + 1,
                                           im->n_layers, im->layers[i].member);
        return 0;
}

static int rootfs_config(Import *im, const char *path, time_t mtime) {
        _cleanup_json_ json_object *root = json_object_new_object();
        _cleanup_free_ char *by = NULL, *diff = NULL;
        json_object *rootfs, *ids, *hist, *h;
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path, *out;
        char created[64];
        struct tm tm;
        size_t size;

        if (!root || asprintf(&by, "supctl image import %s", base) < 0 ||
            asprintf(&diff, "sha256:%s", im->layers[0].diff_hex) < 0)
                return -ENOMEM;
        /* Derived from the file alone (its mtime, not now), so importing it twice is a no-op. */
        strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&mtime, &tm));
        rootfs = json_object_new_object();
        ids = json_object_new_array();
        hist = json_object_new_array();
        h = json_object_new_object();
        if (!rootfs || !ids || !hist || !h)
                return -ENOMEM;
        json_object_object_add(root, "architecture", json_object_new_string(image_host_arch()));
        json_object_object_add(root, "os", json_object_new_string("linux"));
        json_object_object_add(root, "created", json_object_new_string(created));
        json_object_object_add(root, "config", json_object_new_object());
        json_object_object_add(rootfs, "type", json_object_new_string("layers"));
        json_object_array_add(ids, json_object_new_string(diff));
        json_object_object_add(rootfs, "diff_ids", ids);
        json_object_object_add(root, "rootfs", rootfs);
        json_object_object_add(h, "created", json_object_new_string(created));
        json_object_object_add(h, "created_by", json_object_new_string(by));
        json_object_array_add(hist, h);
        json_object_object_add(root, "history", hist);
        out = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN, &size);
        if (!out)
                return -ENOMEM;
        im->config = strndup(out, size);
        if (!im->config)
                return -ENOMEM;
        im->config_size = size;
        return 0;
}

static int import_rootfs(Import *im, const char *path, const struct stat *st) {
        _cleanup_free_ uint8_t *buf = malloc(READ_CHUNK);
        FdSource fs = { .fd = im->src.fd, .buf = buf };
        int r;

        if (!buf)
                return -ENOMEM;
        im->layers = new0(PlanLayer, 1);
        if (!im->layers)
                return -ENOMEM;
        im->n_layers = 1;
        im->layers[0].needed = true;
        im->progress.total = (uint64_t) st->st_size;
        im->progress.layers_total = 1;
        if (lseek(im->src.fd, 0, SEEK_SET) < 0)
                return negative_errno();
        r = unpack_one(im, 0, fd_source_read, &fs);
        if (r < 0)
                return r;
        if (image_store_has_layer(im->store, im->layers[0].diff_hex)) {
                free(im->layers[0].scratch_name); /* stored already: the scratch copy goes */
                im->layers[0].scratch_name = NULL;
        }
        return rootfs_config(im, path, st->st_mtim.tv_sec);
}

int image_import(ImageStore *s, const char *path, const char *name, const ImportLimits *limits,
                 ImageProgressFn progress, void *userdata, char **ret_id, unsigned *ret_skipped_devices,
                 char **ret_error) {
        _cleanup_(import_done) Import im = {
                .store = s,
                .src.fd = -EBADF,
                .scratch_fd = -EBADF,
                .scratch_lock = -EBADF,
                .budget.limits = limits ? *limits : IMPORT_LIMITS_DEFAULT,
                .progress = { .fn = progress, .userdata = userdata },
        };
        _cleanup_free_ ImportedLayer *il = NULL;
        struct stat st;
        int r;

        im.budget.fs_path = image_store_dir(s);
        im.src.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (im.src.fd < 0 || fstat(im.src.fd, &st) < 0) {
                r = negative_errno();
                if (asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        if (S_ISDIR(st.st_mode)) {
                struct stat t;
                im.src.is_dir = true;
                im.format = fstatat(im.src.fd, "manifest.json", &t, 0) >= 0 ? FORMAT_DOCKER
                            : fstatat(im.src.fd, "index.json", &t, 0) >= 0  ? FORMAT_OCI
                                                                            : FORMAT_ROOTFS;
                if (im.format == FORMAT_ROOTFS) {
                        if (asprintf(ret_error, "%s: a directory without index.json or manifest.json", path) < 0)
                                *ret_error = NULL;
                        return -EINVAL;
                }
        } else if (S_ISREG(st.st_mode)) {
                r = scan_archive(&im.src, &im.format, &im.error);
                if (r < 0)
                        goto fail;
        } else {
                if (asprintf(ret_error, "%s: not a file or directory", path) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }

        r = image_store_scratch(s, &im.scratch_name, &im.scratch_fd, &im.scratch_lock);
        if (r < 0) {
                import_fail(&im, r, "cannot create a scratch directory: %s", strerror(-r));
                goto fail;
        }

        if (im.format == FORMAT_ROOTFS) {
                if (name && (r = add_tag(&im, name)) < 0)
                        goto fail;
                r = import_rootfs(&im, path, &st);
        } else {
                r = im.format == FORMAT_DOCKER ? plan_docker(&im, name) : plan_oci(&im, name);
                if (r < 0)
                        goto fail;
                for (size_t i = 0; i < im.n_layers; i++) {
                        PlanLayer *l = &im.layers[i];
                        l->needed = !image_store_has_layer(s, l->diff_hex);
                        for (size_t j = 0; j < i && l->needed; j++)
                                if (streq(im.layers[j].diff_hex, l->diff_hex))
                                        l->needed = false;
                        if (l->needed) {
                                im.progress.total += l->size;
                                im.progress.layers_total++;
                        }
                }
                r = unpack_layers(&im);
        }
        if (r < 0)
                goto fail;

        il = new0(ImportedLayer, im.n_layers);
        if (!il)
                return -ENOMEM;
        for (size_t i = 0; i < im.n_layers; i++) {
                memcpy(il[i].diff_hex, im.layers[i].diff_hex, DIGEST_HEX_LEN + 1);
                il[i].scratch_name = im.layers[i].scratch_name;
        }
        r = image_store_commit(s, im.scratch_fd, im.config, im.config_size, il, im.n_layers, im.tags, ret_id);
        if (r < 0) {
                import_fail(&im, r, "cannot store the image: %s", strerror(-r));
                goto fail;
        }
        import_progress_report(&im.progress, true);
        if (ret_skipped_devices)
                *ret_skipped_devices = im.budget.skipped_devices;
        return 0;

fail:
        if (ret_error) {
                *ret_error = TAKE_PTR(im.error);
                if (!*ret_error && asprintf(ret_error, "%s", strerror(-r)) < 0)
                        *ret_error = NULL;
        }
        return r;
}

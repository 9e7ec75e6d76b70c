/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "basic/strv.h"
#include "image-pull.h"

#define MANIFEST_MAX (4u << 20)

static const char *const manifest_accept =
        "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
        "application/vnd.docker.distribution.manifest.v2+json, "
        "application/vnd.docker.distribution.manifest.list.v2+json";

static inline void json_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

int image_ref_parse_remote(const char *ref, char **ret_registry, char **ret_repository, char **ret_reference) {
        _cleanup_free_ char *norm = NULL, *rest = NULL, *registry = NULL, *repo = NULL, *reference = NULL;
        const char *slash, *sep;
        int r;

        r = image_ref_normalize(ref, &norm);
        if (r < 0)
                return r;
        /* Undo the docker.io shortening of the normal form. */
        slash = strchr(norm, '/');
        if (slash && (memchr(norm, '.', (size_t) (slash - norm)) || memchr(norm, ':', (size_t) (slash - norm)) ||
                      strneq(norm, "localhost/", 10))) {
                registry = strndup(norm, (size_t) (slash - norm));
                rest = strdup(slash + 1);
        } else {
                registry = strdup("registry-1.docker.io");
                if (slash)
                        rest = strdup(norm);
                else if (asprintf(&rest, "library/%s", norm) < 0)
                        rest = NULL;
        }
        if (!registry || !rest)
                return -ENOMEM;
        sep = strchr(rest, '@');
        if (!sep)
                sep = strrchr(rest, ':');
        if (!sep)
                return -EINVAL;
        repo = strndup(rest, (size_t) (sep - rest));
        reference = strdup(sep + 1);
        if (!repo || !reference)
                return -ENOMEM;
        *ret_registry = TAKE_PTR(registry);
        *ret_repository = TAKE_PTR(repo);
        *ret_reference = TAKE_PTR(reference);
        return 0;
}

/* "localhost", "127.0.0.1", "[::1]", each with an optional ":port", exactly: a name that merely
 * starts like one ("localhost.example.com", "127.evil.com") is not loopback. */
static bool host_is_loopback(const char *hostport) {
        _cleanup_free_ char *host = NULL;
        const char *end;
        struct in_addr a4;

        if (hostport[0] == '[') {
                end = strchr(hostport, ']');
                if (!end || (end[1] && end[1] != ':'))
                        return false;
                return (size_t) (end - hostport) == 4 && strneq(hostport, "[::1", 4);
        }
        end = strchrnul(hostport, ':');
        if (*end == ':' && !end[1])
                return false;
        host = strndup(hostport, (size_t) (end - hostport));
        if (!host)
                return false;
        if (streq(host, "localhost"))
                return true;
        return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

bool image_registry_plain_http(const char *registry, char *const *insecure) {
        if (host_is_loopback(registry))
                return true;
        return strv_contains(insecure, registry);
}

/* "http://HOST[:PORT]/…" with a loopback HOST. */
static bool realm_is_loopback_http(const char *realm) {
        _cleanup_free_ char *hostport = NULL;
        const char *p, *slash;

        if (!strneq(realm, "http://", 7))
                return false;
        p = realm + 7;
        slash = strchrnul(p, '/');
        hostport = strndup(p, (size_t) (slash - p));
        return hostport && host_is_loopback(hostport);
}

typedef struct Http {
        CURL *curl;
        struct curl_slist *auth;
        char *base; /* scheme://registry */
        char *repository;
        /* the current response */
        char *content_type;
        char *docker_digest;
        char *www_authenticate;
        char *body;
        size_t body_size, body_max;
        int out_fd;
        Digest *out_digest;
        uint64_t out_size;
        ImportProgress *progress;
        LayerBudget *budget; /* a blob on disk counts towards MinFreeSpace= and MaxImportSize= */
        int space_fd;
        uint64_t out_unchecked;
        int limit_errno; /* the transfer was aborted for a limit */
        char *error;
} Http;

_printf_(3, 4) static int pull_fail(Http *h, int r, const char *fmt, ...) {
        va_list ap;
        if (!h->error) {
                va_start(ap, fmt);
                if (vasprintf(&h->error, fmt, ap) < 0)
                        h->error = NULL;
                va_end(ap);
        }
        return r < 0 ? r : -EIO;
}

static void http_reset(Http *h) {
        free(h->content_type);
        free(h->docker_digest);
        free(h->www_authenticate);
        free(h->body);
        h->content_type = h->docker_digest = h->www_authenticate = h->body = NULL;
        h->body_size = 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *userdata) {
        Http *h = userdata;
        size_t len = size * n, kl;
        const char *colon = memchr(data, ':', len);
        char **slot = NULL;
        char *v;

        if (len >= 5 && strneq(data, "HTTP/", 5)) { /* a new response (redirects): forget the last */
                free(h->content_type);
                free(h->docker_digest);
                free(h->www_authenticate);
                h->content_type = h->docker_digest = h->www_authenticate = NULL;
                return len;
        }
        if (!colon)
                return len;
        kl = (size_t) (colon - data);
        if (kl == 12 && strncasecmp(data, "content-type", 12) == 0)
                slot = &h->content_type;
        else if (kl == 21 && strncasecmp(data, "docker-content-digest", 21) == 0)
                slot = &h->docker_digest;
        else if (kl == 16 && strncasecmp(data, "www-authenticate", 16) == 0)
                slot = &h->www_authenticate;
        if (!slot)
                return len;
        v = strndup(colon + 1, len - kl - 1);
        if (!v)
                return 0;
        free(*slot);
        *slot = v;
        /* trim */
        while (*v == ' ' || *v == '\t')
                memmove(v, v + 1, strlen(v));
        for (size_t l = strlen(v); l > 0 && strchr(" \t\r\n", v[l - 1]); l--)
                v[l - 1] = 0;
        if (slot == &h->content_type && strchr(v, ';'))
                *strchr(v, ';') = 0;
        return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata) {
        Http *h = userdata;
        size_t len = size * n;
        long code = 0;

        (void) curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
        if (h->out_fd >= 0 && code == 200) {
                if (h->budget) {
                        _cleanup_free_ char *msg = NULL;
                        int r = 0;
                        /* A compressed blob larger than the limit cannot unpack to less. */
                        if (h->out_size + len > h->budget->limits.max_bytes)
                                r = layer_budget_too_big(h->budget, &msg);
                        else if (h->out_unchecked + len >= LAYER_SPACE_CHECK_INTERVAL) {
                                r = layer_budget_check_space(h->budget, h->space_fd, len, &msg);
                                h->out_unchecked = 0;
                        } else
                                h->out_unchecked += len;
                        if (r < 0) {
                                free(h->error);
                                h->error = TAKE_PTR(msg);
                                h->limit_errno = r;
                                return 0; /* curl aborts the transfer */
                        }
                }
                for (size_t done = 0; done < len;) {
                        ssize_t k = write(h->out_fd, data + done, len - done);
                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                return 0;
                        }
                        done += (size_t) k;
                }
                digest_update(h->out_digest, data, len);
                h->out_size += len;
                if (h->progress) {
                        h->progress->done += len;
                        import_progress_report(h->progress, false);
                }
                return len;
        }
        if (h->body_size + len > h->body_max)
                return 0;
        char *b = realloc(h->body, h->body_size + len + 1);
        if (!b)
                return 0;
        h->body = b;
        memcpy(b + h->body_size, data, len);
        h->body_size += len;
        b[h->body_size] = 0;
        return len;
}

static int http_perform(Http *h, const char *url, const char *accept, long *ret_code) {
        struct curl_slist *hdrs = NULL;
        CURLcode c;

        http_reset(h);
        if (accept)
                hdrs = curl_slist_append(hdrs, accept);
        for (struct curl_slist *a = h->auth; a; a = a->next)
                hdrs = curl_slist_append(hdrs, a->data);
        curl_easy_setopt(h->curl, CURLOPT_URL, url);
        curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
        c = curl_easy_perform(h->curl);
        curl_slist_free_all(hdrs);
        if (c != CURLE_OK)
                return pull_fail(h, -EIO, "%s: %s", url, curl_easy_strerror(c));
        (void) curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, ret_code);
        return 0;
}

/* Bearer realm="…",service="…",scope="…" → a token from the realm. */
static int http_authenticate(Http *h) {
        _cleanup_free_ char *realm = NULL, *service = NULL, *url = NULL, *hdr = NULL, *scope = NULL;
        _cleanup_json_ json_object *o = NULL;
        json_object *t;
        const char *p;
        long code = 0;
        int r;

        if (!h->www_authenticate || strncasecmp(h->www_authenticate, "Bearer ", 7) != 0)
                return pull_fail(h, -EACCES, "registry wants authentication we do not support");
        p = h->www_authenticate + 7;
        while (*p) {
                const char *eq = strchr(p, '='), *end;
                if (!eq || eq[1] != '"')
                        break;
                end = strchr(eq + 2, '"');
                if (!end)
                        break;
                if ((size_t) (eq - p) == 5 && strneq(p, "realm", 5))
                        realm = strndup(eq + 2, (size_t) (end - eq - 2));
                else if ((size_t) (eq - p) == 7 && strneq(p, "service", 7))
                        service = strndup(eq + 2, (size_t) (end - eq - 2));
                p = end + 1;
                while (*p == ',' || *p == ' ')
                        p++;
        }
        if (!realm)
                return pull_fail(h, -EACCES, "registry sent a Bearer challenge without a realm");
        if (!strneq(realm, "https://", 8) && !realm_is_loopback_http(realm))
                return pull_fail(h, -EACCES, "refusing token realm %s over plain HTTP", realm);
        if (asprintf(&scope, "repository:%s:pull", h->repository) < 0)
                return -ENOMEM;
        {
                char *es = curl_easy_escape(h->curl, strempty(service), 0), *esc = curl_easy_escape(h->curl, scope, 0);
                r = asprintf(&url, "%s%sservice=%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?", strempty(es),
                             strempty(esc));
                curl_free(es);
                curl_free(esc);
                if (r < 0)
                        return -ENOMEM;
        }
        curl_slist_free_all(h->auth);
        h->auth = NULL;
        r = http_perform(h, url, NULL, &code);
        if (r < 0)
                return r;
        if (code != 200 || !h->body)
                return pull_fail(h, -EACCES, "token request to %s failed with HTTP %ld", realm, code);
        o = json_tokener_parse(h->body);
        if (!o || !(json_object_object_get_ex(o, "token", &t) || json_object_object_get_ex(o, "access_token", &t)))
                return pull_fail(h, -EACCES, "no token in the answer from %s", realm);
        if (asprintf(&hdr, "Authorization: Bearer %s", json_object_get_string(t)) < 0)
                return -ENOMEM;
        h->auth = curl_slist_append(NULL, hdr);
        return h->auth ? 0 : -ENOMEM;
}

/* GET with one retry after authenticating. */
static int http_get(Http *h, const char *path, const char *accept, long *ret_code) {
        _cleanup_free_ char *url = NULL;
        int r;

        if (asprintf(&url, "%s/v2/%s/%s", h->base, h->repository, path) < 0)
                return -ENOMEM;
        r = http_perform(h, url, accept, ret_code);
        if (r < 0 || *ret_code != 401 || h->auth)
                return r;
        r = http_authenticate(h);
        if (r < 0)
                return r;
        if (h->out_fd >= 0) {
                if (ftruncate(h->out_fd, 0) < 0 || lseek(h->out_fd, 0, SEEK_SET) < 0)
                        return negative_errno();
                digest_free(h->out_digest);
                h->out_digest = NULL;
                if (digest_new(&h->out_digest) < 0)
                        return -ENOMEM;
                h->out_size = 0;
        }
        return http_perform(h, url, accept, ret_code);
}

/* A manifest or config: into memory, digest checked against want_hex (if given) or the
 * registry's Docker-Content-Digest. */
static int fetch_small(Http *h, const char *kind, const char *ref, const char *want_hex, char **ret, size_t *ret_size,
                       char **ret_type) {
        _cleanup_free_ char *path = NULL;
        char got[DIGEST_HEX_LEN + 1], hdr[DIGEST_HEX_LEN + 1];
        long code = 0;
        int r;

        if (asprintf(&path, "%s/%s", kind, ref) < 0)
                return -ENOMEM;
        h->out_fd = -EBADF;
        h->body_max = MANIFEST_MAX;
        r = http_get(h, path, streq(kind, "manifests") ? manifest_accept : NULL, &code);
        if (r < 0)
                return r;
        if (code != 200)
                return pull_fail(h, code == 404 ? -ENOENT : -EIO, "%s/%s:%s: HTTP %ld%s%.200s", h->base, h->repository,
                                 ref, code, h->body ? ": " : "", strempty(h->body));
        if (!h->body)
                return pull_fail(h, -EBADMSG, "%s %s: empty answer", kind, ref);
        r = digest_buffer_hex(h->body, h->body_size, got);
        if (r < 0)
                return r;
        if (want_hex && !streq(want_hex, got))
                return pull_fail(h, -EBADMSG, "%s %s: digest mismatch, content is sha256:%s", kind, ref, got);
        if (!want_hex && h->docker_digest && digest_parse(h->docker_digest, hdr) >= 0 && !streq(hdr, got))
                return pull_fail(h, -EBADMSG, "%s %s: digest mismatch with Docker-Content-Digest", kind, ref);
        if (ret_type)
                *ret_type = h->content_type ? strdup(h->content_type) : NULL;
        *ret = TAKE_PTR(h->body);
        *ret_size = h->body_size;
        h->body_size = 0;
        return 0;
}

typedef struct BlobFile {
        int fd;
        uint8_t *buf;
} BlobFile;

static ssize_t blob_file_read(void *userdata, const void **ret_buf) {
        BlobFile *b = userdata;
        ssize_t n;
        do
                n = read(b->fd, b->buf, 1u << 20);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        *ret_buf = b->buf;
        return n;
}

static int pull_layer(Http *h, int scratch_fd, size_t i, size_t n, const char *blob_hex, const char *diff_hex,
                      LayerBudget *budget, char **ret_scratch_name) {
        _cleanup_free_ char *path = NULL, *err = NULL;
        _cleanup_free_ uint8_t *buf = malloc(1u << 20);
        char fname[32], got[DIGEST_HEX_LEN + 1], diff_got[DIGEST_HEX_LEN + 1];
        long code = 0;
        BlobFile bf;
        int r;

        if (!buf)
                return -ENOMEM;
        snprintf(fname, sizeof(fname), "blob-%zu", i);
        h->out_fd = openat(scratch_fd, fname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (h->out_fd < 0)
                return negative_errno();
        h->out_size = 0;
        h->out_unchecked = 0;
        h->budget = budget;
        h->space_fd = scratch_fd;
        r = digest_new(&h->out_digest);
        if (r >= 0 && asprintf(&path, "blobs/sha256:%s", blob_hex) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = http_get(h, path, NULL, &code);
        if (r < 0 && h->limit_errno < 0)
                r = h->limit_errno;
        if (r >= 0 && code != 200)
                r = pull_fail(h, -EIO, "layer %zu/%zu (sha256:%.12s): HTTP %ld", i + 1, n, blob_hex, code);
        if (r >= 0) {
                digest_final_hex(h->out_digest, got);
                if (!streq(got, blob_hex))
                        r = pull_fail(h, -EBADMSG,
                                      "layer %zu/%zu (sha256:%.12s): digest mismatch, content is sha256:%s", i + 1, n,
                                      blob_hex, got);
        }
        h->out_digest = digest_free(h->out_digest);
        h->budget = NULL;
        bf = (BlobFile){ .fd = h->out_fd, .buf = buf };
        h->out_fd = -EBADF;
        if (r >= 0 && lseek(bf.fd, 0, SEEK_SET) < 0)
                r = negative_errno();
        if (r >= 0) {
                /* Verified already; unpack checks the uncompressed digest against the config. */
                r = import_layer(scratch_fd, i, n, blob_file_read, &bf, budget, blob_hex, diff_hex, diff_got,
                                 ret_scratch_name, &err);
                if (r < 0)
                        (void) pull_fail(h, r, "%s", strempty(err));
        }
        safe_close(bf.fd);
        (void) unlinkat(scratch_fd, fname, 0);
        return r;
}

int image_pull(ImageStore *s, const char *ref, const ImagePullOptions *o, ImageProgressFn progress, void *userdata,
               char **ret_id, char **ret_error) {
        _cleanup_free_ char *registry = NULL, *reference = NULL, *norm = NULL, *manifest = NULL, *config = NULL,
                            *type = NULL, *scratch = NULL;
        _cleanup_json_ json_object *mj = NULL;
        _cleanup_strv_free_ char **diff_hex = NULL, **tags = NULL;
        _cleanup_close_ int scratch_fd = -EBADF, scratch_lock = -EBADF;
        ImportProgress prog = { .fn = progress, .userdata = userdata };
        LayerBudget budget = { .limits = o && o->limits ? *o->limits : IMPORT_LIMITS_DEFAULT,
                               .fs_path = image_store_dir(s) };
        Http h = { .out_fd = -EBADF, .space_fd = -EBADF, .progress = &prog };
        ImportedLayer *layers = NULL;
        json_object *v, *cfg, *lj;
        size_t msize, csize, n = 0;
        bool plain;
        int r;

        r = image_ref_parse_remote(ref, &registry, &h.repository, &reference);
        if (r < 0) {
                if (asprintf(ret_error, "invalid image reference '%s'", ref) < 0)
                        *ret_error = NULL;
                return r;
        }
        r = image_ref_normalize(ref, &norm);
        if (r < 0 || strv_extend(&tags, norm) < 0)
                return -ENOMEM;
        plain = image_registry_plain_http(registry, o ? o->insecure : NULL);
        if (asprintf(&h.base, "%s://%s", plain ? "http" : "https", registry) < 0)
                return -ENOMEM;
        h.curl = curl_easy_init();
        if (!h.curl)
                return -ENOMEM;
        curl_easy_setopt(h.curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h.curl, CURLOPT_HEADERDATA, &h);
        curl_easy_setopt(h.curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h.curl, CURLOPT_WRITEDATA, &h);
        curl_easy_setopt(h.curl, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h.curl, CURLOPT_MAXREDIRS, 8L);
        curl_easy_setopt(h.curl, CURLOPT_PROTOCOLS_STR, plain ? "http,https" : "https");
        curl_easy_setopt(h.curl, CURLOPT_REDIR_PROTOCOLS_STR, plain ? "http,https" : "https");
        curl_easy_setopt(h.curl, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(h.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h.curl, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(h.curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h.curl, CURLOPT_USERAGENT, "supd/" PACKAGE_VERSION);

        {
                char want[DIGEST_HEX_LEN + 1];
                bool by_digest = digest_parse(reference, want) >= 0;
                r = fetch_small(&h, "manifests", reference, by_digest ? want : NULL, &manifest, &msize, &type);
        }
        for (unsigned depth = 0; r >= 0; depth++) {
                char hex[DIGEST_HEX_LEN + 1];
                _cleanup_free_ char *d = NULL;
                json_object_put(mj);
                mj = json_tokener_parse(manifest);
                if (!mj) {
                        r = pull_fail(&h, -EBADMSG, "manifest: cannot parse");
                        break;
                }
                if (!json_object_object_get_ex(mj, "manifests", &v))
                        break;
                if (depth >= 4 || image_index_pick(manifest, msize, hex, NULL) < 0) {
                        r = pull_fail(&h, -ENOENT, "no manifest for linux/%s", image_host_arch());
                        break;
                }
                free(manifest);
                manifest = NULL;
                if (asprintf(&d, "sha256:%s", hex) < 0)
                        return -ENOMEM;
                r = fetch_small(&h, "manifests", d, hex, &manifest, &msize, NULL);
        }
        if (r >= 0 &&
            (!json_object_object_get_ex(mj, "config", &cfg) || !json_object_object_get_ex(cfg, "digest", &v) ||
             !json_object_object_get_ex(mj, "layers", &lj) || !json_object_is_type(lj, json_type_array)))
                r = pull_fail(&h, -EBADMSG, "manifest: no config or layers (schema 1 manifests are not supported)");
        if (r >= 0) {
                char hex[DIGEST_HEX_LEN + 1];
                if (digest_parse(json_object_get_string(v), hex) < 0)
                        r = pull_fail(&h, -EBADMSG, "config: unsupported digest");
                else
                        r = fetch_small(&h, "blobs", json_object_get_string(v), hex, &config, &csize, NULL);
        }
        if (r >= 0 && image_config_parse(config, csize, &diff_hex, NULL, NULL) < 0)
                r = pull_fail(&h, -EBADMSG, "config: cannot parse");
        if (r >= 0 && strv_length(diff_hex) != json_object_array_length(lj))
                r = pull_fail(&h, -EBADMSG, "config and manifest disagree on the number of layers");
        if (r >= 0)
                r = image_store_scratch(s, &scratch, &scratch_fd, &scratch_lock);
        if (r >= 0) {
                n = strv_length(diff_hex);
                layers = new0(ImportedLayer, n ?: 1);
                if (!layers)
                        r = -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                json_object *l = json_object_array_get_idx(lj, i), *d, *sz;
                memcpy(layers[i].diff_hex, diff_hex[i], DIGEST_HEX_LEN + 1);
                if (!image_store_has_layer(s, diff_hex[i])) {
                        prog.layers_total++;
                        if (json_object_object_get_ex(l, "size", &sz))
                                prog.total += (uint64_t) json_object_get_int64(sz);
                }
                (void) d;
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                json_object *l = json_object_array_get_idx(lj, i), *d;
                char bhex[DIGEST_HEX_LEN + 1];
                bool dup = false;
                for (size_t j = 0; j < i; j++)
                        dup = dup || streq(diff_hex[j], diff_hex[i]);
                if (dup || image_store_has_layer(s, diff_hex[i]))
                        continue; /* never downloaded again */
                if (!json_object_object_get_ex(l, "digest", &d) || digest_parse(json_object_get_string(d), bhex) < 0) {
                        r = pull_fail(&h, -EBADMSG, "manifest: bad digest for layer %zu", i + 1);
                        break;
                }
                r = pull_layer(&h, scratch_fd, i, n, bhex, diff_hex[i], &budget, &layers[i].scratch_name);
                if (r >= 0) {
                        prog.layers_done++;
                        import_progress_report(&prog, true);
                }
        }
        if (r >= 0) {
                r = image_store_commit(s, scratch_fd, config, csize, layers, n, tags, ret_id);
                if (r < 0)
                        (void) pull_fail(&h, r, "cannot store the image: %s", strerror(-r));
        }
        for (size_t i = 0; layers && i < n; i++)
                free(layers[i].scratch_name);
        free(layers);
        if (scratch)
                image_store_scratch_remove(s, scratch);
        if (r < 0 && ret_error) {
                if (h.error)
                        *ret_error = TAKE_PTR(h.error);
                else if (asprintf(ret_error, "%s", strerror(-r)) < 0)
                        *ret_error = NULL;
        }
        http_reset(&h);
        curl_slist_free_all(h.auth);
        curl_easy_cleanup(h.curl);
        digest_free(h.out_digest);
        free(h.base);
        free(h.repository);
        free(h.error);
        return r;
}

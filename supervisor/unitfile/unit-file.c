/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/dirent-util.h"
#include "basic/fileio.h"
#include "basic/hashmap.h"
#include "basic/json.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/strv.h"
#include "basic/utf8.h"
#include "unit-load-internal.h"
#include "unit-settings.h"

#define UNIT_SUFFIX ".container"
#define UNIT_NAME_MAX 64
#define ENUMERATE_ENTRIES_MAX 65536 /* per directory */

bool unit_name_is_valid(const char *name) {
        const char *at;
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        if (n == 0 || n > UNIT_NAME_MAX || streq(name, ".") || streq(name, ".."))
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr(":_.-@", *p)))
                        return false;
        at = strchr(name, '@');
        if (at && (at == name || strchr(at + 1, '@')))
                return false;
        /* Neither half may be "." or ".." either: they end up in file and directory names. */
        if (at && (streq(at + 1, ".") || streq(at + 1, "..") || strneq(name, ".@", 2) || strneq(name, "..@", 3)))
                return false;
        return true;
}

char *unit_name_normalize(const char *name) {
        size_t l = strlen(name);
        if (l > strlen(UNIT_SUFFIX) && streq(name + l - strlen(UNIT_SUFFIX), UNIT_SUFFIX))
                return strndup(name, l - strlen(UNIT_SUFFIX));
        return strdup(name);
}

/* ---- Diagnostics ---- */

const char *unit_token(const char *s, char buf[static UNIT_TOKEN_MAX + 4]) {
        size_t i = 0;
        for (; s[i] && i < UNIT_TOKEN_MAX; i++)
                buf[i] = ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
        if (s[i]) {
                /* Do not cut a UTF-8 sequence in half: s[i], the first byte left out, must start one. */
                while (i > 0 && ((unsigned char) s[i] & 0xc0) == 0x80)
                        i--;
                memcpy(buf + i, "\xe2\x80\xa6", 4); /* "…" and the NUL */
        } else
                buf[i] = 0;
        return buf;
}

static int diag_push(UnitDiagnostic **a, size_t *n, const char *path, unsigned line, char *msg) {
        UnitDiagnostic *d;
        char *p;

        if (!msg)
                return -ENOMEM;
        p = strdup(path ?: "");
        d = p ? realloc(*a, (*n + 1) * sizeof(UnitDiagnostic)) : NULL;
        if (!d) {
                free(p);
                free(msg);
                return -ENOMEM;
        }
        d[*n] = (UnitDiagnostic){ .path = p, .line = line, .message = msg };
        *a = d;
        (*n)++;
        return 0;
}

int unit_file_diag(UnitFile *u, bool error, const char *path, unsigned line, const char *fmt, ...) {
        UnitDiagnostic **a = error ? &u->errors : &u->warnings;
        size_t *n = error ? &u->n_errors : &u->n_warnings;
        char *msg = NULL;
        va_list ap;
        int k;

        if (*n > UNIT_DIAGNOSTICS_MAX)
                return 0;
        if (*n == UNIT_DIAGNOSTICS_MAX)
                return diag_push(a, n, path, line,
                                 strdup(error ? "too many errors, not reporting more"
                                              : "too many warnings, not reporting more"));
        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        return diag_push(a, n, path, line, msg);
}

char *unit_diagnostic_format(const UnitDiagnostic *d) {
        char *s;
        int k = d->line > 0 ? asprintf(&s, "%s:%u: %s", d->path, d->line, d->message)
                            : asprintf(&s, "%s: %s", d->path, d->message);
        return k < 0 ? NULL : s;
}

char *unit_warning_format(const UnitDiagnostic *d) {
        char *s;
        int k = d->line > 0 ? asprintf(&s, "%s:%u: warning: %s", d->path, d->line, d->message)
                            : asprintf(&s, "%s: warning: %s", d->path, d->message);
        return k < 0 ? NULL : s;
}

void unit_diagnostics_free(UnitDiagnostic *d, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(d[i].path);
                free(d[i].message);
        }
        free(d);
}

UnitFile *unit_file_free(UnitFile *u) {
        if (!u)
                return NULL;
        free(u->name);
        free(u->path);
        strv_free(u->dropin_paths);
        free(u->template_name);
        free(u->instance);
        unit_settings_done(&u->settings);
        unit_diagnostics_free(u->errors, u->n_errors);
        unit_diagnostics_free(u->warnings, u->n_warnings);
        free(u);
        return NULL;
}

/* ---- One file: systemd syntax on top of inih ----
 *
 * Debian's libinih is built with inline comments, indented multi-line values, "key:value" and a
 * 200-byte line limit, none of which systemd's syntax has. So we do the line structure ourselves
 * (continuations, comments, trimming, validation, line numbers) and hand inih only a synthetic
 * stream of short lines: "[<n>]" for the n-th record (a section header) and "Key=<n>" for an
 * assignment whose real value sits in records[n]. Values of any length and content (";", "#",
 * quotes) thus pass through untouched and every diagnostic keeps the real line number. */

typedef struct Record {
        unsigned line;
        bool is_section;
        const char *key; /* the section name for headers */
        const char *value;
} Record;

typedef struct Feed {
        UnitLoadState *st;
        Record *records;
        size_t n_records, pos;
        int r; /* first hard error (-ENOMEM) from the handler */
} Feed;

#define INI_KEY_MAX 40 /* well below inih's MAX_NAME of 50 */

static char *feed_reader(char *str, int num, void *stream) {
        Feed *f = stream;
        const Record *rec;
        int k;

        if (f->pos >= f->n_records)
                return NULL;
        rec = &f->records[f->pos];
        if (rec->is_section)
                k = snprintf(str, (size_t) num, "[%zu]\n", f->pos);
        else
                /* Key names are validated to [A-Za-z0-9_.-]; a long one is replaced by "-" and
                 * read back from the record. */
                k = snprintf(str, (size_t) num, "%s=%zu\n", strlen(rec->key) <= INI_KEY_MAX ? rec->key : "-", f->pos);
        f->pos++;
        if (k < 0 || k >= num)
                return NULL; /* cannot happen with inih's 200 bytes; end the stream rather than truncate */
        return str;
}

static int feed_handler(void *user, const char *section, const char *name, const char *value) {
        Feed *f = user;
        const Record *rec, *sec;
        const char *canonical = NULL;
        unsigned long i, s;
        char *end;

        if (f->r < 0 || !name || !value) /* a build with INI_CALL_HANDLER_ON_NEW_SECTION passes NULLs */
                return 1;
        errno = 0;
        i = strtoul(value, &end, 10);
        if (errno != 0 || *end || i >= f->n_records || f->records[i].is_section)
                return 0; /* inih counts it as an error; reported by the caller */
        rec = &f->records[i];
        if (!streq(name, rec->key) && !streq(name, "-"))
                return 0;
        if (isempty(section)) {
                f->r = unit_file_diag(f->st->unit, true, f->st->path, rec->line,
                                      "assignment '%s=' outside of any section", rec->key);
                return 1;
        }
        s = strtoul(section, &end, 10);
        if (*end || s >= f->n_records || !f->records[s].is_section)
                return 0;
        sec = &f->records[s];
        if (unit_section_classify(sec->key, &canonical) != UNIT_SECTION_KNOWN)
                return 1; /* reported once at the header, or silently ignored (X-*) */
        f->r = unit_settings_assign(f->st, canonical, rec->key, rec->value, rec->line);
        return 1;
}

static bool key_name_is_valid(const char *k) {
        if (!*k)
                return false;
        for (; *k; k++)
                if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
                      strchr("_.-", *k)))
                        return false;
        return true;
}

static char *strip(char *s) {
        char *e;
        s += strspn(s, WHITESPACE);
        e = s + strlen(s);
        while (e > s && strchr(WHITESPACE, e[-1]))
                *--e = 0;
        return s;
}

static bool is_comment(const char *s, const char *end) {
        while (s < end && strchr(WHITESPACE, *s))
                s++;
        return s < end && (*s == '#' || *s == ';');
}

static int add_record(UnitLoadState *st, Record **recs, size_t *n, size_t *alloc, Record rec) {
        if (*n >= *alloc) {
                size_t a = MAX(*alloc * 2, (size_t) 64);
                Record *r = realloc(*recs, a * sizeof(Record));
                if (!r)
                        return -ENOMEM;
                *recs = r;
                *alloc = a;
        }
        (*recs)[(*n)++] = rec;
        return 0;
}

/* Splits buf (modified in place) into records. Returns 0 or -ENOMEM; problems are diagnostics. */
static int preprocess(UnitLoadState *st, char *buf, size_t size, Record **ret, size_t *ret_n) {
        _cleanup_free_ Record *recs = NULL;
        size_t n = 0, alloc = 0;
        char *r = buf, *w = buf, *end = buf + size;
        char t[UNIT_TOKEN_MAX + 4];
        unsigned lineno = 0;
        int k;

        /* A UTF-8 byte order mark is allowed, as systemd does. */
        if (size >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
                r = w = buf + 3;

        while (r < end) {
                char *logical = w, *line, *eq, *key, *value;
                unsigned first = 0;
                bool cont = false;

                /* Join physical lines: a trailing backslash (even followed by whitespace) continues
                 * the line; comment lines inside a continuation are skipped, as systemd does. The
                 * joined text is never longer than its source, so it is compacted in place. */
                while (r < end) {
                        char *eol = memchr(r, '\n', (size_t) (end - r)), *ln = r, *le;
                        size_t bs = 0;

                        if (!eol)
                                eol = end;
                        r = eol < end ? eol + 1 : end;
                        lineno++;
                        if (is_comment(ln, eol)) {
                                if (!cont)
                                        break;
                                continue;
                        }
                        if (!cont)
                                first = lineno;
                        le = eol;
                        while (le > ln && strchr(WHITESPACE, le[-1]))
                                le--;
                        while (le - (ptrdiff_t) bs > ln && le[-1 - (ptrdiff_t) bs] == '\\')
                                bs++;
                        if (bs % 2 == 1) {
                                memmove(w, ln, (size_t) (le - 1 - ln));
                                w += le - 1 - ln;
                                *w++ = ' ';
                                cont = true;
                                continue;
                        }
                        memmove(w, ln, (size_t) (le - ln));
                        w += le - ln;
                        cont = false;
                        break;
                }
                if (first == 0) { /* a lone comment line */
                        continue;
                }
                *w++ = 0;
                line = strip(logical);
                if (!*line)
                        continue;

                if (!utf8_is_valid_n(line, SIZE_MAX)) {
                        k = unit_file_diag(st->unit, true, st->path, first, "line is not valid UTF-8");
                        if (k < 0)
                                return k;
                        continue;
                }

                if (++st->n_assignments > UNIT_ASSIGNMENTS_MAX) {
                        k = unit_file_diag(st->unit, true, st->path, first,
                                           "too many lines in unit (more than %u), not reading further",
                                           UNIT_ASSIGNMENTS_MAX);
                        if (k < 0)
                                return k;
                        break;
                }

                if (line[0] == '[') {
                        size_t l = strlen(line);
                        const char *canonical;
                        UnitSectionClass c;

                        if (l < 3 || line[l - 1] != ']' || strpbrk(line + 1, "[") || memchr(line + 1, ']', l - 2)) {
                                k = unit_file_diag(st->unit, true, st->path, first, "invalid section header '%s'",
                                                   unit_token(line, t));
                                if (k < 0)
                                        return k;
                                /* Keys that follow must not land in the previous section. */
                                line = (char *) "[ invalid ]";
                        } else
                                line[l - 1] = 0, line++;
                        c = unit_section_classify(line, &canonical);
                        if (c == UNIT_SECTION_UNKNOWN && !streq(line, "[ invalid ]"))
                                k = unit_file_diag(st->unit, true, st->path, first, "unknown section [%s]",
                                                   unit_token(line, t));
                        else if (c == UNIT_SECTION_IGNORED_WARN)
                                k = unit_file_diag(st->unit, false, st->path, first, "section [%s] is ignored by supd",
                                                   line);
                        else
                                k = 0;
                        if (k < 0)
                                return k;
                        k = add_record(st, &recs, &n, &alloc, (Record){ first, true, line, NULL });
                        if (k < 0)
                                return k;
                        continue;
                }

                eq = strchr(line, '=');
                if (!eq) {
                        char *colon = strchr(line, ':');
                        if (colon && colon > line && (*colon = 0, key_name_is_valid(strip(line))))
                                k = unit_file_diag(st->unit, true, st->path, first,
                                                   "'%s:' uses ':' as separator; systemd syntax needs 'KEY=VALUE'",
                                                   unit_token(strip(line), t));
                        else
                                k = unit_file_diag(st->unit, true, st->path, first,
                                                   "expected 'Key=Value', a [Section] or a comment, got '%s'",
                                                   unit_token(line, t));
                        if (k < 0)
                                return k;
                        continue;
                }
                *eq = 0;
                key = strip(line);
                value = strip(eq + 1);
                if (!key_name_is_valid(key)) {
                        k = unit_file_diag(st->unit, true, st->path, first, "invalid key name '%s'",
                                           unit_token(key, t));
                        if (k < 0)
                                return k;
                        continue;
                }
                k = add_record(st, &recs, &n, &alloc, (Record){ first, false, key, value });
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(recs);
        *ret_n = n;
        return 0;
}

static int parse_buffer(UnitLoadState *st, char *buf, size_t size) {
        _cleanup_free_ Record *recs = NULL;
        size_t n = 0;
        const char *nul;
        Feed f;
        int r;

        nul = memchr(buf, 0, size);
        if (nul) {
                unsigned line = 1;
                for (const char *p = buf; p < nul; p++)
                        line += *p == '\n';
                return unit_file_diag(st->unit, true, st->path, line, "file contains a NUL byte (binary file?)");
        }

        r = preprocess(st, buf, size, &recs, &n);
        if (r < 0)
                return r;

        f = (Feed){ .st = st, .records = recs, .n_records = n };
        r = ini_parse_stream(feed_reader, &f, feed_handler, &f);
        if (f.r < 0)
                return f.r;
        if (r == -2)
                return -ENOMEM;
        if (r != 0) /* our own stream confused inih: a bug, but never a silent one */
                return unit_file_diag(st->unit, true, st->path, 0, "internal error: tokenizer rejected line %d", r);
        return 0;
}

static void note_mtime(UnitFile *u, const struct stat *st) {
        usec_t t = (usec_t) st->st_mtim.tv_sec * USEC_PER_SEC + (usec_t) st->st_mtim.tv_nsec / 1000;
        if (t > u->mtime_max)
                u->mtime_max = t;
}

/* Resolves path as the kernel would, but with an absolute symlink target taken inside ctx->root, as
 * everything else under --root is. Returns an O_PATH fd. */
static int open_resolved(const char *root, const char *path) {
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int root_fd = -EBADF;
        size_t l = strlen(strempty(root));
        long fd;

        if (l > 0 && strneq(path, root, l) && path[l] == '/') {
                root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (root_fd < 0)
                        return -errno;
                how.resolve |= RESOLVE_IN_ROOT;
                fd = syscall(SYS_openat2, root_fd, path + l, &how, sizeof(how));
        } else
                fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
        if (fd < 0 && errno == ENOSYS) /* before Linux 5.6: the host's view, still checked below */
                fd = open(path, O_PATH | O_CLOEXEC);
        return fd < 0 ? -errno : (int) fd;
}

/* True when the file behind fd lies below one of dirs (compared after resolving both). */
static bool fd_is_below(int fd, char *const *dirs) {
        char proc[64], target[PATH_MAX];
        ssize_t n;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, target, sizeof(target) - 1);
        if (n <= 0 || (size_t) n >= sizeof(target) - 1)
                return false;
        target[n] = 0;
        STRV_FOREACH (d, dirs) {
                _cleanup_free_ char *real = realpath(*d, NULL);
                size_t l;
                if (!real)
                        continue;
                l = strlen(real);
                if (streq(real, "/") || (strneq(target, real, l) && target[l] == '/'))
                        return true;
        }
        return false;
}

/* Opens st->path for reading, refusing what is not a regular file and a symlink whose target is
 * not inside the unit search path (a link to /etc/shadow must not show up in status and logs).
 * Every check is made on the fd that is then read, so a file swapped in between is not read.
 * Returns an O_PATH fd (> 0), 0 with a diagnostic added, or -ENOMEM. */
static int open_unit_file(UnitLoadState *st, const char *what) {
        _cleanup_close_ int fd = -EBADF;
        struct stat sb;

        fd = open(st->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &sb) < 0)
                return unit_file_diag(st->unit, true, st->path, 0, "cannot access file: %s", strerror(errno));
        if (S_ISLNK(sb.st_mode)) {
                safe_close(TAKE_FD(fd));
                fd = open_resolved(st->root, st->path);
                if (fd == -ENOENT || fd == -ELOOP || fd == -EXDEV)
                        return unit_file_diag(st->unit, true, st->path, 0, "%s is a dangling or looping symlink",
                                              what);
                if (fd < 0)
                        return unit_file_diag(st->unit, true, st->path, 0, "cannot access file: %s", strerror(-fd));
                if (!fd_is_below(fd, st->allowed_dirs))
                        return unit_file_diag(st->unit, true, st->path, 0,
                                              "%s is a symlink to a file outside the unit search path", what);
                if (fstat(fd, &sb) < 0)
                        return unit_file_diag(st->unit, true, st->path, 0, "cannot access file: %s", strerror(errno));
        } else if (!fd_is_below(fd, st->allowed_dirs))
                /* A symlinked directory on the way (a drop-in directory linked to /etc). */
                return unit_file_diag(st->unit, true, st->path, 0,
                                      "%s resolves to a file outside the unit search path", what);
        if (!S_ISREG(sb.st_mode))
                return unit_file_diag(st->unit, true, st->path, 0, "%s is not a regular file, refusing to read it",
                                      what);
        if ((uint64_t) sb.st_size > UNIT_FILE_SIZE_MAX)
                return unit_file_diag(st->unit, true, st->path, 0, "file is too large (%llu bytes, limit %u)",
                                      (unsigned long long) sb.st_size, UNIT_FILE_SIZE_MAX);
        note_mtime(st->unit, &sb);
        return TAKE_FD(fd);
}

/* st->path must already point at a string owned by the unit. */
static int parse_file(UnitLoadState *st, const char *what) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        char proc[64];
        size_t size;
        int r;

        r = open_unit_file(st, what);
        if (r <= 0)
                return r;
        fd = r;
        /* Reopening the O_PATH fd through /proc reads exactly the inode that was checked. */
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        r = read_file_at(AT_FDCWD, proc, UNIT_FILE_SIZE_MAX, &buf, &size);
        if (r == -ENOMEM)
                return r;
        if (r == -EBADFD || r == -EISDIR)
                return unit_file_diag(st->unit, true, st->path, 0, "%s is not a regular file, refusing to read it",
                                      what);
        if (r == -EFBIG)
                return unit_file_diag(st->unit, true, st->path, 0, "file is too large (limit %u bytes)",
                                      UNIT_FILE_SIZE_MAX);
        if (r < 0)
                return unit_file_diag(st->unit, true, st->path, 0, "cannot read file: %s", strerror(-r));
        return parse_buffer(st, buf, size);
}

/* ---- Drop-ins ---- */

typedef struct DropIn {
        char *name;
        char *path;
} DropIn;

static int dropin_cmp(const void *a, const void *b) {
        return strcmp(((const DropIn *) a)->name, ((const DropIn *) b)->name);
}

static bool dropin_name_is_valid(const char *n) {
        size_t l = strlen(n);
        if (l <= 5 || n[0] == '.' || !streq(n + l - 5, ".conf") || l > 255)
                return false;
        for (const char *p = n; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return false;
        return utf8_is_valid_n(n, SIZE_MAX);
}

/* Collects *.conf from dirs (highest precedence first; the first of a name wins), sorted by name. */
static int collect_dropins(UnitFile *u, char *const *dirs, DropIn **ret, size_t *ret_n) {
        DropIn *d = NULL;
        size_t n = 0;
        int r = 0;

        STRV_FOREACH (dir, dirs) {
                _cleanup_closedir_ DIR *dh = NULL;
                struct stat sb;

                r = opendir_at(AT_FDCWD, *dir, 0, &dh);
                if (r < 0) {
                        if (r == -ENOENT || r == -ENOTDIR)
                                continue;
                        r = unit_file_diag(u, true, *dir, 0, "cannot open drop-in directory: %s", strerror(-r));
                        if (r < 0)
                                goto fail;
                        continue;
                }
                if (fstat(dirfd(dh), &sb) >= 0)
                        note_mtime(u, &sb); /* a new drop-in changes the directory */
                FOREACH_DIRENT (de, dh) {
                        bool dup = false;
                        char *p;

                        if (de->d_name[0] == '.')
                                continue;
                        if (!dropin_name_is_valid(de->d_name)) {
                                size_t l = strlen(de->d_name);
                                if (l > 5 && streq(de->d_name + l - 5, ".conf")) {
                                        char t[UNIT_TOKEN_MAX + 4];
                                        r = unit_file_diag(u, false, *dir, 0,
                                                           "ignoring drop-in with invalid name '%s'",
                                                           unit_token(de->d_name, t));
                                        if (r < 0)
                                                goto fail;
                                }
                                continue;
                        }
                        for (size_t i = 0; i < n && !dup; i++)
                                dup = streq(d[i].name, de->d_name);
                        if (dup)
                                continue;
                        if (n >= UNIT_DROPINS_MAX) {
                                r = unit_file_diag(u, true, *dir, 0, "too many drop-ins (limit %d)", UNIT_DROPINS_MAX);
                                if (r < 0)
                                        goto fail;
                                break;
                        }
                        p = path_join(*dir, de->d_name);
                        DropIn *nd = p ? realloc(d, (n + 1) * sizeof(DropIn)) : NULL;
                        if (!nd) {
                                free(p);
                                r = -ENOMEM;
                                goto fail;
                        }
                        d = nd;
                        d[n].path = p;
                        d[n].name = strdup(de->d_name);
                        if (!d[n].name) {
                                free(p);
                                r = -ENOMEM;
                                goto fail;
                        }
                        n++;
                }
        }
        if (n > 0)
                qsort(d, n, sizeof(DropIn), dropin_cmp);
        *ret = d;
        *ret_n = n;
        return 0;
fail:
        for (size_t i = 0; i < n; i++) {
                free(d[i].name);
                free(d[i].path);
        }
        free(d);
        return r;
}

/* ---- Loading a unit ---- */

static int unit_file_new(const char *name, UnitFile **ret) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;
        const char *at;

        u = calloc(1, sizeof(UnitFile));
        if (!u)
                return -ENOMEM;
        unit_settings_init(&u->settings);
        u->name = strdup(name);
        if (!u->name)
                return -ENOMEM;
        at = strchr(name, '@');
        if (at) {
                u->template_name = strndup(name, (size_t) (at - name));
                if (!u->template_name)
                        return -ENOMEM;
                if (at[1] == 0)
                        u->is_template = true;
                else if (!(u->instance = strdup(at + 1)))
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(u);
        return 0;
}

static char *dir_of(const char *path) {
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *dir = NULL, *cwd = NULL;
        char *r;

        if (!slash)
                dir = strdup(".");
        else if (slash == path)
                dir = strdup("/");
        else
                dir = strndup(path, (size_t) (slash - path));
        if (!dir)
                return NULL;
        if (dir[0] == '/')
                return TAKE_PTR(dir);
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return NULL;
        if (streq(dir, "."))
                return TAKE_PTR(cwd);
        if (asprintf(&r, "%s/%s", cwd, dir[0] == '.' && dir[1] == '/' ? dir + 2 : dir) < 0)
                return NULL;
        return r;
}

int unit_load_state_unit_exists(const UnitLoadState *st, const char *name) {
        _cleanup_free_ char *file = NULL, *tmpl_file = NULL;
        const char *at = strchr(name, '@');

        if (asprintf(&file, "%s" UNIT_SUFFIX, name) < 0)
                return -ENOMEM;
        if (at && at[1] && asprintf(&tmpl_file, "%.*s@" UNIT_SUFFIX, (int) (at - name), name) < 0)
                return -ENOMEM;
        STRV_FOREACH (dir, st->allowed_dirs)
                for (int k = 0; k < 2; k++) {
                        _cleanup_free_ char *p = NULL;
                        struct stat sb;
                        const char *f = k == 0 ? file : tmpl_file;
                        if (!f)
                                continue;
                        p = path_join(*dir, f);
                        if (!p)
                                return -ENOMEM;
                        /* Present is enough: whether it loads is that unit's own business. */
                        if (lstat(p, &sb) >= 0)
                                return 1;
                }
        return 0;
}

/* Parses u->path, then the drop-ins found in dropin_dirs, then validates. */
static int load_common(const UnitLoadContext *ctx, UnitFile *u, char *const *dropin_dirs, const char *instance) {
        _cleanup_free_ char *unit_dir = NULL;
        DropIn *d = NULL;
        size_t n = 0;
        UnitLoadState st = {
                .unit = u,
                .spec = {
                        .unit_name = u->name,
                        .instance = instance,
                        .hostname = ctx ? ctx->hostname : NULL,
                        .machine_id = ctx ? ctx->machine_id : NULL,
                },
        };
        int r;

        unit_dir = dir_of(u->path);
        if (!unit_dir)
                return -ENOMEM;
        st.unit_dir = unit_dir;
        /* verify FILE has no search path: the file's own directory stands in for it. */
        st.allowed_dirs = ctx && ctx->search_path ? ctx->search_path : (char *const[]){ unit_dir, NULL };
        st.root = ctx ? ctx->root : NULL;
        st.path = u->path;
        r = parse_file(&st, "unit file");
        if (r < 0)
                return r;

        r = collect_dropins(u, dropin_dirs, &d, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (r >= 0)
                        r = strv_extend(&u->dropin_paths, d[i].path);
                if (r >= 0) {
                        st.path = u->dropin_paths[strv_length(u->dropin_paths) - 1];
                        r = parse_file(&st, "drop-in");
                }
                free(d[i].name);
                free(d[i].path);
        }
        free(d);
        if (r < 0)
                return r;
        return unit_settings_validate(&st);
}

/* supctl run's settings: each (section, key, value) applied as a unit file's line would be, then
 * the same cross-key validation. Problems become u's errors, with "(transient):N" for the Nth
 * setting. */
int unit_file_assign_settings(const UnitLoadContext *ctx, UnitFile *u, char *const *triples) {
        UnitLoadState st = {
                .unit = u,
                .spec = {
                        .unit_name = u->name,
                        .hostname = ctx ? ctx->hostname : NULL,
                        .machine_id = ctx ? ctx->machine_id : NULL,
                },
                .unit_dir = "/",
                .allowed_dirs = ctx && ctx->search_path ? ctx->search_path : (char *const[]){ NULL },
                .root = ctx ? ctx->root : NULL,
                .path = u->path,
        };
        unsigned line = 0;
        int r;

        for (char *const *t = triples; t && t[0] && t[1] && t[2]; t += 3) {
                const char *canonical = NULL;
                char b[UNIT_TOKEN_MAX + 4];

                line++;
                if (unit_section_classify(t[0], &canonical) != UNIT_SECTION_KNOWN)
                        r = unit_file_diag(u, true, u->path, line, "unknown section [%s]", unit_token(t[0], b));
                else
                        r = unit_settings_assign(&st, canonical, t[1], t[2], line);
                if (r < 0)
                        return r;
        }
        return unit_settings_validate(&st);
}

struct UnitDirCache {
        size_t n;
        Hashmap **listed; /* per search directory: entry name -> the name (an empty map: no dir) */
        char **names;     /* owns the keys */
};

void unit_load_context_uncache(UnitLoadContext *ctx) {
        struct UnitDirCache *c = ctx->cache;

        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++)
                hashmap_free(c->listed[i]);
        free(c->listed);
        strv_free(c->names);
        free(c);
        ctx->cache = NULL;
}

int unit_load_context_cache(UnitLoadContext *ctx) {
        struct UnitDirCache *c;
        size_t n = strv_length(ctx->search_path), n_names = 0;
        int r = 0;

        unit_load_context_uncache(ctx);
        c = new0(struct UnitDirCache, 1);
        if (!c)
                return -ENOMEM;
        ctx->cache = c;
        c->listed = new0(Hashmap *, n);
        if (!c->listed)
                goto oom;
        c->n = n;
        for (size_t i = 0; i < n; i++) {
                _cleanup_closedir_ DIR *dh = NULL;

                c->listed[i] = hashmap_new();
                if (!c->listed[i])
                        goto oom;
                if (opendir_at(AT_FDCWD, ctx->search_path[i], 0, &dh) < 0)
                        continue; /* missing: nothing listed */
                FOREACH_DIRENT (de, dh) {
                        char *name = strdup(de->d_name), **l;
                        /* Grown by hand, not strv_extend(): that measures the list every time. */
                        l = name ? realloc(c->names, (n_names + 2) * sizeof(char *)) : NULL;
                        if (!l) {
                                free(name);
                                goto oom;
                        }
                        c->names = l;
                        l[n_names++] = name;
                        l[n_names] = NULL;
                        r = hashmap_put(c->listed[i], name, name);
                        if (r == -ENOMEM)
                                goto oom;
                }
        }
        return 0;
oom:
        unit_load_context_uncache(ctx);
        return -ENOMEM;
}

/* Whether search directory i may hold name: yes without a snapshot. */
static bool dir_may_hold(const UnitLoadContext *ctx, size_t i, const char *name) {
        return !ctx->cache || i >= ctx->cache->n || hashmap_contains(ctx->cache->listed[i], name);
}

/* Finds file_name in the search path: the first directory that has it wins. A name that exists
 * but cannot be used (FIFO, device, no permission) still wins, so the error is reported instead
 * of silently falling back to a lower-precedence file. */
static int find_on_path(const UnitLoadContext *ctx, const char *file_name, char **ret) {
        size_t i = 0;

        STRV_FOREACH (dir, ctx->search_path) {
                _cleanup_free_ char *p = NULL;
                struct stat sb;
                if (!dir_may_hold(ctx, i++, file_name))
                        continue;
                p = path_join(*dir, file_name);
                if (!p)
                        return -ENOMEM;
                if (lstat(p, &sb) < 0 && (errno == ENOENT || errno == ENOTDIR))
                        continue;
                *ret = TAKE_PTR(p);
                return 0;
        }
        return -ENOENT;
}

/* The same file name lower on the search path is ignored: say so, naming both files, so that an
 * administrator editing /run's copy learns why nothing changes. */
static int warn_shadowed(const UnitLoadContext *ctx, UnitFile *u) {
        const char *base = strrchr(u->path, '/');
        bool below = false;

        base = base ? base + 1 : u->path;
        size_t i = 0;
        STRV_FOREACH (dir, ctx->search_path) {
                _cleanup_free_ char *p = NULL;
                struct stat sb;
                int r;

                if (!dir_may_hold(ctx, i++, base))
                        continue;
                p = path_join(*dir, base);
                if (!p)
                        return -ENOMEM;
                if (streq(p, u->path)) {
                        below = true;
                        continue;
                }
                if (!below || lstat(p, &sb) < 0)
                        continue;
                r = unit_file_diag(u, false, p, 0, "unit file is shadowed by %s, which takes precedence, ignoring it",
                                   u->path);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool replica_is_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > UNIT_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      strchr(":_.-", *s)))
                        return false;
        return true;
}

int unit_file_load(const UnitLoadContext *ctx, const char *name, const char *replica, UnitFile **ret) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;
        _cleanup_strv_free_ char **dirs = NULL;
        _cleanup_free_ char *plain = NULL, *file = NULL, *tmpl_file = NULL;
        int r;

        plain = unit_name_normalize(name);
        if (!plain)
                return -ENOMEM;
        if (!unit_name_is_valid(plain) || (replica && !replica_is_valid(replica)))
                return -EINVAL;

        r = unit_file_new(plain, &u);
        if (r < 0)
                return r;
        if (asprintf(&file, "%s" UNIT_SUFFIX, plain) < 0)
                return -ENOMEM;
        if (u->instance && asprintf(&tmpl_file, "%s@" UNIT_SUFFIX, u->template_name) < 0)
                return -ENOMEM;

        r = find_on_path(ctx, file, &u->path);
        if (r == -ENOENT && tmpl_file)
                r = find_on_path(ctx, tmpl_file, &u->path);
        if (r < 0)
                return r;
        r = warn_shadowed(ctx, u);
        if (r < 0)
                return r;

        /* systemd's order: per search directory, the instance's drop-ins before the template's;
         * for a file name present in several, the first directory wins. */
        size_t k = 0;
        STRV_FOREACH (dir, ctx->search_path) {
                _cleanup_free_ char *dfile = NULL, *dtmpl = NULL;
                char *p;

                if (asprintf(&dfile, "%s.d", file) < 0 || (tmpl_file && asprintf(&dtmpl, "%s.d", tmpl_file) < 0))
                        return -ENOMEM;
                if (dir_may_hold(ctx, k, dfile) &&
                    (asprintf(&p, "%s/%s", *dir, dfile) < 0 || strv_consume(&dirs, p) < 0))
                        return -ENOMEM;
                if (dtmpl && dir_may_hold(ctx, k, dtmpl) &&
                    (asprintf(&p, "%s/%s", *dir, dtmpl) < 0 || strv_consume(&dirs, p) < 0))
                        return -ENOMEM;
                k++;
        }

        r = load_common(ctx, u, dirs, replica ?: u->instance);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(u);
        return 0;
}

int unit_file_load_path(const UnitLoadContext *ctx, const char *path, UnitFile **ret) {
        _cleanup_unit_file_free_ UnitFile *u = NULL;
        _cleanup_strv_free_ char **dirs = NULL;
        _cleanup_free_ char *name = NULL;
        const char *base = strrchr(path, '/');
        bool bad_suffix;
        struct stat sb;
        size_t l;
        char *p;
        int r;

        if (stat(path, &sb) < 0 && (errno == ENOENT || errno == ENOTDIR))
                return -ENOENT;
        base = base ? base + 1 : path;
        l = strlen(base);
        bad_suffix = !(l > strlen(UNIT_SUFFIX) && streq(base + l - strlen(UNIT_SUFFIX), UNIT_SUFFIX));
        name = bad_suffix ? strdup(base) : strndup(base, l - strlen(UNIT_SUFFIX));
        if (!name)
                return -ENOMEM;
        r = unit_file_new(name, &u);
        if (r < 0)
                return r;
        u->path = strdup(path);
        if (!u->path)
                return -ENOMEM;
        if (bad_suffix)
                r = unit_file_diag(u, true, path, 0, "unit file name must end in " UNIT_SUFFIX);
        else if (!unit_name_is_valid(name))
                r = unit_file_diag(u, true, path, 0,
                                   "invalid unit name: 1..64 characters of [A-Za-z0-9:_.-] with at most one '@'");
        if (r < 0)
                return r;

        if (asprintf(&p, "%s.d", path) < 0 || strv_consume(&dirs, p) < 0)
                return -ENOMEM;
        if (u->instance) {
                _cleanup_free_ char *dir = dir_of(path);
                if (!dir || asprintf(&p, "%s/%s@" UNIT_SUFFIX ".d", dir, u->template_name) < 0 ||
                    strv_consume(&dirs, p) < 0)
                        return -ENOMEM;
        }
        r = load_common(ctx, u, dirs, u->instance);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(u);
        return 0;
}

/* ---- Enumeration ---- */

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int unit_file_enumerate(const UnitLoadContext *ctx, char ***ret_names, UnitDiagnostic **ret_bad, size_t *ret_n_bad) {
        _cleanup_strv_free_ char **names = NULL;
        UnitDiagnostic *bad = NULL;
        size_t n_bad = 0, n = 0, w;
        int r = 0;

        STRV_FOREACH (dir, ctx->search_path) {
                _cleanup_closedir_ DIR *dh = NULL;
                size_t seen = 0;

                if (opendir_at(AT_FDCWD, *dir, 0, &dh) < 0)
                        continue; /* a missing search directory is normal */
                FOREACH_DIRENT (de, dh) {
                        size_t l = strlen(de->d_name);
                        _cleanup_free_ char *name = NULL;

                        if (l <= strlen(UNIT_SUFFIX) || !streq(de->d_name + l - strlen(UNIT_SUFFIX), UNIT_SUFFIX))
                                continue;
                        if (++seen > ENUMERATE_ENTRIES_MAX)
                                break;
                        name = strndup(de->d_name, l - strlen(UNIT_SUFFIX));
                        if (!name) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        if (!unit_name_is_valid(name)) {
                                char t[UNIT_TOKEN_MAX + 4], *p, *m;
                                unit_token(de->d_name, t);
                                p = path_join(*dir, t);
                                if (!p || asprintf(&m, "invalid unit file name, ignoring it: names are 1..64 "
                                                       "characters of [A-Za-z0-9:_.-] with at most one '@'") < 0) {
                                        free(p);
                                        r = -ENOMEM;
                                        goto fail;
                                }
                                r = diag_push(&bad, &n_bad, p, 0, m);
                                free(p);
                                if (r < 0)
                                        goto fail;
                                continue;
                        }
                        r = strv_consume(&names, TAKE_PTR(name));
                        if (r < 0)
                                goto fail;
                        n++;
                }
        }
        if (n > 0)
                qsort(names, n, sizeof(char *), name_cmp);
        for (size_t i = w = 0; i < n; i++) {
                if (w > 0 && streq(names[w - 1], names[i])) {
                        free(names[i]);
                        continue;
                }
                names[w++] = names[i];
        }
        if (names)
                names[w] = NULL;
        else if (!(names = calloc(1, sizeof(char *)))) {
                r = -ENOMEM;
                goto fail;
        }
        *ret_names = TAKE_PTR(names);
        if (ret_bad) {
                *ret_bad = bad;
                *ret_n_bad = n_bad;
        } else
                unit_diagnostics_free(bad, n_bad);
        return 0;
fail:
        unit_diagnostics_free(bad, n_bad);
        return r;
}

/* ---- verify --json ---- */

static void json_diagnostics(JsonWriter *w, const UnitDiagnostic *d, size_t n) {
        json_begin_array(w);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *s = unit_diagnostic_format(&d[i]);
                json_string(w, s ?: d[i].message);
        }
        json_end_array(w);
}

void unit_file_to_json(const UnitFile *u, JsonWriter *w) {
        json_begin_object(w);
        json_key(w, "unit");
        json_string(w, u->name);
        json_key(w, "path");
        json_string(w, u->path);
        json_key(w, "ok");
        json_bool(w, u->n_errors == 0);
        json_key(w, "errors");
        json_diagnostics(w, u->errors, u->n_errors);
        json_key(w, "warnings");
        json_diagnostics(w, u->warnings, u->n_warnings);
        json_key(w, "sections");
        unit_settings_to_json(&u->settings, w);
        json_end_object(w);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/time-util.h"
#include "state.h"

void state_record_done(StateRecord *r) {
        free(r->unit);
        free(r->cgroup);
        free(r->image);
        free(r->rootfs);
        *r = (StateRecord){};
}

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

int run_id_new(char ret[static RUN_ID_LEN + 1]) {
        static uint64_t counter;
        uint8_t b[RUN_ID_LEN / 2];

        /* Unique, not secret: early at boot the kernel's pool may not be ready (GRND_NONBLOCK then
         * fails with EAGAIN, as seen in a freshly booted VM), and a start must not fail for it.
         * GRND_INSECURE (Linux 5.6) never blocks; without it, time, pid and a counter. */
        if (getrandom(b, sizeof(b), GRND_INSECURE) != (ssize_t) sizeof(b) &&
            getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t) sizeof(b)) {
                uint64_t x = now_usec(CLOCK_REALTIME) ^ ((uint64_t) getpid() << 40) ^
                             (++counter * UINT64_C(0x9e3779b97f4a7c15));
                x ^= x >> 31;
                x *= UINT64_C(0xbf58476d1ce4e5b9);
                x ^= x >> 29;
                memcpy(b, &x, sizeof(b));
        }
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(ret + 2 * i, 3, "%02x", b[i]);
        return 0;
}

int run_id_valid(const char *s) {
        if (!s || strlen(s) != RUN_ID_LEN)
                return -EINVAL;
        for (const char *p = s; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return -EINVAL;
        return 0;
}

/* Values are single lines; a newline in one (a unit name cannot hold one, a path might) would
 * let it forge keys, so such a value is refused rather than escaped. */
static int append(char **buf, size_t *len, const char *key, const char *value) {
        char *n;
        int k;

        if (!value)
                return 0;
        if (strpbrk(value, "\n\r"))
                return -EINVAL;
        k = asprintf(&n, "%s%s=%s\n", *buf ?: "", key, value);
        if (k < 0)
                return -ENOMEM;
        free(*buf);
        *buf = n;
        *len = (size_t) k;
        return 0;
}

int state_record_write(int dir_fd, const StateRecord *r) {
        _cleanup_free_ char *buf = NULL;
        char pid[32], start[32], hash[32];
        size_t len = 0;
        int k;

        if (run_id_valid(r->run_id) < 0 || !r->unit || r->pid <= 0)
                return -EINVAL;
        snprintf(pid, sizeof(pid), "%d", (int) r->pid);
        snprintf(start, sizeof(start), "%" PRIu64, r->start_time);
        snprintf(hash, sizeof(hash), "%016" PRIx64, r->config_hash);
        if ((k = append(&buf, &len, "RUN_ID", r->run_id)) < 0 || (k = append(&buf, &len, "UNIT", r->unit)) < 0 ||
            (k = append(&buf, &len, "PID", pid)) < 0 || (k = append(&buf, &len, "START_TIME", start)) < 0 ||
            (k = append(&buf, &len, "CGROUP", r->cgroup)) < 0 || (k = append(&buf, &len, "CONFIG_HASH", hash)) < 0 ||
            (k = append(&buf, &len, "IMAGE", r->image)) < 0 || (k = append(&buf, &len, "ROOTFS", r->rootfs)) < 0)
                return k;
        /* Atomic, not durable: the record lives in /run and goes with the host's containers. */
        return write_file_replace(dir_fd, STATE_RECORD_FILE, buf, len, 0600);
}

static int parse_u64(const char *s, int base, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, base);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int state_record_read(int dir_fd, StateRecord *ret) {
        _cleanup_free_ char *s = NULL;
        StateRecord rec = {};
        bool have_pid = false, have_start = false;
        char *line, *save = NULL;
        int r;

        r = read_file_at(dir_fd, STATE_RECORD_FILE, 64 * 1024, &s, NULL);
        if (r < 0)
                return r;
        for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '='), **target = NULL;
                uint64_t v;

                if (!eq)
                        goto bad;
                *eq = 0;
                const char *key = line, *value = eq + 1;
                if (streq(key, "RUN_ID")) {
                        if (run_id_valid(value) < 0)
                                goto bad;
                        memcpy(rec.run_id, value, RUN_ID_LEN + 1);
                } else if (streq(key, "UNIT"))
                        target = &rec.unit;
                else if (streq(key, "CGROUP"))
                        target = &rec.cgroup;
                else if (streq(key, "IMAGE"))
                        target = &rec.image;
                else if (streq(key, "ROOTFS"))
                        target = &rec.rootfs;
                else if (streq(key, "PID")) {
                        if (parse_u64(value, 10, &v) < 0 || v == 0 || v > INT32_MAX)
                                goto bad;
                        rec.pid = (pid_t) v;
                        have_pid = true;
                } else if (streq(key, "START_TIME")) {
                        if (parse_u64(value, 10, &rec.start_time) < 0)
                                goto bad;
                        have_start = true;
                } else if (streq(key, "CONFIG_HASH")) {
                        if (parse_u64(value, 16, &rec.config_hash) < 0)
                                goto bad;
                } /* else: a key of a newer supd */
                if (target) {
                        free(*target);
                        *target = strdup(value);
                        if (!*target) {
                                state_record_done(&rec);
                                return -ENOMEM;
                        }
                }
        }
        if (!rec.run_id[0] || !rec.unit || !have_pid || !have_start)
                goto bad;
        *ret = rec;
        return 0;
bad:
        state_record_done(&rec);
        return -EBADMSG;
}

int proc_start_time(pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *stat = NULL;
        char path[64];
        const char *p;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        r = read_file_at(AT_FDCWD, path, 4096, &stat, NULL);
        if (r < 0)
                return r;
        p = strrchr(stat, ')'); /* comm may hold spaces and parentheses */
        if (!p)
                return -EBADMSG;
        /* After ") ": field 3 (state); field 22 is 19 spaces further. */
        p++;
        for (int field = 3; field <= 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EBADMSG;
                p++;
        }
        {
                uint64_t v;
                char *end;
                errno = 0;
                v = strtoull(p, &end, 10);
                if (errno || (*end != ' ' && *end != '\n' && *end != 0))
                        return -EBADMSG;
                *ret = v;
        }
        return 0;
}

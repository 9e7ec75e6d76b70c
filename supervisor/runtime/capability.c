/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <linux/capability.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "capability.h"

static const char *const cap_names[] = {
        [CAP_CHOWN] = "CHOWN",
        [CAP_DAC_OVERRIDE] = "DAC_OVERRIDE",
        [CAP_DAC_READ_SEARCH] = "DAC_READ_SEARCH",
        [CAP_FOWNER] = "FOWNER",
        [CAP_FSETID] = "FSETID",
        [CAP_KILL] = "KILL",
        [CAP_SETGID] = "SETGID",
        [CAP_SETUID] = "SETUID",
        [CAP_SETPCAP] = "SETPCAP",
        [CAP_LINUX_IMMUTABLE] = "LINUX_IMMUTABLE",
        [CAP_NET_BIND_SERVICE] = "NET_BIND_SERVICE",
        [CAP_NET_BROADCAST] = "NET_BROADCAST",
        [CAP_NET_ADMIN] = "NET_ADMIN",
        [CAP_NET_RAW] = "NET_RAW",
        [CAP_IPC_LOCK] = "IPC_LOCK",
        [CAP_IPC_OWNER] = "IPC_OWNER",
        [CAP_SYS_MODULE] = "SYS_MODULE",
        [CAP_SYS_RAWIO] = "SYS_RAWIO",
        [CAP_SYS_CHROOT] = "SYS_CHROOT",
        [CAP_SYS_PTRACE] = "SYS_PTRACE",
        [CAP_SYS_PACCT] = "SYS_PACCT",
        [CAP_SYS_ADMIN] = "SYS_ADMIN",
        [CAP_SYS_BOOT] = "SYS_BOOT",
        [CAP_SYS_NICE] = "SYS_NICE",
        [CAP_SYS_RESOURCE] = "SYS_RESOURCE",
        [CAP_SYS_TIME] = "SYS_TIME",
        [CAP_SYS_TTY_CONFIG] = "SYS_TTY_CONFIG",
        [CAP_MKNOD] = "MKNOD",
        [CAP_LEASE] = "LEASE",
        [CAP_AUDIT_WRITE] = "AUDIT_WRITE",
        [CAP_AUDIT_CONTROL] = "AUDIT_CONTROL",
        [CAP_SETFCAP] = "SETFCAP",
        [CAP_MAC_OVERRIDE] = "MAC_OVERRIDE",
        [CAP_MAC_ADMIN] = "MAC_ADMIN",
        [CAP_SYSLOG] = "SYSLOG",
        [CAP_WAKE_ALARM] = "WAKE_ALARM",
        [CAP_BLOCK_SUSPEND] = "BLOCK_SUSPEND",
        [CAP_AUDIT_READ] = "AUDIT_READ",
        [38] = "PERFMON",
        [39] = "BPF",
        [40] = "CHECKPOINT_RESTORE",
};

#define CAP_BIT(c) (UINT64_C(1) << (c))

uint64_t capability_default_set(void) {
        return CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) | CAP_BIT(CAP_FSETID) | CAP_BIT(CAP_FOWNER) |
               CAP_BIT(CAP_MKNOD) | CAP_BIT(CAP_NET_RAW) | CAP_BIT(CAP_SETGID) | CAP_BIT(CAP_SETUID) |
               CAP_BIT(CAP_SETFCAP) | CAP_BIT(CAP_SETPCAP) | CAP_BIT(CAP_NET_BIND_SERVICE) | CAP_BIT(CAP_SYS_CHROOT) |
               CAP_BIT(CAP_KILL) | CAP_BIT(CAP_AUDIT_WRITE);
}

int capability_from_name(const char *name) {
        if (strncasecmp(name, "CAP_", 4) == 0)
                name += 4;
        for (size_t i = 0; i < ELEMENTSOF(cap_names); i++)
                if (cap_names[i] && strcasecmp(cap_names[i], name) == 0)
                        return (int) i;
        return -EINVAL;
}

const char *capability_to_name(int cap) {
        return cap >= 0 && (size_t) cap < ELEMENTSOF(cap_names) ? cap_names[cap] : NULL;
}

int capability_last_cap(void) {
        _cleanup_free_ char *s = NULL;
        int v;

        if (read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 64, &s, NULL) >= 0 && sscanf(s, "%d", &v) == 1 &&
            v >= 0 && v < 64)
                return v;
        return CAP_LAST_CAP;
}

/* Every capability the kernel knows and our bounding set still holds: "all" cannot mean more than
 * supd itself may pass on (capset() would refuse the whole set). */
static uint64_t all_caps(void) {
        int last = capability_last_cap();
        uint64_t caps = 0;

        for (int c = 0; c <= last; c++)
                if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) > 0)
                        caps |= CAP_BIT(c);
        return caps;
}

int capability_set_compute(char *const *add, char *const *drop, uint64_t *ret) {
        uint64_t caps = capability_default_set();

        STRV_FOREACH (d, drop) {
                int c;
                if (strcasecmp(*d, "all") == 0) {
                        caps = 0;
                        continue;
                }
                c = capability_from_name(*d);
                if (c < 0)
                        return -EINVAL;
                caps &= ~CAP_BIT(c);
        }
        STRV_FOREACH (a, add) {
                int c;
                if (strcasecmp(*a, "all") == 0) {
                        caps = all_caps();
                        continue;
                }
                c = capability_from_name(*a);
                if (c < 0)
                        return -EINVAL;
                caps |= CAP_BIT(c);
        }
        *ret = caps & all_caps();
        return 0;
}

int capability_drop_bounding(uint64_t caps) {
        int last = capability_last_cap();

        for (int c = 0; c <= last; c++)
                if (!(caps & CAP_BIT(c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return negative_errno();
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return negative_errno();
        return 0;
}

int capability_apply(uint64_t caps, uid_t uid) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {};

        if (uid == 0) {
                d[0].effective = d[0].permitted = (uint32_t) caps;
                d[1].effective = d[1].permitted = (uint32_t) (caps >> 32);
        }
        return RET_NERRNO(syscall(SYS_capset, &h, d));
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "basic/macro.h"
#include "seccomp-policy.h"

typedef struct SyscallRule {
        const char *name;
        int unless_cap; /* -1: always denied */
} SyscallRule;

static const SyscallRule denied[] = {
        /* namespaces and mounts: the container's view of the world is fixed */
        { "mount", CAP_SYS_ADMIN },
        { "umount", CAP_SYS_ADMIN },
        { "umount2", CAP_SYS_ADMIN },
        { "pivot_root", CAP_SYS_ADMIN },
        { "unshare", CAP_SYS_ADMIN },
        { "setns", CAP_SYS_ADMIN },
        { "fsopen", CAP_SYS_ADMIN },
        { "fsconfig", CAP_SYS_ADMIN },
        { "fsmount", CAP_SYS_ADMIN },
        { "fspick", CAP_SYS_ADMIN },
        { "move_mount", CAP_SYS_ADMIN },
        { "open_tree", CAP_SYS_ADMIN },
        { "mount_setattr", CAP_SYS_ADMIN },
        { "name_to_handle_at", CAP_SYS_ADMIN },
        { "open_by_handle_at", CAP_DAC_READ_SEARCH },
        { "quotactl", CAP_SYS_ADMIN },
        { "lookup_dcookie", CAP_SYS_ADMIN },
        { "bpf", CAP_SYS_ADMIN },
        { "perf_event_open", CAP_SYS_ADMIN },
        { "fanotify_init", CAP_SYS_ADMIN },
        { "swapon", CAP_SYS_ADMIN },
        { "swapoff", CAP_SYS_ADMIN },
        { "syslog", CAP_SYSLOG },
        { "sethostname", CAP_SYS_ADMIN },
        { "setdomainname", CAP_SYS_ADMIN },
        /* keyrings are not namespaced */
        { "keyctl", -1 },
        { "add_key", -1 },
        { "request_key", -1 },
        /* the kernel itself */
        { "init_module", CAP_SYS_MODULE },
        { "finit_module", CAP_SYS_MODULE },
        { "delete_module", CAP_SYS_MODULE },
        { "create_module", CAP_SYS_MODULE },
        { "get_kernel_syms", CAP_SYS_MODULE },
        { "query_module", CAP_SYS_MODULE },
        { "kexec_load", CAP_SYS_BOOT },
        { "kexec_file_load", CAP_SYS_BOOT },
        { "reboot", CAP_SYS_BOOT },
        { "acct", CAP_SYS_PACCT },
        { "iopl", CAP_SYS_RAWIO },
        { "ioperm", CAP_SYS_RAWIO },
        { "uselib", -1 },
        { "ustat", -1 },
        { "sysfs", -1 },
        { "_sysctl", -1 },
        { "nfsservctl", -1 },
        { "vm86", -1 },
        { "vm86old", -1 },
        { "userfaultfd", -1 },
        { "io_uring_setup", -1 },
        { "io_uring_enter", -1 },
        { "io_uring_register", -1 },
        /* other processes and the clock */
        { "ptrace", CAP_SYS_PTRACE },
        { "process_vm_readv", CAP_SYS_PTRACE },
        { "process_vm_writev", CAP_SYS_PTRACE },
        { "kcmp", CAP_SYS_PTRACE },
        { "settimeofday", CAP_SYS_TIME },
        { "stime", CAP_SYS_TIME },
        { "clock_settime", CAP_SYS_TIME },
        { "clock_adjtime", CAP_SYS_TIME },
        { "adjtimex", CAP_SYS_TIME },
        { "mbind", CAP_SYS_NICE },
        { "set_mempolicy", CAP_SYS_NICE },
        { "move_pages", CAP_SYS_NICE },
};

int seccomp_policy_new(uint64_t caps, scmp_filter_ctx *ret) {
        scmp_filter_ctx ctx;
        bool sys_admin = caps & (UINT64_C(1) << CAP_SYS_ADMIN);
        int r;

        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        /* Also filter x32 and i386 system calls on x86_64: an unfiltered secondary ABI is a hole. */
        (void) seccomp_arch_add(ctx, SCMP_ARCH_X86);
        (void) seccomp_arch_add(ctx, SCMP_ARCH_X32);

        for (size_t i = 0; i < ELEMENTSOF(denied); i++) {
                int nr;
                if (denied[i].unless_cap >= 0 && (caps & (UINT64_C(1) << denied[i].unless_cap)))
                        continue;
                nr = seccomp_syscall_resolve_name(denied[i].name);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
                if (r < 0 && r != -EDOM && r != -EFAULT) {
                        seccomp_release(ctx);
                        return r;
                }
        }

        if (!sys_admin) {
                /* clone() with a namespace flag is unshare() by another name: one rule per flag,
                 * (flags & flag) == flag. clone3() passes its flags in memory a filter cannot
                 * read, so it reports ENOSYS and libc falls back to clone(), which we can check. */
                static const uint64_t ns_flags[] = { CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
                                                     CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME };
                for (size_t i = 0; i < ELEMENTSOF(ns_flags); i++) {
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                             SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
                        if (r < 0) {
                                seccomp_release(ctx);
                                return r;
                        }
                }
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
                if (r < 0) {
                        seccomp_release(ctx);
                        return r;
                }
        }
        *ret = ctx;
        return 0;
}

typedef struct CachedFilter {
        uint64_t caps;
        struct sock_fprog prog;
} CachedFilter;

static CachedFilter cache[8];
static size_t n_cache;

int seccomp_policy_get(uint64_t caps, const struct sock_fprog **ret) {
        _cleanup_close_ int fd = -EBADF;
        scmp_filter_ctx ctx = NULL;
        char *buf = NULL;
        struct stat st;
        size_t size;
        int r;

        for (size_t i = 0; i < n_cache; i++)
                if (cache[i].caps == caps) {
                        *ret = &cache[i].prog;
                        return 0;
                }

        r = seccomp_policy_new(caps, &ctx);
        if (r < 0)
                return r;
        fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
        if (fd < 0) {
                seccomp_release(ctx);
                return negative_errno();
        }
        r = seccomp_export_bpf(ctx, fd);
        seccomp_release(ctx);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        size = (size_t) st.st_size;
        buf = malloc(size ?: 1);
        if (!buf)
                return -ENOMEM;
        if (pread(fd, buf, size, 0) != (ssize_t) size) {
                free(buf);
                return -EIO;
        }
        if (size == 0 || size % sizeof(struct sock_filter) != 0) {
                free(buf);
                return -EBADMSG;
        }
        if (n_cache == ELEMENTSOF(cache)) {
                /* A handful of distinct capability sets is the norm; evict the oldest. */
                free(cache[0].prog.filter);
                memmove(cache, cache + 1, sizeof(cache) - sizeof(cache[0]));
                n_cache--;
        }
        cache[n_cache] = (CachedFilter){
                .caps = caps,
                .prog = { .len = (unsigned short) (size / sizeof(struct sock_filter)),
                          .filter = (struct sock_filter *) buf },
        };
        *ret = &cache[n_cache++].prog;
        return 0;
}

int seccomp_policy_install(const struct sock_fprog *prog) {
        /* Without no_new_privs this needs CAP_SYS_ADMIN, which the caller still holds. */
        return RET_NERRNO(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog));
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <seccomp.h>
#include <stdint.h>

/* The default filter for container workloads, modelled on Docker's default profile: the system
 * calls that reach kernel state a container must not touch (namespaces and mounts, keyrings,
 * modules, kexec, time, bpf, perf, …) fail with EPERM, except where a capability the unit adds
 * legitimately needs them (SYS_ADMIN, SYS_PTRACE, SYS_TIME, SYS_MODULE, SYS_BOOT, …). Built in the
 * parent; the child only calls seccomp_load(). caps is the container's capability mask. */
int seccomp_policy_new(uint64_t caps, scmp_filter_ctx *ret);

struct sock_fprog;
/* The same filter compiled to BPF, cached per capability set for the life of the process, so a
 * restart loop does not recompile it every time. The child installs it with
 * seccomp_policy_install(). The returned program is owned by the cache. */
int seccomp_policy_get(uint64_t caps, const struct sock_fprog **ret);
int seccomp_policy_install(const struct sock_fprog *prog);

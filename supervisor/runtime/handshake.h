/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "basic/time-util.h"

/* The parent/child protocol shared by spawn.c (a container's PID 1) and exec.c (supctl exec),
 * over a SOCK_SEQPACKET pair whose child end is O_CLOEXEC:
 *   parent: clone3(), prepares (cgroup attach), sends "go"
 *   child:  waits for "go", sets up, may send one fd (a pty master) with SCM_RIGHTS
 *   child:  on failure sends one line "ERRNO what: strerror" and exits 125/126/127
 *   parent: EOF without a line means every holder of the child end has exec'd: success */

/* Child side. Moves src[i] (or /dev/null for a negative one) to first + i, all O_CLOEXEC, and
 * closes every other fd from first on; _exit(125) on failure. */
void handshake_rearrange_fds(const int *src, size_t n, int first);
/* Child side: one byte from the parent; _exit(125) when the parent gave up (EOF). */
void handshake_wait_go(int sock);
/* Child side: sends fd with SCM_RIGHTS. */
int handshake_send_fd(int sock, int fd);
/* Child side, inside the container: a pty from its own devpts. */
int handshake_open_pty(int *ret_master, int *ret_slave, char *ret_path, size_t path_size);

/* Parent side: sends "go", or kills and reaps the child when prepare_result < 0. */
int handshake_go(int sock, pid_t pid, int pidfd, int prepare_result);
/* Parent side: waits (bounded) for EOF or the failure line. Returns 0 on success; the line's
 * errno (negative) with *ret_error holding "what: strerror" on failure, or -ETIMEDOUT after
 * killing the child. A received fd goes to *ret_fd (-EBADF if none; closed if ret_fd is NULL). */
int handshake_wait_exec(int sock, int pidfd, usec_t timeout, const char *what, int *ret_fd, char **ret_error);

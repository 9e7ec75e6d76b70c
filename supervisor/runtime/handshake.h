/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "basic/process-util.h"
#include "basic/time-util.h"
#include "spawn.h"

/* The parent/child protocol shared by spawn.c (a container's PID 1) and exec.c (supctl exec),
 * over a SOCK_SEQPACKET pair whose child end is O_CLOEXEC:
 *   parent: clone3(), prepares (cgroup attach), sends "go" ('g')
 *   child:  waits for "go", sets up; may stop at a step: sends its tag ('N': the network
 *           namespace exists) and waits for the parent's answer ('n'; EOF: exit 125)
 *   child:  may send one fd (a pty master) with SCM_RIGHTS, tag 'P'
 *   child:  on failure sends one line "ERRNO what: strerror" (a digit first, never a tag) and
 *           exits 125/126/127
 *   parent: EOF without a line means every holder of the child end has exec'd: success
 * The parent side is a SpawnHandle (spawn.h), which never blocks. */

#define HANDSHAKE_GO 'g'
#define HANDSHAKE_NETNS_READY 'N'
#define HANDSHAKE_NETNS_DONE 'n'
#define HANDSHAKE_FD 'P'

/* Child side. Moves src[i] (or /dev/null for a negative one) to first + i, all O_CLOEXEC, and
 * closes every other fd from first on; _exit(125) on failure. */
void handshake_rearrange_fds(const int *src, size_t n, int first);
/* Child side: one byte from the parent; _exit(125) when the parent gave up (EOF). */
void handshake_wait_go(int sock);
/* Child side: sends tag and waits for the parent's answer; _exit(125) when the parent refused. */
void handshake_step(int sock, char tag);
/* Child side: sends fd with SCM_RIGHTS. */
int handshake_send_fd(int sock, int fd);
/* Child side, inside the container: a pty from its own devpts. */
int handshake_open_pty(int *ret_master, int *ret_slave, char *ret_path, size_t path_size);

/* Parent side: sends "go"; returns prepare_result when it is negative (the caller's guard then
 * kills and reaps the child). */
int handshake_go(int sock, int prepare_result);
/* Parent side, after "go": a handle that follows the rest. Takes ownership of the child and sock
 * (also on failure, when it kills and reaps the child). name is for messages; network is the
 * hook of the 'N' step (NULL when the child will not stop there). */
int spawn_handle_new(ChildGuard child, int sock, const char *name,
                     int (*network)(pid_t pid, int netns_fd, void *userdata), void *network_userdata,
                     SpawnHandle **ret);

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A static probe copied into test containers: asks the kernel directly what busybox cannot. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEYCTL_GET_KEYRING_ID 0
#define KEY_SPEC_SESSION_KEYRING -3

static int report(const char *what, long r) {
        if (r < 0) {
                printf("%s: %s\n", what, strerror(errno));
                return 1;
        }
        printf("%s: ok\n", what);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc < 2) {
                fprintf(stderr, "usage: probe keyctl|unshare|mount|fds|clone-ns|forkbomb N\n");
                return 2;
        }
        if (strcmp(argv[1], "keyctl") == 0)
                return report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1));
        if (strcmp(argv[1], "unshare") == 0)
                return report("unshare", unshare(CLONE_NEWNS));
        if (strcmp(argv[1], "mount") == 0)
                return report("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
        if (strcmp(argv[1], "clone-ns") == 0) {
                long r = syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, NULL, NULL, NULL, 0);
                if (r == 0)
                        _exit(0);
                return report("clone-ns", r);
        }
        if (strcmp(argv[1], "forkbomb") == 0 && argc > 2) {
                /* Forks up to N children that just wait, and says how many the kernel allowed. */
                int n = atoi(argv[2]), ok = 0;
                for (int i = 0; i < n; i++) {
                        pid_t p = fork();
                        if (p == 0) {
                                pause();
                                _exit(0);
                        }
                        if (p < 0)
                                break;
                        ok++;
                }
                printf("forked=%d\n", ok);
                fflush(stdout);
                pause();
                return 0;
        }
        if (strcmp(argv[1], "fds") == 0) {
                /* Every open fd but the one reading the directory. */
                DIR *d = opendir("/proc/self/fd");
                struct dirent *de;
                if (!d)
                        return report("opendir", -1);
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
                                printf("%s ", de->d_name);
                printf("\n");
                closedir(d);
                return 0;
        }
        fprintf(stderr, "probe: unknown command %s\n", argv[1]);
        return 2;
}

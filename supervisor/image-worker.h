/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

typedef struct Manager Manager;

/* The image store's long work (import, pull, rm, prune) runs in a forked worker so that the event
 * loop never blocks. done is called from the loop once the worker exited: r < 0 with a message, or
 * 0 with the result (import, pull: the image id; remove: the bytes freed; prune: the bytes freed,
 * then one removed image per line). The start functions return 0 once the worker runs (done will
 * be called) or a negative errno (done will not). */
typedef void (*ImageWorkerDone)(Manager *m, int r, const char *text, void *userdata);

/* Whether an import, pull, removal or prune is running in a worker (a re-exec would orphan it). */
bool image_worker_busy(void);

/* At startup: opens the store and removes what interrupted imports left behind. */
int manager_image_startup(Manager *m);

/* Registries that may be used over plain HTTP besides loopback (supd.conf). Not owned. */
void manager_image_set_insecure_registries(char **registries);

/* progress_fd (< 0 for none) is only borrowed: the worker writes progress lines and warnings to
 * its own copy. name may be NULL (an archive's own tags). */
int image_worker_import(Manager *m, const char *path, const char *name, int progress_fd, ImageWorkerDone done,
                        void *userdata);
/* A pull of an image whose pull runs already (the same reference once normalised) joins that
 * worker: done is called with its result, and progress_fd gets nothing. */
int image_worker_pull(Manager *m, const char *ref, int progress_fd, ImageWorkerDone done, void *userdata);
/* Fails at once with -ENOENT or -ENOTUNIQ when ref names no image or several. Images that units
 * use are kept: the worker fails with -EBUSY (remove) or leaves them (prune). */
int image_worker_remove(Manager *m, const char *ref, ImageWorkerDone done, void *userdata);
int image_worker_prune(Manager *m, ImageWorkerDone done, void *userdata);

/* For unit start: pulls ref unless it is in the store already, then calls done. Returns 0 when
 * the pull runs, 1 when the image is already there (done is not called), or a negative errno. */
int manager_image_ensure(Manager *m, const char *ref, ImageWorkerDone done, void *userdata);

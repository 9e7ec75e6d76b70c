/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "unitfile/unit-settings.h"

/* /etc/supd/supd.conf: what has to differ between supd instances on one host. */
typedef struct ManagerConfig {
        char *bridge;                    /* [Network] Bridge= */
        char *subnet;                    /* [Network] Subnet= (validated CIDR) */
        char *cgroup_parent;             /* [Cgroup] Parent= */
        bool live_restore;               /* [Manager] LiveRestore= */
        uint64_t log_max_size;           /* [Log] MaxSize= */
        unsigned log_max_files;          /* [Log] MaxFiles= */
        char **insecure_registries;      /* [Registries] Insecure=: plain HTTP allowed besides loopback */
        uint64_t image_max_import_size;  /* [Images] MaxImportSize= */
        uint64_t image_min_free_bytes;   /* [Images] MinFreeSpace= as a size, 0 if not */
        unsigned image_min_free_percent; /* ... as a percentage, 0 if not; by default both (the smaller) */
} ManagerConfig;

void manager_config_init(ManagerConfig *c);
void manager_config_done(ManagerConfig *c);
/* A missing file means defaults. Errors are "PATH:LINE: message" diagnostics; on any error the
 * config is left untouched, so a bad edit never changes a running supd. */
int manager_config_load(ManagerConfig *c, const char *path, UnitDiagnostic **ret_errors, size_t *ret_n);

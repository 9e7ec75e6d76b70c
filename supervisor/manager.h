/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "basic/hashmap.h"
#include "bus/names.h"
#include "manager-config.h"
#include "unit.h"

/* Control connections (bus/bus-manager.c, documented in supd(8)): in all; the part only root may
 * use; per non-root user; per user still in the handshake (the oldest is dropped for a new one);
 * how long the handshake may take. */
#define SUPD_MAX_CONNECTIONS 256
#define SUPD_CONNECTIONS_RESERVED_ROOT 32
#define SUPD_MAX_CONNECTIONS_PER_USER 64
#define SUPD_MAX_PENDING_PER_USER 16
#define SUPD_AUTH_TIMEOUT_USEC (5 * USEC_PER_SEC)

typedef struct Manager Manager;

typedef struct CgroupReap {
        Cgroup *cgroup;
        usec_t deadline;
} CgroupReap;

/* What the D-Bus layer (bus/) does for the core. The core calls these, when set, and includes no
 * bus header: bus_attach() fills them in before manager_startup(). */
typedef struct ManagerHooks {
        int (*listen)(Manager *m);                 /* open the control socket */
        void (*close)(Manager *m);                 /* close every connection (at exit) */
        void (*done)(Manager *m);                  /* free what the bus objects hold */
        void (*unit_settled)(Manager *m, Unit *u); /* inactive or failed: answer WaitUnit, supctl run --rm */
        void (*unit_spawned)(Manager *m, Unit *u); /* its container is set up, or failed to be: supctl run */
        /* after any state change: the UnitStateChanged signal, supctl events */
        void (*unit_state_changed)(Manager *m, Unit *u);
        void *userdata;
} ManagerHooks;

struct Manager {
        sd_event *event;
        char *root;      /* "" for the host, else the --root prefix */
        char *run_dir;   /* /run/supd */
        char *state_dir; /* /var/lib/supd */
        char *log_dir;   /* /var/log/supd */
        char *conf_path; /* /etc/supd/supd.conf */
        char *socket_path;
        char **search_path;
        char *hostname;
        char *machine_id;
        UnitLoadContext ctx;
        ManagerConfig config;
        CgroupRoot *cgroup_root; /* NULL when the host gives us no cgroups: no limits then */
        bool cgroup_root_tried;
        bool adopted; /* the runs a previous supd left were looked at */

        int lock_fd;
        int listen_fd;
        bool listen_bound; /* we bound the socket file (not systemd): we remove it at exit */
        sd_event_source *listen_source;
        struct BusConnection **connections;
        size_t n_connections;

        Unit **units;
        size_t n_units;
        Hashmap *unit_index;       /* name -> Unit */
        UnitDiagnostic *bad_names; /* unit files whose names are invalid */
        size_t n_bad_names;

        struct ExecState *exec_state; /* bus/bus-exec.c */
        ManagerHooks hooks;

        bool exiting;
        bool reexecute; /* supctl daemon-reexec: leave the loop like LiveRestore=yes, then execv() */
        sd_event_source *exit_source;
        sd_event_source *gc_source;
        sd_event_source *start_queue_source; /* starts queued units, a few per turn of the loop */
        CgroupReap *cgroup_reaps;            /* empty cgroups the kernel did not let go of yet */
        size_t n_cgroup_reaps;
        sd_event_source *cgroup_reap_timer;
};

int manager_new(const char *root, Manager **ret);
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        if (*m)
                manager_free(*m);
}

/* Lock the root, load config and units, listen, start what is desired, tell systemd we are ready. */
int manager_startup(Manager *m);
int manager_run(Manager *m);

Unit *manager_get_unit(Manager *m, const char *name);
int manager_add_unit(Manager *m, Unit *u);
/* Frees u at once: only for a unit nothing else holds (inactive, no waiters, not on the stack). */
void manager_remove_unit(Manager *m, Unit *u);
/* Units a name addresses: the unit itself, or all replicas "name@i" of a replicated unit. */
size_t manager_match_units(Manager *m, const char *name, Unit ***ret);

/* Start a unit and what it pulls in (Requires=, Wants=, BindsTo=), in After=/Before= order: they
 * are queued and started from the event loop, each once the units it is ordered after have
 * finished starting. Fails at once only for a missing dependency or an ordering cycle. */
int manager_start_unit(Manager *m, Unit *u, bool manual, char **ret_error);
/* A unit's container is set up, or its setup failed: tell the bus layer (supctl run). */
void manager_unit_spawned(Manager *m, Unit *u);
/* Removes an empty container cgroup (taking c): at once, or, where a v1 hierarchy keeps the
 * directory busy for a moment after its last process left, retried from a timer for a few
 * seconds. manager_cgroup_unreap() forgets a pending one by its unescaped name (a run's
 * "NAME.RUN_ID", instance_cgroup_name()): that run's next start reuses it. */
void manager_reap_cgroup(Manager *m, Cgroup *c);
void manager_cgroup_unreap(Manager *m, const char *name);
/* Units settled or came up: queued starts may proceed (from the event loop). */
void manager_schedule_start_queue(Manager *m);
/* Queue a stop of u and of the units that require or bind to it, in reverse order. */
int manager_stop_unit(Manager *m, Unit *u);
/* Something stopped: let queued stops proceed and bound units follow. */
void manager_unit_settled(Manager *m, Unit *u);

typedef struct ReloadAction {
        char *action; /* started, stopped, replaced, failed, removed */
        char *unit;
        char *detail;
} ReloadAction;

/* Re-read supd.conf and every unit, then reconcile. */
int manager_reload(Manager *m, ReloadAction **ret, size_t *ret_n);
void reload_actions_free(ReloadAction *a, size_t n);

/* SIGTERM: stop everything in reverse order, then leave the loop. */
void manager_begin_exit(Manager *m);

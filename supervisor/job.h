/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

/* A bus call that is answered when every unit it waits for has settled: each waiting unit holds
 * a reference, and the last unref sends the reply (or the first recorded error). */
struct Job;
typedef struct Job {
        unsigned n_ref;
        sd_bus_message *call;
        sd_bus_message *reply; /* prepared reply, or NULL for an empty one */
        char *error;
        bool want_running; /* a start: a unit that settles anywhere but running fails it */
        /* Builds the reply when the last unit settled, from what happened meanwhile (a reload
         * reports which of its starts failed); instead of reply. */
        int (*build_reply)(struct Job *j, sd_bus_message **ret);
        void *userdata;
        void (*free_userdata)(void *userdata);
} Job;

Job *job_new(sd_bus_message *call);
Job *job_new_with_reply(sd_bus_message *call, sd_bus_message *reply);
Job *job_ref(Job *j);
void job_unref(Job *j);
void job_fail(Job *j, const char *message);

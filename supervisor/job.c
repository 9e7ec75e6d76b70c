/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "job.h"
#include "basic/macro.h"

Job *job_new(sd_bus_message *call) {
        return job_new_with_reply(call, NULL);
}

Job *job_new_with_reply(sd_bus_message *call, sd_bus_message *reply) {
        Job *j = new0(Job, 1);
        if (!j)
                return NULL;
        j->n_ref = 1;
        j->call = sd_bus_message_ref(call);
        j->reply = reply ? sd_bus_message_ref(reply) : NULL;
        return j;
}

Job *job_ref(Job *j) {
        j->n_ref++;
        return j;
}

void job_fail(Job *j, const char *message) {
        if (!j->error)
                j->error = strdup(message);
}

void job_unref(Job *j) {
        if (!j || --j->n_ref > 0)
                return;
        /* The caller may have hung up meanwhile; a failed reply is no concern of ours. */
        if (j->error && !j->build_reply)
                (void) sd_bus_reply_method_errorf(j->call, "io.supd.Error.UnitFailed", "%s", j->error);
        else if (j->build_reply) {
                /* Its reply says what failed, and how. */
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                int r = j->build_reply(j, &reply);
                if (r < 0)
                        (void) sd_bus_reply_method_errnof(j->call, r, "Cannot build the reply: %m");
                else
                        (void) sd_bus_send(NULL, reply, NULL);
        } else if (j->reply)
                (void) sd_bus_send(NULL, j->reply, NULL);
        else
                (void) sd_bus_reply_method_return(j->call, NULL);
        sd_bus_message_unref(j->reply);
        sd_bus_message_unref(j->call);
        if (j->free_userdata)
                j->free_userdata(j->userdata);
        free(j->error);
        free(j);
}

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Kasm's Developer API as doc/kasm-api.md states it: every request and reply shape the
 * orchestrator relies on lives in kasm-api.c, so that a difference found against a real
 * Kasm is one fix there (and one edit in the doc).
 */

#include <jansson.h>

#include "http.h"
#include "key-file.h"
#include "state.h"

#define KASM_ERROR_MAX 4096

/* The priority of the class groups the orchestrator creates (1 is Kasm's highest). */
#define KASM_CLASS_GROUP_PRIORITY 50

struct kasm_client {
        struct http_client http;
        const struct api_key *key;
        unsigned writes;            /* write calls confirmed */
        char error[KASM_ERROR_MAX]; /* the last failure: the call, what came back */
};

/* Every call below returns 0, or a negative errno with kasm->error saying what happened:
 * -EPROTO for an answer that is not what doc/kasm-api.md says (the reply quoted whole),
 * -EREMOTEIO for an error Kasm reported, or the transport's errno (http.h). */

/* Users with their groups, every group with its volume_mapping settings, the sessions. */
int kasm_read_state(struct kasm_client *kasm, struct kasm_state *ret);
/* Only the sessions (and Kasm's current_time), into state. */
int kasm_read_sessions(struct kasm_client *kasm, struct kasm_state *state);

int kasm_create_group(struct kasm_client *kasm, const char *name, const char *description,
                      char **group_id);
int kasm_delete_group(struct kasm_client *kasm, const char *group_id);
int kasm_add_mapping(struct kasm_client *kasm, const char *group_id, const json_t *mapping);
int kasm_update_mapping(struct kasm_client *kasm, const char *group_id, const char *setting_id,
                        const json_t *mapping);
int kasm_remove_setting(struct kasm_client *kasm, const char *group_id, const char *setting_id);
int kasm_add_user_group(struct kasm_client *kasm, const char *user_id, const char *group_id);
int kasm_remove_user_group(struct kasm_client *kasm, const char *user_id, const char *group_id);
int kasm_destroy_kasm(struct kasm_client *kasm, const char *kasm_id, const char *user_id);

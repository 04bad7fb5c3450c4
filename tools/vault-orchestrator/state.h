/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What Kasm has (the actual state, as the API returned it) and what the policy wants at an
 * instant (the desired state).  Both are plain data: kasm-api.c fills the first, desired.c
 * the second, and diff.c compares them without a network.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/classes.h"

/* Every group the orchestrator owns is named so; it never touches any other. */
#define ORCH_GROUP_PREFIX "vault-"

struct kasm_setting {
        char *id;                   /* group_setting_id */
        json_t *value;              /* the parsed volume_mapping, NULL when not JSON */
        char *text;                 /* the value as Kasm returned it */
};

struct kasm_group {
        char *id;
        char *name;
        bool is_system;
        struct kasm_setting *mappings; /* its "volume_mapping" settings (Kasm may hold several) */
        size_t n_mappings;
};

struct kasm_user {
        char *id;
        char *name;
        size_t *groups;             /* indices into kasm_state.groups, ascending */
        size_t n_groups;
};

struct kasm_session {
        char *kasm_id;
        char *user_id;
        char *status;               /* operational_status */
        char *started;              /* start_date as Kasm wrote it, or NULL */
};

struct kasm_state {
        struct kasm_group *groups;  /* sorted by id */
        size_t n_groups;
        struct kasm_user *users;    /* as Kasm listed them */
        size_t n_users;
        struct kasm_session *sessions;
        size_t n_sessions;
        int64_t now;                /* get_kasms' current_time, VS_TIME_NONE when absent */
};

void kasm_state_clear(struct kasm_state *state);
void kasm_sessions_free(struct kasm_session *sessions, size_t n);
/* Index of the group with this id, or SIZE_MAX. */
size_t kasm_state_find_group(const struct kasm_state *state, const char *id);
/* Whether the orchestrator owns the group: named vault-..., and not one of Kasm's own. */
bool kasm_group_owned(const struct kasm_group *group);

struct orch_desired {
        struct vp_plan plan;
        struct vs_users users;      /* one per Kasm user, same order: name, Kasm id, groups */
        json_t **mappings;          /* per plan class: its volume_mapping */
        bool *used;                 /* per plan class: some user is in it at the instant */
        char **unknown;             /* --users: file users Kasm does not have (borrowed) */
        size_t n_unknown;
        size_t n_absent;            /* --users: Kasm users the file does not name */
        int64_t at;
        int64_t next;               /* the next instant any user's class changes */
};

/* The desired state at `at`: 0, -ENOMEM, or -ENOTUNIQ (two classes, one name). */
int orch_desired_build(const struct vs_policy *policy, const struct kasm_state *state,
                       const struct vs_users *file, int64_t at, struct orch_desired *ret);
void orch_desired_clear(struct orch_desired *desired);
/* Index of the plan class of that name, or SIZE_MAX. */
size_t orch_desired_find_class(const struct orch_desired *desired, const char *name);

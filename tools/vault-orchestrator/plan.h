/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The plan: what apply would do to make Kasm match the desired state, in the order it does
 * it, and the drift it reports.  Order (no moment gives a user the union of two classes):
 *   1. create missing class groups, each with its volume_mapping, before anyone joins;
 *   2. repair the volume_mapping of class groups an admin edited;
 *   3. memberships, user by user: for a loss remove before add, for a gain add before remove;
 *   4. delete stale vault- groups (their members left in step 3);
 *   5. last, end the running sessions of every user who lost a folder or went rw -> ro.
 * orch_plan_build is pure: the same states give the same plan.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "state.h"

enum orch_action_kind {
        ORCH_CREATE_GROUP,
        ORCH_ADD_SETTING,
        ORCH_UPDATE_SETTING,
        ORCH_REMOVE_SETTING,
        ORCH_ADD_MEMBER,
        ORCH_REMOVE_MEMBER,
        ORCH_DELETE_GROUP,
        ORCH_END_SESSION,
        ORCH_N_KINDS
};

struct orch_action {
        enum orch_action_kind kind;
        const char *group_name;     /* every kind but END_SESSION */
        const char *group_id;       /* NULL: the group this plan creates by that name */
        const char *setting_id;     /* UPDATE_SETTING, REMOVE_SETTING */
        json_t *mapping;            /* ADD_SETTING, UPDATE_SETTING (borrowed) */
        size_t user;                /* ADD/REMOVE_MEMBER, END_SESSION: index into state users */
        size_t session;             /* END_SESSION: index into state sessions */
        const char *why;            /* the reason, one phrase: "class change", "drift: ..." */
};

enum orch_drift_kind {
        ORCH_DRIFT_FOREIGN_MAPPING, /* a non-vault- group maps under the vault root: refused */
        ORCH_DRIFT_FOREIGN_UNREADABLE, /* a non-vault- group's volume_mapping is not JSON */
        ORCH_DRIFT_TWO_GROUPS,      /* a user in more than one vault- group: repaired */
        ORCH_DRIFT_EDITED_MAPPING,  /* a class group's volume_mapping differs: repaired */
        ORCH_DRIFT_STALE_GROUP,     /* a vault- group no class needs: emptied and deleted */
        ORCH_DRIFT_UNKNOWN_USER,    /* --users names a user Kasm does not have: reported */
};

struct orch_drift {
        enum orch_drift_kind kind;
        const char *group_name;
        const char *group_id;
        size_t user;                /* TWO_GROUPS: index into state users */
        char *detail;               /* owned: the host path, the bind, the groups, ... */
};

/* Per user: what the membership change does to their access. */
enum orch_change {
        ORCH_SAME,                  /* already in exactly their class group */
        ORCH_GAIN,                  /* moves, losing nothing: add before remove */
        ORCH_LOSS,                  /* loses a folder or rw -> ro: remove first, end sessions */
};

struct orch_plan {
        struct orch_action *actions; /* in execution order */
        size_t n_actions;
        size_t counts[ORCH_N_KINDS];
        struct orch_drift *drifts;
        size_t n_drifts;
        size_t n_refused;           /* drifts an admin must fix (apply never touches them) */
        enum orch_change *changes;  /* per state user */
        bool *end_sessions;         /* per state user: their running sessions are to end */
        size_t n_users;
};

/* Compare.  pending: per state user, true when an interrupted run left their sessions to end
 * (intents.c), or NULL.  vault: the policy's vault root.  0 or -ENOMEM. */
int orch_plan_build(const struct kasm_state *state, const struct orch_desired *desired,
                    const char *vault, const bool *pending, struct orch_plan *ret);
void orch_plan_clear(struct orch_plan *plan);
/* Whether the plan has a write to make. */
bool orch_plan_pending(const struct orch_plan *plan);
const char *orch_action_name(enum orch_action_kind kind);
const char *orch_drift_name(enum orch_drift_kind kind);
/* What a user loses moving from the union of mappings `from` to `to`: a host path `to` lacks,
 * bound elsewhere, or rw -> ro.  Both are Kasm volume_mapping objects. */
bool orch_mapping_loses(const json_t *from, const json_t *to);

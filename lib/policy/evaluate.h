/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The decision without explanations, for many users and many instants: a policy compiled
 * to integer group ids, one byte per folder.  It decides exactly as decide.c does (deny
 * wins, highest allow, implies capped by the source's final mode and max_mode, a write deny
 * caps at ro: vault-policy(1), DECISION); tests compare the two on every user at every
 * boundary.  Substitution refusals (unsafe {username}, host paths that meet) are applied by
 * vp_apply_refusals.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/policy.h"

/* One byte per folder: VS_MODE_NONE, VS_MODE_RO, VS_MODE_RW, or VP_DENIED (a deny, no mount). */
#define VP_DENIED 3

struct vp_rule {
        const struct vs_policy_rule *rule;
        uint32_t *groups;           /* group ids */
        size_t n_groups;
};

struct vp_edge {
        size_t source;              /* folder index */
        enum vs_mode max_mode;
};

struct vp_compiled {
        const struct vs_policy *policy;
        char **group_names;         /* sorted, unique (borrowed from the policy) */
        size_t n_group_names;
        struct vp_rule *rules;      /* every rule of every folder, folder by folder */
        size_t n_rules;
        size_t *first_rule;         /* per folder, n_folders + 1 entries */
        struct vp_edge *edges;      /* implies edges, grouped by target folder */
        size_t *first_edge;         /* per folder, n_folders + 1 entries */
        size_t *order;              /* folders, every implies source before its targets */
        bool *templated;            /* per folder: its path uses {username} or {user_id} */
        bool any_templated;
};

int vp_compile(const struct vs_policy *policy, struct vp_compiled **ret);
void vp_compiled_free(struct vp_compiled *c);

/* Which rules' groups a user's groups satisfy (time aside): one byte per rule. */
void vp_match_rules(const struct vp_compiled *c, const char *const *groups, size_t n_groups,
                    uint8_t *match);

/* The folders' modes at t (one byte per folder, see VP_DENIED). */
void vp_evaluate(const struct vp_compiled *c, const uint8_t *match, int64_t t, uint8_t *modes);

/* Window bounds of the matched rules inside (after, until) (until VS_TIME_NONE: no end), sorted,
 * unique, appended to *times (realloc'ed); returns the new count or -ENOMEM. */
ssize_t vp_boundaries(const struct vp_compiled *c, const uint8_t *match, int64_t after,
                      int64_t until, int64_t **times, size_t n_times);

/* Folders whose substituted host path is unusable for this user, or meets another folder's:
 * per user, computed once (time-independent). */
struct vp_refusals {
        uint8_t *unsafe; /* per folder: 1 when {username}/{user_id} cannot be substituted */
        size_t (*meets)[2];         /* pairs (earlier, later) of folders with the same host path */
        size_t n_meets;
        bool any;
        /* Pairs (inner, outer), one of them a template, whose substituted host paths nest: the
         * outer is refused whenever it grants more than the inner (decide.c). */
        size_t (*nests)[2];
        size_t n_nests;
};

int vp_refusals_for(const struct vp_compiled *c, const char *user_name, const char *user_id,
                    struct vp_refusals *ret);
void vp_refusals_clear(struct vp_refusals *r);
/* Turn modes into what is mounted: refused folders become VS_MODE_NONE, as do denied ones. */
void vp_apply_refusals(const struct vp_compiled *c, const struct vp_refusals *r, uint8_t *modes);

/* The decision's and each folder's valid_until: the next instant after request->now at which
 * what is mounted (folder and mode) changes, in either direction (a window that opens later
 * counts as much as one that closes); VS_TIME_NONE when it never changes. */
int vp_set_valid_until(const struct vs_policy *policy, const struct vs_request *request,
                       struct vs_decision *d);

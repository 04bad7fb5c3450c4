/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Access classes: users whose decision (the folders mounted and their modes) is the same.
 * One Kasm group per class, whose Group Setting volume_mapping keeps the policy's own
 * {username} / {user_id} tokens (Kasm substitutes them per user), serves every member: a
 * user in exactly one class group gets exactly the policy's decision under Kasm's union
 * merge.  A plan is the classes at one instant plus every change of a user's class in a
 * range (the schedule), computed with the compiled evaluator (evaluate.h).
 */

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

#include "policy/evaluate.h"

#define VP_CLASS_NAME_MAX 32

struct vp_class {
        uint8_t *modes;             /* per policy folder: VS_MODE_NONE, RO or RW */
        size_t n_mounted;
        char name[VP_CLASS_NAME_MAX]; /* "vault-none", or "vault-" + 16 hex digits of its content */
        size_t members;             /* users in it at the plan's start */
};

struct vp_change {
        int64_t at;
        size_t user;                /* index into the users file */
        size_t from, to;            /* class indices */
};

struct vp_plan {
        struct vp_compiled *compiled;
        struct vp_class *classes;   /* sorted by name once the plan is built */
        size_t n_classes;
        size_t *initial;            /* per user: class at the start */
        int64_t *valid_until;       /* per user: next instant its class changes (any horizon) */
        uint8_t **unsafe; /* per user: NULL, or per folder 1 when substitution refuses it */
        /* per user: 1 when a folder may be refused at some instant (an unsafe name, host paths
         * that meet or nest after substitution): vs_policy_decide says which and why */
        uint8_t *refusable;
        /* at in (start, end], sorted by (at, user): a change at start is part of the start (the
         * classes at start), one at end is listed, so (a, b] and (b, c] tile without a gap */
        struct vp_change *changes;
        size_t n_changes;
        size_t n_users;
};

/* Classes at start, and (when end != VS_TIME_NONE) every change in (start, end]. */
int vp_plan_build(const struct vs_policy *policy, const struct vs_users *users, int64_t start,
                  int64_t end, struct vp_plan *ret);
void vp_plan_clear(struct vp_plan *plan);

/* SPDX-License-Identifier: MIT */
#pragma once

#include "policy/policy.h"
#include "shared/yaml-fields.h"
#include "shared/names.h"
#include "shared/read-input.h"

/* Semantic checks over a policy whose syntax was loaded; returns the number of errors. */
unsigned vs_policy_validate(struct vs_policy *policy, struct vs_diags *diags);

/* Refuse a folder whose host path lies inside another's unless it always grants at least as
 * much (see nesting.c); call on an indexed policy.  Returns the number of errors. */
unsigned vs_policy_check_nesting(const struct vs_policy *policy, struct vs_diags *diags);

/* Whether host path inner lies strictly inside outer (template-paths.c). */
bool vp_path_inside(const char *inner, const char *outer);

/* Whether name is one of groups (rule.c, with vs_rule_groups_match and vs_rule_in_window). */
bool vp_has_group(const char *const *groups, size_t n_groups, const char *name);

/* How a template host path can meet a literal one for some user (template-paths.c). */
enum vp_meeting {
        VP_MEET_CONTAINS,           /* the substituted template is a parent of the literal */
        VP_MEET_INSIDE,             /* the substituted template lies inside the literal */
        VP_MEET_SAME,               /* they are the same path */
};

/* The user name and id a template was filled with; NULL where it has no such placeholder. */
struct vp_binding {
        char *user_name;
        char *user_id;
};

/* Every filling of template's {username} / {user_id} with safe values (at most 64) that makes
 * it meet literal that way; *ret is freed with vp_bindings_free. */
int vp_template_bindings(const char *template, const char *literal, enum vp_meeting meeting,
                         struct vp_binding **ret, size_t *n_ret);
void vp_bindings_free(struct vp_binding *bindings, size_t n);

/* vs_policy_decide, optionally without refusing a folder whose substituted host path holds
 * another's that grants the user less (the nesting check of a loading policy looks at what
 * the rules alone decide). */
int vp_decide(const struct vs_policy *policy, const struct vs_request *request,
              bool refuse_nested, struct vs_decision **ret);

/* Sort folders by name and resolve implies targets; call after validation succeeded
 * (index.c, with vs_policy_find_folder). */
void vs_policy_index(struct vs_policy *policy);

/* RFC 3339 for a window bound: a fraction of a second rounds up.  -EINVAL. */
int vp_time_parse_bound(const char *text, int64_t *ret);

/* Whether a mapping has the key; *key (when not NULL) set to its node (loader.c). */
bool vp_root_key(const struct yt_node *map, const char *name, const struct yt_node **key);

/* Read path and hand its text to parse; a read failure becomes a "path: cannot read <what>"
 * record. */
typedef int (*vp_parse_fn)(const char *name, const char *text, size_t len, void *ret,
                           struct vs_diags *diags);
int vp_load_file(const char *path, const char *what, vp_parse_fn parse, void *ret,
                 struct vs_diags *diags);

/* How near a candidate name is to name: 0 when they differ only in case, else the number of
 * single-character edits; VP_NOT_SIMILAR when equal or more than two edits apart
 * (group-names.c). */
#define VP_NOT_SIMILAR ((size_t)-1)
size_t vp_name_distance(const char *candidate, const char *name);

/* Append a lint warning at mark in file (NULL: the policy); -ENOMEM (lint.c). */
int vp_lint_add(struct vs_lint *lint, const char *file, const char *code, struct vs_mark mark,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Sort the warnings: the policy's first, then each other file's, by line and column. */
void vp_lint_sort(struct vs_lint *lint);

/* SPDX-License-Identifier: MIT */
#pragma once

#include "policy/policy.h"
#include "shared/yaml-fields.h"
#include "shared/names.h"
#include "shared/read-input.h"

/* Semantic checks over a policy whose syntax was loaded; returns the number of errors. */
unsigned vs_policy_validate(struct vs_policy *policy, struct vs_diags *diags);

/* Sort folders by name and resolve implies targets; call after validation succeeded
 * (index.c, with vs_policy_find_folder). */
void vs_policy_index(struct vs_policy *policy);

/* RFC 3339 for a window bound: a fraction of a second rounds up.  -EINVAL. */
int vp_time_parse_bound(const char *text, int64_t *ret);

/* Read path and hand its text to parse; a read failure becomes a "path: cannot read <what>" record. */
typedef int (*vp_parse_fn)(const char *name, const char *text, size_t len, void *ret, struct vs_diags *diags);
int vp_load_file(const char *path, const char *what, vp_parse_fn parse, void *ret, struct vs_diags *diags);

/* Whether a group list satisfies a rule's groups/compound (time aside). */
bool vs_rule_groups_match(const struct vs_policy_rule *rule, const char *const *groups, size_t n_groups);
/* Whether the rule's window holds at now. */
bool vs_rule_in_window(const struct vs_policy_rule *rule, int64_t now);

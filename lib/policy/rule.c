/* SPDX-License-Identifier: MIT */
/* What one rule says about a set of groups and an instant, the same for the explained
 * decision (decide.c) and the compiled evaluator (evaluate.c). */
#include <string.h>

#include "policy/policy-internal.h"

bool vp_has_group(const char *const *groups, size_t n_groups, const char *name)
{
        for (size_t i = 0; i < n_groups; i++)
                if (strcmp(groups[i], name) == 0)
                        return true;
        return false;
}

bool vs_rule_groups_match(const struct vs_policy_rule *rule, const char *const *groups,
                          size_t n_groups)
{
        size_t present = 0;
        for (size_t i = 0; i < rule->n_groups; i++)
                present += vp_has_group(groups, n_groups, rule->groups[i].name);
        return rule->compound == VS_COMPOUND_ALL ? present == rule->n_groups : present > 0;
}

bool vs_rule_in_window(const struct vs_policy_rule *rule, int64_t now)
{
        return (rule->not_before == VS_TIME_NONE || now >= rule->not_before) &&
               (rule->not_after == VS_TIME_NONE || now < rule->not_after);
}

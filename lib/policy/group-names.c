/* SPDX-License-Identifier: MIT */
/*
 * Which group names a policy uses, and the nearest one to a name it does not use: a group
 * spelled differently in the policy and in the directory (or in --groups) silently matches
 * nothing, so the tools name the likely intended one.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/policy-internal.h"

/* A near miss: at most this many single-character edits, or a difference only in case. */
#define SIMILAR_MAX_EDITS 2

bool vs_policy_names_group(const struct vs_policy *policy, const char *name)
{
        for (size_t f = 0; f < policy->n_folders; f++)
                for (size_t i = 0; i < policy->folders[f].n_rules; i++) {
                        const struct vs_policy_rule *rule = &policy->folders[f].rules[i];
                        for (size_t g = 0; g < rule->n_groups; g++)
                                if (strcmp(rule->groups[g].name, name) == 0)
                                        return true;
                }
        return false;
}

/* Levenshtein distance, giving up (returning limit + 1) once it must exceed limit. */
static size_t edit_distance(const char *a, const char *b, size_t limit)
{
        size_t la = strlen(a), lb = strlen(b);
        if ((la > lb ? la - lb : lb - la) > limit || lb > 256)
                return limit + 1;
        size_t row[257];
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diagonal = row[0], best = row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t above = row[j];
                        size_t cost = diagonal + (a[i - 1] != b[j - 1]);
                        if (above + 1 < cost)
                                cost = above + 1;
                        if (row[j - 1] + 1 < cost)
                                cost = row[j - 1] + 1;
                        row[j] = cost;
                        diagonal = above;
                        if (cost < best)
                                best = cost;
                }
                if (best > limit)
                        return limit + 1;
        }
        return row[lb];
}

size_t vp_name_distance(const char *candidate, const char *name)
{
        if (strcmp(candidate, name) == 0)
                return VP_NOT_SIMILAR;
        if (strcasecmp(candidate, name) == 0)
                return 0;
        size_t d = edit_distance(candidate, name, SIMILAR_MAX_EDITS);
        return d > SIMILAR_MAX_EDITS ? VP_NOT_SIMILAR : d;
}

const char *vs_policy_similar_group(const struct vs_policy *policy, const char *name)
{
        const char *best = NULL;
        size_t best_distance = VP_NOT_SIMILAR;
        /* The first of equally near names (folders by name, rules in order): the same answer
         * on every run. */
        for (size_t f = 0; f < policy->n_folders; f++)
                for (size_t i = 0; i < policy->folders[f].n_rules; i++) {
                        const struct vs_policy_rule *rule = &policy->folders[f].rules[i];
                        for (size_t g = 0; g < rule->n_groups; g++) {
                                size_t d = vp_name_distance(rule->groups[g].name, name);
                                if (d < best_distance) {
                                        best = rule->groups[g].name;
                                        best_distance = d;
                                }
                        }
                }
        return best;
}

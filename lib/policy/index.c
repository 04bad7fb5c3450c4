/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "policy/policy-internal.h"

/* Folders are kept sorted by name, so that lookups are a binary search and every output
 * lists them in one order. */

static int compare_folders(const void *a, const void *b)
{
        const struct vs_policy_folder *fa = a, *fb = b;
        return strcmp(fa->name, fb->name);
}

void vs_policy_index(struct vs_policy *policy)
{
        if (policy->n_folders > 1)
                qsort(policy->folders, policy->n_folders, sizeof(*policy->folders),
                      compare_folders);
        for (size_t f = 0; f < policy->n_folders; f++) {
                struct vs_policy_folder *folder = &policy->folders[f];
                for (size_t i = 0; i < folder->n_implies; i++) {
                        const struct vs_policy_folder *target =
                                vs_policy_find_folder(policy, folder->implies[i].folder);
                        folder->implies[i].target = (size_t)(target - policy->folders);
                }
        }
}

static int compare_name_to_folder(const void *name, const void *folder)
{
        return strcmp(name, ((const struct vs_policy_folder *)folder)->name);
}

const struct vs_policy_folder *vs_policy_find_folder(const struct vs_policy *policy,
                                                     const char *name)
{
        return bsearch(name, policy->folders, policy->n_folders, sizeof(*policy->folders),
                       compare_name_to_folder);
}

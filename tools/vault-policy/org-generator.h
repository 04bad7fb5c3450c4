/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "vault-policy.h"

/* First instant of the generated organisations' year of windows. */
#define ORG_YEAR_START "2027-01-01T00:00:00Z"

struct org_shape {
        size_t folders, groups, users;
        /* The planning benchmark's harder organisation: a quarter of the contractors in window
         * groups with windows on most folders, and denies on most folders (org-generator.c). */
        bool dense;
};

/* The policy and users file (YAML text, caller frees) of a generated organisation. */
int org_generate(const struct org_shape *shape, char **policy_yaml, size_t *policy_len,
                 char **users_yaml, size_t *users_len);

/* "12x10x500,200x300x10000" -> shapes (caller frees); -EINVAL on anything else. */
int org_parse_shapes(const char *text, struct org_shape **ret, size_t *n_ret);

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

/* Exit statuses, documented in vault-policy(1). */
enum {
        EXIT_OK = 0,
        EXIT_INVALID = 1,       /* the policy (or users file) is invalid */
        EXIT_USAGE = 2,
        EXIT_PARTIAL = 3,       /* some folders refused, or lint warnings */
        EXIT_TOKEN = 4,         /* the JWT was refused */
};

/* Everything the subcommands share, filled from the command line. */
struct options {
        const char *policy;
        const char *user;
        const char *uid;
        const char *groups;
        const char *now;
        const char *format;
        const char *folder;
        const char *users;
        const char *jwt;
        const char *jwt_key;
        const char *jwt_alg;
        const char *groups_claim;
        bool json;
};

/* A list of group names owned by the caller. */
struct group_list {
        char **names;
        size_t count;
};

void group_list_clear(struct group_list *list);
/* Split "a,b" (empty entries ignored). */
int group_list_from_csv(const char *csv, struct group_list *ret);

/* Verify the token and read its groups claim; on refusal returns -EPERM/-EINVAL with *error set. */
int jwt_read_groups(const char *token_file, const char *key_file, const char *alg, const char *claim,
                    int64_t now, struct group_list *ret, char **error);

/* Print a decision in one of the resolve formats to stdout. */
int format_decision(const struct vs_policy *policy, const struct vs_decision *decision, const char *format);
bool format_known(const char *format);

/* Print diagnostics as file:line:col: message on stderr. */
void print_diags(const struct vs_diags *diags);

int run_matrix(const struct vs_policy *policy, const struct vs_users *users, int64_t now, bool json);

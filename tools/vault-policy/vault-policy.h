/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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
        const char *user_claim;
        const char *jwt_iss;
        const char *jwt_aud;
        const char *at;
        const char *from;
        const char *to;
        const char *orgs;
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

/* What a token must satisfy (--jwt*, --user-claim, --groups-claim, --now). */
struct jwt_request {
        const char *token_file;
        const char *key_file;
        const char *alg;            /* RS256, ES256 or HS256 */
        const char *groups_claim;   /* "groups" */
        const char *user_claim;     /* NULL: preferred_username, else sub */
        const char *issuer;         /* NULL: not checked */
        const char *audience;       /* NULL: not checked */
        int64_t now;
};

/* Who a verified token says the user is. */
struct jwt_identity {
        char *user;
        char *user_claim;           /* the claim the user came from */
        struct group_list groups;
};

/* Verify the token and read its user and groups; *error set on failure: -EIO when the token
 * or key file cannot be read or the key is unusable (a PEM or short HS256 secret), -EPERM
 * when the token is refused, -EINVAL for an algorithm outside the pinned set. */
int jwt_verify(const struct jwt_request *req, struct jwt_identity *ret, char **error);
void jwt_identity_clear(struct jwt_identity *id);

/* Print a decision in one of the resolve formats to stdout. */
int format_decision(const struct vs_policy *policy, const struct vs_decision *decision,
                    const char *format);
bool format_known(const char *format);


/* Print and release root (sorted keys, 2-space indent, final newline); -ENOMEM for NULL. */
int print_json(json_t *root);

/* What every command reads, and its problems told alike (inputs.c). */
/* Print diagnostics as file:line:col: message on stderr. */
void print_diags(const struct vs_diags *diags);
/* Load the policy or print every error; returns NULL after printing. */
struct vs_policy *load_policy(const char *path);
/* Load a users file or print every error; returns 0, or -1 after printing. */
int load_users(const char *path, struct vs_users *users);
/* Both, users only when users_path is not NULL; returns 0, or -1 after printing. */
int load_policy_and_users(const char *policy_path, const char *users_path,
                          struct vs_policy **policy, struct vs_users *users);
/* "vault-policy: <message>" and the --help hint on stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* TIME (RFC 3339) from option's text, or now when text is NULL and not required; -EINVAL
 * after printing why. */
int option_time(const char *option, const char *text, bool required, int64_t *ret);

/* classes, schedule, kasm-native (kasm-commands.c): whether command is one, and run it. */
bool kasm_command(const char *command);
int run_kasm_command(const char *command, const struct options *o);

/* classes, schedule and kasm-native (classes.c, schedule.c, kasm-native.c). */
int run_classes(const struct vs_policy *policy, const struct vs_users *users, int64_t at,
                const char *format);
int run_schedule(const struct vs_policy *policy, const struct vs_users *users, int64_t from,
                 int64_t to, bool json);
int run_kasm_native(const struct vs_policy *policy, const struct vs_users *users, int64_t at,
                    const char *orgs);

/* Refusals, told alike by every command that decides (refusals.c): one stderr line per refused
 * folder, and {"user", "folder", "reason"} appended to list when it is not NULL. */
void report_refusal(const char *user, const char *folder, const char *reason);
size_t report_decision_refusals(const struct vs_decision *d, json_t *list);
/* Decide for user at `at` and report its refusals; *count grows by their number. */
int report_user_refusals(const struct vs_policy *policy, const struct vs_user *user, int64_t at,
                         json_t *list, size_t *count);
/* The same for every user a folder may be refused to (refusable: per user, as in a plan; NULL:
 * found here). */
int report_refusals_at(const struct vs_policy *policy, const struct vs_users *users,
                       const uint8_t *refusable, int64_t at, json_t *list, size_t *count);

int run_matrix(const struct vs_policy *policy, const struct vs_users *users, int64_t now,
               bool json);

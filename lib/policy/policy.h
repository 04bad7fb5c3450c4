/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * vault-permissions.yaml: which vault folders a user gets, and in which mode.
 * The format and the decision are documented in vault-policy(1) (doc/vault-policy.1.scd).
 *
 * Loading fails closed: every problem becomes a "file:line:col: message" record in the
 * caller's vs_diags and the load returns -EINVAL.  A loaded policy is immutable; its
 * folders are sorted by name so that nothing downstream depends on their order in the file.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "manifest/manifest.h" /* enum vs_mode, VS_TIME_NONE */
#include "shared/diag.h"

#define VS_POLICY_DEFAULT_VAULT "/vault"

enum vs_compound { VS_COMPOUND_ANY, VS_COMPOUND_ALL };
enum vs_effect { VS_EFFECT_ALLOW, VS_EFFECT_DENY };
enum vs_scope { VS_SCOPE_ALL, VS_SCOPE_WRITE };

struct vs_mark {
        unsigned line, column;      /* 1-based */
};

struct vs_policy_group {
        char *name;
        struct vs_mark mark;
};

struct vs_policy_rule {
        size_t index;               /* position in the folder's access list */
        struct vs_mark mark;
        struct vs_policy_group *groups;
        size_t n_groups;
        enum vs_compound compound;  /* default any */
        enum vs_effect effect;      /* default allow */
        enum vs_scope scope;        /* deny only; default all */
        enum vs_mode mode;          /* allow only; default ro */
        int64_t not_before;         /* VS_TIME_NONE = unbounded */
        int64_t not_after; /* VS_TIME_NONE = unbounded; the window is [not_before, not_after) */
        struct vs_mark not_before_mark, not_after_mark;
};

struct vs_policy_implies {
        size_t index;               /* position in the folder's implies list */
        struct vs_mark mark;
        char *folder;
        size_t target;              /* index into vs_policy.folders */
        enum vs_mode max_mode;      /* default ro */
};

struct vs_policy_folder {
        char *name;
        char *path;                 /* host path, may hold {username} / {user_id} */
        struct vs_mark mark, name_mark, path_mark;
        bool required;              /* default true */
        bool personal;              /* the user's own rw space (at most one folder) */
        struct vs_policy_rule *rules;
        size_t n_rules;
        struct vs_policy_implies *implies;
        size_t n_implies;
};

struct vs_policy {
        char *file;
        char *vault;                /* default /vault */
        struct vs_mark vault_mark;
        struct vs_policy_folder *folders; /* sorted by name */
        size_t n_folders;
};

int vs_policy_load(const char *path, struct vs_policy **ret, struct vs_diags *diags);
int vs_policy_parse(const char *name, const char *text, size_t len, struct vs_policy **ret,
                    struct vs_diags *diags);
void vs_policy_free(struct vs_policy *policy);
const struct vs_policy_folder *vs_policy_find_folder(const struct vs_policy *policy,
                                                     const char *name);

/* --- the decision ---------------------------------------------------------------------- */

struct vs_request {
        const char *user_name;
        const char *user_id;
        const char *const *groups;
        size_t n_groups;
        int64_t now;
        /* Optional: the users file the groups were read from, and where it names each one
         * (explain names the place of a group no rule uses).  NULL: the command line or a
         * token. */
        const char *groups_file;
        const struct vs_mark *group_marks;
};

enum vs_folder_status {
        VS_FOLDER_NO_MATCH,         /* no grant: not mounted */
        VS_FOLDER_DENIED,           /* a deny (scope all) applies: not mounted */
        VS_FOLDER_MOUNTED,
        VS_FOLDER_REFUSED,          /* granted, but the path could not be made safe */
};

enum vs_rule_outcome {
        VS_RULE_APPLIES,
        VS_RULE_GROUPS_MISSING,     /* compound all: some groups missing */
        VS_RULE_NO_GROUP,           /* compound any: none present */
        VS_RULE_NOT_YET_VALID,      /* now < not_before */
        VS_RULE_EXPIRED,            /* now >= not_after */
};

struct vs_rule_verdict {
        const struct vs_policy_rule *rule;
        enum vs_rule_outcome outcome;
        bool deciding;              /* this rule fixed the status or mode */
        const char **missing;       /* GROUPS_MISSING: the groups the user lacks */
        size_t n_missing;
};

struct vs_derivation {
        const struct vs_policy_folder *source;
        const struct vs_policy_implies *implies;
        enum vs_mode source_mode;   /* the source's final mode (NONE: source not mounted) */
        enum vs_mode granted;       /* min(source_mode, max_mode) */
        bool deciding;
};

struct vs_folder_decision {
        const struct vs_policy_folder *folder;
        enum vs_folder_status status;
        enum vs_mode mode;          /* MOUNTED only */
        bool write_capped;          /* a deny with scope write capped the mode at ro */
        char *source;               /* MOUNTED: substituted host path */
        char *target;               /* <vault>/<name> */
        char *refusal;              /* REFUSED: why */
        int64_t valid_until;        /* earliest instant after now the decision may change */
        struct vs_rule_verdict *verdicts; /* one per access rule, in rule order */
        size_t n_verdicts;
        struct vs_derivation *derivations; /* one per implies edge into this folder */
        size_t n_derivations;
};

struct vs_decision {
        char *user_name;
        char *user_id;
        char **groups;              /* the request's groups, as given */
        size_t n_groups;
        char *groups_file;          /* the request's groups_file, or NULL */
        struct vs_mark *group_marks; /* with groups_file: one per group */
        int64_t now;
        int64_t valid_until;        /* earliest valid_until of the mounted folders */
        struct vs_folder_decision *folders; /* every policy folder, sorted by name */
        size_t n_folders;
        size_t n_mounted;
        size_t n_refused;
        const char *personal;       /* name of the personal folder when mounted rw, else NULL */
};

/* Decide for one user.  Never fails for a valid policy except with -ENOMEM. */
int vs_policy_decide(const struct vs_policy *policy, const struct vs_request *request,
                     struct vs_decision **ret);
void vs_decision_free(struct vs_decision *decision);

/* Substitute {username} / {user_id} into path.  -EINVAL (and *why) when a used value is not
 * a safe single path segment (see vs_user_token_valid: e-mail style names pass; '/', ':', ',',
 * braces, whitespace, control characters and "." / ".." do not). */
int vs_policy_substitute(const char *path, const char *user_name, const char *user_id,
                         char **ret, const char **why);

/* Whether a group list satisfies a rule's groups/compound (time aside). */
bool vs_rule_groups_match(const struct vs_policy_rule *rule, const char *const *groups,
                          size_t n_groups);
/* Whether the rule's window holds at now. */
bool vs_rule_in_window(const struct vs_policy_rule *rule, int64_t now);
/* Whether a rule of the policy names the group. */
bool vs_policy_names_group(const struct vs_policy *policy, const char *name);
/* The policy's group nearest to name (differs only in case, or by at most two edits), or NULL. */
const char *vs_policy_similar_group(const struct vs_policy *policy, const char *name);

/* --- explanations and lint ---------------------------------------------------------------- */

const char *vs_folder_status_name(enum vs_folder_status status);

/* One word per folder for tables: "rw", "ro", "denied", "refused" or "-" (no grant). */
const char *vs_folder_decision_cell(const struct vs_folder_decision *decision);

/* Why a rule did or did not apply, e.g. "missing groups: [executive]"; caller frees. */
char *vs_rule_verdict_reason(const struct vs_rule_verdict *verdict);

/* "deal-room-acme#access[1]" for a rule; caller frees. */
char *vs_rule_label(const struct vs_policy_folder *folder, const struct vs_policy_rule *rule);

struct vs_lint_warning {
        char *file;                 /* NULL: the policy; else the users file it is about */
        char *code;
        unsigned line, column;
        char *message;
};

struct vs_lint {
        struct vs_lint_warning *items;
        size_t count;
};

struct vs_users;

int vs_policy_lint(const struct vs_policy *policy, int64_t now, struct vs_lint *ret);
/* Add to lint what the policy and a users file disagree on: a group users have that no rule
 * names (group-without-rule, at its first place in the users file) and a group rules name
 * that no user has (group-without-user, at the first rule naming it), each with the nearest
 * name of the other side when one is near (differs only in case, or by at most two edits).
 * The warnings stay sorted: the policy's first, then the users file's, by position. */
int vs_policy_lint_users(const struct vs_policy *policy, const struct vs_users *users,
                         struct vs_lint *lint);
void vs_lint_clear(struct vs_lint *lint);

/* --- users files: matrix, explain --users, lint --users, the Kasm planning commands --------- */

struct vs_user {
        char *name;
        char *id;
        char **groups;
        struct vs_mark *group_marks; /* where each group is named in the users file */
        size_t n_groups;
};

struct vs_users {
        char *file;                 /* the name it was loaded under */
        struct vs_user *items;
        size_t count;
};

int vs_users_load(const char *path, struct vs_users *ret, struct vs_diags *diags);
int vs_users_parse(const char *name, const char *text, size_t len, struct vs_users *ret,
                   struct vs_diags *diags);
void vs_users_clear(struct vs_users *users);

/* --- time ------------------------------------------------------------------------------- */

/* "YYYY-MM-DDTHH:MM:SSZ" (UTC); buf holds VS_TIME_BUF bytes. */
#define VS_TIME_BUF 48
void vs_time_format(int64_t t, char buf[VS_TIME_BUF]);

/* --- explain ---------------------------------------------------------------------------- */

/* Human-readable explanation of every folder (or only `folder` when not NULL) to out.
 * -ENOENT when `folder` names no folder of the policy. */
int vs_explain_write(FILE *out, const struct vs_policy *policy, const struct vs_decision *decision,
                     const char *folder);
/* The same as a JSON document (sorted keys, 2-space indent); caller frees *ret. */
int vs_explain_json(const struct vs_policy *policy, const struct vs_decision *decision,
                    const char *folder, char **ret);

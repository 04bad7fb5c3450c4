/* SPDX-License-Identifier: MIT */
/*
 * vault-policy kasm-native: Kasm's own mechanism measured against the policy.  Pattern A is
 * one Kasm group per policy group whose volume_mapping is the union of that group's grants
 * (every allow rule naming it, whatever its compound or window, plus what those folders
 * imply); Kasm combines the mappings of all of a user's groups.  Kasm has no AND of groups,
 * no deny and no time, so a user can get too much, too little or the wrong mode: each
 * difference is printed with the rule that causes it.  Then the admin objects each approach
 * needs (Pattern A, access classes, one mapping per user), for this policy and for generated
 * organisations, as a Markdown table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "org-generator.h"
#include "policy/classes.h"
#include "policy/policy.h"
#include "shared/rfc3339.h"
#include "vault-policy.h"

#define DEFAULT_ORGS "12x10x500,50x40x2000,200x300x10000"
#define YEAR (INT64_C(365) * 86400)

/* Pattern A: per policy group, the mode it maps each folder with (n_group_names x n_folders). */
static uint8_t *pattern_a_groups(const struct vp_compiled *c)
{
        size_t nf = c->policy->n_folders;
        uint8_t *map = calloc(c->n_group_names * nf + 1, 1);
        if (!map)
                return NULL;
        for (size_t f = 0; f < nf; f++)
                for (size_t r = c->first_rule[f]; r < c->first_rule[f + 1]; r++) {
                        const struct vp_rule *rule = &c->rules[r];
                        if (rule->rule->effect != VS_EFFECT_ALLOW)
                                continue;
                        for (size_t g = 0; g < rule->n_groups; g++) {
                                uint8_t *m = &map[rule->groups[g] * nf + f];
                                if (rule->rule->mode > *m)
                                        *m = (uint8_t)rule->rule->mode;
                        }
                }
        /* An admin copying the policy adds what each mapped folder implies to the same group. */
        for (size_t g = 0; g < c->n_group_names; g++)
                for (size_t k = 0; k < nf; k++) {
                        size_t f = c->order[k];
                        for (size_t e = c->first_edge[f]; e < c->first_edge[f + 1]; e++) {
                                uint8_t source = map[g * nf + c->edges[e].source];
                                uint8_t granted = source < c->edges[e].max_mode
                                                          ? source
                                                          : (uint8_t)c->edges[e].max_mode;
                                if (granted > map[g * nf + f])
                                        map[g * nf + f] = granted;
                        }
                }
        return map;
}

/* What Kasm gives a user: per folder a bit set of modes (1 << ro, 1 << rw) from their groups. */
static void pattern_a_user(const struct vp_compiled *c, const uint8_t *groups_map,
                           const struct vs_user *user, uint8_t *modes)
{
        size_t nf = c->policy->n_folders;
        memset(modes, 0, nf);
        for (size_t i = 0; i < user->n_groups; i++) {
                char **hit = NULL;
                for (size_t lo = 0, hi = c->n_group_names; lo < hi;) {
                        size_t mid = (lo + hi) / 2;
                        int cmp = strcmp(user->groups[i], c->group_names[mid]);
                        if (cmp == 0) {
                                hit = &c->group_names[mid];
                                break;
                        }
                        if (cmp < 0)
                                hi = mid;
                        else
                                lo = mid + 1;
                }
                if (!hit)
                        continue;
                size_t g = (size_t)(hit - c->group_names);
                for (size_t f = 0; f < nf; f++)
                        if (groups_map[g * nf + f])
                                modes[f] |= (uint8_t)(1u << groups_map[g * nf + f]);
        }
}

static const char *cell(unsigned mode)
{
        return mode == VS_MODE_NONE ? "-" : vs_mode_to_string((enum vs_mode)mode);
}

static const char *kasm_cell(uint8_t bits)
{
        switch (bits) {
        case 0: return "-";
        case 1u << VS_MODE_RO: return "ro";
        case 1u << VS_MODE_RW: return "rw";
        default: return "ro|rw";
        }
}

/* Why the policy gives less than Pattern A for this folder: the deciding rule, as text.
 * First an applying deny, then an allow Pattern A takes that the policy does not apply
 * (compound all, time window), then an implies edge. */
static int cause_of(const struct vp_compiled *c, const uint8_t *match, int64_t at,
                    const uint8_t *raw, size_t f, uint8_t kasm_max, char **ret)
{
        const struct vs_policy_folder *folder = &c->policy->folders[f];
        uint8_t policy_mode = raw[f] == VP_DENIED ? VS_MODE_NONE : raw[f];
        int n = -1;
        for (int pass = 0; pass < 2 && n < 0; pass++)
                for (size_t r = c->first_rule[f]; r < c->first_rule[f + 1] && n < 0; r++) {
                        const struct vs_policy_rule *rule = c->rules[r].rule;
                        bool in = vs_rule_in_window(rule, at);
                        bool deny = rule->effect == VS_EFFECT_DENY,
                             wider = !deny && rule->mode > policy_mode;
                        const char *what = NULL;
                        if (pass == 0 && deny && match[r] && in && rule->scope == VS_SCOPE_ALL &&
                            raw[f] == VP_DENIED)
                                what = "deny";
                        else if (pass == 0 && deny && match[r] && in &&
                                 rule->scope == VS_SCOPE_WRITE && policy_mode == VS_MODE_RO &&
                                 kasm_max == VS_MODE_RW)
                                what = "deny (scope write)";
                        else if (pass == 1 && wider && !match[r] &&
                                 rule->compound == VS_COMPOUND_ALL)
                                what = "compound all";
                        else if (pass == 1 && wider && match[r] && !in)
                                what = "time window";
                        if (!what)
                                continue;
                        char *label = vs_rule_label(folder, rule);
                        if (!label)
                                return -ENOMEM;
                        if (strcmp(what, "compound all") == 0)
                                n = asprintf(ret, "compound all: %s needs every group of it",
                                             label);
                        else if (strcmp(what, "time window") == 0)
                                n = asprintf(ret, "time window: %s is outside its window", label);
                        else
                                n = asprintf(ret, "%s: %s", what, label);
                        free(label);
                        if (n < 0)
                                return -ENOMEM;
                }
        for (size_t e = c->first_edge[f]; n < 0 && e < c->first_edge[f + 1]; e++)
                n = asprintf(ret, "implies: from %s, which Kasm maps wider than the policy",
                             c->policy->folders[c->edges[e].source].name);
        if (n < 0)
                n = asprintf(ret, "refused: the user name cannot be substituted safely");
        return n < 0 ? -ENOMEM : 0;
}

struct comparison {
        size_t users_wrong, too_much, too_little, wrong_mode;
};

static void print_group_mappings(const struct vp_compiled *c, const uint8_t *map)
{
        size_t nf = c->policy->n_folders;
        printf("Pattern A groups (one Kasm group per policy group, volume_mapping = the union of "
               "its grants):\n");
        for (size_t g = 0; g < c->n_group_names; g++) {
                bool any = false;
                printf("  %s:", c->group_names[g]);
                for (size_t f = 0; f < nf; f++)
                        if (map[g * nf + f]) {
                                printf("%s %s %s", any ? "," : "", c->policy->folders[f].name,
                                       cell(map[g * nf + f]));
                                any = true;
                        }
                printf("%s\n", any ? "" : " (no mapping: denies only)");
        }
}

/* Compare Pattern A with the policy for every user; print the differences when verbose. */
static int compare(const struct vp_compiled *c, const uint8_t *map, const struct vs_users *users,
                   int64_t at, bool verbose, struct comparison *ret)
{
        size_t nf = c->policy->n_folders;
        uint8_t *match = calloc(c->n_rules + 1, 1), *raw = calloc(nf + 1, 1),
                *policy = calloc(nf + 1, 1);
        uint8_t *kasm = calloc(nf + 1, 1);
        struct comparison cmp = { 0 };
        int r = -ENOMEM;
        if (!match || !raw || !policy || !kasm)
                goto out;
        if (verbose)
                printf("\n%-24s %-26s %-6s %-8s %-11s %s\n", "user", "folder", "policy", "Kasm",
                       "verdict", "cause");
        for (size_t u = 0; u < users->count; u++) {
                const struct vs_user *user = &users->items[u];
                struct vp_refusals refusals;
                bool wrong = false;
                if ((r = vp_refusals_for(c, user->name, user->id, &refusals)) < 0)
                        goto out;
                vp_match_rules(c, (const char *const *)user->groups, user->n_groups, match);
                vp_evaluate(c, match, at, raw);
                memcpy(policy, raw, nf);
                vp_apply_refusals(c, &refusals, policy);
                vp_refusals_clear(&refusals);
                pattern_a_user(c, map, user, kasm);
                for (size_t f = 0; f < nf; f++) {
                        uint8_t bits = kasm[f], p = policy[f];
                        uint8_t kasm_max = bits & (1u << VS_MODE_RW) ? VS_MODE_RW
                                           : bits                    ? VS_MODE_RO
                                                                     : VS_MODE_NONE;
                        const char *verdict;
                        char *cause = NULL;
                        if (bits == (1u << p) || (bits == 0 && p == VS_MODE_NONE))
                                continue;
                        wrong = true;
                        if (bits == ((1u << VS_MODE_RO) | (1u << VS_MODE_RW))) {
                                verdict = p == VS_MODE_NONE ? "too much" : "wrong mode";
                                cmp.wrong_mode += p != VS_MODE_NONE;
                                cmp.too_much += p == VS_MODE_NONE;
                                if (p != VS_MODE_NONE &&
                                    asprintf(&cause, "same folder ro/rw by group: the mode "
                                                     "depends on Kasm's merge order") < 0)
                                        goto out;
                        } else if (p == VS_MODE_NONE) {
                                verdict = "too much";
                                cmp.too_much++;
                        } else if (kasm_max > p) {
                                verdict = "wrong mode";
                                cmp.wrong_mode++;
                        } else {
                                verdict = kasm_max == VS_MODE_NONE ? "too little" : "wrong mode";
                                cmp.too_little += kasm_max == VS_MODE_NONE;
                                cmp.wrong_mode += kasm_max != VS_MODE_NONE;
                                if (asprintf(&cause, "the policy grants it through a rule Kasm "
                                                     "cannot express") < 0)
                                        goto out;
                        }
                        if (!cause && (r = cause_of(c, match, at, raw, f, kasm_max, &cause)) < 0)
                                goto out;
                        if (verbose)
                                printf("%-24s %-26s %-6s %-8s %-11s %s\n", user->name,
                                       c->policy->folders[f].name, cell(p), kasm_cell(bits),
                                       verdict, cause);
                        free(cause);
                }
                cmp.users_wrong += wrong;
        }
        *ret = cmp;
        r = 0;
out:
        free(match);
        free(raw);
        free(policy);
        free(kasm);
        return r;
}

struct admin_row {
        size_t groups, entries, memberships, changes, wrong;
};

/* The three approaches for one organisation (rows[0..2]; rows[3].groups: the policy's groups);
 * changes counted over a year from at. */
static int admin_objects(const struct vs_policy *policy, const struct vs_users *users, int64_t at,
                         struct admin_row rows[4], struct comparison *cmp, bool verbose)
{
        struct vp_compiled *c;
        struct vp_plan plan;
        int r = vp_compile(policy, &c);
        if (r < 0)
                return r;
        size_t nf = policy->n_folders;
        uint8_t *map = pattern_a_groups(c);
        if (!map) {
                vp_compiled_free(c);
                return -ENOMEM;
        }
        if (verbose)
                print_group_mappings(c, map);
        r = compare(c, map, users, at, verbose, cmp);
        if (r == 0)
                r = vp_plan_build(policy, users, at, at + YEAR, &plan);
        if (r < 0) {
                free(map);
                vp_compiled_free(c);
                return r;
        }
        memset(rows, 0, 4 * sizeof(*rows));
        rows[3].groups = c->n_group_names;
        /* Pattern A: groups with a mapping; every window bound is a hand edit of a mapping. */
        for (size_t g = 0; g < c->n_group_names; g++) {
                size_t n = 0;
                for (size_t f = 0; f < nf; f++)
                        n += map[g * nf + f] != 0;
                rows[0].groups += n > 0;
                rows[0].entries += n;
                for (size_t u = 0; n && u < users->count; u++)
                        for (size_t i = 0; i < users->items[u].n_groups; i++)
                                rows[0].memberships +=
                                        strcmp(users->items[u].groups[i], c->group_names[g]) == 0;
        }
        int64_t *bounds = NULL;
        uint8_t *all = calloc(c->n_rules + 1, 1);
        if (all) {
                memset(all, 1, c->n_rules);
                ssize_t n = vp_boundaries(c, all, at - 1, at + YEAR, &bounds, 0);
                rows[0].changes = n > 0 ? (size_t)n : 0;
        }
        free(all);
        free(bounds);
        rows[0].wrong = cmp->users_wrong;
        /* Classes: every class used during the year is a group; one membership per user. */
        bool *used = calloc(plan.n_classes + 1, sizeof(bool));
        for (size_t u = 0; used && u < users->count; u++)
                used[plan.initial[u]] = true;
        for (size_t i = 0; used && i < plan.n_changes; i++)
                used[plan.changes[i].to] = true;
        for (size_t k = 0; used && k < plan.n_classes; k++)
                if (used[k]) {
                        rows[1].groups++;
                        rows[1].entries += plan.classes[k].n_mounted;
                }
        free(used);
        rows[1].memberships = users->count;
        rows[1].changes = plan.n_changes;
        /* Per user: a mapping per user (a group of one), re-pasted at every change of theirs. */
        rows[2].groups = users->count;
        for (size_t u = 0; u < users->count; u++)
                rows[2].entries += plan.classes[plan.initial[u]].n_mounted;
        rows[2].memberships = users->count;
        rows[2].changes = plan.n_changes;
        vp_plan_clear(&plan);
        free(map);
        vp_compiled_free(c);
        return 0;
}

static void print_rows(const char *org, const struct admin_row rows[3])
{
        static const char *const names[] = { "Pattern A (group per policy group)", "access classes",
                                             "per-user mappings" };
        for (int i = 0; i < 3; i++)
                printf("| %s | %s | %zu | %zu | %zu | %zu | %zu |\n", org, names[i], rows[i].groups,
                       rows[i].entries, rows[i].memberships, rows[i].changes, rows[i].wrong);
}

static int generated_org(const struct org_shape *shape, int64_t at)
{
        char *policy_yaml = NULL, *users_yaml = NULL, org[96];
        size_t policy_len, users_len;
        struct vs_diags diags = { 0 };
        struct vs_policy *policy = NULL;
        struct vs_users users = { 0 };
        struct admin_row rows[4];
        struct comparison cmp;
        int r = org_generate(shape, &policy_yaml, &policy_len, &users_yaml, &users_len);
        if (r < 0)
                return r;
        r = vs_policy_parse("generated-policy.yaml", policy_yaml, policy_len, &policy, &diags);
        if (r == 0)
                r = vs_users_parse("generated-users.yaml", users_yaml, users_len, &users, &diags);
        if (r < 0)
                print_diags(&diags);
        vs_diags_clear(&diags);
        if (r == 0)
                r = admin_objects(policy, &users, at, rows, &cmp, false);
        if (r == 0) {
                snprintf(org, sizeof(org), "generated %zu x %zu x %zu", shape->folders,
                         shape->groups, shape->users);
                print_rows(org, rows);
        }
        vs_users_clear(&users);
        vs_policy_free(policy);
        free(policy_yaml);
        free(users_yaml);
        return r;
}

int run_kasm_native(const struct vs_policy *policy, const struct vs_users *users, int64_t at,
                    const char *orgs)
{
        struct org_shape *shapes = NULL;
        size_t n_shapes = 0;
        struct admin_row rows[4];
        struct comparison cmp;
        char when[VS_TIME_BUF], org[64];
        int64_t year_start;
        int r = org_parse_shapes(orgs ? orgs : DEFAULT_ORGS, &shapes, &n_shapes);
        if (r == -EINVAL) {
                fprintf(stderr,
                        "vault-policy: --orgs must be a comma-separated list of NxMxU (folders x "
                        "groups x "
                        "users, at least 2x1x1), got \"%s\"\n",
                        orgs);
                return EXIT_USAGE;
        }
        if (r < 0)
                return r;
        size_t refused = 0;
        vs_time_format(at, when);
        r = report_refusals_at(policy, users, NULL, at, NULL, &refused);
        if (r < 0) {
                free(shapes);
                return r;
        }
        printf("Kasm-native Pattern A against the policy at %s\n\n", when);
        r = admin_objects(policy, users, at, rows, &cmp, true);
        if (r == 0) {
                printf("\n%zu of %zu users get something other than the policy: %zu folders too "
                       "much, %zu too little, "
                       "%zu in the wrong mode.\n",
                       cmp.users_wrong, users->count, cmp.too_much, cmp.too_little, cmp.wrong_mode);
                printf("\nAdmin objects per approach (changes: class or mapping changes in the "
                       "year from %s for this "
                       "policy, from " ORG_YEAR_START
                       " for generated ones; Pattern A: window bounds, each a hand "
                       "edit of a group's mapping that is still wrong for the group's other "
                       "members):\n\n",
                       when);
                printf("| organisation (folders x groups x users) | approach | Kasm groups | "
                       "volume_mapping entries | "
                       "memberships | changes in a year | users wrong |\n");
                printf("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
                snprintf(org, sizeof(org), "this policy %zu x %zu x %zu", policy->n_folders,
                         rows[3].groups, users->count);
                print_rows(org, rows);
        }
        vs_rfc3339_parse(ORG_YEAR_START, &year_start);
        for (size_t i = 0; r == 0 && i < n_shapes; i++)
                r = generated_org(&shapes[i], year_start);
        free(shapes);
        if (r < 0)
                return r;
        if (fflush(stdout) == EOF)
                return -EIO;
        return refused ? EXIT_PARTIAL : EXIT_OK;
}

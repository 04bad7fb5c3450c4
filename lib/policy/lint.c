/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/policy-internal.h"

int vp_lint_add(struct vs_lint *lint, const char *file, const char *code, struct vs_mark mark,
                const char *fmt, ...)
{
        struct vs_lint_warning *items = realloc(lint->items, (lint->count + 1) * sizeof(*items));
        if (!items)
                return -ENOMEM;
        lint->items = items;
        struct vs_lint_warning *w = &items[lint->count];
        *w = (struct vs_lint_warning){ .line = mark.line,
                                       .column = mark.column,
                                       .code = strdup(code),
                                       .file = file ? strdup(file) : NULL };
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&w->message, fmt, ap);
        va_end(ap);
        if (r < 0 || !w->code || (file && !w->file)) {
                free(w->code);
                free(w->file);
                if (r >= 0)
                        free(w->message);
                return -ENOMEM;
        }
        lint->count++;
        return 0;
}

static bool rule_has_group(const struct vs_policy_rule *rule, const char *name)
{
        for (size_t i = 0; i < rule->n_groups; i++)
                if (strcmp(rule->groups[i].name, name) == 0)
                        return true;
        return false;
}

/* Whether every group set matching a also matches b.  Both conditions are monotone, so it
 * is enough to check a's minimal matching sets: one group each for "any", all for "all". */
static bool condition_implies(const struct vs_policy_rule *a, const struct vs_policy_rule *b)
{
        if (a->compound == VS_COMPOUND_ANY) {
                for (size_t i = 0; i < a->n_groups; i++) {
                        const char *only = a->groups[i].name;
                        bool matches = b->compound == VS_COMPOUND_ANY
                                ? rule_has_group(b, only)
                                : b->n_groups == 1 && strcmp(b->groups[0].name, only) == 0;
                        if (!matches)
                                return false;
                }
                return true;
        }
        for (size_t i = 0; i < b->n_groups; i++) {
                bool present = rule_has_group(a, b->groups[i].name);
                if (b->compound == VS_COMPOUND_ANY && present)
                        return true;
                if (b->compound == VS_COMPOUND_ALL && !present)
                        return false;
        }
        return b->compound == VS_COMPOUND_ALL;
}

/* Whether b's window covers a's. */
static bool window_covers(const struct vs_policy_rule *b, const struct vs_policy_rule *a)
{
        bool start = b->not_before == VS_TIME_NONE ||
                     (a->not_before != VS_TIME_NONE && b->not_before <= a->not_before);
        bool end = b->not_after == VS_TIME_NONE ||
                   (a->not_after != VS_TIME_NONE && b->not_after >= a->not_after);
        return start && end;
}

/* Whether rule b makes rule a pointless: whenever a applies, b applies and does at least as
 * much. */
static bool rule_covers(const struct vs_policy_rule *b, const struct vs_policy_rule *a)
{
        if (a->effect != b->effect)
                return false;
        if (a->effect == VS_EFFECT_ALLOW ? b->mode < a->mode
                                         : (b->scope != VS_SCOPE_ALL && a->scope == VS_SCOPE_ALL))
                return false;
        return condition_implies(a, b) && window_covers(b, a);
}

static bool rules_identical(const struct vs_policy_rule *a, const struct vs_policy_rule *b)
{
        return rule_covers(a, b) && rule_covers(b, a);
}

static int lint_rules(const struct vs_policy *policy, const struct vs_policy_folder *folder,
                      int64_t now, struct vs_lint *lint)
{
        char when[VS_TIME_BUF];
        int r = 0;

        for (size_t i = 0; i < folder->n_rules && r == 0; i++) {
                const struct vs_policy_rule *rule = &folder->rules[i];
                if (rule->not_after != VS_TIME_NONE && rule->not_after <= now) {
                        vs_time_format(rule->not_after, when);
                        r = vp_lint_add(
                                lint, NULL, "expired-rule", rule->mark,
                                "%s#access[%zu] expired at %s and can never apply again; remove it",
                                folder->name, i, when);
                        continue;
                }
                for (size_t j = 0; j < folder->n_rules && r == 0; j++) {
                        const struct vs_policy_rule *other = &folder->rules[j];
                        if (i == j)
                                continue;
                        if (rule->effect == VS_EFFECT_ALLOW && other->effect == VS_EFFECT_DENY &&
                            other->scope == VS_SCOPE_ALL && condition_implies(rule, other) &&
                            window_covers(other, rule)) {
                                r = vp_lint_add(
                                        lint, NULL, "never-valid-rule", rule->mark,
                                        "%s#access[%zu] can never grant access: %s#access[%zu] "
                                        "(%u:%u) denies everyone it matches whenever it applies",
                                        folder->name, i, folder->name, j, other->mark.line,
                                        other->mark.column);
                                break;
                        }
                        /* Of two identical rules, only the later one is the redundant one. */
                        if (rule_covers(other, rule) && !(rules_identical(rule, other) && j > i)) {
                                r = vp_lint_add(lint, NULL, "redundant-rule", rule->mark,
                                                "%s#access[%zu] is redundant: %s#access[%zu] "
                                                "(%u:%u) already applies whenever it does, with at "
                                                "least its effect",
                                                folder->name, i, folder->name, j, other->mark.line,
                                                other->mark.column);
                                break;
                        }
                }
        }
        return r;
}

static int lint_paths(const struct vs_policy *policy, struct vs_lint *lint)
{
        for (size_t a = 0; a < policy->n_folders; a++)
                for (size_t b = 0; b < policy->n_folders; b++) {
                        const struct vs_policy_folder *outer = &policy->folders[a],
                                                      *inner = &policy->folders[b];
                        size_t n = strlen(outer->path);
                        if (a == b || strncmp(inner->path, outer->path, n) != 0 ||
                            inner->path[n] != '/')
                                continue;
                        /* Loading refused every pair where this exposes more than inner grants. */
                        int r = vp_lint_add(
                                lint, NULL, "nested-path", inner->path_mark,
                                "host path \"%s\" of folder \"%s\" lies inside \"%s\" of folder "
                                "\"%s\" (%u:%u): whoever mounts \"%s\" also reaches these files at "
                                "%s/%s%s, with its mode (the policy loads only because \"%s\" "
                                "always grants at least as much)",
                                inner->path, inner->name, outer->path, outer->name,
                                outer->path_mark.line, outer->path_mark.column, outer->name,
                                policy->vault, outer->name, inner->path + n, inner->name);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int lint_group_case(const struct vs_policy *policy, struct vs_lint *lint)
{
        /* Collect every group mention once per distinct spelling, in file order. */
        const struct vs_policy_group **seen = NULL;
        size_t n_seen = 0;
        int r = 0;

        for (size_t f = 0; f < policy->n_folders && r == 0; f++)
                for (size_t i = 0; i < policy->folders[f].n_rules && r == 0; i++) {
                        const struct vs_policy_rule *rule = &policy->folders[f].rules[i];
                        for (size_t g = 0; g < rule->n_groups && r == 0; g++) {
                                const struct vs_policy_group *group = &rule->groups[g];
                                size_t k;
                                for (k = 0; k < n_seen; k++)
                                        if (strcmp(seen[k]->name, group->name) == 0)
                                                break;
                                if (k < n_seen)
                                        continue;
                                const struct vs_policy_group **more =
                                        realloc(seen, (n_seen + 1) * sizeof(*seen));
                                if (!more) {
                                        r = -ENOMEM;
                                        break;
                                }
                                seen = more;
                                seen[n_seen++] = group;
                        }
                }
        for (size_t a = 0; a < n_seen && r == 0; a++)
                for (size_t b = a + 1; b < n_seen && r == 0; b++) {
                        if (strcasecmp(seen[a]->name, seen[b]->name) != 0)
                                continue;
                        /* Report at the later position so the message points at the newcomer. */
                        const struct vs_policy_group *first = seen[a], *second = seen[b];
                        if (second->mark.line < first->mark.line ||
                            (second->mark.line == first->mark.line &&
                             second->mark.column < first->mark.column)) {
                                first = seen[b];
                                second = seen[a];
                        }
                        r = vp_lint_add(lint, NULL, "group-case", second->mark,
                                        "group \"%s\" differs from \"%s\" (%u:%u) only in case; "
                                        "group names are case-sensitive",
                                        second->name, first->name, first->mark.line,
                                        first->mark.column);
                }
        free(seen);
        return r;
}

static int compare_warnings(const void *a, const void *b)
{
        const struct vs_lint_warning *wa = a, *wb = b;
        if (!wa->file != !wb->file)
                return wa->file ? 1 : -1;
        if (wa->file && strcmp(wa->file, wb->file) != 0)
                return strcmp(wa->file, wb->file);
        if (wa->line != wb->line)
                return wa->line < wb->line ? -1 : 1;
        if (wa->column != wb->column)
                return wa->column < wb->column ? -1 : 1;
        int r = strcmp(wa->code, wb->code);
        return r ? r : strcmp(wa->message, wb->message);
}

int vs_policy_lint(const struct vs_policy *policy, int64_t now, struct vs_lint *ret)
{
        struct vs_lint lint = { 0 };
        int r = lint_paths(policy, &lint);
        for (size_t f = 0; f < policy->n_folders && r == 0; f++)
                r = lint_rules(policy, &policy->folders[f], now, &lint);
        if (r == 0)
                r = lint_group_case(policy, &lint);
        if (r < 0) {
                vs_lint_clear(&lint);
                return r;
        }
        vp_lint_sort(&lint);
        *ret = lint;
        return 0;
}

void vp_lint_sort(struct vs_lint *lint)
{
        if (lint->count > 1)
                qsort(lint->items, lint->count, sizeof(*lint->items), compare_warnings);
}

void vs_lint_clear(struct vs_lint *lint)
{
        for (size_t i = 0; i < lint->count; i++) {
                free(lint->items[i].file);
                free(lint->items[i].code);
                free(lint->items[i].message);
        }
        free(lint->items);
        *lint = (struct vs_lint){ 0 };
}

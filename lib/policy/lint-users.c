/* SPDX-License-Identifier: MIT */
/*
 * The policy against a users file.  A group spelled one way in the directory and another in
 * the policy silently matches nothing on either side, so both directions are warned about:
 * a group users have that no rule names, and a group rules name that no user has, each with
 * the nearest name of the other side.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-internal.h"

/* A group as the users file has it: where it first appears and how many users have it. */
struct held_group {
        const char *name;
        const struct vs_user *first_user;
        struct vs_mark mark;
        size_t n_users;
};

/* A group as the rules name it: every place, in file order. */
struct named_group {
        const char *name;
        struct vs_mark *marks;
        size_t n_marks;
};

static int compare_marks(const void *a, const void *b)
{
        const struct vs_mark *ma = a, *mb = b;
        if (ma->line != mb->line)
                return ma->line < mb->line ? -1 : 1;
        return ma->column < mb->column ? -1 : ma->column > mb->column;
}

static int compare_named(const void *a, const void *b)
{
        return compare_marks(&((const struct named_group *)a)->marks[0],
                             &((const struct named_group *)b)->marks[0]);
}

static bool user_has(const struct vs_user *user, const char *name, size_t before)
{
        for (size_t g = 0; g < before && g < user->n_groups; g++)
                if (strcmp(user->groups[g], name) == 0)
                        return true;
        return false;
}

/* Every distinct group of the users file, in file order. */
static int collect_held(const struct vs_users *users, struct held_group **ret, size_t *n_ret)
{
        struct held_group *held = NULL;
        size_t n = 0;
        for (size_t u = 0; u < users->count; u++) {
                const struct vs_user *user = &users->items[u];
                for (size_t g = 0; g < user->n_groups; g++) {
                        if (user_has(user, user->groups[g], g))
                                continue; /* the same user listing it twice counts once */
                        size_t k;
                        for (k = 0; k < n && strcmp(held[k].name, user->groups[g]) != 0; k++)
                                ;
                        if (k == n) {
                                struct held_group *more = realloc(held, (n + 1) * sizeof(*held));
                                if (!more) {
                                        free(held);
                                        return -ENOMEM;
                                }
                                held = more;
                                held[n++] = (struct held_group){
                                        .name = user->groups[g],
                                        .first_user = user,
                                        .mark = user->group_marks ? user->group_marks[g]
                                                                  : (struct vs_mark){ 0 }
                                };
                        }
                        held[k].n_users++;
                }
        }
        *ret = held;
        *n_ret = n;
        return 0;
}

static void named_clear(struct named_group *named, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(named[i].marks);
        free(named);
}

/* Record one place where a rule names a group, adding the group when it is new. */
static int add_named(struct named_group **named, size_t *n, const struct vs_policy_group *group)
{
        size_t k;
        for (k = 0; k < *n && strcmp((*named)[k].name, group->name) != 0; k++)
                ;
        if (k == *n) {
                struct named_group *more = realloc(*named, (*n + 1) * sizeof(**named));
                if (!more)
                        return -ENOMEM;
                *named = more;
                more[(*n)++] = (struct named_group){ .name = group->name };
        }
        struct named_group *g = &(*named)[k];
        struct vs_mark *marks = realloc(g->marks, (g->n_marks + 1) * sizeof(*marks));
        if (!marks)
                return -ENOMEM;
        g->marks = marks;
        marks[g->n_marks++] = group->mark;
        return 0;
}

/* Every distinct group the rules name, ordered by its first place in the policy file (the
 * folders themselves are sorted by name). */
static int collect_named(const struct vs_policy *policy, struct named_group **ret, size_t *n_ret)
{
        struct named_group *named = NULL;
        size_t n = 0;
        int r = 0;
        for (size_t f = 0; f < policy->n_folders && r == 0; f++)
                for (size_t i = 0; i < policy->folders[f].n_rules && r == 0; i++) {
                        const struct vs_policy_rule *rule = &policy->folders[f].rules[i];
                        for (size_t g = 0; g < rule->n_groups && r == 0; g++)
                                r = add_named(&named, &n, &rule->groups[g]);
                }
        if (r < 0) {
                named_clear(named, n);
                return r;
        }
        for (size_t k = 0; k < n; k++)
                qsort(named[k].marks, named[k].n_marks, sizeof(*named[k].marks), compare_marks);
        if (n > 1)
                qsort(named, n, sizeof(*named), compare_named);
        *ret = named;
        *n_ret = n;
        return 0;
}

static bool held_by_someone(const struct held_group *held, size_t n, const char *name)
{
        for (size_t k = 0; k < n; k++)
                if (strcmp(held[k].name, name) == 0)
                        return true;
        return false;
}

/* The users file's group nearest to name (the first of equally near ones), or NULL. */
static const char *similar_held(const struct held_group *held, size_t n, const char *name)
{
        const char *best = NULL;
        size_t best_distance = VP_NOT_SIMILAR;
        for (size_t k = 0; k < n; k++) {
                size_t d = vp_name_distance(held[k].name, name);
                if (d < best_distance) {
                        best = held[k].name;
                        best_distance = d;
                }
        }
        return best;
}

/* " (also named at 12:9, 20:9)" for the places after the first; "" when there are none. */
static char *other_places(const struct named_group *named)
{
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (!out)
                return NULL;
        for (size_t i = 1; i < named->n_marks; i++)
                fprintf(out, "%s%u:%u", i == 1 ? " (also named at " : ", ", named->marks[i].line,
                        named->marks[i].column);
        if (named->n_marks > 1)
                fputc(')', out);
        if (fclose(out) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

static int lint_held(const struct vs_policy *policy, const struct vs_users *users,
                     const struct held_group *held, size_t n_held, struct vs_lint *lint)
{
        for (size_t k = 0; k < n_held; k++) {
                if (vs_policy_names_group(policy, held[k].name))
                        continue;
                const char *similar = vs_policy_similar_group(policy, held[k].name);
                char others[64] = "";
                if (held[k].n_users > 1)
                        snprintf(others, sizeof(others), " (and %zu other user%s)",
                                 held[k].n_users - 1, held[k].n_users > 2 ? "s" : "");
                int r = vp_lint_add(lint, users->file, "group-without-rule", held[k].mark,
                                    "group \"%s\" of user \"%s\"%s is named by no rule of %s%s%s%s",
                                    held[k].name, held[k].first_user->name, others, policy->file,
                                    similar ? " (did you mean \"" : "", similar ? similar : "",
                                    similar ? "\"?)" : "");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int lint_named(const struct vs_policy *policy, const struct vs_users *users,
                      const struct held_group *held, size_t n_held, struct vs_lint *lint)
{
        struct named_group *named = NULL;
        size_t n_named = 0;
        int r = collect_named(policy, &named, &n_named);
        for (size_t k = 0; k < n_named && r == 0; k++) {
                if (held_by_someone(held, n_held, named[k].name))
                        continue;
                const char *similar = similar_held(held, n_held, named[k].name);
                char *places = other_places(&named[k]);
                if (!places) {
                        r = -ENOMEM;
                        break;
                }
                r = vp_lint_add(lint, NULL, "group-without-user", named[k].marks[0],
                                "group \"%s\" is named here%s but no user of %s has it%s%s%s",
                                named[k].name, places, users->file,
                                similar ? " (did you mean \"" : "", similar ? similar : "",
                                similar ? "\"?)" : "");
                free(places);
        }
        named_clear(named, n_named);
        return r;
}

int vs_policy_lint_users(const struct vs_policy *policy, const struct vs_users *users,
                         struct vs_lint *lint)
{
        struct held_group *held;
        size_t n_held;
        if (!users->file)
                return -EINVAL;
        int r = collect_held(users, &held, &n_held);
        if (r < 0)
                return r;
        r = lint_held(policy, users, held, n_held, lint);
        if (r == 0)
                r = lint_named(policy, users, held, n_held, lint);
        free(held);
        vp_lint_sort(lint);
        return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * A folder whose host path lies inside another folder's host path is reachable through the
 * outer folder's mount, with the outer folder's mode: whatever the inner folder's own rules
 * say (a deny, or ro) is then not what happens.  Such a pair is accepted only when, for every
 * set of groups and at every instant, the inner folder's decision is at least as permissive
 * as the outer one's (lint still warns); otherwise the policy does not load, and the error
 * names a smallest group set (and an instant) that reaches the inner folder's files through
 * the outer mount.
 *
 * Only the groups and time bounds of the two folders and of the folders that imply them
 * (transitively) can change their decisions, so trying every subset of those groups at
 * every boundary instant is exhaustive.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-internal.h"

/* 2^12 group sets per nested pair at most; a pair that needs more is refused as unverifiable. */
#define NESTING_MAX_GROUPS 12

struct pair_inputs {
        const char **groups;         /* distinct group names that can matter */
        size_t n_groups;
        int64_t *instants;           /* one instant per interval between time bounds */
        size_t n_instants;
};

static bool path_inside(const char *inner, const char *outer)
{
        size_t n = strlen(outer);
        return strncmp(inner, outer, n) == 0 && inner[n] == '/';
}

static int compare_int64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return x < y ? -1 : x > y;
}

static bool has_name(const char **names, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(names[i], name) == 0)
                        return true;
        return false;
}

/* The folders whose decisions can change a or b: themselves and whatever implies them. */
static void mark_relevant(const struct vs_policy *policy, size_t a, size_t b, bool *marked)
{
        bool changed = true;
        marked[a] = marked[b] = true;
        while (changed) {
                changed = false;
                for (size_t f = 0; f < policy->n_folders; f++)
                        for (size_t i = 0; !marked[f] && i < policy->folders[f].n_implies; i++)
                                if (marked[policy->folders[f].implies[i].target])
                                        marked[f] = changed = true;
        }
}

static int collect_inputs(const struct vs_policy *policy, const bool *marked, struct pair_inputs *in)
{
        size_t n_rules = 0;
        for (size_t f = 0; f < policy->n_folders; f++)
                if (marked[f])
                        for (size_t i = 0; i < policy->folders[f].n_rules; i++)
                                n_rules += policy->folders[f].rules[i].n_groups + 2;
        in->groups = calloc(n_rules + 1, sizeof(*in->groups));
        in->instants = calloc(n_rules + 1, sizeof(*in->instants));
        if (!in->groups || !in->instants)
                return -ENOMEM;
        int64_t *bounds = in->instants + 1;
        size_t n_bounds = 0;
        for (size_t f = 0; f < policy->n_folders; f++) {
                if (!marked[f])
                        continue;
                for (size_t i = 0; i < policy->folders[f].n_rules; i++) {
                        const struct vs_policy_rule *rule = &policy->folders[f].rules[i];
                        for (size_t g = 0; g < rule->n_groups; g++)
                                if (!has_name(in->groups, in->n_groups, rule->groups[g].name))
                                        in->groups[in->n_groups++] = rule->groups[g].name;
                        if (rule->not_before != VS_TIME_NONE)
                                bounds[n_bounds++] = rule->not_before;
                        if (rule->not_after != VS_TIME_NONE)
                                bounds[n_bounds++] = rule->not_after;
                }
        }
        /* Decisions are constant on [b_i, b_i+1): one instant each, and one before them all. */
        qsort(bounds, n_bounds, sizeof(*bounds), compare_int64);
        in->instants[0] = n_bounds ? bounds[0] - 1 : 0;
        in->n_instants = 1;
        for (size_t i = 0; i < n_bounds; i++)
                if (bounds[i] != in->instants[in->n_instants - 1])
                        in->instants[in->n_instants++] = bounds[i];
        return 0;
}

static enum vs_mode mounted_mode(const struct vs_folder_decision *fd)
{
        return fd->status == VS_FOLDER_MOUNTED ? fd->mode : VS_MODE_NONE;
}

static const char *decision_words(const struct vs_folder_decision *fd)
{
        if (fd->status == VS_FOLDER_MOUNTED)
                return fd->mode == VS_MODE_RW ? "rw" : "only ro";
        return fd->status == VS_FOLDER_DENIED ? "DENIED" : "no access";
}

static char *group_set_text(const struct pair_inputs *in, unsigned mask)
{
        size_t len = 3;
        for (size_t g = 0; g < in->n_groups; g++)
                len += strlen(in->groups[g]) + 2;
        char *text = malloc(len);
        if (!text)
                return NULL;
        strcpy(text, "[");
        bool first = true;
        for (size_t g = 0; g < in->n_groups; g++)
                if (mask & (1u << g)) {
                        strcat(text, first ? "" : ", ");
                        strcat(text, in->groups[g]);
                        first = false;
                }
        strcat(text, "]");
        return text;
}

static int report_exposure(const struct vs_policy *policy, const struct vs_policy_folder *inner,
                           const struct vs_policy_folder *outer, const struct pair_inputs *in,
                           unsigned mask, int64_t now, const struct vs_decision *d,
                           struct vs_diags *diags)
{
        const struct vs_folder_decision *fi = &d->folders[inner - policy->folders];
        const struct vs_folder_decision *fo = &d->folders[outer - policy->folders];
        char when[VS_TIME_BUF + 4] = "";
        char *groups = group_set_text(in, mask);
        if (!groups)
                return -ENOMEM;
        if (in->n_instants > 1) {
                strcpy(when, " at ");
                vs_time_format(now, when + 4);
        }
        vs_diags_add(diags, policy->file, inner->path_mark.line, inner->path_mark.column,
                     "host path \"%s\" of folder \"%s\" lies inside \"%s\" of folder \"%s\" (%u:%u), "
                     "and a user in %s%s gets \"%s\" %s but \"%s\" %s: the files of \"%s\" are "
                     "reachable %s at %s/%s%s; give \"%s\" a host path outside \"%s\", or grant it "
                     "at least what \"%s\" grants",
                     inner->path, inner->name, outer->path, outer->name, outer->path_mark.line,
                     outer->path_mark.column, groups, when, outer->name, decision_words(fo),
                     inner->name, decision_words(fi), inner->name,
                     vs_mode_to_string(mounted_mode(fo)), policy->vault, outer->name,
                     inner->path + strlen(outer->path), inner->name, outer->path, outer->name);
        free(groups);
        return 0;
}

static unsigned popcount(unsigned x)
{
        return (unsigned)__builtin_popcount(x);
}

/* 1 when an exposure was reported, 0 when none exists, -errno. */
static int check_pair(const struct vs_policy *policy, size_t i, size_t o, struct vs_diags *diags)
{
        const struct vs_policy_folder *inner = &policy->folders[i], *outer = &policy->folders[o];
        struct pair_inputs in = { 0 };
        bool *marked = calloc(policy->n_folders, sizeof(*marked));
        const char **chosen = NULL;
        int r = marked ? 0 : -ENOMEM;

        if (r == 0) {
                mark_relevant(policy, i, o, marked);
                r = collect_inputs(policy, marked, &in);
        }
        if (r == 0 && in.n_groups > NESTING_MAX_GROUPS) {
                vs_diags_add(diags, policy->file, inner->path_mark.line, inner->path_mark.column,
                             "host path \"%s\" of folder \"%s\" lies inside \"%s\" of folder \"%s\" "
                             "(%u:%u), and %zu groups decide them, too many to prove that \"%s\" "
                             "never grants more than \"%s\" (at most %d); give \"%s\" a host path "
                             "outside \"%s\"",
                             inner->path, inner->name, outer->path, outer->name,
                             outer->path_mark.line, outer->path_mark.column, in.n_groups,
                             outer->name, inner->name, NESTING_MAX_GROUPS, inner->name,
                             outer->path);
                r = 1;
        }
        if (r == 0 && !(chosen = calloc(in.n_groups + 1, sizeof(*chosen))))
                r = -ENOMEM;
        /* Smallest group sets first, so the error shows the simplest way in. */
        for (unsigned size = 0; r == 0 && size <= in.n_groups; size++)
                for (unsigned mask = 0; r == 0 && mask < (1u << in.n_groups); mask++) {
                        if (popcount(mask) != size)
                                continue;
                        size_t n = 0;
                        for (size_t g = 0; g < in.n_groups; g++)
                                if (mask & (1u << g))
                                        chosen[n++] = in.groups[g];
                        for (size_t t = 0; r == 0 && t < in.n_instants; t++) {
                                struct vs_request request = {
                                        .user_name = "user", .user_id = "1000", .groups = chosen,
                                        .n_groups = n, .now = in.instants[t],
                                };
                                struct vs_decision *d;
                                r = vs_policy_decide(policy, &request, &d);
                                if (r < 0)
                                        break;
                                if (mounted_mode(&d->folders[i]) < mounted_mode(&d->folders[o])) {
                                        r = report_exposure(policy, inner, outer, &in, mask,
                                                            in.instants[t], d, diags);
                                        r = r < 0 ? r : 1;
                                }
                                vs_decision_free(d);
                        }
                }
        free(chosen);
        free(in.groups);
        free(in.instants);
        free(marked);
        return r;
}

unsigned vs_policy_check_nesting(const struct vs_policy *policy, struct vs_diags *diags)
{
        unsigned errors = 0;
        for (size_t o = 0; o < policy->n_folders; o++)
                for (size_t i = 0; i < policy->n_folders; i++) {
                        if (i == o || !path_inside(policy->folders[i].path, policy->folders[o].path))
                                continue;
                        if (check_pair(policy, i, o, diags) != 0)
                                errors++;
                }
        return errors;
}

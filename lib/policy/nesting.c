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
 *
 * A template path (/users/{username}) meets a literal one (/users/alice/special) only for
 * the users whose name or id fills it that way (template-paths.c): the pair is checked as
 * above for each such user, and the error names the template, the literal and the user.
 * Two templates can meet only for particular users too (/data/{user_id} and
 * /data/{username}/private when a name equals an id): that is decided per user, after
 * substitution (decide.c refuses the outer folder for such a user).
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

static int collect_inputs(const struct vs_policy *policy, const bool *marked,
                          struct pair_inputs *in)
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

/* What the rules grant: a folder refused because another one mounts the same host path (for
 * the user a template is filled for) still has the files its rules grant in that mount. */
static enum vs_mode mounted_mode(const struct vs_folder_decision *fd)
{
        return fd->status == VS_FOLDER_MOUNTED || fd->status == VS_FOLDER_REFUSED ? fd->mode
                                                                                 : VS_MODE_NONE;
}

static const char *decision_words(const struct vs_folder_decision *fd)
{
        if (fd->status == VS_FOLDER_MOUNTED || fd->status == VS_FOLDER_REFUSED)
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

/* Who a pair is checked for: a binding's user, else anyone. */
struct pair_user {
        const struct vp_binding *binding; /* NULL: literal paths (or templates sharing a prefix) */
        char *inner_path, *outer_path;    /* substituted for that user */
};

/* " for user \"alice\"", " for user id \"7002\"", or "" for anyone. */
static void user_words(const struct vp_binding *b, char *buf, size_t size)
{
        if (!b)
                snprintf(buf, size, "%s", "");
        else if (b->user_name && b->user_id)
                snprintf(buf, size, " for user \"%s\" (id \"%s\")", b->user_name, b->user_id);
        else if (b->user_name)
                snprintf(buf, size, " for user \"%s\"", b->user_name);
        else
                snprintf(buf, size, " for user id \"%s\"", b->user_id);
}

static int report_exposure(const struct vs_policy *policy, const struct vs_policy_folder *inner,
                           const struct vs_policy_folder *outer, const struct pair_inputs *in,
                           unsigned mask, int64_t now, const struct vs_decision *d,
                           const struct pair_user *who, struct vs_diags *diags)
{
        char user[600]; /* two names of at most 255 bytes */
        const char *rest = who->inner_path + strlen(who->outer_path);
        user_words(who->binding, user, sizeof(user));
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
                     "host path \"%s\" of folder \"%s\" %s \"%s\" of folder \"%s\" (%u:%u)%s, "
                     "and a user in %s%s gets \"%s\" %s but \"%s\" %s: the files of \"%s\" are "
                     "reachable %s at %s/%s%s; give \"%s\" a host path outside \"%s\", or grant it "
                     "at least what \"%s\" grants",
                     inner->path, inner->name, *rest ? "lies inside" : "is the same as",
                     outer->path, outer->name, outer->path_mark.line, outer->path_mark.column,
                     user, groups, when, outer->name, decision_words(fo), inner->name,
                     decision_words(fi), inner->name, vs_mode_to_string(mounted_mode(fo)),
                     policy->vault, outer->name, rest, inner->name, outer->path, outer->name);
        free(groups);
        return 0;
}

static unsigned popcount(unsigned x)
{
        return (unsigned)__builtin_popcount(x);
}

/* 1 when an exposure was reported, 0 when none exists, -errno. */
static int check_pair(const struct vs_policy *policy, size_t i, size_t o,
                      const struct vp_binding *binding, struct vs_diags *diags)
{
        struct pair_user who = { .binding = binding };
        const char *user_name = binding && binding->user_name ? binding->user_name : "user";
        const char *user_id = binding && binding->user_id ? binding->user_id : "1000";
        const char *why;
        const struct vs_policy_folder *inner = &policy->folders[i], *outer = &policy->folders[o];
        struct pair_inputs in = { 0 };
        bool *marked = calloc(policy->n_folders, sizeof(*marked));
        const char **chosen = NULL;
        int r = marked ? 0 : -ENOMEM;

        if (r == 0) {
                mark_relevant(policy, i, o, marked);
                r = collect_inputs(policy, marked, &in);
        }
        if (r == 0 && (vs_policy_substitute(policy->folders[i].path, user_name, user_id,
                                            &who.inner_path, &why) < 0 ||
                       vs_policy_substitute(policy->folders[o].path, user_name, user_id,
                                            &who.outer_path, &why) < 0))
                r = -ENOMEM; /* the names are safe: only allocation can fail */
        if (r == 0 && in.n_groups > NESTING_MAX_GROUPS) {
                vs_diags_add(
                        diags, policy->file, inner->path_mark.line, inner->path_mark.column,
                        "host path \"%s\" of folder \"%s\" lies inside \"%s\" of folder \"%s\" "
                        "(%u:%u), and %zu groups decide them, too many to prove that \"%s\" "
                        "never grants more than \"%s\" (at most %d); give \"%s\" a host path "
                        "outside \"%s\"",
                        inner->path, inner->name, outer->path, outer->name, outer->path_mark.line,
                        outer->path_mark.column, in.n_groups, outer->name, inner->name,
                        NESTING_MAX_GROUPS, inner->name, outer->path);
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
                                        .user_name = user_name, .user_id = user_id,
                                        .groups = chosen, .n_groups = n, .now = in.instants[t],
                                };
                                struct vs_decision *d;
                                r = vp_decide(policy, &request, false, &d);
                                if (r < 0)
                                        break;
                                if (mounted_mode(&d->folders[i]) < mounted_mode(&d->folders[o])) {
                                        r = report_exposure(policy, inner, outer, &in, mask,
                                                            in.instants[t], d, &who, diags);
                                        r = r < 0 ? r : 1;
                                }
                                vs_decision_free(d);
                        }
                }
        free(who.inner_path);
        free(who.outer_path);
        free(chosen);
        free(in.groups);
        free(in.instants);
        free(marked);
        return r;
}

static bool templated(const struct vs_policy_folder *folder)
{
        return strchr(folder->path, '{') != NULL;
}

/* A template and a literal path: checked for every user whose name or id makes them meet.
 * 1 when an exposure was reported, 0 when none exists, -errno. */
static int check_template_pair(const struct vs_policy *policy, size_t t, size_t l,
                               struct vs_diags *diags)
{
        static const enum vp_meeting meetings[] = { VP_MEET_CONTAINS, VP_MEET_INSIDE,
                                                    VP_MEET_SAME };
        int r = 0;
        for (size_t k = 0; r == 0 && k < sizeof(meetings) / sizeof(*meetings); k++) {
                struct vp_binding *bindings;
                size_t n;
                r = vp_template_bindings(policy->folders[t].path, policy->folders[l].path,
                                         meetings[k], &bindings, &n);
                if (r < 0)
                        return r;
                for (size_t b = 0; r == 0 && b < n; b++) {
                        /* The same path nests both ways: either mount reaches the other's files. */
                        if (meetings[k] != VP_MEET_INSIDE)
                                r = check_pair(policy, l, t, &bindings[b], diags);
                        if (r == 0 && meetings[k] != VP_MEET_CONTAINS)
                                r = check_pair(policy, t, l, &bindings[b], diags);
                }
                vp_bindings_free(bindings, n);
        }
        return r;
}

unsigned vs_policy_check_nesting(const struct vs_policy *policy, struct vs_diags *diags)
{
        unsigned errors = 0;
        for (size_t o = 0; o < policy->n_folders; o++)
                for (size_t i = 0; i < policy->n_folders; i++) {
                        const struct vs_policy_folder *fo = &policy->folders[o],
                                                      *fi = &policy->folders[i];
                        if (i == o)
                                continue;
                        if (vp_path_inside(fi->path, fo->path)) {
                                if (check_pair(policy, i, o, NULL, diags) != 0)
                                        errors++;
                        } else if (o < i && templated(fo) != templated(fi) &&
                                   !vp_path_inside(fo->path, fi->path)) {
                                size_t t = templated(fo) ? o : i;
                                if (check_template_pair(policy, t, t == o ? i : o, diags) != 0)
                                        errors++;
                        }
                }
        return errors;
}

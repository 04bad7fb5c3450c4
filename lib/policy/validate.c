/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "policy/policy-internal.h"

#define error_at(diags, policy, mark, ...) \
        vs_diags_add((diags), (policy)->file, (mark).line, (mark).column, __VA_ARGS__)

/* A folder name becomes /vault/<name>: one segment, and never hidden (.obsidian lives there). */
static bool safe_folder_name(const char *name)
{
        return vs_segment_token_valid(name) && name[0] != '.';
}

/* Why a host path is unacceptable, or NULL.  Placeholders are checked when allowed. */
static const char *path_problem(const char *path, bool placeholders)
{
        if (path[0] != '/')
                return "must be absolute (start with /)";
        if (strcmp(path, "/") == 0)
                return "must not be the root directory";
        for (const char *p = path; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (c == ',')
                        return "must not contain ',' (it splits Docker volume specifications)";
                if (c == ':')
                        return "must not contain ':' (it splits Docker volume specifications)";
                if (c == '\n')
                        return "must not contain a newline";
                if (c < 0x20 || c == 0x7f)
                        return "must not contain control characters";
                if (c == '{' || c == '}') {
                        if (!placeholders)
                                return "must not contain placeholders";
                        if (c == '}')
                                return "has a '}' without a matching '{'; expected {username} or "
                                       "{user_id}";
                        if (strncmp(p, "{username}", 10) == 0)
                                p += 9;
                        else if (strncmp(p, "{user_id}", 9) == 0)
                                p += 8;
                        else
                                return "has an unknown placeholder; expected {username} or "
                                       "{user_id}";
                }
        }
        if (!vs_path_normalised(path))
                return "must be normalised (no empty, . or .. segments, no trailing /)";
        return NULL;
}

static int compare_folder_index(const void *a, const void *b, void *userdata)
{
        const struct vs_policy *policy = userdata;
        const struct vs_policy_folder *fa = &policy->folders[*(const size_t *)a];
        const struct vs_policy_folder *fb = &policy->folders[*(const size_t *)b];
        int r = strcmp(fa->name, fb->name);
        if (r)
                return r;
        /* Equal names: file order, so that the first occurrence is reported as "first". */
        return fa->mark.line != fb->mark.line ? (fa->mark.line < fb->mark.line ? -1 : 1)
                                              : (fa->mark.column < fb->mark.column ? -1 : 1);
}

struct name_index {
        size_t *order;              /* indices of named folders, sorted by name */
        size_t count;
};

static ssize_t name_lookup(const struct vs_policy *policy, const struct name_index *index,
                           const char *name)
{
        size_t lo = 0, hi = index->count;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int r = strcmp(policy->folders[index->order[mid]].name, name);
                if (r == 0) {
                        /* the first of equal names */
                        while (mid > 0 &&
                               strcmp(policy->folders[index->order[mid - 1]].name, name) == 0)
                                mid--;
                        return (ssize_t)index->order[mid];
                }
                if (r < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

static unsigned check_folder(const struct vs_policy *policy, const struct vs_policy_folder *folder,
                             struct vs_diags *diags)
{
        unsigned errors = 0;
        char t1[VS_TIME_BUF], t2[VS_TIME_BUF];

        if (folder->name && !safe_folder_name(folder->name)) {
                error_at(diags, policy, folder->name_mark,
                         "name must be one safe path segment ([A-Za-z0-9._-], 1-64 characters, not "
                         "starting with '.'), got \"%s\"",
                         folder->name);
                errors++;
        }
        if (folder->path) {
                const char *why = path_problem(folder->path, true);
                if (why) {
                        error_at(diags, policy, folder->path_mark,
                                 "path must be an absolute, normalised host path, got \"%s\": %s",
                                 folder->path, why);
                        errors++;
                }
        }
        for (size_t i = 0; i < folder->n_rules; i++) {
                const struct vs_policy_rule *rule = &folder->rules[i];
                if (rule->not_before != VS_TIME_NONE && rule->not_after != VS_TIME_NONE &&
                    rule->not_after <= rule->not_before) {
                        vs_time_format(rule->not_after, t1);
                        vs_time_format(rule->not_before, t2);
                        error_at(diags, policy, rule->not_after_mark,
                                 "not_after %s must be later than not_before %s (the window is "
                                 "[not_before, not_after))",
                                 t1, t2);
                        errors++;
                }
        }
        return errors;
}

/* Iterative depth-first search for implies cycles; reports each back edge once. */
static unsigned check_cycles(const struct vs_policy *policy, const ssize_t *const *targets,
                             struct vs_diags *diags)
{
        enum { WHITE, GREY, BLACK };
        size_t n = policy->n_folders;
        unsigned errors = 0;
        unsigned char *color = calloc(n ? n : 1, 1);
        size_t *stack = calloc(n ? n : 1, sizeof(*stack));
        size_t *edge = calloc(n ? n : 1, sizeof(*edge));
        if (!color || !stack || !edge) {
                free(color);
                free(stack);
                free(edge);
                return 1;
        }
        for (size_t start = 0; start < n; start++) {
                if (color[start] != WHITE)
                        continue;
                size_t depth = 0;
                stack[depth] = start;
                edge[depth] = 0;
                color[start] = GREY;
                depth++;
                while (depth > 0) {
                        size_t f = stack[depth - 1];
                        const struct vs_policy_folder *folder = &policy->folders[f];
                        if (edge[depth - 1] == folder->n_implies) {
                                color[f] = BLACK;
                                depth--;
                                continue;
                        }
                        size_t e = edge[depth - 1]++;
                        ssize_t t = targets[f][e];
                        if (t < 0)
                                continue;
                        if (color[t] == GREY) {
                                error_at(diags, policy, folder->implies[e].mark,
                                         "implies forms a cycle: \"%s\" implies \"%s\", which "
                                         "leads back to \"%s\"; expected an acyclic chain",
                                         folder->name, policy->folders[t].name, folder->name);
                                errors++;
                        } else if (color[t] == WHITE) {
                                color[t] = GREY;
                                stack[depth] = (size_t)t;
                                edge[depth] = 0;
                                depth++;
                        }
                }
        }
        free(color);
        free(stack);
        free(edge);
        return errors;
}

/* The personal folder holds .obsidian/ and new notes: a grant below rw leaves the user with
 * none (the manifest omits it), so every way to grant it less is an error. */
static unsigned check_personal(const struct vs_policy *policy,
                               const struct vs_policy_folder *personal, struct vs_diags *diags)
{
        static const char why[] =
                "a user it decides gets no personal folder: the manifest omits it and "
                ".obsidian/ is never written";
        unsigned errors = 0;
        for (size_t i = 0; i < personal->n_rules; i++) {
                const struct vs_policy_rule *rule = &personal->rules[i];
                if (rule->effect == VS_EFFECT_ALLOW && rule->mode != VS_MODE_RW) {
                        error_at(diags, policy, rule->mark,
                                 "the personal folder \"%s\" can only be granted rw, but this rule "
                                 "grants ro: %s; grant rw, or deny it",
                                 personal->name, why);
                        errors++;
                } else if (rule->effect == VS_EFFECT_DENY && rule->scope == VS_SCOPE_WRITE) {
                        error_at(diags, policy, rule->mark,
                                 "the personal folder \"%s\" can only be granted rw, but this "
                                 "write deny caps it at ro: %s; deny it with scope all",
                                 personal->name, why);
                        errors++;
                }
        }
        for (size_t f = 0; f < policy->n_folders; f++)
                for (size_t i = 0; i < policy->folders[f].n_implies; i++) {
                        const struct vs_policy_implies *implies = &policy->folders[f].implies[i];
                        if (!implies->folder || strcmp(implies->folder, personal->name) != 0 ||
                            implies->max_mode == VS_MODE_RW)
                                continue;
                        error_at(diags, policy, implies->mark,
                                 "the personal folder \"%s\" can only be granted rw, but this "
                                 "implies grants at most ro: %s; use max_mode: rw",
                                 personal->name, why);
                        errors++;
                }
        return errors;
}

unsigned vs_policy_validate(struct vs_policy *policy, struct vs_diags *diags)
{
        unsigned errors = 0;
        size_t n = policy->n_folders;
        const struct vs_policy_folder *personal = NULL;

        if (policy->vault) {
                const char *why = path_problem(policy->vault, false);
                if (why) {
                        error_at(diags, policy, policy->vault_mark,
                                 "vault must be an absolute, normalised path, got \"%s\": %s",
                                 policy->vault, why);
                        errors++;
                }
        }
        for (size_t f = 0; f < n; f++) {
                const struct vs_policy_folder *folder = &policy->folders[f];
                errors += check_folder(policy, folder, diags);
                if (folder->personal) {
                        if (personal) {
                                error_at(diags, policy, folder->mark,
                                         "only one folder may be personal (\"%s\" at %u:%u already "
                                         "is)",
                                         personal->name ? personal->name : "?", personal->mark.line,
                                         personal->mark.column);
                                errors++;
                        } else {
                                personal = folder;
                        }
                }
                for (size_t g = 0; g < f; g++) {
                        const struct vs_policy_folder *other = &policy->folders[g];
                        if (folder->path && other->path && strcmp(folder->path, other->path) == 0) {
                                error_at(diags, policy, folder->path_mark,
                                         "path \"%s\" is already used by folder \"%s\" (at %u:%u); "
                                         "expected one folder per host path",
                                         folder->path, other->name ? other->name : "?",
                                         other->path_mark.line, other->path_mark.column);
                                errors++;
                                break;
                        }
                }
        }

        if (!personal)
                for (size_t f = 0; f < n && !personal; f++)
                        if (policy->folders[f].name &&
                            strcmp(policy->folders[f].name, "personal") == 0)
                                personal = &policy->folders[f];
        if (personal && personal->name)
                errors += check_personal(policy, personal, diags);

        /* Names: duplicates, then implies targets and cycles over the unsorted folders. */
        struct name_index index = { .order = calloc(n ? n : 1, sizeof(size_t)) };
        ssize_t **targets = calloc(n ? n : 1, sizeof(*targets));
        if (!index.order || !targets) {
                free(index.order);
                free(targets);
                return errors + 1;
        }
        for (size_t f = 0; f < n; f++)
                if (policy->folders[f].name)
                        index.order[index.count++] = f;
        qsort_r(index.order, index.count, sizeof(size_t), compare_folder_index, policy);
        for (size_t i = 1; i < index.count; i++) {
                const struct vs_policy_folder *a = &policy->folders[index.order[i - 1]];
                const struct vs_policy_folder *b = &policy->folders[index.order[i]];
                if (strcmp(a->name, b->name) == 0) {
                        const struct vs_policy_folder *first =
                                &policy->folders[name_lookup(policy, &index, a->name)];
                        error_at(diags, policy, b->name_mark,
                                 "duplicate folder name \"%s\" (first at %u:%u)", b->name,
                                 first->name_mark.line, first->name_mark.column);
                        errors++;
                }
        }
        for (size_t f = 0; f < n; f++) {
                const struct vs_policy_folder *folder = &policy->folders[f];
                targets[f] = calloc(folder->n_implies ? folder->n_implies : 1, sizeof(ssize_t));
                if (!targets[f]) {
                        errors++;
                        break;
                }
                for (size_t i = 0; i < folder->n_implies; i++) {
                        const struct vs_policy_implies *implies = &folder->implies[i];
                        targets[f][i] = -1;
                        if (!implies->folder)
                                continue;
                        ssize_t t = name_lookup(policy, &index, implies->folder);
                        if (t < 0) {
                                error_at(diags, policy, implies->mark,
                                         "implies unknown folder \"%s\"; expected the name of a "
                                         "folder in this policy",
                                         implies->folder);
                                errors++;
                        } else if ((size_t)t == f) {
                                error_at(diags, policy, implies->mark,
                                         "folder \"%s\" implies itself", implies->folder);
                                errors++;
                        } else {
                                targets[f][i] = t;
                        }
                        for (size_t j = 0; j < i; j++)
                                if (folder->implies[j].folder &&
                                    strcmp(folder->implies[j].folder, implies->folder) == 0) {
                                        error_at(diags, policy, implies->mark,
                                                 "folder \"%s\" is implied twice (first at %u:%u)",
                                                 implies->folder, folder->implies[j].mark.line,
                                                 folder->implies[j].mark.column);
                                        errors++;
                                        break;
                                }
                }
        }
        if (errors == 0)
                errors += check_cycles(policy, (const ssize_t *const *)targets, diags);
        for (size_t f = 0; f < n; f++)
                free(targets[f]);
        free(targets);
        free(index.order);
        return errors;
}

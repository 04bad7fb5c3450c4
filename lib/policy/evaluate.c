/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "policy/evaluate.h"
#include "policy/policy-internal.h"

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int compare_times(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return x < y ? -1 : x > y;
}

static ssize_t group_id(const struct vp_compiled *c, const char *name)
{
        char **hit =
                bsearch(&name, c->group_names, c->n_group_names, sizeof(char *), compare_strings);
        return hit ? hit - c->group_names : -1;
}

static int collect_groups(struct vp_compiled *c)
{
        const struct vs_policy *p = c->policy;
        size_t n = 0;
        for (size_t f = 0; f < p->n_folders; f++)
                for (size_t r = 0; r < p->folders[f].n_rules; r++)
                        n += p->folders[f].rules[r].n_groups;
        c->group_names = calloc(n ? n : 1, sizeof(char *));
        if (!c->group_names)
                return -ENOMEM;
        for (size_t f = 0; f < p->n_folders; f++)
                for (size_t r = 0; r < p->folders[f].n_rules; r++)
                        for (size_t g = 0; g < p->folders[f].rules[r].n_groups; g++)
                                c->group_names[c->n_group_names++] =
                                        p->folders[f].rules[r].groups[g].name;
        qsort(c->group_names, c->n_group_names, sizeof(char *), compare_strings);
        size_t unique = 0;
        for (size_t i = 0; i < c->n_group_names; i++)
                if (unique == 0 || strcmp(c->group_names[unique - 1], c->group_names[i]) != 0)
                        c->group_names[unique++] = c->group_names[i];
        c->n_group_names = unique;
        return 0;
}

static int compile_rules(struct vp_compiled *c)
{
        const struct vs_policy *p = c->policy;
        size_t n = 0;
        for (size_t f = 0; f < p->n_folders; f++)
                n += p->folders[f].n_rules;
        c->rules = calloc(n ? n : 1, sizeof(*c->rules));
        c->first_rule = calloc(p->n_folders + 1, sizeof(size_t));
        if (!c->rules || !c->first_rule)
                return -ENOMEM;
        for (size_t f = 0; f < p->n_folders; f++) {
                c->first_rule[f] = c->n_rules;
                for (size_t r = 0; r < p->folders[f].n_rules; r++) {
                        const struct vs_policy_rule *rule = &p->folders[f].rules[r];
                        struct vp_rule *out = &c->rules[c->n_rules++];
                        out->rule = rule;
                        out->groups = calloc(rule->n_groups ? rule->n_groups : 1, sizeof(uint32_t));
                        if (!out->groups)
                                return -ENOMEM;
                        for (size_t g = 0; g < rule->n_groups; g++)
                                out->groups[out->n_groups++] =
                                        (uint32_t)group_id(c, rule->groups[g].name);
                }
        }
        c->first_rule[p->n_folders] = c->n_rules;
        return 0;
}

/* Incoming implies edges per target, and an order with every source before its targets. */
static int compile_implies(struct vp_compiled *c)
{
        const struct vs_policy *p = c->policy;
        size_t nf = p->n_folders, n = 0;
        size_t *pending = calloc(nf + 1, sizeof(size_t)), *fill = calloc(nf + 1, sizeof(size_t));
        int r = -ENOMEM;
        c->first_edge = calloc(nf + 1, sizeof(size_t));
        c->order = calloc(nf + 1, sizeof(size_t));
        if (!pending || !fill || !c->first_edge || !c->order)
                goto out;
        for (size_t f = 0; f < nf; f++)
                for (size_t i = 0; i < p->folders[f].n_implies; i++) {
                        c->first_edge[p->folders[f].implies[i].target + 1]++;
                        n++;
                }
        for (size_t f = 0; f < nf; f++)
                c->first_edge[f + 1] += c->first_edge[f];
        c->edges = calloc(n ? n : 1, sizeof(*c->edges));
        if (!c->edges)
                goto out;
        for (size_t f = 0; f < nf; f++)
                for (size_t i = 0; i < p->folders[f].n_implies; i++) {
                        size_t t = p->folders[f].implies[i].target;
                        c->edges[c->first_edge[t] + fill[t]++] =
                                (struct vp_edge){ .source = f,
                                                  .max_mode = p->folders[f].implies[i].max_mode };
                        pending[t]++;
                }
        /* Kahn's order (the graph is acyclic after validation). */
        size_t head = 0, tail = 0;
        for (size_t f = 0; f < nf; f++)
                if (pending[f] == 0)
                        c->order[tail++] = f;
        while (head < tail) {
                size_t f = c->order[head++];
                for (size_t i = 0; i < p->folders[f].n_implies; i++)
                        if (--pending[p->folders[f].implies[i].target] == 0)
                                c->order[tail++] = p->folders[f].implies[i].target;
        }
        r = 0;
out:
        free(pending);
        free(fill);
        return r;
}

int vp_compile(const struct vs_policy *policy, struct vp_compiled **ret)
{
        struct vp_compiled *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->policy = policy;
        c->templated = calloc(policy->n_folders + 1, sizeof(bool));
        int r = c->templated ? 0 : -ENOMEM;
        if (r == 0)
                r = collect_groups(c);
        if (r == 0)
                r = compile_rules(c);
        if (r == 0)
                r = compile_implies(c);
        if (r < 0) {
                vp_compiled_free(c);
                return r;
        }
        for (size_t f = 0; f < policy->n_folders; f++) {
                c->templated[f] = strchr(policy->folders[f].path, '{') != NULL;
                c->any_templated |= c->templated[f];
        }
        *ret = c;
        return 0;
}

void vp_compiled_free(struct vp_compiled *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_rules; i++)
                free(c->rules[i].groups);
        free(c->rules);
        free(c->first_rule);
        free(c->edges);
        free(c->first_edge);
        free(c->order);
        free(c->templated);
        free(c->group_names);
        free(c);
}

void vp_match_rules(const struct vp_compiled *c, const char *const *groups, size_t n_groups,
                    uint8_t *match)
{
        size_t words = c->n_group_names / 64 + 1;
        uint64_t stack[8], *have = words <= 8 ? stack : calloc(words, sizeof(uint64_t));
        if (!have) /* out of memory: fall back to matching by name */
                goto by_name;
        memset(have, 0, words * sizeof(uint64_t));
        for (size_t i = 0; i < n_groups; i++) {
                ssize_t id = group_id(c, groups[i]);
                if (id >= 0)
                        have[id / 64] |= UINT64_C(1) << (id % 64);
        }
        for (size_t r = 0; r < c->n_rules; r++) {
                const struct vp_rule *rule = &c->rules[r];
                size_t present = 0;
                for (size_t g = 0; g < rule->n_groups; g++)
                        present += (have[rule->groups[g] / 64] >> (rule->groups[g] % 64)) & 1;
                match[r] = rule->rule->compound == VS_COMPOUND_ALL ? present == rule->n_groups
                                                                   : present > 0;
        }
        if (have != stack)
                free(have);
        return;
by_name:
        for (size_t r = 0; r < c->n_rules; r++)
                match[r] = vs_rule_groups_match(c->rules[r].rule, groups, n_groups);
}

void vp_evaluate(const struct vp_compiled *c, const uint8_t *match, int64_t t, uint8_t *modes)
{
        size_t nf = c->policy->n_folders;
        for (size_t k = 0; k < nf; k++) {
                size_t f = c->order[k];
                enum vs_mode own = VS_MODE_NONE, derived = VS_MODE_NONE;
                bool deny_all = false, deny_write = false;
                for (size_t r = c->first_rule[f]; r < c->first_rule[f + 1]; r++) {
                        const struct vs_policy_rule *rule = c->rules[r].rule;
                        if (!match[r] || !vs_rule_in_window(rule, t))
                                continue;
                        if (rule->effect == VS_EFFECT_DENY) {
                                deny_all |= rule->scope == VS_SCOPE_ALL;
                                deny_write |= rule->scope == VS_SCOPE_WRITE;
                        } else if (rule->mode > own) {
                                own = rule->mode;
                        }
                }
                for (size_t e = c->first_edge[f]; e < c->first_edge[f + 1]; e++) {
                        enum vs_mode source = modes[c->edges[e].source] == VP_DENIED
                                                      ? VS_MODE_NONE
                                                      : modes[c->edges[e].source];
                        enum vs_mode granted =
                                source < c->edges[e].max_mode ? source : c->edges[e].max_mode;
                        if (granted > derived)
                                derived = granted;
                }
                enum vs_mode granted = own > derived ? own : derived;
                if (deny_all)
                        modes[f] = VP_DENIED;
                else if (deny_write && granted > VS_MODE_RO)
                        modes[f] = VS_MODE_RO;
                else
                        modes[f] = (uint8_t)granted;
        }
}

ssize_t vp_boundaries(const struct vp_compiled *c, const uint8_t *match, int64_t after,
                      int64_t until, int64_t **times, size_t n_times)
{
        size_t first = n_times;
        for (size_t r = 0; r < c->n_rules; r++) {
                const struct vs_policy_rule *rule = c->rules[r].rule;
                int64_t bounds[2] = { rule->not_before, rule->not_after };
                if (!match[r])
                        continue;
                for (int i = 0; i < 2; i++) {
                        if (bounds[i] == VS_TIME_NONE || bounds[i] <= after ||
                            (until != VS_TIME_NONE && bounds[i] >= until))
                                continue;
                        int64_t *grown = realloc(*times, (n_times + 1) * sizeof(int64_t));
                        if (!grown)
                                return -ENOMEM;
                        *times = grown;
                        grown[n_times++] = bounds[i];
                }
        }
        if (n_times == first)
                return (ssize_t)n_times;
        qsort(*times + first, n_times - first, sizeof(int64_t), compare_times);
        size_t unique = first;
        for (size_t i = first; i < n_times; i++)
                if (unique == first || (*times)[unique - 1] != (*times)[i])
                        (*times)[unique++] = (*times)[i];
        return (ssize_t)unique;
}

static int add_pair(size_t (**pairs)[2], size_t *n, size_t a, size_t b)
{
        size_t (*grown)[2] = realloc(*pairs, (*n + 1) * sizeof(**pairs));
        if (!grown)
                return -ENOMEM;
        *pairs = grown;
        grown[*n][0] = a;
        grown[*n][1] = b;
        (*n)++;
        return 0;
}

/* Substituted paths that nest, one of them a template's (as decide.c's exposed_inner): each
 * template against every other folder, both ways, so a policy of literal paths costs nothing. */
static int find_nests(const struct vp_compiled *c, char *const *paths, struct vp_refusals *r)
{
        const struct vs_policy *p = c->policy;
        for (size_t t = 0; t < p->n_folders; t++) {
                if (!c->templated[t] || !paths[t])
                        continue;
                for (size_t g = 0; g < p->n_folders; g++) {
                        const char *other = c->templated[g] ? paths[g] : p->folders[g].path;
                        /* a pair of templates is met once, from its first */
                        if (g == t || !other || (c->templated[g] && g < t))
                                continue;
                        if (vp_path_inside(other, paths[t]) &&
                            add_pair(&r->nests, &r->n_nests, g, t) < 0)
                                return -ENOMEM;
                        if (vp_path_inside(paths[t], other) &&
                            add_pair(&r->nests, &r->n_nests, t, g) < 0)
                                return -ENOMEM;
                }
        }
        r->any |= r->n_nests > 0;
        return 0;
}

int vp_refusals_for(const struct vp_compiled *c, const char *user_name, const char *user_id,
                    struct vp_refusals *ret)
{
        const struct vs_policy *p = c->policy;
        struct vp_refusals r = { 0 };
        char **paths = NULL;
        int err = -ENOMEM;

        if (!c->any_templated) {
                *ret = r;
                return 0;
        }
        r.unsafe = calloc(p->n_folders, 1);
        paths = calloc(p->n_folders, sizeof(char *));
        if (!r.unsafe || !paths)
                goto fail;
        for (size_t f = 0; f < p->n_folders; f++) {
                const char *why;
                if (!c->templated[f])
                        continue;
                int e = vs_policy_substitute(p->folders[f].path, user_name, user_id, &paths[f],
                                             &why);
                if (e == -ENOMEM)
                        goto fail;
                if (e < 0) {
                        r.unsafe[f] = 1;
                        r.any = true;
                }
        }
        /* Only a substituted path can meet another folder's (fixed paths are unique by
         * validation). */
        for (size_t f = 0; f < p->n_folders; f++) {
                if (!paths[f])
                        continue;
                for (size_t g = 0; g < p->n_folders; g++) {
                        const char *other = c->templated[g] ? paths[g] : p->folders[g].path;
                        if (g == f || !other || strcmp(paths[f], other) != 0 ||
                            (c->templated[g] && g < f))
                                continue;
                        if (add_pair(&r.meets, &r.n_meets, f < g ? f : g, f < g ? g : f) < 0)
                                goto fail;
                        r.any = true;
                }
        }
        if (find_nests(c, paths, &r) < 0)
                goto fail;
        err = 0;
fail:
        for (size_t f = 0; paths && f < p->n_folders; f++)
                free(paths[f]);
        free(paths);
        if (err < 0) {
                vp_refusals_clear(&r);
                return err;
        }
        *ret = r;
        return 0;
}

void vp_refusals_clear(struct vp_refusals *r)
{
        free(r->unsafe);
        free(r->meets);
        free(r->nests);
        *r = (struct vp_refusals){ 0 };
}

/* Marks a folder refused for nesting until the host paths that meet are settled. */
#define NESTED_REFUSAL 0x80

void vp_apply_refusals(const struct vp_compiled *c, const struct vp_refusals *r, uint8_t *modes)
{
        size_t nf = c->policy->n_folders;
        for (size_t f = 0; f < nf; f++)
                if (modes[f] == VP_DENIED || (r->unsafe && r->unsafe[f]))
                        modes[f] = VS_MODE_NONE;
        /* As decide.c: nesting is judged on the modes before meeting paths are refused... */
        for (size_t i = 0; i < r->n_nests; i++) {
                uint8_t inner = modes[r->nests[i][0]] & ~NESTED_REFUSAL;
                uint8_t outer = modes[r->nests[i][1]] & ~NESTED_REFUSAL;
                if (inner < outer)
                        modes[r->nests[i][1]] |= NESTED_REFUSAL;
        }
        /* ...then in name order, a folder meeting an earlier still-mounted one is refused... */
        for (size_t f = 0; r->n_meets && f < nf; f++)
                for (size_t i = 0; i < r->n_meets; i++)
                        if (r->meets[i][1] == f && modes[r->meets[i][0]] != VS_MODE_NONE)
                                modes[f] = VS_MODE_NONE;
        /* ...and last the folders that hold a folder the user gets less of. */
        for (size_t i = 0; i < r->n_nests; i++)
                if (modes[r->nests[i][1]] & NESTED_REFUSAL)
                        modes[r->nests[i][1]] = VS_MODE_NONE;
}

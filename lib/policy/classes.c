/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/classes.h"

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static uint64_t fnv_bytes(uint64_t h, const void *data, size_t n)
{
        const unsigned char *p = data;
        for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * FNV_PRIME;
        return h;
}

static uint64_t fnv_string(uint64_t h, const char *s)
{
        return fnv_bytes(h, s, strlen(s) + 1); /* the NUL separates fields */
}

/* Classes by modes vector: open addressing over indices into plan->classes. */
struct class_table {
        struct vp_plan *plan;
        size_t n_folders;
        size_t *slots;              /* class index + 1, 0 = empty */
        size_t n_slots;
        size_t cap;
};

static int table_grow(struct class_table *t)
{
        size_t n = t->n_slots ? t->n_slots * 2 : 256;
        size_t *slots = calloc(n, sizeof(size_t));
        if (!slots)
                return -ENOMEM;
        for (size_t c = 0; c < t->plan->n_classes; c++) {
                uint64_t h = fnv_bytes(FNV_OFFSET, t->plan->classes[c].modes, t->n_folders);
                size_t i = h & (n - 1);
                while (slots[i])
                        i = (i + 1) & (n - 1);
                slots[i] = c + 1;
        }
        free(t->slots);
        t->slots = slots;
        t->n_slots = n;
        return 0;
}

static int table_intern(struct class_table *t, const uint8_t *modes, size_t *ret)
{
        struct vp_plan *plan = t->plan;
        if ((plan->n_classes + 1) * 2 > t->n_slots && table_grow(t) < 0)
                return -ENOMEM;
        uint64_t h = fnv_bytes(FNV_OFFSET, modes, t->n_folders);
        size_t i = h & (t->n_slots - 1);
        for (; t->slots[i]; i = (i + 1) & (t->n_slots - 1))
                if (memcmp(plan->classes[t->slots[i] - 1].modes, modes, t->n_folders) == 0) {
                        *ret = t->slots[i] - 1;
                        return 0;
                }
        if (plan->n_classes == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 64;
                struct vp_class *grown = realloc(plan->classes, cap * sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                plan->classes = grown;
                t->cap = cap;
        }
        struct vp_class *c = &plan->classes[plan->n_classes];
        *c = (struct vp_class){ .modes = malloc(t->n_folders + 1) };
        if (!c->modes)
                return -ENOMEM;
        memcpy(c->modes, modes, t->n_folders);
        for (size_t f = 0; f < t->n_folders; f++)
                c->n_mounted += modes[f] != VS_MODE_NONE;
        t->slots[i] = ++plan->n_classes;
        *ret = plan->n_classes - 1;
        return 0;
}

/* The name follows from what the group's volume_mapping holds, so the same decision gets the
 * same group name in every run, at every instant, for any users file. */
static void name_class(const struct vs_policy *policy, struct vp_class *c)
{
        if (c->n_mounted == 0) {
                snprintf(c->name, sizeof(c->name), "vault-none");
                return;
        }
        uint64_t h = fnv_string(FNV_OFFSET, policy->vault);
        for (size_t f = 0; f < policy->n_folders; f++) {
                if (c->modes[f] == VS_MODE_NONE)
                        continue;
                h = fnv_string(h, policy->folders[f].name);
                h = fnv_string(h, policy->folders[f].path);
                h = fnv_string(h, vs_mode_to_string(c->modes[f]));
                h = fnv_string(h, policy->folders[f].required ? "required" : "optional");
        }
        snprintf(c->name, sizeof(c->name), "vault-%016" PRIx64, h);
}

static int compare_class_names(const void *a, const void *b)
{
        return strcmp(((const struct vp_class *)a)->name, ((const struct vp_class *)b)->name);
}

static int compare_changes(const void *a, const void *b)
{
        const struct vp_change *x = a, *y = b;
        if (x->at != y->at)
                return x->at < y->at ? -1 : 1;
        return x->user < y->user ? -1 : x->user > y->user;
}

/* Name and sort the classes, and renumber every reference to them. */
static int finish_classes(const struct vs_policy *policy, struct vp_plan *plan)
{
        size_t n = plan->n_classes;
        size_t *renumber = calloc(n + 1, sizeof(size_t));
        if (!renumber)
                return -ENOMEM;
        for (size_t c = 0; c < n; c++) {
                name_class(policy, &plan->classes[c]);
                plan->classes[c].members = c; /* carries the old index through the sort */
        }
        qsort(plan->classes, n, sizeof(*plan->classes), compare_class_names);
        for (size_t c = 0; c < n; c++) {
                if (c > 0 && strcmp(plan->classes[c - 1].name, plan->classes[c].name) == 0) {
                        free(renumber);
                        /* two decisions, one 64-bit name: never seen, never ignored */
                        return -ENOTUNIQ;
                }
                renumber[plan->classes[c].members] = c;
                plan->classes[c].members = 0;
        }
        for (size_t u = 0; u < plan->n_users; u++) {
                plan->initial[u] = renumber[plan->initial[u]];
                plan->classes[plan->initial[u]].members++;
        }
        for (size_t i = 0; i < plan->n_changes; i++) {
                plan->changes[i].from = renumber[plan->changes[i].from];
                plan->changes[i].to = renumber[plan->changes[i].to];
        }
        free(renumber);
        if (plan->n_changes)
                qsort(plan->changes, plan->n_changes, sizeof(*plan->changes), compare_changes);
        return 0;
}

static int add_change(struct vp_plan *plan, size_t *cap, struct vp_change change)
{
        if (plan->n_changes == *cap) {
                size_t grown_cap = *cap ? *cap * 2 : 256;
                struct vp_change *grown = realloc(plan->changes, grown_cap * sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                plan->changes = grown;
                *cap = grown_cap;
        }
        plan->changes[plan->n_changes++] = change;
        return 0;
}

struct scratch {
        uint8_t *match, *modes;
        int64_t *times;
};

static int plan_user(struct vp_plan *plan, struct class_table *table, struct scratch *s, size_t u,
                     const struct vs_user *user, int64_t start, int64_t end, size_t *changes_cap)
{
        const struct vp_compiled *c = plan->compiled;
        struct vp_refusals refusals = { 0 };
        size_t current;
        int r = vp_refusals_for(c, user->name, user->id, &refusals);
        if (r < 0)
                return r;
        vp_match_rules(c, (const char *const *)user->groups, user->n_groups, s->match);
        vp_evaluate(c, s->match, start, s->modes);
        vp_apply_refusals(c, &refusals, s->modes);
        if ((r = table_intern(table, s->modes, &current)) < 0)
                goto out;
        plan->initial[u] = current;
        plan->valid_until[u] = VS_TIME_NONE;
        ssize_t n = vp_boundaries(c, s->match, start, VS_TIME_NONE, &s->times, 0);
        if (n < 0) {
                r = (int)n;
                goto out;
        }
        for (ssize_t i = 0; i < n; i++) {
                size_t next;
                if (end == VS_TIME_NONE && plan->valid_until[u] != VS_TIME_NONE)
                        break;
                if (end != VS_TIME_NONE && s->times[i] > end &&
                    plan->valid_until[u] != VS_TIME_NONE)
                        break;
                vp_evaluate(c, s->match, s->times[i], s->modes);
                vp_apply_refusals(c, &refusals, s->modes);
                if ((r = table_intern(table, s->modes, &next)) < 0)
                        goto out;
                if (next == current)
                        continue;
                if (plan->valid_until[u] == VS_TIME_NONE)
                        plan->valid_until[u] = s->times[i];
                if (end != VS_TIME_NONE && s->times[i] <= end &&
                    (r = add_change(
                             plan, changes_cap,
                             (struct vp_change){
                                     .at = s->times[i], .user = u, .from = current, .to = next })) <
                            0)
                        goto out;
                current = next;
        }
        plan->refusable[u] = refusals.any;
        if (refusals.unsafe && memchr(refusals.unsafe, 1, plan->compiled->policy->n_folders)) {
                plan->unsafe[u] = refusals.unsafe;
                refusals.unsafe = NULL;
        }
        r = 0;
out:
        vp_refusals_clear(&refusals);
        return r;
}

int vp_plan_build(const struct vs_policy *policy, const struct vs_users *users, int64_t start,
                  int64_t end, struct vp_plan *ret)
{
        struct vp_plan plan = { .n_users = users->count };
        struct class_table table = { .plan = &plan, .n_folders = policy->n_folders };
        struct scratch s = { 0 };
        size_t changes_cap = 0;
        int r = vp_compile(policy, &plan.compiled);
        if (r < 0)
                return r;
        r = -ENOMEM;
        plan.initial = calloc(users->count + 1, sizeof(size_t));
        plan.valid_until = calloc(users->count + 1, sizeof(int64_t));
        plan.unsafe = calloc(users->count + 1, sizeof(uint8_t *));
        plan.refusable = calloc(users->count + 1, 1);
        s.match = calloc(plan.compiled->n_rules + 1, 1);
        s.modes = calloc(policy->n_folders + 1, 1);
        if (!plan.initial || !plan.valid_until || !plan.unsafe || !plan.refusable || !s.match ||
            !s.modes)
                goto out;
        for (size_t u = 0; u < users->count; u++)
                if ((r = plan_user(&plan, &table, &s, u, &users->items[u], start, end,
                                   &changes_cap)) < 0)
                        goto out;
        r = finish_classes(policy, &plan);
out:
        free(s.match);
        free(s.modes);
        free(s.times);
        free(table.slots);
        if (r < 0) {
                vp_plan_clear(&plan);
                return r;
        }
        *ret = plan;
        return 0;
}

void vp_plan_clear(struct vp_plan *plan)
{
        for (size_t c = 0; c < plan->n_classes; c++)
                free(plan->classes[c].modes);
        free(plan->classes);
        for (size_t u = 0; plan->unsafe && u < plan->n_users; u++)
                free(plan->unsafe[u]);
        free(plan->unsafe);
        free(plan->refusable);
        free(plan->initial);
        free(plan->valid_until);
        free(plan->changes);
        vp_compiled_free(plan->compiled);
        *plan = (struct vp_plan){ 0 };
}

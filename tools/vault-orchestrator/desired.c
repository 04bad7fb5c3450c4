/* SPDX-License-Identifier: MIT */
/*
 * The desired state at an instant: every Kasm user evaluated by lib/policy with their groups
 * (Kasm's own non-vault- groups, which SSO group mappings keep in sync, or a users file's),
 * partitioned into the access classes `vault-policy classes` prints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/kasm-mapping.h"
#include "state.h"

bool kasm_group_owned(const struct kasm_group *group)
{
        return !group->is_system &&
               strncmp(group->name, ORCH_GROUP_PREFIX, strlen(ORCH_GROUP_PREFIX)) == 0;
}

static int compare_group_id(const void *key, const void *item)
{
        return strcmp(key, ((const struct kasm_group *)item)->id);
}

size_t kasm_state_find_group(const struct kasm_state *state, const char *id)
{
        const struct kasm_group *g = state->n_groups ? bsearch(id, state->groups, state->n_groups,
                                                               sizeof(*g), compare_group_id)
                                                     : NULL;
        return g ? (size_t)(g - state->groups) : SIZE_MAX;
}

static int compare_user_name(const void *a, const void *b)
{
        return strcmp(((const struct vs_user *)a)->name, ((const struct vs_user *)b)->name);
}

/* The user's policy groups from Kasm: every group but the vault- ones we own. */
static int groups_from_kasm(const struct kasm_state *state, const struct kasm_user *ku,
                            struct vs_user *user)
{
        user->groups = calloc(ku->n_groups + 1, sizeof(char *));
        if (!user->groups)
                return -ENOMEM;
        for (size_t i = 0; i < ku->n_groups; i++) {
                const struct kasm_group *g = &state->groups[ku->groups[i]];
                if (kasm_group_owned(g))
                        continue;
                if (!(user->groups[user->n_groups++] = strdup(g->name)))
                        return -ENOMEM;
        }
        return 0;
}

static int groups_from_file(const struct vs_user *from, struct vs_user *user)
{
        user->groups = calloc(from->n_groups + 1, sizeof(char *));
        if (!user->groups)
                return -ENOMEM;
        for (size_t i = 0; i < from->n_groups; i++)
                if (!(user->groups[user->n_groups++] = strdup(from->groups[i])))
                        return -ENOMEM;
        return 0;
}

/* One vs_user per Kasm user; with a users file, the file's groups by user name. */
static int build_users(struct orch_desired *d, const struct kasm_state *state,
                       const struct vs_users *file, const struct vs_user *sorted)
{
        d->users.items = calloc(state->n_users + 1, sizeof(struct vs_user));
        if (!d->users.items)
                return -ENOMEM;
        for (size_t u = 0; u < state->n_users; u++) {
                const struct kasm_user *ku = &state->users[u];
                struct vs_user *user = &d->users.items[d->users.count++];
                int r;
                user->name = strdup(ku->name);
                user->id = strdup(ku->id);
                if (!user->name || !user->id)
                        return -ENOMEM;
                if (!file) {
                        r = groups_from_kasm(state, ku, user);
                } else {
                        struct vs_user key = { .name = ku->name };
                        const struct vs_user *found =
                                bsearch(&key, sorted, file->count, sizeof(key), compare_user_name);
                        d->n_absent += !found;
                        r = found ? groups_from_file(found, user) : groups_from_file(&key, user);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int compare_kasm_user_name(const void *key, const void *item)
{
        return strcmp(key, ((const struct kasm_user *)item)->name);
}

/* Kasm's users by name (struct kasm_user: its name is not where vs_user's is). */
static int compare_kasm_users(const void *a, const void *b)
{
        return strcmp(((const struct kasm_user *)a)->name, ((const struct kasm_user *)b)->name);
}

/* The users file's users Kasm does not have: reported, nothing to do until they log in. */
static int find_unknown(struct orch_desired *d, const struct kasm_state *state,
                        const struct vs_users *file)
{
        struct kasm_user *by_name = malloc((state->n_users + 1) * sizeof(*by_name));
        if (!by_name)
                return -ENOMEM;
        memcpy(by_name, state->users, state->n_users * sizeof(*by_name));
        qsort(by_name, state->n_users, sizeof(*by_name), compare_kasm_users);
        d->unknown = calloc(file->count + 1, sizeof(char *));
        for (size_t i = 0; d->unknown && i < file->count; i++)
                if (!bsearch(file->items[i].name, by_name, state->n_users, sizeof(*by_name),
                             compare_kasm_user_name))
                        d->unknown[d->n_unknown++] = file->items[i].name;
        free(by_name);
        return d->unknown ? 0 : -ENOMEM;
}

int orch_desired_build(const struct vs_policy *policy, const struct kasm_state *state,
                       const struct vs_users *file, int64_t at, struct orch_desired *ret)
{
        struct orch_desired d = { .at = at, .next = VS_TIME_NONE };
        struct vs_user *sorted = NULL;
        int r = -ENOMEM;
        if (file) {
                if (!(sorted = malloc((file->count + 1) * sizeof(*sorted))))
                        goto out;
                memcpy(sorted, file->items, file->count * sizeof(*sorted));
                qsort(sorted, file->count, sizeof(*sorted), compare_user_name);
                if ((r = find_unknown(&d, state, file)) < 0)
                        goto out;
        }
        if ((r = build_users(&d, state, file, sorted)) < 0)
                goto out;
        if ((r = vp_plan_build(policy, &d.users, at, VS_TIME_NONE, &d.plan)) < 0)
                goto out;
        r = -ENOMEM;
        d.mappings = calloc(d.plan.n_classes + 1, sizeof(json_t *));
        d.used = calloc(d.plan.n_classes + 1, sizeof(bool));
        if (!d.mappings || !d.used)
                goto out;
        for (size_t u = 0; u < d.plan.n_users; u++) {
                d.used[d.plan.initial[u]] = true;
                if (d.plan.valid_until[u] != VS_TIME_NONE &&
                    (d.next == VS_TIME_NONE || d.plan.valid_until[u] < d.next))
                        d.next = d.plan.valid_until[u];
        }
        for (size_t c = 0; c < d.plan.n_classes; c++)
                if (d.used[c] &&
                    !(d.mappings[c] = vp_class_volume_mapping(policy, &d.plan.classes[c])))
                        goto out;
        r = 0;
out:
        free(sorted);
        if (r < 0) {
                orch_desired_clear(&d);
                return r;
        }
        *ret = d;
        return 0;
}

void orch_desired_clear(struct orch_desired *d)
{
        for (size_t c = 0; d->mappings && c < d->plan.n_classes; c++)
                json_decref(d->mappings[c]);
        free(d->mappings);
        free(d->used);
        free(d->unknown);
        vp_plan_clear(&d->plan);
        vs_users_clear(&d->users);
        *d = (struct orch_desired){ 0 };
}

static int compare_class_name(const void *key, const void *item)
{
        return strcmp(key, ((const struct vp_class *)item)->name);
}

size_t orch_desired_find_class(const struct orch_desired *d, const char *name)
{
        const struct vp_class *c = d->plan.n_classes
                                           ? bsearch(name, d->plan.classes, d->plan.n_classes,
                                                     sizeof(*c), compare_class_name)
                                           : NULL;
        return c ? (size_t)(c - d->plan.classes) : SIZE_MAX;
}

void kasm_state_clear(struct kasm_state *state)
{
        for (size_t g = 0; g < state->n_groups; g++) {
                struct kasm_group *group = &state->groups[g];
                for (size_t s = 0; s < group->n_mappings; s++) {
                        free(group->mappings[s].id);
                        free(group->mappings[s].text);
                        json_decref(group->mappings[s].value);
                }
                free(group->mappings);
                free(group->id);
                free(group->name);
        }
        free(state->groups);
        for (size_t u = 0; u < state->n_users; u++) {
                free(state->users[u].id);
                free(state->users[u].name);
                free(state->users[u].groups);
        }
        free(state->users);
        kasm_sessions_free(state->sessions, state->n_sessions);
        *state = (struct kasm_state){ 0 };
}

void kasm_sessions_free(struct kasm_session *sessions, size_t n)
{
        for (size_t s = 0; s < n; s++) {
                free(sessions[s].kasm_id);
                free(sessions[s].user_id);
                free(sessions[s].status);
                free(sessions[s].started);
        }
        free(sessions);
}

/* SPDX-License-Identifier: MIT */
/*
 * The difference between what Kasm has and what the policy wants, as the ordered writes that
 * remove it (plan.h says the order and why) and the drift found on the way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

static const char *const action_names[ORCH_N_KINDS] = {
        [ORCH_CREATE_GROUP] = "create_group",
        [ORCH_ADD_SETTING] = "add_settings_group",
        [ORCH_UPDATE_SETTING] = "update_settings_group",
        [ORCH_REMOVE_SETTING] = "remove_settings_group",
        [ORCH_ADD_MEMBER] = "add_user_group",
        [ORCH_REMOVE_MEMBER] = "remove_user_group",
        [ORCH_DELETE_GROUP] = "delete_group",
        [ORCH_END_SESSION] = "destroy_kasm",
};

const char *orch_action_name(enum orch_action_kind kind)
{
        return action_names[kind];
}

const char *orch_drift_name(enum orch_drift_kind kind)
{
        switch (kind) {
        case ORCH_DRIFT_FOREIGN_MAPPING:
                return "foreign-group-maps-vault";
        case ORCH_DRIFT_FOREIGN_UNREADABLE:
                return "foreign-group-mapping-unreadable";
        case ORCH_DRIFT_TWO_GROUPS:
                return "user-in-several-vault-groups";
        case ORCH_DRIFT_EDITED_MAPPING:
                return "volume-mapping-edited";
        case ORCH_DRIFT_STALE_GROUP:
                return "stale-vault-group";
        case ORCH_DRIFT_UNKNOWN_USER:
                return "user-not-in-kasm";
        }
        return "?";
}

static const char *entry_string(const json_t *entry, const char *key)
{
        const char *s = json_string_value(json_object_get(entry, key));
        return s ? s : "";
}

bool orch_mapping_loses(const json_t *from, const json_t *to)
{
        const char *host;
        json_t *old;
        json_object_foreach((json_t *)from, host, old)
        {
                const json_t *new = json_object_get(to, host);
                if (!new || strcmp(entry_string(old, "bind"), entry_string(new, "bind")) != 0)
                        return true;
                const char *a = entry_string(old, "mode"), *b = entry_string(new, "mode");
                if (strcmp(a, b) != 0 && strcmp(a, "ro") != 0)
                        return true;
        }
        return false;
}

/* Growing arrays of actions and drifts; every append checks for memory. */
struct builder {
        struct orch_plan *plan;
        size_t actions_cap, drifts_cap;
        int error;
};

static void add_action(struct builder *b, struct orch_action action)
{
        struct orch_plan *p = b->plan;
        if (b->error)
                return;
        if (p->n_actions == b->actions_cap) {
                size_t cap = b->actions_cap ? b->actions_cap * 2 : 64;
                struct orch_action *grown = realloc(p->actions, cap * sizeof(*grown));
                if (!grown) {
                        b->error = -ENOMEM;
                        return;
                }
                p->actions = grown;
                b->actions_cap = cap;
        }
        p->actions[p->n_actions++] = action;
        p->counts[action.kind]++;
}

static void add_drift(struct builder *b, struct orch_drift drift, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void add_drift(struct builder *b, struct orch_drift drift, const char *fmt, ...)
{
        struct orch_plan *p = b->plan;
        va_list ap;
        if (b->error)
                return;
        if (p->n_drifts == b->drifts_cap) {
                size_t cap = b->drifts_cap ? b->drifts_cap * 2 : 16;
                struct orch_drift *grown = realloc(p->drifts, cap * sizeof(*grown));
                if (!grown) {
                        b->error = -ENOMEM;
                        return;
                }
                p->drifts = grown;
                b->drifts_cap = cap;
        }
        va_start(ap, fmt);
        if (vasprintf(&drift.detail, fmt, ap) < 0) {
                b->error = -ENOMEM;
                va_end(ap);
                return;
        }
        va_end(ap);
        p->drifts[p->n_drifts++] = drift;
        p->n_refused += drift.kind == ORCH_DRIFT_FOREIGN_MAPPING ||
                        drift.kind == ORCH_DRIFT_FOREIGN_UNREADABLE;
}

static bool under_vault(const char *bind, const char *vault)
{
        size_t n = strlen(vault);
        if (strcmp(vault, "/") == 0)
                return true;
        return strncmp(bind, vault, n) == 0 && (bind[n] == '\0' || bind[n] == '/');
}

/* A group that is not ours: report every mapping that reaches into the vault. */
static void check_foreign(struct builder *b, const struct kasm_group *g, const char *vault)
{
        for (size_t s = 0; s < g->n_mappings; s++) {
                const char *host;
                json_t *entry;
                if (!json_is_object(g->mappings[s].value)) {
                        add_drift(b,
                                  (struct orch_drift){ .kind = ORCH_DRIFT_FOREIGN_UNREADABLE,
                                                       .group_name = g->name,
                                                       .group_id = g->id },
                                  "its volume_mapping is not a JSON object, so whether it maps "
                                  "under %s cannot be told",
                                  vault);
                        continue;
                }
                json_object_foreach(g->mappings[s].value, host, entry)
                {
                        const char *bind = entry_string(entry, "bind");
                        if (under_vault(bind, vault))
                                add_drift(b,
                                          (struct orch_drift){ .kind = ORCH_DRIFT_FOREIGN_MAPPING,
                                                               .group_name = g->name,
                                                               .group_id = g->id },
                                          "maps %s to %s (mode %s), under the vault root %s", host,
                                          bind, entry_string(entry, "mode"), vault);
                }
        }
}

/* Steps 1 and 2: every class in use has one group with exactly its volume_mapping. */
static void plan_groups(struct builder *b, const struct kasm_state *state,
                        const struct orch_desired *d, const size_t *keeper)
{
        for (size_t c = 0; c < d->plan.n_classes; c++) {
                const char *name = d->plan.classes[c].name;
                if (!d->used[c] || keeper[c] != SIZE_MAX)
                        continue;
                add_action(b, (struct orch_action){ .kind = ORCH_CREATE_GROUP,
                                                    .group_name = name,
                                                    .why = "class group missing" });
                add_action(b, (struct orch_action){ .kind = ORCH_ADD_SETTING,
                                                    .group_name = name,
                                                    .mapping = d->mappings[c],
                                                    .why = "class group missing" });
        }
        for (size_t c = 0; c < d->plan.n_classes; c++) {
                if (!d->used[c] || keeper[c] == SIZE_MAX)
                        continue;
                const struct kasm_group *g = &state->groups[keeper[c]];
                struct orch_action a = { .group_name = g->name,
                                         .group_id = g->id,
                                         .mapping = d->mappings[c] };
                if (g->n_mappings == 0) {
                        a.kind = ORCH_ADD_SETTING;
                        a.why = "drift: class group without volume_mapping";
                        add_action(b, a);
                        add_drift(b,
                                  (struct orch_drift){ .kind = ORCH_DRIFT_EDITED_MAPPING,
                                                       .group_name = g->name,
                                                       .group_id = g->id },
                                  "has no volume_mapping");
                        continue;
                }
                if (!json_equal(g->mappings[0].value, d->mappings[c])) {
                        a.kind = ORCH_UPDATE_SETTING;
                        a.setting_id = g->mappings[0].id;
                        a.why = "drift: volume_mapping edited";
                        add_action(b, a);
                        add_drift(b,
                                  (struct orch_drift){ .kind = ORCH_DRIFT_EDITED_MAPPING,
                                                       .group_name = g->name,
                                                       .group_id = g->id },
                                  "its volume_mapping differs from the class's");
                }
                for (size_t s = 1; s < g->n_mappings; s++) {
                        a.kind = ORCH_REMOVE_SETTING;
                        a.setting_id = g->mappings[s].id;
                        a.mapping = NULL;
                        a.why = "drift: second volume_mapping";
                        add_action(b, a);
                        add_drift(b,
                                  (struct orch_drift){ .kind = ORCH_DRIFT_EDITED_MAPPING,
                                                       .group_name = g->name,
                                                       .group_id = g->id },
                                  "has a second volume_mapping setting");
                }
        }
}

/* Whether leaving group g for class c loses the user anything. */
static bool group_loses(const struct kasm_group *g, const json_t *desired)
{
        for (size_t s = 0; s < g->n_mappings; s++)
                if (!json_is_object(g->mappings[s].value) ||
                    orch_mapping_loses(g->mappings[s].value, desired))
                        return true;
        return false;
}

/* Step 3 for one user. */
static void plan_user(struct builder *b, const struct kasm_state *state,
                      const struct orch_desired *d, const size_t *keeper, size_t u)
{
        const struct kasm_user *ku = &state->users[u];
        size_t c = d->plan.initial[u], target = keeper[c];
        const char *name = d->plan.classes[c].name;
        const json_t *want = d->mappings[c];
        bool in_target = false, loses = false;
        size_t others = 0;
        for (size_t i = 0; i < ku->n_groups; i++) {
                const struct kasm_group *g = &state->groups[ku->groups[i]];
                if (!kasm_group_owned(g))
                        continue;
                if (ku->groups[i] == target)
                        in_target = true;
                else
                        others++;
                loses |= group_loses(g, want);
        }
        b->plan->changes[u] = loses ? ORCH_LOSS : in_target && !others ? ORCH_SAME : ORCH_GAIN;
        if (others > 1 || (others && in_target))
                add_drift(b,
                          (struct orch_drift){
                                  .kind = ORCH_DRIFT_TWO_GROUPS, .user = u, .group_name = name },
                          "%s is in %zu vault- groups; their class group is %s", ku->name,
                          others + in_target, name);
        const char *why = others > 1 || (others && in_target) ? "drift: several vault- groups"
                                                              : "class change";
        struct orch_action join = { .kind = ORCH_ADD_MEMBER,
                                    .group_name = name,
                                    .user = u,
                                    .group_id =
                                            target == SIZE_MAX ? NULL : state->groups[target].id,
                                    .why = why };
        if (!in_target && !loses)
                add_action(b, join);
        for (size_t i = 0; i < ku->n_groups; i++) {
                const struct kasm_group *g = &state->groups[ku->groups[i]];
                if (kasm_group_owned(g) && ku->groups[i] != target)
                        add_action(b, (struct orch_action){ .kind = ORCH_REMOVE_MEMBER,
                                                            .group_name = g->name,
                                                            .group_id = g->id,
                                                            .user = u,
                                                            .why = why });
        }
        if (!in_target && loses)
                add_action(b, join);
}

struct id_index {
        const char *id;
        size_t index;
};

static int compare_id_index(const void *a, const void *b)
{
        return strcmp(((const struct id_index *)a)->id, ((const struct id_index *)b)->id);
}

/* Step 5: the running sessions of every user who lost something, or whose sessions an
 * interrupted run left to end. */
static void plan_sessions(struct builder *b, const struct kasm_state *state)
{
        struct orch_plan *p = b->plan;
        struct id_index *by_id = malloc((state->n_users + 1) * sizeof(*by_id));
        if (!by_id) {
                b->error = -ENOMEM;
                return;
        }
        for (size_t u = 0; u < state->n_users; u++)
                by_id[u] = (struct id_index){ state->users[u].id, u };
        qsort(by_id, state->n_users, sizeof(*by_id), compare_id_index);
        for (size_t s = 0; s < state->n_sessions; s++) {
                struct id_index key = { state->sessions[s].user_id, 0 };
                const struct id_index *hit =
                        bsearch(&key, by_id, state->n_users, sizeof(key), compare_id_index);
                if (hit && p->end_sessions[hit->index])
                        add_action(b, (struct orch_action){
                                              .kind = ORCH_END_SESSION,
                                              .user = hit->index,
                                              .session = s,
                                              .why = p->changes[hit->index] == ORCH_LOSS
                                                             ? "access lost"
                                                             : "access lost (an earlier run "
                                                               "was interrupted)" });
        }
        free(by_id);
}

int orch_plan_build(const struct kasm_state *state, const struct orch_desired *d, const char *vault,
                    const bool *pending, struct orch_plan *ret)
{
        struct orch_plan plan = { .n_users = state->n_users };
        struct builder b = { .plan = &plan };
        size_t *keeper = malloc((d->plan.n_classes + 1) * sizeof(size_t));
        plan.changes = calloc(state->n_users + 1, sizeof(*plan.changes));
        plan.end_sessions = calloc(state->n_users + 1, sizeof(bool));
        if (!keeper || !plan.changes || !plan.end_sessions) {
                b.error = -ENOMEM;
                goto out;
        }
        for (size_t c = 0; c < d->plan.n_classes; c++)
                keeper[c] = SIZE_MAX;
        /* The groups are sorted by id: of two vault- groups with one name the first is kept,
         * the other is stale like any group no class needs. */
        for (size_t g = 0; g < state->n_groups; g++) {
                const struct kasm_group *group = &state->groups[g];
                if (!kasm_group_owned(group)) {
                        check_foreign(&b, group, vault);
                        continue;
                }
                size_t c = orch_desired_find_class(d, group->name);
                if (c != SIZE_MAX && d->used[c] && keeper[c] == SIZE_MAX)
                        keeper[c] = g;
        }
        plan_groups(&b, state, d, keeper);
        for (size_t u = 0; u < state->n_users; u++) {
                plan_user(&b, state, d, keeper, u);
                plan.end_sessions[u] = plan.changes[u] == ORCH_LOSS || (pending && pending[u]);
        }
        for (size_t g = 0; g < state->n_groups; g++) {
                const struct kasm_group *group = &state->groups[g];
                size_t c;
                if (!kasm_group_owned(group))
                        continue;
                c = orch_desired_find_class(d, group->name);
                if (c != SIZE_MAX && keeper[c] == g)
                        continue;
                add_drift(&b,
                          (struct orch_drift){ .kind = ORCH_DRIFT_STALE_GROUP,
                                               .group_name = group->name,
                                               .group_id = group->id },
                          "no user's class is %s%s", group->name,
                          c != SIZE_MAX && d->used[c] ? " here (another group has that name)" : "");
                add_action(&b, (struct orch_action){ .kind = ORCH_DELETE_GROUP,
                                                     .group_name = group->name,
                                                     .group_id = group->id,
                                                     .why = "stale class group" });
        }
        for (size_t i = 0; i < d->n_unknown; i++)
                add_drift(&b, (struct orch_drift){ .kind = ORCH_DRIFT_UNKNOWN_USER },
                          "the users file names %s, whom Kasm does not have (nothing to do "
                          "until they first log in)",
                          d->unknown[i]);
        plan_sessions(&b, state);
out:
        free(keeper);
        if (b.error) {
                orch_plan_clear(&plan);
                return b.error;
        }
        *ret = plan;
        return 0;
}

void orch_plan_clear(struct orch_plan *plan)
{
        for (size_t i = 0; i < plan->n_drifts; i++)
                free(plan->drifts[i].detail);
        free(plan->drifts);
        free(plan->actions);
        free(plan->changes);
        free(plan->end_sessions);
        *plan = (struct orch_plan){ 0 };
}

bool orch_plan_pending(const struct orch_plan *plan)
{
        return plan->n_actions > 0;
}

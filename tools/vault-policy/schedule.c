/* SPDX-License-Identifier: MIT */
/*
 * vault-policy schedule: every instant in a range at which some user's decision changes,
 * who moves from which class group to which, what they gain and lose, and what the Kasm
 * admin (or a script) must do then.  A bind mount cannot be revoked inside a running
 * container, so a user who loses access must have their running sessions ended.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes-output.h"
#include "policy/json-time.h"
#include "vault-policy.h"

static const char *cell(uint8_t mode)
{
        return mode == VS_MODE_NONE ? "-" : vs_mode_to_string(mode);
}

/* Gains and losses between two classes: {"folder", "from", "to"} each. */
static void diff_classes(const struct vs_policy *policy, const struct vp_class *from, const struct vp_class *to,
                         json_t *gains, json_t *losses)
{
        for (size_t f = 0; f < policy->n_folders; f++) {
                uint8_t a = from->modes[f], b = to->modes[f];
                if (a == b)
                        continue;
                json_array_append_new(b > a ? gains : losses, json_pack("{s:s, s:s, s:s}", "folder",
                                                                        policy->folders[f].name, "from", cell(a),
                                                                        "to", cell(b)));
        }
}

static char *kasm_steps(const char *user, const char *from, const char *to, bool loses)
{
        char *text = NULL;
        int n = loses ? asprintf(&text, "remove %s from group %s; add %s to group %s; end %s's running sessions "
                                        "(a bind mount cannot be revoked inside a running container)",
                                 user, from, user, to, user)
                      : asprintf(&text, "add %s to group %s; remove %s from group %s (running sessions keep "
                                        "their mounts; the next session has the new ones)",
                                 user, to, user, from);
        return n < 0 ? NULL : text;
}

static json_t *build_schedule(const struct vs_policy *policy, const struct vs_users *users,
                              const struct vp_plan *plan, int64_t from, int64_t to)
{
        json_t *classes = json_array(), *start = json_array(), *instants = json_array();
        bool *used = calloc(plan->n_classes + 1, sizeof(bool));
        if (!used)
                return NULL;
        for (size_t u = 0; u < users->count; u++) {
                used[plan->initial[u]] = true;
                json_array_append_new(start, json_pack("{s:s, s:s, s:s}", "user", users->items[u].name, "id",
                                                       users->items[u].id, "group",
                                                       plan->classes[plan->initial[u]].name));
        }
        for (size_t i = 0; i < plan->n_changes;) {
                int64_t at = plan->changes[i].at;
                json_t *changes = json_array(), *kasm = json_array(), *create = json_array();
                for (; i < plan->n_changes && plan->changes[i].at == at; i++) {
                        const struct vp_change *ch = &plan->changes[i];
                        const struct vp_class *a = &plan->classes[ch->from], *b = &plan->classes[ch->to];
                        const char *name = users->items[ch->user].name;
                        json_t *gains = json_array(), *losses = json_array();
                        if (!used[ch->to]) {
                                used[ch->to] = true;
                                json_array_append_new(create, json_string(b->name));
                        }
                        diff_classes(policy, a, b, gains, losses);
                        bool loses = json_array_size(losses) > 0;
                        char *steps = kasm_steps(name, a->name, b->name, loses);
                        json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b}", "user", name,
                                                                 "id", users->items[ch->user].id, "from", a->name,
                                                                 "to", b->name, "gains", gains, "losses", losses,
                                                                 "end_sessions", loses));
                        json_array_append_new(kasm, json_string(steps ? steps : "?"));
                        free(steps);
                }
                json_array_append_new(instants, json_pack("{s:o, s:o, s:o, s:o}", "at", vp_json_time(at),
                                                          "create_groups", create, "changes", changes, "kasm",
                                                          kasm));
        }
        for (size_t c = 0; c < plan->n_classes; c++)
                if (used[c])
                        json_array_append_new(classes, class_json(policy, &plan->classes[c]));
        free(used);
        return json_pack("{s:o, s:o, s:o, s:o, s:o}", "from", vp_json_time(from), "to", vp_json_time(to), "classes",
                         classes, "start", start, "instants", instants);
}

static void print_folder_list(const char *label, json_t *list)
{
        size_t i;
        json_t *item;
        if (json_array_size(list) == 0)
                return;
        printf("    %s:", label);
        json_array_foreach (list, i, item)
        {
                const char *folder = json_string_value(json_object_get(item, "folder"));
                const char *from = json_string_value(json_object_get(item, "from"));
                const char *to = json_string_value(json_object_get(item, "to"));
                if (strcmp(from, "-") == 0)
                        printf("%s %s %s", i ? "," : "", folder, to);
                else if (strcmp(to, "-") == 0)
                        printf("%s %s (was %s)", i ? "," : "", folder, from);
                else
                        printf("%s %s %s instead of %s", i ? "," : "", folder, to, from);
        }
        printf("\n");
}

static void print_text(json_t *doc)
{
        json_t *instants = json_object_get(doc, "instants"), *instant;
        size_t i, n_changes = 0;
        json_array_foreach (instants, i, instant)
                n_changes += json_array_size(json_object_get(instant, "changes"));
        printf("schedule from %s to %s: %zu instants, %zu class changes, %zu class groups in use\n",
               json_string_value(json_object_get(doc, "from")), json_string_value(json_object_get(doc, "to")),
               json_array_size(instants), n_changes, json_array_size(json_object_get(doc, "classes")));
        printf("at the start: the memberships of `vault-policy classes --at %s`\n",
               json_string_value(json_object_get(doc, "from")));
        json_array_foreach (instants, i, instant) {
                json_t *changes = json_object_get(instant, "changes"), *create = json_object_get(instant, "create_groups");
                json_t *kasm = json_object_get(instant, "kasm"), *change, *g;
                size_t j;
                printf("\n%s\n", json_string_value(json_object_get(instant, "at")));
                json_array_foreach (create, j, g)
                        printf("  create group %s (its volume_mapping is in --json's \"classes\")\n", json_string_value(g));
                json_array_foreach (changes, j, change) {
                        printf("  %s: %s -> %s\n", json_string_value(json_object_get(change, "user")),
                               json_string_value(json_object_get(change, "from")),
                               json_string_value(json_object_get(change, "to")));
                        print_folder_list("gains", json_object_get(change, "gains"));
                        print_folder_list("loses", json_object_get(change, "losses"));
                        printf("    Kasm: %s\n", json_string_value(json_array_get(kasm, j)));
                }
        }
}

int run_schedule(const struct vs_policy *policy, const struct vs_users *users, int64_t from, int64_t to, bool json)
{
        struct vp_plan plan;
        int r = vp_plan_build(policy, users, from, to, &plan);
        if (r < 0)
                return r;
        json_t *doc = build_schedule(policy, users, &plan, from, to);
        vp_plan_clear(&plan);
        if (!doc)
                return -ENOMEM;
        if (json)
                return print_json(doc) < 0 ? -EIO : EXIT_OK;
        print_text(doc);
        json_decref(doc);
        return fflush(stdout) == EOF ? -EIO : EXIT_OK;
}

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
#include "json-stream.h"
#include "policy/json-time.h"
#include "vault-policy.h"

static const char *cell(uint8_t mode)
{
        return mode == VS_MODE_NONE ? "-" : vs_mode_to_string(mode);
}

/* Gains and losses between two classes: {"folder", "from", "to"} each. */
static void diff_classes(const struct vs_policy *policy, const struct vp_class *from,
                         const struct vp_class *to, json_t *gains, json_t *losses)
{
        for (size_t f = 0; f < policy->n_folders; f++) {
                uint8_t a = from->modes[f], b = to->modes[f];
                if (a == b)
                        continue;
                json_array_append_new(b > a ? gains : losses,
                                      json_pack("{s:s, s:s, s:s}", "folder",
                                                policy->folders[f].name, "from", cell(a), "to",
                                                cell(b)));
        }
}

static char *kasm_steps(const char *user, const char *from, const char *to, bool loses)
{
        char *text = NULL;
        int n = loses ? asprintf(&text,
                                 "remove %s from group %s; add %s to group %s; end %s's running "
                                 "sessions "
                                 "(a bind mount cannot be revoked inside a running container)",
                                 user, from, user, to, user)
                      : asprintf(&text,
                                 "add %s to group %s; remove %s from group %s (running sessions "
                                 "keep "
                                 "their mounts; the next session has the new ones)",
                                 user, to, user, from);
        return n < 0 ? NULL : text;
}

/* The classes anyone is in during the range: at the start, or moved into by a change. */
static bool *classes_used(const struct vp_plan *plan)
{
        bool *used = calloc(plan->n_classes + 1, sizeof(bool));
        for (size_t u = 0; used && u < plan->n_users; u++)
                used[plan->initial[u]] = true;
        for (size_t i = 0; used && i < plan->n_changes; i++)
                used[plan->changes[i].to] = true;
        return used;
}

/* The instant of plan->changes[*i] with every change at it, {"at", "create_groups",
 * "changes", "kasm"}; advances *i past them.  created: the classes someone was in before
 * (the start's, and earlier instants'), updated. */
static json_t *instant_json(const struct vs_policy *policy, const struct vs_users *users,
                            const struct vp_plan *plan, size_t *i, bool *created)
{
        int64_t at = plan->changes[*i].at;
        json_t *changes = json_array(), *kasm = json_array(), *create = json_array();
        for (; *i < plan->n_changes && plan->changes[*i].at == at; (*i)++) {
                const struct vp_change *ch = &plan->changes[*i];
                const struct vp_class *a = &plan->classes[ch->from], *b = &plan->classes[ch->to];
                const char *name = users->items[ch->user].name;
                json_t *gains = json_array(), *losses = json_array();
                if (!created[ch->to]) {
                        created[ch->to] = true;
                        json_array_append_new(create, json_string(b->name));
                }
                diff_classes(policy, a, b, gains, losses);
                bool loses = json_array_size(losses) > 0;
                char *steps = kasm_steps(name, a->name, b->name, loses);
                json_array_append_new(changes,
                                      json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b}", "user", name,
                                                "id", users->items[ch->user].id, "from", a->name,
                                                "to", b->name, "gains", gains, "losses", losses,
                                                "end_sessions", loses));
                json_array_append_new(kasm, json_string(steps ? steps : "?"));
                free(steps);
        }
        return json_pack("{s:o, s:o, s:o, s:o}", "at", vp_json_time(at), "create_groups", create,
                         "changes", changes, "kasm", kasm);
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

static size_t count_instants(const struct vp_plan *plan)
{
        size_t n = 0;
        for (size_t i = 0; i < plan->n_changes; i++)
                n += i == 0 || plan->changes[i].at != plan->changes[i - 1].at;
        return n;
}

static void print_instant_text(json_t *instant)
{
        json_t *changes = json_object_get(instant, "changes"),
               *create = json_object_get(instant, "create_groups");
        json_t *kasm = json_object_get(instant, "kasm"), *change, *g;
        size_t j;
        printf("\n%s\n", json_string_value(json_object_get(instant, "at")));
        json_array_foreach (create, j, g)
                printf("  create group %s (its volume_mapping is in --json's \"classes\")\n",
                       json_string_value(g));
        json_array_foreach (changes, j, change) {
                printf("  %s: %s -> %s\n", json_string_value(json_object_get(change, "user")),
                       json_string_value(json_object_get(change, "from")),
                       json_string_value(json_object_get(change, "to")));
                print_folder_list("gains", json_object_get(change, "gains"));
                print_folder_list("loses", json_object_get(change, "losses"));
                printf("    Kasm: %s\n", json_string_value(json_array_get(kasm, j)));
        }
}

/* The document print_json would print, written instant by instant: only one instant's JSON
 * is ever held (a year of a large organisation's changes would be hundreds of MiB). */
static int stream_json(const struct vs_policy *policy, const struct vs_users *users,
                       const struct vp_plan *plan, const bool *used, bool *created, int64_t from,
                       int64_t to)
{
        struct json_stream s;
        json_stream_init(&s, stdout);
        json_stream_begin(&s, '{');
        json_stream_key(&s, "classes");
        json_stream_begin(&s, '[');
        for (size_t c = 0; c < plan->n_classes; c++)
                if (used[c])
                        json_stream_value(&s, class_json(policy, &plan->classes[c]));
        json_stream_end(&s, ']');
        json_stream_key(&s, "from");
        json_stream_value(&s, vp_json_time(from));
        json_stream_key(&s, "instants");
        json_stream_begin(&s, '[');
        for (size_t i = 0; i < plan->n_changes && !s.failed;)
                json_stream_value(&s, instant_json(policy, users, plan, &i, created));
        json_stream_end(&s, ']');
        json_stream_key(&s, "start");
        json_stream_begin(&s, '[');
        for (size_t u = 0; u < users->count && !s.failed; u++)
                json_stream_value(&s, json_pack("{s:s, s:s, s:s}", "user", users->items[u].name,
                                                "id", users->items[u].id, "group",
                                                plan->classes[plan->initial[u]].name));
        json_stream_end(&s, ']');
        json_stream_key(&s, "to");
        json_stream_value(&s, vp_json_time(to));
        json_stream_end(&s, '}');
        return json_stream_finish(&s);
}

static int print_text(const struct vs_policy *policy, const struct vs_users *users,
                      const struct vp_plan *plan, const bool *used, bool *created, int64_t from,
                      int64_t to)
{
        char from_text[VS_TIME_BUF], to_text[VS_TIME_BUF];
        size_t n_used = 0;
        for (size_t c = 0; c < plan->n_classes; c++)
                n_used += used[c];
        vs_time_format(from, from_text);
        vs_time_format(to, to_text);
        printf("schedule from %s to %s: %zu instants, %zu class changes, %zu class groups in use\n",
               from_text, to_text, count_instants(plan), plan->n_changes, n_used);
        printf("at the start: the memberships of `vault-policy classes --at %s`\n", from_text);
        for (size_t i = 0; i < plan->n_changes;) {
                json_t *instant = instant_json(policy, users, plan, &i, created);
                if (!instant)
                        return -ENOMEM;
                print_instant_text(instant);
                json_decref(instant);
        }
        return fflush(stdout) == EOF ? -EIO : 0;
}

/* A refusal once per user, folder and reason over the range: at the start, or at an instant
 * the user's class changes (only then can what is refused change). */
static int report_new_refusals(const struct vs_policy *policy, const struct vs_user *user,
                               int64_t at, json_t *seen, size_t *count)
{
        struct vs_request request = {
                .user_name = user->name, .user_id = user->id,
                .groups = (const char *const *)user->groups, .n_groups = user->n_groups, .now = at,
        };
        struct vs_decision *d;
        int r = vs_policy_decide(policy, &request, &d);
        if (r < 0)
                return r;
        for (size_t f = 0; r == 0 && f < d->n_folders; f++) {
                const struct vs_folder_decision *fd = &d->folders[f];
                char *key = NULL;
                if (fd->status != VS_FOLDER_REFUSED)
                        continue;
                if (asprintf(&key, "%s\n%s\n%s", user->name, fd->folder->name, fd->refusal) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (!json_object_get(seen, key)) {
                        report_refusal(user->name, fd->folder->name, fd->refusal);
                        json_object_set_new(seen, key, json_true());
                        (*count)++;
                }
                free(key);
        }
        vs_decision_free(d);
        return r;
}

static int report_schedule_refusals(const struct vs_policy *policy, const struct vs_users *users,
                                    const struct vp_plan *plan, int64_t from, size_t *count)
{
        json_t *seen = json_object();
        int r = seen ? 0 : -ENOMEM;
        for (size_t u = 0; r == 0 && u < users->count; u++)
                if (plan->refusable[u])
                        r = report_new_refusals(policy, &users->items[u], from, seen, count);
        for (size_t i = 0; r == 0 && i < plan->n_changes; i++)
                if (plan->refusable[plan->changes[i].user])
                        r = report_new_refusals(policy, &users->items[plan->changes[i].user],
                                                plan->changes[i].at, seen, count);
        json_decref(seen);
        return r;
}

int run_schedule(const struct vs_policy *policy, const struct vs_users *users, int64_t from,
                 int64_t to, bool json)
{
        struct vp_plan plan;
        int r = vp_plan_build(policy, users, from, to, &plan);
        if (r < 0)
                return r;
        bool *used = classes_used(&plan), *created = calloc(plan.n_classes + 1, sizeof(bool));
        size_t refused = 0;
        if (!used || !created) {
                r = -ENOMEM;
        } else if ((r = report_schedule_refusals(policy, users, &plan, from, &refused)) == 0) {
                for (size_t u = 0; u < plan.n_users; u++)
                        created[plan.initial[u]] = true;
                r = json ? stream_json(policy, users, &plan, used, created, from, to)
                         : print_text(policy, users, &plan, used, created, from, to);
        }
        free(used);
        free(created);
        vp_plan_clear(&plan);
        if (r < 0)
                return r;
        return refused ? EXIT_PARTIAL : EXIT_OK;
}

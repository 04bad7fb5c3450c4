/* SPDX-License-Identifier: MIT */
/*
 * What plan would do and what apply did: one line per write and per drift, and the counts;
 * or the same as one JSON document (--json).  Names from Kasm are printed escaped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator.h"
#include "policy/json-time.h"

void orch_log(const char *fmt, ...)
{
        char *text = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        fputs("vault-orchestrator: ", stderr);
        for (const char *s = text; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c < 0x20 || c == 0x7f)
                        fprintf(stderr, "\\x%02x", c);
                else
                        fputc(c, stderr);
        }
        fputc('\n', stderr);
        free(text);
}

/* Kasm's names are not ours: escape anything that could break a line. */
static void put_escaped(const char *s)
{
        for (; s && *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c < 0x20 || c == 0x7f)
                        printf("\\x%02x", c);
                else
                        putchar(c);
        }
}

static json_t *action_json(const struct kasm_state *state, const struct orch_action *a)
{
        json_t *item = json_pack("{s:s, s:s}", "call", orch_action_name(a->kind), "why", a->why);
        if (a->kind != ORCH_END_SESSION) {
                json_object_set_new(item, "group", json_string(a->group_name));
                json_object_set_new(item, "group_id",
                                    a->group_id ? json_string(a->group_id) : json_null());
        }
        if (a->kind == ORCH_ADD_MEMBER || a->kind == ORCH_REMOVE_MEMBER ||
            a->kind == ORCH_END_SESSION) {
                json_object_set_new(item, "user", json_string(state->users[a->user].name));
                json_object_set_new(item, "user_id", json_string(state->users[a->user].id));
        }
        if (a->kind == ORCH_END_SESSION)
                json_object_set_new(item, "kasm_id",
                                    json_string(state->sessions[a->session].kasm_id));
        if (a->mapping)
                json_object_set_new(item, "volume_mapping", json_deep_copy(a->mapping));
        if (a->setting_id)
                json_object_set_new(item, "group_setting_id", json_string(a->setting_id));
        return item;
}

static bool drift_repaired(enum orch_drift_kind kind)
{
        return kind == ORCH_DRIFT_TWO_GROUPS || kind == ORCH_DRIFT_EDITED_MAPPING ||
               kind == ORCH_DRIFT_STALE_GROUP;
}

static json_t *drift_json(const struct kasm_state *state, const struct orch_drift *d)
{
        json_t *item = json_pack("{s:s, s:s, s:b}", "kind", orch_drift_name(d->kind), "detail",
                                 d->detail, "repaired", drift_repaired(d->kind));
        if (d->group_name)
                json_object_set_new(item, "group", json_string(d->group_name));
        if (d->group_id)
                json_object_set_new(item, "group_id", json_string(d->group_id));
        if (d->kind == ORCH_DRIFT_TWO_GROUPS)
                json_object_set_new(item, "user", json_string(state->users[d->user].name));
        return item;
}

static json_t *counts_json(const struct orch_plan *plan)
{
        json_t *counts = json_object();
        for (int k = 0; k < ORCH_N_KINDS; k++)
                json_object_set_new(counts, orch_action_name(k),
                                    json_integer((json_int_t)plan->counts[k]));
        return counts;
}

static void print_action(const struct kasm_state *state, const struct orch_action *a)
{
        const char *user = a->kind == ORCH_ADD_MEMBER || a->kind == ORCH_REMOVE_MEMBER ||
                                           a->kind == ORCH_END_SESSION
                                   ? state->users[a->user].name
                                   : NULL;
        fputs("  ", stdout);
        switch (a->kind) {
        case ORCH_CREATE_GROUP:
                printf("create group %s", a->group_name);
                break;
        case ORCH_ADD_SETTING:
                printf("set the volume_mapping of %s (%zu folders)", a->group_name,
                       json_object_size(a->mapping));
                break;
        case ORCH_UPDATE_SETTING:
                printf("restore the volume_mapping of %s (%zu folders)", a->group_name,
                       json_object_size(a->mapping));
                break;
        case ORCH_REMOVE_SETTING:
                printf("remove an extra volume_mapping setting of %s", a->group_name);
                break;
        case ORCH_ADD_MEMBER:
                fputs("add ", stdout);
                put_escaped(user);
                printf(" to %s", a->group_name);
                break;
        case ORCH_REMOVE_MEMBER:
                fputs("remove ", stdout);
                put_escaped(user);
                fputs(" from ", stdout);
                put_escaped(a->group_name);
                break;
        case ORCH_DELETE_GROUP:
                fputs("delete group ", stdout);
                put_escaped(a->group_name);
                break;
        case ORCH_END_SESSION:
                fputs("end session ", stdout);
                put_escaped(state->sessions[a->session].kasm_id);
                fputs(" of ", stdout);
                put_escaped(user);
                break;
        case ORCH_N_KINDS:
                break;
        }
        printf(" (%s)\n", a->why);
}

static void print_text(const struct kasm_state *state, const struct orch_desired *desired,
                       const struct orch_plan *plan, bool done)
{
        char at[VS_TIME_BUF], next[VS_TIME_BUF] = "never";
        size_t classes = 0;
        vs_time_format(desired->at, at);
        if (desired->next != VS_TIME_NONE)
                vs_time_format(desired->next, next);
        for (size_t c = 0; c < desired->plan.n_classes; c++)
                classes += desired->used[c];
        printf("%s at %s: %zu users in %zu class groups, %zu running sessions; next change "
               "%s\n",
               done ? "apply" : "plan", at, state->n_users, classes, state->n_sessions, next);
        for (size_t i = 0; i < plan->n_actions; i++)
                print_action(state, &plan->actions[i]);
        for (size_t i = 0; i < plan->n_drifts; i++) {
                const struct orch_drift *d = &plan->drifts[i];
                printf("  drift %s: ", orch_drift_name(d->kind));
                if (d->group_name && d->kind != ORCH_DRIFT_TWO_GROUPS) {
                        fputs("group ", stdout);
                        put_escaped(d->group_name);
                        fputs(" ", stdout);
                }
                put_escaped(d->detail);
                puts(drift_repaired(d->kind) ? (done ? " (repaired)" : " (apply repairs it)")
                     : d->kind == ORCH_DRIFT_UNKNOWN_USER
                             ? ""
                             : " (not a vault- group: never touched, an admin must "
                               "fix it)");
        }
        if (plan->n_actions == 0) {
                printf("%s\n",
                       plan->n_refused ? "in sync, but drift remains for an admin" : "in sync");
                return;
        }
        printf("%s %zu writes:", done ? "made" : "pending", plan->n_actions);
        for (int k = 0; k < ORCH_N_KINDS; k++)
                if (plan->counts[k])
                        printf(" %s %zu", orch_action_name(k), plan->counts[k]);
        putchar('\n');
}

void orch_report(const struct orch_context *ctx, const struct kasm_state *state,
                 const struct orch_desired *desired, const struct orch_plan *plan, bool done)
{
        if (!ctx->json) {
                print_text(state, desired, plan, done);
                fflush(stdout);
                return;
        }
        json_t *actions = json_array(), *drift = json_array();
        for (size_t i = 0; i < plan->n_actions; i++)
                json_array_append_new(actions, action_json(state, &plan->actions[i]));
        for (size_t i = 0; i < plan->n_drifts; i++)
                json_array_append_new(drift, drift_json(state, &plan->drifts[i]));
        json_t *root =
                json_pack("{s:s, s:o, s:o, s:b, s:o, s:o, s:o, s:i, s:i}", "command",
                          done ? "apply" : "plan", "at", vp_json_time(desired->at), "next_change",
                          vp_json_time(desired->next), "in_sync", done || plan->n_actions == 0,
                          "counts", counts_json(plan), "actions", actions, "drift", drift, "users",
                          (json_int_t)state->n_users, "sessions", (json_int_t)state->n_sessions);
        if (root)
                json_dumpf(root, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
        putchar('\n');
        json_decref(root);
        fflush(stdout);
}

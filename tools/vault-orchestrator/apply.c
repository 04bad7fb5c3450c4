/* SPDX-License-Identifier: MIT */
/*
 * apply: the plan's writes in the plan's order.  Nothing is reported done that Kasm did not
 * confirm; a failure stops the run where it is, and the next run, which reads Kasm afresh,
 * finishes the job (the intents keep what it cannot read back from Kasm: whose sessions are
 * still to end).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "policy/json-time.h"

/* The groups this run created, by name. */
struct created {
        const char **names;
        char **ids;
        size_t count;
};

static const char *created_id(const struct created *c, const char *name)
{
        for (size_t i = 0; i < c->count; i++)
                if (strcmp(c->names[i], name) == 0)
                        return c->ids[i];
        return NULL;
}

static int created_add(struct created *c, const char *name, char *id)
{
        const char **names = realloc(c->names, (c->count + 1) * sizeof(*names));
        if (names)
                c->names = names;
        char **ids = realloc(c->ids, (c->count + 1) * sizeof(*ids));
        if (ids)
                c->ids = ids;
        if (!names || !ids) {
                free(id);
                return -ENOMEM;
        }
        c->names[c->count] = name;
        c->ids[c->count++] = id;
        return 0;
}

static void created_clear(struct created *c)
{
        for (size_t i = 0; i < c->count; i++)
                free(c->ids[i]);
        free(c->names);
        free(c->ids);
}

/* The mode a user's current vault- groups give a host path: the highest of any. */
static const char *old_mode(const struct kasm_state *state, const struct kasm_user *ku,
                            const char *host)
{
        const char *mode = NULL;
        for (size_t i = 0; i < ku->n_groups; i++) {
                const struct kasm_group *g = &state->groups[ku->groups[i]];
                if (!kasm_group_owned(g))
                        continue;
                for (size_t s = 0; s < g->n_mappings; s++) {
                        const char *m = json_string_value(json_object_get(
                                json_object_get(g->mappings[s].value, host), "mode"));
                        if (m && (!mode || strcmp(m, "rw") == 0))
                                mode = m;
                }
        }
        return mode;
}

static void append_label(char **labels, const struct vs_policy_folder *folder,
                         const struct vs_policy_rule *rule)
{
        char *label = vs_rule_label(folder, rule), *joined = NULL;
        if (!label)
                return;
        if (asprintf(&joined, "%s%s%s", *labels ? *labels : "", *labels ? ", " : "", label) >= 0) {
                free(*labels);
                *labels = joined;
        }
        free(label);
}

/* Which rules make a user's access change at the instant: per folder whose mode changes, the
 * deciding rules, else those whose groups match but whose window does not (the closed or
 * not yet open window), else none (the user's groups changed). */
static char *rules_for_user(const struct orch_context *ctx, const struct kasm_state *state,
                            const struct orch_desired *d, size_t u)
{
        const struct vs_user *user = &d->users.items[u];
        const struct vp_class *cls = &d->plan.classes[d->plan.initial[u]];
        struct vs_request req = { .user_name = user->name,
                                  .user_id = user->id,
                                  .groups = (const char *const *)user->groups,
                                  .n_groups = user->n_groups,
                                  .now = d->at };
        struct vs_decision *decision = NULL;
        char *labels = NULL;
        if (vs_policy_decide(ctx->policy, &req, &decision) < 0)
                return NULL;
        for (size_t f = 0; f < ctx->policy->n_folders; f++) {
                const struct vs_policy_folder *folder = &ctx->policy->folders[f];
                const char *was = old_mode(state, &state->users[u], folder->path);
                const char *now =
                        cls->modes[f] == VS_MODE_NONE ? NULL : vs_mode_to_string(cls->modes[f]);
                if ((!was && !now) || (was && now && strcmp(was, now) == 0))
                        continue;
                const struct vs_folder_decision *fd = &decision->folders[f];
                bool any = false;
                for (size_t v = 0; v < fd->n_verdicts; v++)
                        if (fd->verdicts[v].deciding) {
                                append_label(&labels, folder, fd->verdicts[v].rule);
                                any = true;
                        }
                for (size_t v = 0; !any && v < fd->n_verdicts; v++)
                        if (fd->verdicts[v].outcome == VS_RULE_EXPIRED ||
                            fd->verdicts[v].outcome == VS_RULE_NOT_YET_VALID)
                                append_label(&labels, folder, fd->verdicts[v].rule);
        }
        vs_decision_free(decision);
        return labels;
}

struct run {
        const struct orch_context *ctx;
        struct kasm_state *state;
        const struct orch_desired *desired;
        const struct orch_plan *plan;
        struct created created;
        char **user_rules; /* per user, computed at their first write */
};

static json_t *why_json(struct run *run, const struct orch_action *a, bool for_user)
{
        const char *rule = a->why;
        if (for_user) {
                char **slot = &run->user_rules[a->user];
                if (!*slot)
                        *slot = rules_for_user(run->ctx, run->state, run->desired, a->user);
                if (*slot)
                        rule = *slot;
        }
        return json_pack("{s:s, s:s, s:o}", "reason", a->why, "rule", rule, "instant",
                         vp_json_time(run->desired->at));
}

static json_t *target_json(const struct run *run, const struct orch_action *a, const char *group_id)
{
        const struct kasm_state *state = run->state;
        json_t *target = json_object();
        if (a->kind != ORCH_END_SESSION) {
                json_object_set_new(target, "group", json_string(a->group_name));
                if (group_id)
                        json_object_set_new(target, "group_id", json_string(group_id));
        }
        if (a->kind == ORCH_ADD_MEMBER || a->kind == ORCH_REMOVE_MEMBER ||
            a->kind == ORCH_END_SESSION) {
                json_object_set_new(target, "user", json_string(state->users[a->user].name));
                json_object_set_new(target, "user_id", json_string(state->users[a->user].id));
        }
        if (a->setting_id)
                json_object_set_new(target, "group_setting_id", json_string(a->setting_id));
        return target;
}

static const char *DESCRIPTION =
        "vaultshim access class, kept by vault-orchestrator from the vault policy: "
        "do not edit (its volume_mapping and members are restored)";

/* One write of the plan; 0, or the call's negative errno (kasm->error says why). */
static int execute(struct run *run, const struct orch_action *a)
{
        struct kasm_client *kasm = run->ctx->kasm;
        const struct kasm_user *user = &run->state->users[a->user];
        const char *group_id = a->group_id ? a->group_id : created_id(&run->created, a->group_name);
        char *new_id = NULL;
        int r;
        if (a->kind != ORCH_CREATE_GROUP && !group_id)
                return -ENOENT; /* its create_group failed, so this run stopped before */
        switch (a->kind) {
        case ORCH_CREATE_GROUP:
                r = kasm_create_group(kasm, a->group_name, DESCRIPTION, &new_id);
                if (r >= 0) {
                        group_id = new_id;
                        r = created_add(&run->created, a->group_name, new_id);
                }
                break;
        case ORCH_ADD_SETTING:
                r = kasm_add_mapping(kasm, group_id, a->mapping);
                break;
        case ORCH_UPDATE_SETTING:
                r = kasm_update_mapping(kasm, group_id, a->setting_id, a->mapping);
                break;
        case ORCH_REMOVE_SETTING:
                r = kasm_remove_setting(kasm, group_id, a->setting_id);
                break;
        case ORCH_ADD_MEMBER:
                r = kasm_add_user_group(kasm, user->id, group_id);
                break;
        case ORCH_REMOVE_MEMBER:
                r = kasm_remove_user_group(kasm, user->id, group_id);
                break;
        case ORCH_DELETE_GROUP:
                r = kasm_delete_group(kasm, group_id);
                break;
        default:
                r = -EINVAL;
                break;
        }
        bool for_user = a->kind == ORCH_ADD_MEMBER || a->kind == ORCH_REMOVE_MEMBER;
        int ar = audit_write(run->ctx->audit, orch_action_name(a->kind),
                             target_json(run, a, group_id), why_json(run, a, for_user), r >= 0,
                             r < 0 ? kasm->error : NULL);
        if (r >= 0 && ar < 0) {
                snprintf(kasm->error, sizeof(kasm->error), "%s: %s", run->ctx->audit->path,
                         strerror(-ar));
                return ar;
        }
        return r;
}

/* The last step: every running session of the marked users, as Kasm lists them now (a
 * session started after the plan was read but before the memberships changed holds the old
 * mounts too). */
static int end_sessions(struct run *run, struct intents *intents)
{
        const struct kasm_state *state = run->state;
        struct kasm_client *kasm = run->ctx->kasm;
        struct kasm_state fresh = { 0 };
        char why_buf[512];
        int r = kasm_read_sessions(kasm, &fresh);
        for (size_t s = 0; r >= 0 && s < fresh.n_sessions; s++) {
                const struct kasm_session *session = &fresh.sessions[s];
                size_t u;
                for (u = 0; u < state->n_users; u++)
                        if (strcmp(state->users[u].id, session->user_id) == 0)
                                break;
                if (u == state->n_users || !run->plan->end_sessions[u])
                        continue;
                struct orch_action a = { .kind = ORCH_END_SESSION,
                                         .user = u,
                                         .why = run->plan->changes[u] == ORCH_LOSS
                                                        ? "access lost"
                                                        : "access lost (an earlier run was "
                                                          "interrupted)" };
                r = kasm_destroy_kasm(kasm, session->kasm_id, session->user_id);
                json_t *target = json_pack("{s:s, s:s, s:s}", "kasm_id", session->kasm_id, "user",
                                           state->users[u].name, "user_id", state->users[u].id);
                int ar = audit_write(run->ctx->audit, "destroy_kasm", target,
                                     why_json(run, &a, true), r >= 0, r < 0 ? kasm->error : NULL);
                if (r >= 0 && ar < 0)
                        r = ar;
        }
        kasm_state_clear(&fresh);
        if (r < 0)
                return r;
        /* Every marked user's sessions are ended; an intent for a user Kasm no longer has has
         * no session left to end. */
        intents_clear(intents);
        r = intents_save(run->ctx->state_dir, intents, why_buf);
        if (r < 0)
                snprintf(kasm->error, sizeof(kasm->error), "%s", why_buf);
        return r;
}

int orch_apply(const struct orch_context *ctx, struct kasm_state *state,
               const struct orch_desired *desired, const struct orch_plan *plan,
               struct intents *intents)
{
        struct run run = { .ctx = ctx, .state = state, .desired = desired, .plan = plan };
        char why[512];
        size_t before = intents->count, done = 0;
        bool any_end = false;
        int r = 0;
        run.user_rules = calloc(state->n_users + 1, sizeof(char *));
        if (!run.user_rules)
                return EXIT_INPUT;
        /* Record whose sessions must end before any membership changes. */
        for (size_t u = 0; r >= 0 && u < state->n_users; u++)
                if (plan->end_sessions[u]) {
                        any_end = true;
                        r = intents_add(intents, state->users[u].id);
                }
        if (r >= 0 && intents->count != before &&
            (r = intents_save(ctx->state_dir, intents, why)) < 0) {
                orch_log("cannot record the sessions to end, so nothing was changed: %s", why);
                r = EXIT_INPUT;
                goto out;
        }
        for (size_t i = 0; r >= 0 && i < plan->n_actions; i++) {
                if (plan->actions[i].kind == ORCH_END_SESSION)
                        continue;
                r = execute(&run, &plan->actions[i]);
                done += r >= 0;
        }
        if (r >= 0 && (any_end || intents->count))
                r = end_sessions(&run, intents);
        if (r < 0) {
                orch_log("%s", ctx->kasm->error[0] ? ctx->kasm->error : strerror(-r));
                orch_log("apply stopped after %zu of its writes; the next run repairs the rest",
                         done);
                r = EXIT_KASM;
                goto out;
        }
        r = plan->n_refused ? EXIT_PENDING : EXIT_IN_SYNC;
out:
        for (size_t u = 0; u < state->n_users; u++)
                free(run.user_rules[u]);
        free(run.user_rules);
        created_clear(&run.created);
        return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * The plan (tools/vault-orchestrator/plan.c over desired.c): from an empty Kasm it creates
 * each class group with its mapping before anyone joins; in sync it writes nothing; a loss
 * removes before it adds and ends the user's sessions last; a gain adds before it removes and
 * ends nothing; drift is repaired when the group is a vault- one and only reported otherwise;
 * an intent left by an interrupted run still ends the sessions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan.h"
#include "shared/rfc3339.h"

static const char policy_yaml[] =
        "vault: /vault\n"
        "folders:\n"
        "  - name: deal\n"
        "    path: /shared/deal\n"
        "    access:\n"
        "      - {groups: [legal], mode: rw}\n"
        "      - {groups: [contractors], mode: ro,\n"
        "         not_before: 2027-01-01T00:00:00Z, not_after: 2027-02-01T00:00:00Z}\n"
        "  - name: personal\n"
        "    path: /users/{username}/personal\n"
        "    personal: true\n"
        "    access: [{groups: [staff, contractors], mode: rw}]\n"
        "  - name: wiki\n"
        "    path: /shared/wiki\n"
        "    access:\n"
        "      - {groups: [staff], mode: ro}\n"
        "      - {groups: [editors], mode: rw, not_before: 2027-03-01T00:00:00Z}\n";

#define IN_WINDOW "2027-01-15T00:00:00Z"
#define AFTER_WINDOW "2027-02-15T00:00:00Z"
#define EDITORS_RW "2027-03-15T00:00:00Z"

struct fixture {
        struct vs_policy *policy;
        struct kasm_state state;
        char *user_groups[8];       /* per user: the ids of their groups, comma-separated */
};

static int64_t at(const char *text)
{
        int64_t t;
        assert_int_equal(vs_rfc3339_parse(text, &t), 0);
        return t;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct vs_diags diags = { 0 };
        assert_non_null(f);
        assert_int_equal(vs_policy_parse("policy.yaml", policy_yaml, sizeof(policy_yaml) - 1,
                                         &f->policy, &diags),
                         0);
        f->state.now = VS_TIME_NONE;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        for (size_t u = 0; u < 8; u++)
                free(f->user_groups[u]);
        kasm_state_clear(&f->state);
        vs_policy_free(f->policy);
        free(f);
        return 0;
}

/* Groups first (kept sorted by id), then users naming them by id, then sessions. */
static void add_group(struct fixture *f, const char *id, const char *name, const char *mapping,
                      bool is_system)
{
        struct kasm_state *st = &f->state;
        st->groups = realloc(st->groups, (st->n_groups + 1) * sizeof(*st->groups));
        assert_non_null(st->groups);
        size_t at_index = 0;
        while (at_index < st->n_groups && strcmp(st->groups[at_index].id, id) < 0)
                at_index++;
        memmove(st->groups + at_index + 1, st->groups + at_index,
                (st->n_groups - at_index) * sizeof(*st->groups));
        struct kasm_group *g = &st->groups[at_index];
        *g = (struct kasm_group){ .id = strdup(id), .name = strdup(name), .is_system = is_system };
        if (mapping) {
                g->mappings = calloc(1, sizeof(*g->mappings));
                g->mappings[0] = (struct kasm_setting){ .id = strdup("setting-1"),
                                                        .text = strdup(mapping),
                                                        .value = json_loads(mapping, 0, NULL) };
                g->n_mappings = 1;
        }
        st->n_groups++;
}

/* Users name their groups by id; resolve() turns the ids into indices once every group is in. */
static void add_user(struct fixture *f, const char *id, const char *name, const char *groups)
{
        struct kasm_state *st = &f->state;
        st->users = realloc(st->users, (st->n_users + 1) * sizeof(*st->users));
        f->user_groups[st->n_users] = strdup(groups);
        st->users[st->n_users++] = (struct kasm_user){ .id = strdup(id), .name = strdup(name) };
}

static void join(struct fixture *f, size_t user, const char *group_id)
{
        char *joined = NULL;
        assert_true(asprintf(&joined, "%s,%s", f->user_groups[user], group_id) > 0);
        free(f->user_groups[user]);
        f->user_groups[user] = joined;
}

static void resolve(struct fixture *f)
{
        struct kasm_state *st = &f->state;
        for (size_t u = 0; u < st->n_users; u++) {
                struct kasm_user *user = &st->users[u];
                char *copy = strdup(f->user_groups[u]), *save = NULL;
                free(user->groups);
                user->groups = calloc(16, sizeof(size_t));
                user->n_groups = 0;
                for (char *g = strtok_r(copy, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
                        size_t index = kasm_state_find_group(st, g);
                        assert_int_not_equal(index, SIZE_MAX);
                        user->groups[user->n_groups++] = index;
                }
                free(copy);
        }
}

static void add_session(struct fixture *f, const char *kasm_id, const char *user_id)
{
        struct kasm_state *st = &f->state;
        st->sessions = realloc(st->sessions, (st->n_sessions + 1) * sizeof(*st->sessions));
        st->sessions[st->n_sessions++] =
                (struct kasm_session){ .kasm_id = strdup(kasm_id), .user_id = strdup(user_id) };
}

/* The policy's own groups, as SSO keeps them in Kasm. */
static void add_sso_groups(struct fixture *f)
{
        add_group(f, "g-all", "All Users", NULL, true);
        add_group(f, "g-contractors", "contractors", NULL, false);
        add_group(f, "g-editors", "editors", NULL, false);
        add_group(f, "g-legal", "legal", NULL, false);
        add_group(f, "g-staff", "staff", NULL, false);
}

static void build(struct fixture *f, const char *when, const bool *pending,
                  struct orch_desired *d, struct orch_plan *p)
{
        resolve(f);
        assert_int_equal(orch_desired_build(f->policy, &f->state, NULL, at(when), d), 0);
        assert_int_equal(orch_plan_build(&f->state, d, "/vault", pending, p), 0);
}

static size_t position(const struct orch_plan *p, enum orch_action_kind kind, const char *group)
{
        for (size_t i = 0; i < p->n_actions; i++)
                if (p->actions[i].kind == kind &&
                    (!group || strcmp(p->actions[i].group_name, group) == 0))
                        return i;
        return SIZE_MAX;
}

static void from_empty_creates_groups_before_members(void **state)
{
        struct fixture *f = *state;
        struct orch_desired d;
        struct orch_plan p;
        add_sso_groups(f);
        add_user(f, "u-alice", "alice", "g-all,g-staff,g-legal");
        add_user(f, "u-erin", "erin", "g-contractors");
        add_user(f, "u-bob", "bob", "g-staff");
        build(f, IN_WINDOW, NULL, &d, &p);
        assert_int_equal(p.counts[ORCH_CREATE_GROUP], 3);
        assert_int_equal(p.counts[ORCH_ADD_SETTING], 3);
        assert_int_equal(p.counts[ORCH_ADD_MEMBER], 3);
        assert_int_equal(p.counts[ORCH_REMOVE_MEMBER] + p.counts[ORCH_DELETE_GROUP] +
                                 p.counts[ORCH_END_SESSION],
                         0);
        for (size_t i = 0; i < p.n_actions; i++) {
                const struct orch_action *a = &p.actions[i];
                if (a->kind != ORCH_ADD_MEMBER)
                        continue;
                assert_null(a->group_id); /* the group this plan creates */
                assert_true(position(&p, ORCH_ADD_SETTING, a->group_name) < i);
                assert_true(position(&p, ORCH_CREATE_GROUP, a->group_name) <
                            position(&p, ORCH_ADD_SETTING, a->group_name));
        }
        assert_int_equal(p.n_drifts, 0);
        assert_true(orch_plan_pending(&p));
        orch_plan_clear(&p);
        orch_desired_clear(&d);
}

/* Kasm as an apply at `when` leaves it: one group per class in use (its id is its name),
 * with the class's mapping, and each user in theirs. */
static void sync_at(struct fixture *f, const char *when)
{
        struct orch_desired d;
        struct orch_plan p;
        build(f, when, NULL, &d, &p);
        for (size_t c = 0; c < d.plan.n_classes; c++) {
                if (!d.used[c])
                        continue;
                char *text = json_dumps(d.mappings[c], JSON_SORT_KEYS);
                add_group(f, d.plan.classes[c].name, d.plan.classes[c].name, text, false);
                free(text);
        }
        for (size_t u = 0; u < f->state.n_users; u++)
                join(f, u, d.plan.classes[d.plan.initial[u]].name);
        orch_plan_clear(&p);
        orch_desired_clear(&d);
        resolve(f);
}

static void example_users(struct fixture *f)
{
        add_sso_groups(f);
        add_user(f, "u-alice", "alice", "g-all,g-staff,g-legal");
        add_user(f, "u-erin", "erin", "g-contractors");
        add_user(f, "u-bob", "bob", "g-staff,g-editors");
}

static void in_sync_writes_nothing(void **state)
{
        struct fixture *f = *state;
        struct orch_desired d;
        struct orch_plan p;
        example_users(f);
        sync_at(f, IN_WINDOW);
        add_session(f, "k-erin", "u-erin");
        build(f, IN_WINDOW, NULL, &d, &p);
        assert_int_equal(p.n_actions, 0);
        assert_int_equal(p.n_drifts, 0);
        assert_false(orch_plan_pending(&p));
        for (size_t u = 0; u < f->state.n_users; u++)
                assert_int_equal(p.changes[u], ORCH_SAME);
        orch_plan_clear(&p);
        orch_desired_clear(&d);
}

/* erin's window closes: out of the old group before into the new, sessions ended last. */
static void loss_removes_first_and_ends_sessions_last(void **state)
{
        struct fixture *f = *state;
        struct orch_desired d;
        struct orch_plan p;
        example_users(f);
        sync_at(f, IN_WINDOW);
        add_session(f, "k-erin", "u-erin");
        add_session(f, "k-alice", "u-alice");
        build(f, AFTER_WINDOW, NULL, &d, &p);
        assert_int_equal(p.changes[1], ORCH_LOSS);
        assert_int_equal(p.changes[0], ORCH_SAME);
        size_t removed = SIZE_MAX, added = SIZE_MAX, ended = SIZE_MAX, last_write = 0;
        for (size_t i = 0; i < p.n_actions; i++) {
                const struct orch_action *a = &p.actions[i];
                if (a->kind == ORCH_REMOVE_MEMBER && a->user == 1)
                        removed = i;
                if (a->kind == ORCH_ADD_MEMBER && a->user == 1)
                        added = i;
                if (a->kind == ORCH_END_SESSION) {
                        assert_int_equal(a->user, 1);
                        ended = i;
                } else {
                        last_write = i;
                }
        }
        assert_true(removed < added);
        assert_true(ended > last_write);
        assert_int_equal(p.counts[ORCH_END_SESSION], 1);
        assert_true(p.end_sessions[1]);
        assert_false(p.end_sessions[0]);
        /* the old class group is stale now: deleted after erin left it */
        assert_int_equal(p.counts[ORCH_DELETE_GROUP], 1);
        assert_true(position(&p, ORCH_DELETE_GROUP, NULL) > removed);
        orch_plan_clear(&p);
        orch_desired_clear(&d);
}

/* bob gains rw on the wiki: into the new group before out of the old, sessions kept. */
static void gain_adds_first_and_keeps_sessions(void **state)
{
        struct fixture *f = *state;
        struct orch_desired d;
        struct orch_plan p;
        example_users(f);
        sync_at(f, AFTER_WINDOW);
        add_session(f, "k-bob", "u-bob");
        build(f, EDITORS_RW, NULL, &d, &p);
        assert_int_equal(p.changes[2], ORCH_GAIN);
        size_t added = SIZE_MAX, removed = SIZE_MAX;
        for (size_t i = 0; i < p.n_actions; i++) {
                if (p.actions[i].kind == ORCH_ADD_MEMBER && p.actions[i].user == 2)
                        added = i;
                if (p.actions[i].kind == ORCH_REMOVE_MEMBER && p.actions[i].user == 2)
                        removed = i;
        }
        assert_true(added < removed);
        assert_int_equal(p.counts[ORCH_END_SESSION], 0);
        orch_plan_clear(&p);
        orch_desired_clear(&d);
}

/* An admin put alice into erin's class group too: she leaves it; she loses nothing she
 * should have, but the union gave her more, so her sessions end. */
static void second_vault_group_is_repaired(void **state)
{
        struct fixture *f = *state;
        struct orch_desired d;
        struct orch_plan p;
        add_sso_groups(f);
        add_user(f, "u-alice", "alice", "g-staff");
        add_user(f, "u-erin", "erin", "g-contractors");
        sync_at(f, IN_WINDOW);
        const struct kasm_group *erins = &f->state.groups[f->state.users[1].groups[1]];
        join(f, 0, erins->id);
        add_session(f, "k-alice", "u-alice");
        build(f, IN_WINDOW, NULL, &d, &p);
        assert_int_equal(p.n_drifts, 1);
        assert_int_equal(p.drifts[0].kind, ORCH_DRIFT_TWO_GROUPS);
        assert_int_equal(p.counts[ORCH_REMOVE_MEMBER], 1);
        assert_int_equal(p.counts[ORCH_ADD_MEMBER], 0);
        assert_int_equal(p.changes[0], ORCH_LOSS); /* erin's group grants the deal room */
        assert_int_equal(p.counts[ORCH_END_SESSION], 1);
        assert_int_equal(p.n_refused, 0);
        orch_plan_clear(&p);
        orch_desired_clear(&d);
}

/* A class group's volume_mapping edited to grant more: restored, members' sessions ended. */
static void edited_mapping_is_restored(void **state)
{
        struct fixture *f = *state;
        struct orch_desired d;
        struct orch_plan p;
        add_sso_groups(f);
        add_user(f, "u-bob", "bob", "g-staff");
        sync_at(f, AFTER_WINDOW);
        struct kasm_group *g = &f->state.groups[f->state.users[0].groups[1]];
        json_object_set_new(g->mappings[0].value, "/shared/deal",
                            json_pack("{s:s, s:s}", "bind", "/vault/deal", "mode", "rw"));
        add_session(f, "k-bob", "u-bob");
        build(f, AFTER_WINDOW, NULL, &d, &p);
        assert_int_equal(p.counts[ORCH_UPDATE_SETTING], 1);
        assert_int_equal(p.n_drifts, 1);
        assert_int_equal(p.drifts[0].kind, ORCH_DRIFT_EDITED_MAPPING);
        assert_int_equal(p.changes[0], ORCH_LOSS);
        assert_int_equal(p.counts[ORCH_END_SESSION], 1);
        assert_true(position(&p, ORCH_UPDATE_SETTING, NULL) <
                    position(&p, ORCH_END_SESSION, NULL));
        orch_plan_clear(&p);
        orch_desired_clear(&d);
}

/* Groups that are not ours are never written, and a mapping into the vault is reported. */
static void foreign_groups_are_reported_never_touched(void **state)
{
        struct fixture *f = *state;
        struct orch_desired d;
        struct orch_plan p;
        add_sso_groups(f);
        add_group(f, "g-mapper", "Engineering share",
                  "{\"/srv/eng\": {\"bind\": \"/vault/eng\", \"mode\": \"rw\"}, "
                  "\"/srv/tmp\": {\"bind\": \"/tmp/x\", \"mode\": \"rw\"}}",
                  false);
        add_group(f, "g-vault-system", "vault-lookalike", NULL, true);
        add_user(f, "u-bob", "bob", "g-staff,g-mapper,g-vault-system");
        sync_at(f, AFTER_WINDOW);
        build(f, AFTER_WINDOW, NULL, &d, &p);
        assert_int_equal(p.n_actions, 0);
        assert_int_equal(p.n_drifts, 1);
        assert_int_equal(p.drifts[0].kind, ORCH_DRIFT_FOREIGN_MAPPING);
        assert_string_equal(p.drifts[0].group_id, "g-mapper");
        assert_non_null(strstr(p.drifts[0].detail, "/vault/eng"));
        assert_int_equal(p.n_refused, 1);
        orch_plan_clear(&p);
        orch_desired_clear(&d);
}

/* A run interrupted after the membership change: Kasm looks in sync, the intent still ends
 * the session. */
static void pending_intent_ends_sessions(void **state)
{
        struct fixture *f = *state;
        struct orch_desired d;
        struct orch_plan p;
        bool pending[3] = { false, true, false };
        example_users(f);
        sync_at(f, AFTER_WINDOW);
        add_session(f, "k-erin", "u-erin");
        add_session(f, "k-bob", "u-bob");
        build(f, AFTER_WINDOW, pending, &d, &p);
        assert_int_equal(p.n_actions, 1);
        assert_int_equal(p.actions[0].kind, ORCH_END_SESSION);
        assert_int_equal(p.actions[0].user, 1);
        assert_string_equal(f->state.sessions[p.actions[0].session].kasm_id, "k-erin");
        orch_plan_clear(&p);
        orch_desired_clear(&d);
}

/* --users: the file's groups by user name; a Kasm user it does not name has no group, a user
 * it names that Kasm lacks is reported. */
static void users_file_decides_groups(void **state)
{
        struct fixture *f = *state;
        struct orch_desired from_file, from_kasm;
        struct vs_users users = { 0 };
        struct vs_diags diags = { 0 };
        static const char users_yaml[] = "users:\n"
                                         "  - {name: erin, id: '5', groups: [staff, legal]}\n"
                                         "  - {name: zoe, id: '9', groups: [staff]}\n";
        assert_int_equal(vs_users_parse("users.yaml", users_yaml, sizeof(users_yaml) - 1, &users,
                                        &diags),
                         0);
        example_users(f);
        resolve(f);
        assert_int_equal(orch_desired_build(f->policy, &f->state, &users, at(IN_WINDOW),
                                            &from_file),
                         0);
        assert_int_equal(orch_desired_build(f->policy, &f->state, NULL, at(IN_WINDOW), &from_kasm),
                         0);
        assert_int_equal(from_file.n_unknown, 1);
        assert_string_equal(from_file.unknown[0], "zoe");
        assert_int_equal(from_file.n_absent, 2); /* alice and bob */
        /* erin as the file has her (alice's groups) is in alice's class as Kasm has alice */
        assert_string_equal(from_file.plan.classes[from_file.plan.initial[1]].name,
                            from_kasm.plan.classes[from_kasm.plan.initial[0]].name);
        assert_int_equal(from_file.plan.classes[from_file.plan.initial[0]].n_mounted, 0);
        orch_desired_clear(&from_file);
        orch_desired_clear(&from_kasm);
        vs_users_clear(&users);
}

/* What counts as losing access, entry by entry. */
static void mapping_loss_table(void **state)
{
        static const struct {
                const char *from, *to;
                bool loses;
        } cases[] = {
                { "{}", "{}", false },
                { "{}", "{\"/a\": {\"bind\": \"/vault/a\", \"mode\": \"rw\"}}", false },
                { "{\"/a\": {\"bind\": \"/vault/a\", \"mode\": \"ro\"}}",
                  "{\"/a\": {\"bind\": \"/vault/a\", \"mode\": \"rw\"}}", false },
                { "{\"/a\": {\"bind\": \"/vault/a\", \"mode\": \"rw\"}}",
                  "{\"/a\": {\"bind\": \"/vault/a\", \"mode\": \"ro\"}}", true },
                { "{\"/a\": {\"bind\": \"/vault/a\", \"mode\": \"ro\"}}", "{}", true },
                { "{\"/a\": {\"bind\": \"/vault/a\", \"mode\": \"ro\"}}",
                  "{\"/a\": {\"bind\": \"/vault/b\", \"mode\": \"ro\"}}", true },
                { "{\"/a\": {\"bind\": \"/vault/a\", \"mode\": \"ro\"}}",
                  "{\"/b\": {\"bind\": \"/vault/a\", \"mode\": \"ro\"}}", true },
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_t *from = json_loads(cases[i].from, 0, NULL);
                json_t *to = json_loads(cases[i].to, 0, NULL);
                assert_int_equal(orch_mapping_loses(from, to), cases[i].loses);
                json_decref(from);
                json_decref(to);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(from_empty_creates_groups_before_members, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(in_sync_writes_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(loss_removes_first_and_ends_sessions_last, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(gain_adds_first_and_keeps_sessions, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(second_vault_group_is_repaired, setup, teardown),
                cmocka_unit_test_setup_teardown(edited_mapping_is_restored, setup, teardown),
                cmocka_unit_test_setup_teardown(foreign_groups_are_reported_never_touched, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(pending_intent_ends_sessions, setup, teardown),
                cmocka_unit_test_setup_teardown(users_file_decides_groups, setup, teardown),
                cmocka_unit_test(mapping_loss_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * The compiled evaluator and access classes (lib/policy/evaluate.c, classes.c): the
 * evaluator agrees with vs_policy_decide on every user at every instant around the window
 * bounds; users with the same decision share one class whose name depends only on it; the
 * plan's changes happen exactly at the bounds where a decision changes; valid_until counts
 * windows that open as well as those that close.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/classes.h"
#include "policy/evaluate.h"
#include "shared/rfc3339.h"

static const char policy_yaml[] =
        "folders:\n"
        "  - name: personal\n"
        "    path: /users/{username}/personal\n"
        "    access: [{groups: [staff, contractors], mode: rw}]\n"
        "  - name: room\n"
        "    path: /room\n"
        "    access:\n"
        "      - {groups: [legal, executive], compound: all, mode: rw}\n"
        "      - {groups: [contractors], mode: ro,\n"
        "         not_before: 2026-12-01T00:00:00Z, not_after: 2027-01-31T00:00:00Z}\n"
        "      - {groups: [interns], effect: deny}\n"
        "    implies: [{folder: room-files}]\n"
        "  - name: room-files\n"
        "    path: /room-files\n"
        "  - name: wiki\n"
        "    path: /wiki\n"
        "    access:\n"
        "      - {groups: [staff], mode: ro}\n"
        "      - {groups: [editors], mode: rw}\n"
        "      - {groups: [contractors], effect: deny, scope: write}\n"
        "      - {groups: [editors], mode: rw, not_before: 2027-06-01T00:00:00Z}\n";

static const char users_yaml[] =
        "users:\n"
        "  - {name: alice, id: '1', groups: [staff, legal, executive]}\n"
        "  - {name: bob@kasm.local, id: '2', groups: [staff, legal, executive]}\n"
        "  - {name: carl, id: '3', groups: [contractors, editors]}\n"
        "  - {name: ivan, id: '4', groups: [staff, legal, executive, interns]}\n"
        "  - {name: 'a:b', id: '5', groups: [staff]}\n";

static const char *const instants[] = {
        "2026-01-01T00:00:00Z", "2026-11-30T23:59:59Z", "2026-12-01T00:00:00Z",
        "2027-01-30T23:59:59Z", "2027-01-31T00:00:00Z", "2027-05-31T23:59:59Z",
        "2027-06-01T00:00:00Z", "2030-01-01T00:00:00Z",
};

struct fixture {
        struct vs_policy *policy;
        struct vs_users users;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct vs_diags diags = { 0 };
        assert_non_null(f);
        assert_int_equal(
                vs_policy_parse("p.yaml", policy_yaml, strlen(policy_yaml), &f->policy, &diags), 0);
        assert_int_equal(
                vs_users_parse("u.yaml", users_yaml, strlen(users_yaml), &f->users, &diags), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        vs_users_clear(&f->users);
        vs_policy_free(f->policy);
        free(f);
        return 0;
}

static int64_t at(const char *text)
{
        int64_t t;
        assert_int_equal(vs_rfc3339_parse(text, &t), 0);
        return t;
}

static struct vs_decision *decide(const struct vs_policy *policy, const struct vs_user *user,
                                  int64_t now)
{
        struct vs_request request = { .user_name = user->name,
                                      .user_id = user->id,
                                      .groups = (const char *const *)user->groups,
                                      .n_groups = user->n_groups,
                                      .now = now };
        struct vs_decision *d = NULL;
        assert_int_equal(vs_policy_decide(policy, &request, &d), 0);
        return d;
}

/* The compiled evaluator gives every user, at every instant, what decide.c mounts. */
static void assert_evaluator_agrees(const struct vs_policy *policy, const struct vs_users *users)
{
        struct vp_compiled *c;
        uint8_t match[64], modes[16];
        assert_int_equal(vp_compile(policy, &c), 0);
        assert_true(c->n_rules <= sizeof(match) && policy->n_folders <= sizeof(modes));
        for (size_t u = 0; u < users->count; u++) {
                const struct vs_user *user = &users->items[u];
                struct vp_refusals refusals;
                assert_int_equal(vp_refusals_for(c, user->name, user->id, &refusals), 0);
                vp_match_rules(c, (const char *const *)user->groups, user->n_groups, match);
                for (size_t i = 0; i < sizeof(instants) / sizeof(*instants); i++) {
                        struct vs_decision *d = decide(policy, user, at(instants[i]));
                        vp_evaluate(c, match, at(instants[i]), modes);
                        vp_apply_refusals(c, &refusals, modes);
                        for (size_t k = 0; k < d->n_folders; k++) {
                                unsigned want = d->folders[k].status == VS_FOLDER_MOUNTED
                                                        ? d->folders[k].mode
                                                        : 0;
                                if (modes[k] != want)
                                        fail_msg("%s at %s: %s is %u, decide says %u", user->name,
                                                 instants[i], d->folders[k].folder->name, modes[k],
                                                 want);
                        }
                        vs_decision_free(d);
                }
                vp_refusals_clear(&refusals);
        }
        vp_compiled_free(c);
}

static void test_evaluator_agrees_with_decide(void **state)
{
        struct fixture *f = *state;
        assert_evaluator_agrees(f->policy, &f->users);
}

/* Two templates meet only for some users: a name equal to an id makes /data/{username}/private
 * lie inside /data/{user_id}, and /u/{username} the same path as /u/{user_id}. */
static void test_templates_meet_per_user(void **state)
{
        static const char yaml[] =
                "folders:\n"
                "  - {name: by-id, path: '/data/{user_id}', access: [{groups: [staff], mode: "
                "rw}]}\n"
                "  - {name: home, path: '/u/{username}', access: [{groups: [staff], mode: rw}]}\n"
                "  - {name: home-id, path: '/u/{user_id}', access: [{groups: [staff], mode: ro}]}\n"
                "  - name: private\n"
                "    path: '/data/{username}/private'\n"
                "    access:\n"
                "      - {groups: [staff], mode: rw, not_before: 2027-01-31T00:00:00Z}\n"
                "      - {groups: [interns], effect: deny}\n";
        static const char users[] =
                "users:\n"
                "  - {name: '7002', id: '7002', groups: [staff]}\n"
                "  - {name: '7003', id: '7003', groups: [staff, interns]}\n"
                "  - {name: alice, id: '7004', groups: [staff]}\n";
        struct vs_diags diags = { 0 };
        struct vs_policy *policy;
        struct vs_users u;
        (void)state;
        assert_int_equal(vs_policy_parse("p.yaml", yaml, strlen(yaml), &policy, &diags), 0);
        assert_int_equal(vs_users_parse("u.yaml", users, strlen(users), &u, &diags), 0);
        assert_evaluator_agrees(policy, &u);

        /* 7002 before the private folder opens: by-id would hand it over rw. */
        struct vs_decision *d = decide(policy, &u.items[0], at("2026-12-15T00:00:00Z"));
        assert_int_equal(d->folders[0].status, VS_FOLDER_REFUSED);
        assert_string_equal(
                d->folders[0].refusal,
                "host path /data/7002 (from /data/{user_id}) holds the files of folder "
                "\"private\" (host path /data/{username}/private), which this user gets "
                "no access: mounting it would make them reachable rw");
        assert_int_equal(d->folders[1].status, VS_FOLDER_MOUNTED);
        assert_int_equal(d->folders[2].status, VS_FOLDER_REFUSED);
        assert_string_equal(d->folders[2].refusal,
                            "host path /u/7002 is already mounted as folder \"home\"");
        assert_int_equal(d->n_refused, 2);
        vs_decision_free(d);
        /* Once it grants rw, by-id gives nothing more: both are mounted. */
        d = decide(policy, &u.items[0], at("2027-06-01T00:00:00Z"));
        assert_int_equal(d->folders[0].status, VS_FOLDER_MOUNTED);
        assert_int_equal(d->folders[3].status, VS_FOLDER_MOUNTED);
        vs_decision_free(d);
        /* An intern is denied the private folder at any time; alice's paths never meet. */
        d = decide(policy, &u.items[1], at("2027-06-01T00:00:00Z"));
        assert_int_equal(d->folders[0].status, VS_FOLDER_REFUSED);
        vs_decision_free(d);
        d = decide(policy, &u.items[2], at("2026-12-15T00:00:00Z"));
        assert_int_equal(d->n_refused, 0);
        vs_decision_free(d);

        /* The plan knows which users may be refused something. */
        struct vp_plan plan;
        assert_int_equal(vp_plan_build(policy, &u, at("2026-11-01T00:00:00Z"),
                                       at("2027-12-01T00:00:00Z"), &plan),
                         0);
        assert_true(plan.refusable[0] && plan.refusable[1] && !plan.refusable[2]);
        vp_plan_clear(&plan);
        vs_users_clear(&u);
        vs_policy_free(policy);
}

static void test_valid_until_both_directions(void **state)
{
        struct fixture *f = *state;
        char text[VS_TIME_BUF];
        /* carl before the window: nothing of the room yet, but it opens on 1 December. */
        struct vs_decision *d = decide(f->policy, &f->users.items[2], at("2026-11-15T00:00:00Z"));
        vs_time_format(d->valid_until, text);
        assert_string_equal(text, "2026-12-01T00:00:00Z");
        vs_decision_free(d);
        /* alice: the room is rw whatever the contractors' window does: never changes. */
        d = decide(f->policy, &f->users.items[0], at("2026-12-15T00:00:00Z"));
        assert_true(d->valid_until == VS_TIME_NONE);
        vs_decision_free(d);
}

static void test_classes_and_changes(void **state)
{
        struct fixture *f = *state;
        struct vp_plan plan;
        assert_int_equal(vp_plan_build(f->policy, &f->users, at("2026-11-01T00:00:00Z"),
                                       at("2027-12-01T00:00:00Z"), &plan), 0);
        /* alice and bob@kasm.local decide alike: one class, one group. */
        assert_int_equal(plan.initial[0], plan.initial[1]);
        assert_int_equal(plan.classes[plan.initial[0]].members, 2);
        assert_memory_equal(plan.classes[plan.initial[0]].name, "vault-", 6);
        /* a:b cannot have a personal folder: another class, and the refusal is recorded. */
        assert_true(plan.initial[4] != plan.initial[0]);
        assert_non_null(plan.unsafe[4]);
        assert_null(plan.unsafe[0]);
        /* carl changes at the window's bounds and when editors' second rule starts... */
        size_t carl = 0;
        int64_t expected[] = { at("2026-12-01T00:00:00Z"), at("2027-01-31T00:00:00Z") };
        for (size_t i = 0; i < plan.n_changes; i++)
                if (plan.changes[i].user == 2) {
                        assert_true(carl < 2);
                        assert_true(plan.changes[i].at == expected[carl]);
                        carl++;
                }
        /* ...but not on 1 June: editors already write the wiki, and the write deny caps both. */
        assert_int_equal(carl, 2);
        assert_true(plan.valid_until[2] == expected[0]);
        for (size_t i = 1; i < plan.n_changes; i++)
                assert_true(plan.changes[i - 1].at <= plan.changes[i].at);
        vp_plan_clear(&plan);

        /* The same decision has the same name in another plan, at another instant. */
        struct vs_users one = { .items = &f->users.items[1], .count = 1 };
        struct vp_plan other;
        assert_int_equal(
                vp_plan_build(f->policy, &one, at("2030-01-01T00:00:00Z"), VS_TIME_NONE, &other),
                0);
        assert_int_equal(vp_plan_build(f->policy, &f->users, at("2026-11-01T00:00:00Z"),
                                       VS_TIME_NONE, &plan),
                         0);
        assert_string_equal(other.classes[other.initial[0]].name,
                            plan.classes[plan.initial[1]].name);
        assert_int_equal(plan.n_changes, 0);
        vp_plan_clear(&other);
        vp_plan_clear(&plan);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_evaluator_agrees_with_decide),
                cmocka_unit_test(test_templates_meet_per_user),
                cmocka_unit_test(test_valid_until_both_directions),
                cmocka_unit_test(test_classes_and_changes),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

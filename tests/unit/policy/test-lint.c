/* SPDX-License-Identifier: MIT */
/* Lint warnings: code, position and message for each finding, sorted by position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "shared/rfc3339.h"

static const char policy_yaml[] =
        "folders:\n"
        "  - name: shared\n"
        "    path: /shared\n"
        "    access:\n"
        "      - {groups: [staff], mode: rw}\n"
        "      - {groups: [staff, Legal], compound: all, mode: ro}\n"
        "  - name: legal\n"
        "    path: /legal\n"
        "    access:\n"
        "      - {groups: [legal], mode: ro}\n"
        "      - {groups: [legal], mode: ro, not_after: 2020-01-01T00:00:00Z}\n"
        "      - {groups: [legal, interns], compound: all, mode: rw}\n"
        "      - {groups: [interns], effect: deny}\n"
        "      - {groups: [partners], effect: deny, scope: write}\n"
        "      - {groups: [partners], effect: deny}\n"
        "  - name: clean\n"
        "    path: /clean\n"
        "    access:\n"
        "      - {groups: [a, b], compound: all, mode: ro}\n"
        "      - {groups: [a], mode: ro, not_before: 2030-01-01T00:00:00Z}\n"
        /* nested, but never exposed: outer grants nobody anything */
        "  - name: outer\n"
        "    path: /outer\n"
        "  - name: inner\n"
        "    path: /outer/inner\n"
        "    access:\n"
        "      - {groups: [a], mode: ro}\n";

static const char *expected[] = {
        "6:9 redundant-rule: shared#access[1] is redundant: shared#access[0] (5:9) already applies "
        "whenever it does, with at least its effect",
        "10:19 group-case: group \"legal\" differs from \"Legal\" (6:26) only in case; group names "
        "are case-sensitive",
        "11:9 expired-rule: legal#access[1] expired at 2020-01-01T00:00:00Z and can never apply "
        "again; remove it",
        "12:9 never-valid-rule: legal#access[2] can never grant access: legal#access[3] (13:9) "
        "denies everyone it matches whenever it applies",
        "14:9 redundant-rule: legal#access[4] is redundant: legal#access[5] (15:9) already applies "
        "whenever it does, with at least its effect",
        "24:11 nested-path: host path \"/outer/inner\" of folder \"inner\" lies inside \"/outer\" "
        "of folder \"outer\" (22:11): whoever mounts \"outer\" also reaches these files at "
        "/vault/outer/inner, with its mode (the policy loads only because \"inner\" always grants "
        "at least as much)",
};

static void test_lint(void **state)
{
        struct vs_diags diags = { 0 };
        struct vs_policy *policy = NULL;
        struct vs_lint lint;
        int64_t now;

        assert_int_equal(
                vs_policy_parse("p.yaml", policy_yaml, strlen(policy_yaml), &policy, &diags), 0);
        assert_int_equal(vs_rfc3339_parse("2026-06-01T00:00:00Z", &now), 0);
        assert_int_equal(vs_policy_lint(policy, now, &lint), 0);
        for (size_t i = 0; i < lint.count; i++) {
                char got[512];
                snprintf(got, sizeof(got), "%u:%u %s: %s", lint.items[i].line, lint.items[i].column,
                         lint.items[i].code, lint.items[i].message);
                if (i >= sizeof(expected) / sizeof(expected[0]) || strcmp(got, expected[i]) != 0)
                        fail_msg("warning %zu\n  got:      %s\n  expected: %s", i, got,
                                 i < sizeof(expected) / sizeof(expected[0]) ? expected[i]
                                                                            : "(none)");
        }
        assert_int_equal(lint.count, sizeof(expected) / sizeof(expected[0]));
        vs_lint_clear(&lint);
        vs_policy_free(policy);
}

/* Against a users file: each group one side has and the other lacks, at its first place,
 * with the nearest name of the other side; the policy's warnings first. */
static const char users_yaml[] =
        "users:\n"
        "  - {name: ann, id: \"1\", groups: [staff, legal, a, b, stuff, d]}\n"
        "  - {name: bo, id: \"2\", groups: [Interns, staff, staff]}\n"
        "  - {name: cy, id: \"3\", groups: [partner, stuff, stuff]}\n";

static const char *expected_users[] = {
        "p.yaml:6:26 group-without-user: group \"Legal\" is named here but no user of u.yaml has "
        "it (did you mean \"legal\"?)",
        "p.yaml:12:26 group-without-user: group \"interns\" is named here (also named at 13:19) "
        "but no user of u.yaml has it (did you mean \"Interns\"?)",
        "p.yaml:14:19 group-without-user: group \"partners\" is named here (also named at 15:19) "
        "but no user of u.yaml has it (did you mean \"partner\"?)",
        "u.yaml:2:55 group-without-rule: group \"stuff\" of user \"ann\" (and 1 other user) is "
        "named by no rule of p.yaml (did you mean \"staff\"?)",
        "u.yaml:2:62 group-without-rule: group \"d\" of user \"ann\" is named by no rule of p.yaml "
        "(did you mean \"a\"?)",
        "u.yaml:3:34 group-without-rule: group \"Interns\" of user \"bo\" is named by no rule of "
        "p.yaml (did you mean \"interns\"?)",
        "u.yaml:4:34 group-without-rule: group \"partner\" of user \"cy\" is named by no rule of "
        "p.yaml (did you mean \"partners\"?)",
};

static void test_lint_users(void **state)
{
        struct vs_diags diags = { 0 };
        struct vs_policy *policy = NULL;
        struct vs_users users;
        struct vs_lint lint = { 0 };
        const size_t n_expected = sizeof(expected_users) / sizeof(expected_users[0]);

        assert_int_equal(
                vs_policy_parse("p.yaml", policy_yaml, strlen(policy_yaml), &policy, &diags), 0);
        assert_int_equal(vs_users_parse("u.yaml", users_yaml, strlen(users_yaml), &users, &diags),
                         0);
        assert_int_equal(vs_policy_lint_users(policy, &users, &lint), 0);
        for (size_t i = 0; i < lint.count; i++) {
                char got[512];
                snprintf(got, sizeof(got), "%s:%u:%u %s: %s",
                         lint.items[i].file ? lint.items[i].file : "p.yaml", lint.items[i].line,
                         lint.items[i].column, lint.items[i].code, lint.items[i].message);
                if (i >= n_expected || strcmp(got, expected_users[i]) != 0)
                        fail_msg("warning %zu\n  got:      %s\n  expected: %s", i, got,
                                 i < n_expected ? expected_users[i] : "(none)");
        }
        assert_int_equal(lint.count, n_expected);
        vs_lint_clear(&lint);
        vs_users_clear(&users);
        vs_policy_free(policy);
}

/* The seed policies are meant to be clean. */
static void test_seed_is_clean(void **state)
{
        const char *root = getenv("VS_SOURCE_ROOT");
        char path[4096];
        struct vs_diags diags = { 0 };
        struct vs_policy *policy = NULL;
        struct vs_lint lint;
        assert_non_null(root);
        snprintf(path, sizeof(path), "%s/tests/data/policy/seed.yaml", root);
        assert_int_equal(vs_policy_load(path, &policy, &diags), 0);
        assert_int_equal(vs_policy_lint(policy, 1796083200, &lint), 0);
        for (size_t i = 0; i < lint.count; i++)
                print_message("%u:%u %s\n", lint.items[i].line, lint.items[i].column,
                              lint.items[i].message);
        assert_int_equal(lint.count, 0);
        vs_lint_clear(&lint);
        vs_policy_free(policy);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lint),
                cmocka_unit_test(test_lint_users),
                cmocka_unit_test(test_seed_is_clean),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

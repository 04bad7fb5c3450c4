/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the users file reader (matrix, explain --users, lint --users and
 * the Kasm planning commands).  Whatever the bytes, parsing must either fail with
 * diagnostics or yield users that each have a name, an id and a position for every group,
 * no name twice; and lint must walk them against a policy.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Names the groups of tests/data/policy/users.yaml, some of them one edit away. */
static const char policy_text[] = "folders:\n"
                                  "  - name: personal\n"
                                  "    path: /users/{username}\n"
                                  "    access: [{groups: [all-employees], mode: rw}]\n"
                                  "  - name: engineering\n"
                                  "    path: /shared/engineering\n"
                                  "    access: [{groups: [enginering, contractors], mode: rw}]\n"
                                  "  - name: legal\n"
                                  "    path: /shared/legal\n"
                                  "    access: [{groups: [legal, executive], compound: all}]\n";

static const struct vs_policy *policy(void)
{
        static struct vs_policy *loaded;
        if (!loaded) {
                struct vs_diags diags = { 0 };
                if (vs_policy_parse("policy.yaml", policy_text, sizeof(policy_text) - 1, &loaded,
                                    &diags) < 0)
                        abort();
        }
        return loaded;
}

static void check_users(const struct vs_users *users)
{
        for (size_t i = 0; i < users->count; i++) {
                const struct vs_user *u = &users->items[i];
                if (!u->name || !u->id || (u->n_groups && (!u->groups || !u->group_marks)))
                        abort();
                for (size_t g = 0; g < u->n_groups; g++)
                        if (!u->groups[g] || u->group_marks[g].line == 0)
                                abort();
                for (size_t j = 0; j < i; j++)
                        if (strcmp(users->items[j].name, u->name) == 0)
                                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vs_diags diags = { 0 };
        struct vs_users users = { 0 };
        if (vs_users_parse("fuzz.yaml", (const char *)data, size, &users, &diags) < 0) {
                /* failing closed always says why */
                if (diags.count == 0 || users.count != 0)
                        abort();
                vs_diags_clear(&diags);
                return 0;
        }
        if (diags.count != 0 || !users.file)
                abort();
        check_users(&users);
        struct vs_lint lint = { 0 };
        if (vs_policy_lint_users(policy(), &users, &lint) == 0) {
                for (size_t i = 0; i < lint.count; i++)
                        if (!lint.items[i].message || lint.items[i].line == 0)
                                abort();
                vs_lint_clear(&lint);
        }
        vs_users_clear(&users);
        return 0;
}

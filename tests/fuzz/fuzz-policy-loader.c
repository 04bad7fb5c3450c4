/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the policy loader.  Whatever the bytes, loading must either fail
 * with diagnostics or yield a policy that the decision, explanation and lint can walk.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct vs_policy *policy)
{
        /* One request that matches something: the first group named anywhere. */
        const char *groups[2] = { "g", "legal" };
        for (size_t f = 0; f < policy->n_folders; f++)
                if (policy->folders[f].n_rules > 0) {
                        groups[0] = policy->folders[f].rules[0].groups[0].name;
                        break;
                }
        struct vs_request request = {
                .user_name = "alice", .user_id = "1000", .groups = groups, .n_groups = 2, .now = 1796083200,
        };
        struct vs_decision *decision = NULL;
        if (vs_policy_decide(policy, &request, &decision) == 0) {
                char *json = NULL;
                if (vs_explain_json(policy, decision, NULL, &json) == 0)
                        free(json);
                FILE *sink = fopen("/dev/null", "w");
                if (sink) {
                        vs_explain_write(sink, policy, decision, NULL);
                        fclose(sink);
                }
                vs_decision_free(decision);
        }
        struct vs_lint lint;
        if (vs_policy_lint(policy, 1796083200, &lint) == 0)
                vs_lint_clear(&lint);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vs_diags diags = { 0 };
        struct vs_policy *policy = NULL;
        if (vs_policy_parse("fuzz.yaml", (const char *)data, size, &policy, &diags) == 0) {
                /* a valid policy never comes with diagnostics */
                if (diags.count != 0)
                        abort();
                exercise(policy);
                vs_policy_free(policy);
        } else if (diags.count == 0) {
                /* failing closed always says why */
                abort();
        }
        vs_diags_clear(&diags);
        return 0;
}

/* SPDX-License-Identifier: MIT */
/* One reconciliation: read Kasm, decide, compare, then report or apply. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "base/clock.h"
#include "orchestrator.h"

int orch_read(const struct orch_context *ctx, struct kasm_state *state, double *seconds)
{
        int64_t start = vs_clock_ns(CLOCK_MONOTONIC);
        if (kasm_read_state(ctx->kasm, state) < 0) {
                orch_log("cannot read Kasm's state: %s", ctx->kasm->error);
                return EXIT_KASM;
        }
        *seconds = (double)(vs_clock_ns(CLOCK_MONOTONIC) - start) / 1e9;
        return 0;
}

int orch_cycle(const struct orch_context *ctx, int64_t at, bool write, struct orch_outcome *out)
{
        struct kasm_state state = { 0 };
        double seconds = 0;
        if (orch_read(ctx, &state, &seconds) != 0)
                return EXIT_KASM;
        if (out)
                out->read_seconds = seconds;
        return orch_cycle_state(ctx, &state, at, write, out);
}

int orch_cycle_state(const struct orch_context *ctx, struct kasm_state *given, int64_t at,
                     bool write, struct orch_outcome *out)
{
        struct kasm_state state = *given;
        struct orch_desired desired = { 0 };
        struct orch_plan plan = { 0 };
        struct intents intents = { 0 };
        bool *pending = NULL;
        char why[512];
        unsigned writes_before = ctx->kasm->writes;
        int r;
        *given = (struct kasm_state){ 0 };
        if (intents_load(ctx->state_dir, &intents, why) < 0) {
                orch_log("%s", why);
                r = EXIT_INPUT;
                goto out;
        }
        r = -ENOMEM;
        if (!(pending = calloc(state.n_users + 1, sizeof(bool))))
                goto out;
        for (size_t u = 0; u < state.n_users; u++)
                pending[u] = intents_has(&intents, state.users[u].id);
        if ((r = orch_desired_build(ctx->policy, &state, ctx->users_file, at, &desired)) < 0 ||
            (r = orch_plan_build(&state, &desired, ctx->policy->vault, pending, &plan)) < 0)
                goto out;
        if (!write) {
                orch_report(ctx, &state, &desired, &plan, false);
                r = orch_plan_pending(&plan) || plan.n_refused ? EXIT_PENDING : EXIT_IN_SYNC;
        } else {
                r = orch_apply(ctx, &state, &desired, &plan, &intents);
                if (r != EXIT_KASM && r != EXIT_INPUT &&
                    !(ctx->quiet_in_sync && plan.n_actions == 0 && plan.n_drifts == 0))
                        orch_report(ctx, &state, &desired, &plan, true);
        }
        if (out) {
                out->next = desired.next;
                out->writes = ctx->kasm->writes - writes_before;
        }
out:
        if (r == -ENOMEM) {
                orch_log("out of memory");
                r = EXIT_KASM;
        } else if (r == -ENOTUNIQ) {
                orch_log("two access classes hash to one group name; please report this");
                r = EXIT_INPUT;
        }
        orch_plan_clear(&plan);
        orch_desired_clear(&desired);
        intents_clear(&intents);
        free(pending);
        kasm_state_clear(&state);
        return r;
}

/* SPDX-License-Identifier: MIT */
#pragma once

/* What the commands share: the exit statuses, the options, one reconciliation cycle. */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "kasm-api.h"
#include "plan.h"

/* Exit statuses, documented in vault-orchestrator(8). */
enum {
        EXIT_IN_SYNC = 0,           /* plan: in sync; apply: now in sync */
        EXIT_INPUT = 1,             /* bad input or usage */
        EXIT_PENDING = 2,           /* plan: changes pending; apply: drift it refused to touch */
        EXIT_KASM = 3,              /* Kasm unreachable, or an API error it could not get past */
};

struct orch_context {
        const char *policy_path;
        const struct vs_policy *policy;
        const struct vs_users *users_file; /* --users, or NULL */
        struct kasm_client *kasm;
        struct audit *audit;
        const char *state_dir;
        bool json;
        bool quiet_in_sync;         /* run: say nothing of a cycle that found nothing */
        volatile sig_atomic_t *stop;
};

/* What one cycle found and did. */
struct orch_outcome {
        int64_t next;               /* the next instant a user's class changes, or VS_TIME_NONE */
        unsigned writes;            /* write calls confirmed */
        double read_seconds;        /* how long reading Kasm's state took */
};

/* Read Kasm, compute the desired state at `at`, and print the plan (write false) or make Kasm
 * match it and print what was done (write true).  Returns an exit status. */
int orch_cycle(const struct orch_context *ctx, int64_t at, bool write, struct orch_outcome *out);
/* The same from a state already read (run reads ahead of an instant); state is consumed. */
int orch_cycle_state(const struct orch_context *ctx, struct kasm_state *state, int64_t at,
                     bool write, struct orch_outcome *out);
/* Read Kasm's state, timed; 0, or EXIT_KASM after saying why. */
int orch_read(const struct orch_context *ctx, struct kasm_state *state, double *seconds);

/* The `run` service: apply now, then at every schedule instant or poll interval. */
int orch_run(const struct orch_context *ctx, unsigned poll_seconds);

/* Report a plan (text or JSON) on stdout; done: apply's report of what it did. */
void orch_report(const struct orch_context *ctx, const struct kasm_state *state,
                 const struct orch_desired *desired, const struct orch_plan *plan, bool done);

/* "vault-orchestrator: ..." on stderr, the text escaped to one line. */
void orch_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

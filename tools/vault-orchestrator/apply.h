/* SPDX-License-Identifier: MIT */
#pragma once

#include "intents.h"
#include "orchestrator.h"

/* Make the plan's writes in order, each confirmed and audited, then end the sessions of every
 * user the plan marks (read afresh: a session started before the memberships changed is
 * ended too) and drop them from the intents.  Returns an exit status; on failure the error
 * is printed and what was done is in the audit log. */
int orch_apply(const struct orch_context *ctx, struct kasm_state *state,
               const struct orch_desired *desired, const struct orch_plan *plan,
               struct intents *intents);

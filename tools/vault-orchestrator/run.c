/* SPDX-License-Identifier: MIT */
/*
 * run: the service.  Apply now; then sleep until the next instant of the schedule (the
 * earliest valid_until of any user, lib/policy's own) or the poll interval, whichever comes
 * first, and apply at that instant.  The poll catches what no schedule can know: new users,
 * SSO group changes, an admin's edits.  The sleep is on the real-time clock to an absolute
 * instant, so a clock step is honoured.  An unreachable Kasm is said loudly and retried.
 */
#include <errno.h>
#include <time.h>

#include "orchestrator.h"
#include "policy/policy.h"

/* After a failure, try again sooner than the poll, but not in a tight loop. */
#define RETRY_FIRST_S 1
#define RETRY_MAX_S 30

static void sleep_until(const struct orch_context *ctx, int64_t when)
{
        struct timespec t = { .tv_sec = (time_t)when };
        while (!*ctx->stop && clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, NULL) == EINTR)
                ;
}

/*
 * At a schedule instant only the writes should stand between the instant and the sessions
 * ending: reading every group's settings can take seconds on a large Kasm.  So Kasm is read
 * ahead of the instant by as long as the last read took, plus a second, and the plan is made
 * at the instant from that state.  What changed in between (a user SSO just added) is caught
 * by the poll that follows; a write the stale state makes redundant is confirmed by reading
 * back (kasm-api.c), and one that fails leaves the next cycle, moments later, to repair.
 */
int orch_run(const struct orch_context *ctx, unsigned poll_seconds)
{
        unsigned retry = RETRY_FIRST_S;
        int64_t at = (int64_t)time(NULL);
        struct kasm_state ahead = { 0 };
        bool have_ahead = false;
        while (!*ctx->stop) {
                struct orch_outcome out = { .next = VS_TIME_NONE };
                int status = have_ahead ? orch_cycle_state(ctx, &ahead, at, true, &out)
                                        : orch_cycle(ctx, at, true, &out);
                int64_t now = (int64_t)time(NULL), wake;
                double read_seconds = out.read_seconds;
                have_ahead = false;
                if (*ctx->stop)
                        break;
                if (status == EXIT_KASM) {
                        char when[VS_TIME_BUF];
                        vs_time_format(now, when);
                        orch_log("Kasm is unreachable or refused a call at %s: the policy is "
                                 "NOT being enforced; retrying in %u s",
                                 when, retry);
                        wake = now + (retry < poll_seconds ? retry : poll_seconds);
                        retry = retry * 2 > RETRY_MAX_S ? RETRY_MAX_S : retry * 2;
                        sleep_until(ctx, wake);
                        at = (int64_t)time(NULL);
                        continue;
                }
                retry = RETRY_FIRST_S;
                if (status == EXIT_INPUT)
                        orch_log("this cycle failed (see above); trying again at the next "
                                 "instant or poll");
                wake = now + (int64_t)poll_seconds;
                if (out.next == VS_TIME_NONE || out.next >= wake) {
                        sleep_until(ctx, wake);
                        at = (int64_t)time(NULL);
                        continue;
                }
                int64_t lead = (int64_t)read_seconds + 1;
                if (out.next - lead > now)
                        sleep_until(ctx, out.next - lead);
                if (*ctx->stop)
                        break;
                have_ahead = orch_read(ctx, &ahead, &read_seconds) == 0;
                sleep_until(ctx, out.next);
                at = out.next;
        }
        kasm_state_clear(&ahead);
        orch_log("stopped by a signal");
        return EXIT_IN_SYNC;
}

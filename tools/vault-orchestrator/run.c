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

int orch_run(const struct orch_context *ctx, unsigned poll_seconds)
{
        unsigned retry = RETRY_FIRST_S;
        while (!*ctx->stop) {
                struct orch_outcome out = { .next = VS_TIME_NONE };
                int64_t now = (int64_t)time(NULL), wake;
                int status = orch_cycle(ctx, now, true, &out);
                if (*ctx->stop)
                        break;
                if (status == EXIT_KASM) {
                        char at[VS_TIME_BUF];
                        vs_time_format(now, at);
                        orch_log("Kasm is unreachable or refused a call at %s: the policy is "
                                 "NOT being enforced; retrying in %u s",
                                 at, retry);
                        wake = now + retry;
                        retry = retry * 2 > RETRY_MAX_S ? RETRY_MAX_S : retry * 2;
                        if (wake > now + (int64_t)poll_seconds)
                                wake = now + (int64_t)poll_seconds;
                } else {
                        retry = RETRY_FIRST_S;
                        wake = now + (int64_t)poll_seconds;
                        if (out.next != VS_TIME_NONE && out.next < wake)
                                wake = out.next;
                        if (status == EXIT_INPUT)
                                orch_log("this cycle failed (see above); trying again at the "
                                         "next instant or poll");
                }
                sleep_until(ctx, wake);
        }
        orch_log("stopped by a signal");
        return EXIT_IN_SYNC;
}

/* SPDX-License-Identifier: MIT */
/*
 * Where a move's time goes: the time from reaching each named step (steps.h) to reaching
 * the next is added to that step's slot of the caller's stats, so VAULTSHIM_LOG can split
 * a move's duration by step.  Per thread, as moves run on many threads at once; one
 * CLOCK_MONOTONIC read (the vDSO, no system call) per step.
 */
#include <time.h>

#include "move/internal.h"

_Static_assert(VS_TIME_COUNT <= VS_MOVE_STEP_SLOTS, "vs_move_stats.step_ns too small");

static __thread struct {
        uint64_t *slots; /* the running move's stats->step_ns, NULL between moves */
        uint64_t last_ns;
        unsigned slot;
} clock_ __attribute__((tls_model("initial-exec")));

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void vs_time_start(struct vs_move_stats *stats)
{
        clock_.slots = stats->step_ns;
        clock_.slot = VS_TIME_PLAN;
        clock_.last_ns = now_ns();
}

void vs_time_reached(unsigned slot)
{
        if (!clock_.slots || slot >= VS_TIME_COUNT)
                return;
        uint64_t now = now_ns();
        clock_.slots[clock_.slot] += now - clock_.last_ns;
        clock_.last_ns = now;
        clock_.slot = slot;
}

void vs_time_stop(void)
{
        vs_time_reached(VS_TIME_PLAN); /* the rest to the step reached last */
        clock_.slots = NULL;
}

const char *vs_time_slot_name(unsigned slot)
{
        if (slot == VS_TIME_PLAN)
                return "plan";
        if (slot == VS_TIME_RECORD)
                return "record";
        if (slot == VS_TIME_FINISH)
                return "finish";
        return slot >= VS_TIME_STEP0 && slot < VS_TIME_STEP0 + VS_STEP_COUNT
                       ? vs_step_name((enum vs_step)(slot - VS_TIME_STEP0))
                       : NULL;
}

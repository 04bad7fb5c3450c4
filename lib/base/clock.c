/* SPDX-License-Identifier: MIT */
#include "base/clock.h"

int64_t vs_clock_ns(clockid_t clock)
{
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t vs_clock_ms(clockid_t clock)
{
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t vs_now_ms(void)
{
        return vs_clock_ms(CLOCK_MONOTONIC);
}

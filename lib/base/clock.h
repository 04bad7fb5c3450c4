/* SPDX-License-Identifier: MIT */
#pragma once

/* The clock, for every layer: deadlines and durations.  libc only (clock_gettime reads the
 * vDSO page: no system call on the hot path). */

#include <stdint.h>
#include <time.h>

/* clock (CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME, ...) now, in
 * nanoseconds and in milliseconds. */
int64_t vs_clock_ns(clockid_t clock);
uint64_t vs_clock_ms(clockid_t clock);

/* CLOCK_MONOTONIC now, in milliseconds: what deadlines are measured in. */
uint64_t vs_now_ms(void);

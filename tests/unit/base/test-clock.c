/* SPDX-License-Identifier: MIT */
/* lib/base/clock.c: the clocks agree with each other and never go back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "base/clock.h"

static void clocks_agree(void **state)
{
        uint64_t ms = vs_now_ms();
        int64_t ns = vs_clock_ns(CLOCK_MONOTONIC);
        uint64_t ms_again = vs_clock_ms(CLOCK_MONOTONIC);
        assert_true(ms <= (uint64_t)(ns / 1000000));
        assert_true((uint64_t)(ns / 1000000) <= ms_again);
        /* The coarse clock lags the precise one by at most a tick, never leads it. */
        assert_true(vs_clock_ms(CLOCK_MONOTONIC_COARSE) <= vs_now_ms());
        /* The real-time clock is the epoch's. */
        assert_true(vs_clock_ns(CLOCK_REALTIME) / 1000000000 >= (int64_t)time(NULL) - 1);
}

static void monotonic(void **state)
{
        uint64_t last = vs_now_ms();
        for (int i = 0; i < 10000; i++) {
                uint64_t now = vs_now_ms();
                assert_true(now >= last);
                last = now;
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(clocks_agree),
                cmocka_unit_test(monotonic),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * lib/shared/rfc3339.c: the times of a policy (valid_until, windows).  Parsed and formatted
 * against the C library's own calendar (timegm, gmtime_r) over four centuries of dates;
 * offsets, fractions and the lower-case and space separators RFC 3339 allows; every
 * refusal naming its field, the leap second among them; the years format can write.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "shared/rfc3339.h"

static int64_t parsed(const char *text)
{
        int64_t t = 0x5a5a5a5a;
        if (vs_rfc3339_parse(text, &t) != 0)
                fail_msg("refused: %s", text);
        return t;
}

/* Every 97 hours from 1900 to 2300 (leap years, centuries and 2000 among them), against
 * timegm and gmtime_r. */
static void test_the_calendar_agrees_with_the_c_library(void **state)
{
        struct tm tm = { .tm_year = 0, .tm_mon = 0, .tm_mday = 1 };
        time_t from = timegm(&tm);
        tm = (struct tm){ .tm_year = 400, .tm_mon = 0, .tm_mday = 1 };
        time_t to = timegm(&tm);
        for (time_t t = from; t < to; t += 97 * 3600 + 61) {
                struct tm g;
                gmtime_r(&t, &g);
                char text[64], formatted[VS_RFC3339_MAX];
                snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02dZ", g.tm_year + 1900,
                         g.tm_mon + 1, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec);
                assert_int_equal(parsed(text), (int64_t)t);
                assert_int_equal(vs_rfc3339_format((int64_t)t, formatted), 0);
                assert_string_equal(formatted, text);
        }
}

static void test_offsets_fractions_and_separators(void **state)
{
        const int64_t base = parsed("2027-01-31T00:00:00Z");
        assert_int_equal(base, 1801353600);
        assert_int_equal(parsed("2027-01-31T01:00:00+01:00"), base);
        assert_int_equal(parsed("2027-01-30T23:30:00-00:30"), base);
        assert_int_equal(parsed("2027-01-31T00:00:00.999999Z"), base); /* truncated */
        assert_int_equal(parsed("2027-01-31t00:00:00z"), base);
        assert_int_equal(parsed("2027-01-31 00:00:00Z"), base);
        assert_int_equal(parsed("2027-01-31T00:00:00+00:00"), base);
        assert_int_equal(parsed("2027-01-31T00:00:00-00:00"), base);
        assert_int_equal(parsed("1969-12-31T23:59:59Z"), -1);
        assert_int_equal(parsed("2024-02-29T12:00:00Z") + 86400, parsed("2024-03-01T12:00:00Z"));
        assert_int_equal(parsed("2024-03-01T00:30:00+23:59"), parsed("2024-02-29T00:31:00Z"));
}

static void assert_refused(const char *text, const char *why)
{
        int64_t t = 42;
        if (vs_rfc3339_parse(text, &t) != -EINVAL)
                fail_msg("accepted: %s", text);
        assert_int_equal(t, 42); /* untouched */
        char buf[VS_RFC3339_PROBLEM_MAX];
        const char *problem = vs_rfc3339_problem(text, buf);
        if (!strstr(problem, why))
                fail_msg("%s: \"%s\" does not say \"%s\"", text, problem, why);
}

static void test_each_refusal_names_its_field(void **state)
{
        assert_refused("2027-13-01T00:00:00Z", "month 13 is not 01-12");
        assert_refused("2027-00-01T00:00:00Z", "month 00");
        assert_refused("2027-02-29T00:00:00Z", "day 29 does not exist in 2027-02");
        assert_refused("2100-02-29T00:00:00Z", "day 29 does not exist in 2100-02");
        assert_refused("2027-04-31T00:00:00Z", "day 31");
        assert_refused("2027-04-00T00:00:00Z", "day 00");
        assert_refused("2027-04-01T24:00:00Z", "hour 24");
        assert_refused("2027-04-01T00:60:00Z", "minute 60");
        assert_refused("2016-12-31T23:59:60Z", "leap second");
        assert_refused("2027-04-01T00:00:61Z", "second 61");
        assert_refused("2027-04-01T00:00:00+24:00", "offset 24:00");
        assert_refused("2027-04-01T00:00:00+01:60", "offset 01:60");
        assert_refused("2027-04-01T00:00:00", "no time zone");
        assert_refused("2027-04-01T00:00:00Z ", "after the time zone");
        assert_refused("2027-04-01T00:00:00.Z", "expected YYYY-MM-DD");
        assert_refused("2027-04-01T00:00:00+0100", "expected YYYY-MM-DD");
        assert_refused("2027-4-01T00:00:00Z", "expected YYYY-MM-DD");
        assert_refused("2027-04-01_00:00:00Z", "expected YYYY-MM-DD");
        assert_refused("27-04-01T00:00:00Z", "expected YYYY-MM-DD");
        assert_refused("", "expected YYYY-MM-DD");
        assert_refused("9999-12-31T23:00:00-01:00", "out of 0000-01-01T00:00:00Z");
        assert_refused("0000-01-01T00:30:00+01:00", "out of 0000-01-01T00:00:00Z");
        assert_int_equal(parsed("9999-12-31T23:59:59-00:00"), parsed("9999-12-31T23:59:59Z"));
        assert_int_equal(parsed("9999-12-31T23:00:00+01:00") + 3600,
                         parsed("9999-12-31T23:00:00Z"));
        char buf[VS_RFC3339_PROBLEM_MAX];
        assert_string_equal(vs_rfc3339_problem("2027-04-01T00:00:00Z", buf), "valid");
}

static void test_format_range(void **state)
{
        char buf[VS_RFC3339_MAX];
        assert_int_equal(vs_rfc3339_format(0, buf), 0);
        assert_string_equal(buf, "1970-01-01T00:00:00Z");
        assert_int_equal(vs_rfc3339_format(-1, buf), 0);
        assert_string_equal(buf, "1969-12-31T23:59:59Z");
        assert_int_equal(vs_rfc3339_format(parsed("0000-01-01T00:00:00Z"), buf), 0);
        assert_string_equal(buf, "0000-01-01T00:00:00Z");
        assert_int_equal(vs_rfc3339_format(parsed("9999-12-31T23:59:59Z"), buf), 0);
        assert_string_equal(buf, "9999-12-31T23:59:59Z");
        assert_int_equal(vs_rfc3339_format(parsed("9999-12-31T23:59:59Z") + 1, buf), -ERANGE);
        assert_int_equal(vs_rfc3339_format(parsed("0000-01-01T00:00:00Z") - 1, buf), -ERANGE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_the_calendar_agrees_with_the_c_library),
                cmocka_unit_test(test_offsets_fractions_and_separators),
                cmocka_unit_test(test_each_refusal_names_its_field),
                cmocka_unit_test(test_format_range),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

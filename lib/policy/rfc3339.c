/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include <vaultshim/policy.h>

#include "policy/rfc3339.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (eras of 400 years, March-based years). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned)(y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
        static const unsigned days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Read exactly n digits. */
static bool digits(const char **p, unsigned n, unsigned *ret)
{
        unsigned v = 0;
        for (unsigned i = 0; i < n; i++) {
                char c = (*p)[i];
                if (c < '0' || c > '9')
                        return false;
                v = v * 10 + (unsigned)(c - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

static bool expect_char(const char **p, char a, char b)
{
        if (**p != a && **p != b)
                return false;
        (*p)++;
        return true;
}

int vp_rfc3339_parse(const char *text, int round_up, int64_t *ret, const char **why)
{
        const char *p = text;
        unsigned year, month, day, hour, minute, second, oh = 0, om = 0;
        int sign = 0;
        bool fraction = false;

        if (!digits(&p, 4, &year) || !expect_char(&p, '-', '-') || !digits(&p, 2, &month) ||
            !expect_char(&p, '-', '-') || !digits(&p, 2, &day)) {
                *why = "expected a date YYYY-MM-DD";
                return -EINVAL;
        }
        if (!expect_char(&p, 'T', 't')) {
                *why = "expected 'T' and a time after the date";
                return -EINVAL;
        }
        if (!digits(&p, 2, &hour) || !expect_char(&p, ':', ':') || !digits(&p, 2, &minute) ||
            !expect_char(&p, ':', ':') || !digits(&p, 2, &second)) {
                *why = "expected a time HH:MM:SS";
                return -EINVAL;
        }
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9') {
                        *why = "expected digits after the decimal point";
                        return -EINVAL;
                }
                while (*p >= '0' && *p <= '9')
                        fraction |= *p++ != '0';
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p++ == '-' ? -1 : 1;
                if (!digits(&p, 2, &oh) || !expect_char(&p, ':', ':') || !digits(&p, 2, &om)) {
                        *why = "expected a UTC offset +HH:MM or -HH:MM";
                        return -EINVAL;
                }
        } else {
                *why = "expected a time zone: 'Z' or a UTC offset +HH:MM";
                return -EINVAL;
        }
        if (*p) {
                *why = "unexpected characters after the time zone";
                return -EINVAL;
        }
        if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
                *why = "no such calendar date";
                return -EINVAL;
        }
        if (hour > 23 || minute > 59 || second > 59) {
                *why = second == 60 ? "leap seconds are not supported" : "time of day out of range";
                return -EINVAL;
        }
        if (oh > 23 || om > 59) {
                *why = "UTC offset out of range";
                return -EINVAL;
        }

        int64_t t = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
        t -= sign * (int64_t)(oh * 3600 + om * 60);
        if (fraction && round_up)
                t++;
        *ret = t;
        return 0;
}

void vp_rfc3339_format(int64_t t, char buf[VP_RFC3339_LEN])
{
        int64_t days = t / 86400, rem = t % 86400;
        if (rem < 0) {
                rem += 86400;
                days--;
        }
        int64_t y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        snprintf(buf, VP_RFC3339_LEN, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
                 (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60));
}

int vs_time_parse(const char *text, int64_t *ret, const char **why)
{
        return vp_rfc3339_parse(text, 0, ret, why);
}

void vs_time_format(int64_t t, char buf[VS_TIME_BUF])
{
        vp_rfc3339_format(t, buf);
}

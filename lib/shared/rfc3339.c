/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "shared/rfc3339.h"

static bool is_leap(int64_t y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        *d = (int)(doy - (153 * mp + 2) / 5 + 1);
        *m = (int)(mp < 10 ? mp + 3 : mp - 9);
        *y = yoe + era * 400 + (*m <= 2);
}

/* Read exactly n decimal digits. */
static bool digits(const char **p, int n, int *out)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                char c = (*p)[i];
                if (c < '0' || c > '9')
                        return false;
                v = v * 10 + (c - '0');
        }
        *p += n;
        *out = v;
        return true;
}

static bool expect(const char **p, char c)
{
        if (**p != c)
                return false;
        (*p)++;
        return true;
}

int vs_rfc3339_parse(const char *text, int64_t *ret)
{
        const char *p = text;
        int year, month, day, hour, minute, second, off_h = 0, off_m = 0, sign = 0;

        if (!digits(&p, 4, &year) || !expect(&p, '-') || !digits(&p, 2, &month) ||
            !expect(&p, '-') || !digits(&p, 2, &day))
                return -EINVAL;
        if (*p != 'T' && *p != 't' && *p != ' ')
                return -EINVAL;
        p++;
        if (!digits(&p, 2, &hour) || !expect(&p, ':') || !digits(&p, 2, &minute) ||
            !expect(&p, ':') || !digits(&p, 2, &second))
                return -EINVAL;
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p == '-' ? -1 : 1;
                p++;
                if (!digits(&p, 2, &off_h) || !expect(&p, ':') || !digits(&p, 2, &off_m))
                        return -EINVAL;
        } else {
                return -EINVAL;
        }
        if (*p != '\0')
                return -EINVAL;

        /* A leap second (:60) is accepted and counted as the last second of its minute. */
        if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
            minute > 59 || second > 60 || off_h > 23 || off_m > 59)
                return -EINVAL;
        if (second == 60)
                second = 59;

        int64_t t = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
        t -= sign * (off_h * 3600 + off_m * 60);
        *ret = t;
        return 0;
}

int vs_rfc3339_format(int64_t t, char buf[static VS_RFC3339_MAX])
{
        int64_t days = t / 86400, secs = t % 86400;
        if (secs < 0) {
                secs += 86400;
                days--;
        }
        int64_t year;
        int month, day;
        civil_from_days(days, &year, &month, &day);
        if (year < 0 || year > 9999)
                return -ERANGE;
        snprintf(buf, VS_RFC3339_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)year, month, day,
                 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
        return 0;
}

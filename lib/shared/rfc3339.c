/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
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

/* Say why text is refused, when the caller wants to know. */
static int refuse(char *why, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t size, const char *fmt, ...)
{
        if (why) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(why, size, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

static int parse(const char *text, int64_t *ret, char *why, size_t size)
{
        static const char layout[] = "expected YYYY-MM-DDTHH:MM:SS (optionally .fraction) and Z or "
                                     "an offset such as +01:00";
        const char *p = text;
        int year, month, day, hour, minute, second, off_h = 0, off_m = 0, sign = 0;

        if (!digits(&p, 4, &year) || !expect(&p, '-') || !digits(&p, 2, &month) ||
            !expect(&p, '-') || !digits(&p, 2, &day))
                return refuse(why, size, "%s", layout);
        if (*p != 'T' && *p != 't' && *p != ' ')
                return refuse(why, size, "%s", layout);
        p++;
        if (!digits(&p, 2, &hour) || !expect(&p, ':') || !digits(&p, 2, &minute) ||
            !expect(&p, ':') || !digits(&p, 2, &second))
                return refuse(why, size, "%s", layout);
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return refuse(why, size, "%s", layout);
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p == '-' ? -1 : 1;
                p++;
                if (!digits(&p, 2, &off_h) || !expect(&p, ':') || !digits(&p, 2, &off_m))
                        return refuse(why, size, "%s", layout);
        } else {
                return refuse(why, size, "no time zone: %s", layout);
        }
        if (*p != '\0')
                return refuse(why, size, "unexpected text after the time zone: %s", layout);

        if (month < 1 || month > 12)
                return refuse(why, size, "month %02d is not 01-12", month);
        if (day < 1 || day > days_in_month(year, month))
                return refuse(why, size, "day %02d does not exist in %04d-%02d", day, year, month);
        if (hour > 23)
                return refuse(why, size, "hour %02d is not 00-23", hour);
        if (minute > 59)
                return refuse(why, size, "minute %02d is not 00-59", minute);
        /* POSIX time has no leap seconds: folding :60 into :59 would silently move a bound. */
        if (second == 60)
                return refuse(
                        why, size,
                        "second 60 (a leap second) is not accepted: use :59 or the next minute");
        if (second > 59)
                return refuse(why, size, "second %02d is not 00-59", second);
        if (off_h > 23 || off_m > 59)
                return refuse(why, size, "offset %02d:%02d is not within 00:00-23:59", off_h,
                              off_m);

        int64_t t = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
        t -= sign * (off_h * 3600 + off_m * 60);
        /* An offset can carry a time past the four-digit years: one accepted there could not
         * be written back (a manifest or a policy read, then written, would fail). */
        if (t < days_from_civil(0, 1, 1) * 86400 || t >= days_from_civil(10000, 1, 1) * 86400)
                return refuse(why, size,
                              "the offset takes the time out of 0000-01-01T00:00:00Z to "
                              "9999-12-31T23:59:59Z");
        *ret = t;
        return 0;
}

int vs_rfc3339_parse(const char *text, int64_t *ret)
{
        return parse(text, ret, NULL, 0);
}

const char *vs_rfc3339_problem(const char *text, char buf[static VS_RFC3339_PROBLEM_MAX])
{
        int64_t ignored;
        if (parse(text, &ignored, buf, VS_RFC3339_PROBLEM_MAX) == 0)
                snprintf(buf, VS_RFC3339_PROBLEM_MAX, "valid");
        return buf;
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

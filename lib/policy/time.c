/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy-internal.h"
#include "shared/rfc3339.h"

/* A fraction in a bound rounds up: for whole-second times, now >= ceil(b) <=> now >= b. */
int vp_time_parse_bound(const char *text, int64_t *ret)
{
        int64_t t;
        int r = vs_rfc3339_parse(text, &t);
        if (r < 0)
                return r;
        const char *dot = strchr(text, '.');
        if (dot && dot[1 + strspn(dot + 1, "0")] >= '1' && dot[1 + strspn(dot + 1, "0")] <= '9')
                t++;
        *ret = t;
        return 0;
}

void vs_time_format(int64_t t, char buf[VS_TIME_BUF])
{
        char text[VS_RFC3339_MAX];
        if (vs_rfc3339_format(t, text) == 0)
                memcpy(buf, text, sizeof(text));
        else /* outside years 0000-9999: still say which instant */
                snprintf(buf, VS_TIME_BUF, "@%" PRId64, t);
}

/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record-line.h"

static uint32_t fnv1a(const char *s, size_t len)
{
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)s[i];
                h *= 16777619u;
        }
        return h;
}

const char *vs_test_record_line(const char *body)
{
        static char line[8192];
        int n = snprintf(line, sizeof(line), "%s %08x\n", body, fnv1a(body, strlen(body)));
        if (n < 0 || (size_t)n >= sizeof(line))
                abort();
        return line;
}

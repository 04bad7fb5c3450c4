/* SPDX-License-Identifier: MIT */
/*
 * Not wcwidth(3): it answers for the process locale, and the tools run under LC_ALL=C as
 * often as not (tests, Kasm hooks), where every non-ASCII character is "unprintable".  The
 * ranges are those of Unicode's East Asian Width W/F and general category Mn that names use.
 */
#include <stdbool.h>
#include <stdint.h>

#include "shared/display-width.h"

struct range {
        uint32_t first, last;
};

static const struct range zero_width[] = {
        { 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x0610, 0x061a },
        { 0x064b, 0x065f }, { 0x0e31, 0x0e31 }, { 0x0e34, 0x0e3a }, { 0x0e47, 0x0e4e },
        { 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff }, { 0x200b, 0x200f }, { 0x20d0, 0x20ff },
        { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f }, { 0xfeff, 0xfeff },
};

static const struct range wide[] = {
        { 0x1100, 0x115f },   { 0x2e80, 0x303e },   { 0x3041, 0x33ff },   { 0x3400, 0x4dbf },
        { 0x4e00, 0x9fff },   { 0xa000, 0xa4cf },   { 0xac00, 0xd7a3 },   { 0xf900, 0xfaff },
        { 0xfe30, 0xfe4f },   { 0xff00, 0xff60 },   { 0xffe0, 0xffe6 },   { 0x1f300, 0x1f64f },
        { 0x1f900, 0x1f9ff }, { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
};

static bool in(const struct range *ranges, size_t n, uint32_t c)
{
        for (size_t i = 0; i < n; i++)
                if (c >= ranges[i].first && c <= ranges[i].last)
                        return true;
        return false;
}

/* Decode one character at s; its length in *len (1 for an invalid byte, decoded as itself). */
static uint32_t decode(const unsigned char *s, size_t *len)
{
        unsigned n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 1;
        uint32_t c = n == 1 ? s[0] : s[0] & (0x7f >> n);
        for (unsigned i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80) {
                        *len = 1;
                        return s[0];
                }
                c = (c << 6) | (s[i] & 0x3f);
        }
        *len = n;
        return c;
}

size_t vs_display_width(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t width = 0, len;
        while (*p) {
                uint32_t c = decode(p, &len);
                p += len;
                if (in(zero_width, sizeof(zero_width) / sizeof(*zero_width), c))
                        continue;
                width += in(wide, sizeof(wide) / sizeof(*wide), c) ? 2 : 1;
        }
        return width;
}

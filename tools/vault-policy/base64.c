/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "base64.h"

static int value(char c, bool url)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == (url ? '-' : '+'))
                return 62;
        return c == (url ? '_' : '/') ? 63 : -1;
}

char *base64_decode(const char *in, size_t len, bool url, size_t *out_len)
{
        char *out = malloc(len * 3 / 4 + 2);
        size_t n = 0;
        unsigned bits = 0, acc = 0;
        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                int v = value(in[i], url);
                if (v < 0 && !url && (in[i] == '=' || in[i] == '\n' || in[i] == '\r' ||
                                      in[i] == ' ' || in[i] == '\t'))
                        continue;
                if (v < 0) {
                        free(out);
                        return NULL;
                }
                acc = (acc << 6) | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (char)((acc >> bits) & 0xff);
                }
        }
        out[n] = '\0';
        if (out_len)
                *out_len = n;
        return out;
}

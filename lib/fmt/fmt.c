/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "fmt/fmt.h"

/* The preload library must not pull in stdio, so names, records and log lines are built here. */

void vs_buf_init(struct vs_buf *b, char *storage, size_t cap)
{
        b->data = storage;
        b->cap = cap;
        b->len = 0;
        b->overflow = false;
        if (cap)
                storage[0] = '\0';
}

static void put_char(struct vs_buf *b, char c)
{
        if (b->len + 1 >= b->cap) {
                b->overflow = true;
                return;
        }
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
}

void vs_buf_puts(struct vs_buf *b, const char *s)
{
        while (*s)
                put_char(b, *s++);
}

void vs_buf_putn(struct vs_buf *b, const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                put_char(b, s[i]);
}

/* Digits of v in base (10 or 16), most significant first, zero-padded to width. */
static void put_number(struct vs_buf *b, uint64_t v, unsigned base, unsigned width)
{
        static const char digit_chars[] = "0123456789abcdef";
        char digits[24];
        unsigned n = 0;
        do {
                digits[n++] = digit_chars[v % base];
                v /= base;
        } while (v);
        while (width > n) {
                put_char(b, '0');
                width--;
        }
        while (n)
                put_char(b, digits[--n]);
}

void vs_buf_putu(struct vs_buf *b, uint64_t v, unsigned width)
{
        put_number(b, v, 10, width);
}

void vs_buf_putd(struct vs_buf *b, int64_t v)
{
        if (v < 0) {
                put_char(b, '-');
                vs_buf_putu(b, -(uint64_t)v, 0);
        } else {
                vs_buf_putu(b, (uint64_t)v, 0);
        }
}

void vs_buf_putx(struct vs_buf *b, uint64_t v, unsigned width)
{
        put_number(b, v, 16, width);
}

void vs_buf_put_json(struct vs_buf *b, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        put_char(b, '"');
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        put_char(b, '\\');
                        put_char(b, (char)*p);
                } else if (*p < 0x20) {
                        vs_buf_puts(b, "\\u00");
                        put_char(b, hex[*p >> 4]);
                        put_char(b, hex[*p & 0xf]);
                } else {
                        put_char(b, (char)*p);
                }
        }
        put_char(b, '"');
}

/* Length of the valid UTF-8 sequence at p (a printable code point), or 0. */
static size_t utf8_printable(const unsigned char *p)
{
        unsigned char c = p[0];
        size_t n = c >= 0xc2 && c < 0xe0    ? 2
                   : c >= 0xe0 && c < 0xf0  ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4
                                            : 0;
        if (n == 0)
                return 0;
        uint32_t cp = c & (0xff >> (n + 1));
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[i] & 0x3f);
        }
        static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        if (cp <= 0x9f || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
                return 0; /* C1 controls, line separators, bidi overrides */
        return n;
}

void vs_buf_put_escaped(struct vs_buf *b, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                unsigned char c = *p;
                if (c == '\\') {
                        vs_buf_puts(b, "\\\\");
                } else if (c == '\n') {
                        vs_buf_puts(b, "\\n");
                } else if (c == '\t') {
                        vs_buf_puts(b, "\\t");
                } else if (c >= 0x20 && c < 0x7f) {
                        put_char(b, (char)c);
                } else if (c >= 0x80) {
                        size_t n = utf8_printable(p);
                        if (n) {
                                vs_buf_putn(b, (const char *)p, n);
                                p += n;
                                continue;
                        }
                        goto hex_escape;
                } else {
hex_escape:
                        vs_buf_puts(b, "\\x");
                        put_char(b, hex[c >> 4]);
                        put_char(b, hex[c & 0xf]);
                }
                p++;
        }
}

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

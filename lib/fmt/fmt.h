/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Bounded string building without stdio, for the code linked into libvaultshim.so (the
 * move engine and the journal).  Once a buffer overflows it stays overflowed; its text is
 * then truncated but always terminated.
 */
struct vs_buf {
        char *data;
        size_t cap;
        size_t len;
        bool overflow;
};

void vs_buf_init(struct vs_buf *b, char *storage, size_t cap);
void vs_buf_puts(struct vs_buf *b, const char *s);
void vs_buf_putn(struct vs_buf *b, const char *s, size_t n);
/* Digits, zero-padded on the left to at least width. */
void vs_buf_putu(struct vs_buf *b, uint64_t v, unsigned width);
void vs_buf_putd(struct vs_buf *b, int64_t v);
void vs_buf_putx(struct vs_buf *b, uint64_t v, unsigned width);
void vs_buf_put_json(struct vs_buf *b, const char *s);
/*
 * s for a terminal or a report line, whoever named it: backslash, newline and tab as \\, \n,
 * \t; other control bytes, invalid UTF-8, C1 controls and bidi overrides as \xNN; printable
 * UTF-8 kept.  The result is one line of valid UTF-8.
 */
void vs_buf_put_escaped(struct vs_buf *b, const char *s);

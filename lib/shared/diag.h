/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * Diagnostics collected by the library for the tools to print.  Library code never
 * prints; it appends "file:line:col: message" records here and returns -EINVAL (or
 * another negative errno).  line/column are 1-based; 0 means "not applicable".
 */
struct vs_diag {
        char *file;
        unsigned line;
        unsigned column;
        char *message;
};

struct vs_diags {
        struct vs_diag *items;
        size_t count;
        size_t capacity;
};

int vs_diags_add(struct vs_diags *d, const char *file, unsigned line, unsigned column,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void vs_diags_clear(struct vs_diags *d);

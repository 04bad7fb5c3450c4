/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/diag.h"

int vs_diags_add(struct vs_diags *d, const char *file, unsigned line, unsigned column,
                 const char *fmt, ...)
{
        if (d->count == d->capacity) {
                size_t cap = d->capacity ? d->capacity * 2 : 8;
                struct vs_diag *items = realloc(d->items, cap * sizeof(*items));
                if (!items)
                        return -ENOMEM;
                d->items = items;
                d->capacity = cap;
        }

        char *message = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;

        char *file_copy = strdup(file ? file : "<input>");
        if (!file_copy) {
                free(message);
                return -ENOMEM;
        }

        d->items[d->count++] = (struct vs_diag){
                .file = file_copy, .line = line, .column = column, .message = message,
        };
        return 0;
}

void vs_diags_clear(struct vs_diags *d)
{
        for (size_t i = 0; i < d->count; i++) {
                free(d->items[i].file);
                free(d->items[i].message);
        }
        free(d->items);
        *d = (struct vs_diags){0};
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "json-stream.h"

#define DUMP_FLAGS (JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENCODE_ANY)

void json_stream_init(struct json_stream *s, FILE *out)
{
        *s = (struct json_stream){ .out = out };
}

static void indent(struct json_stream *s, unsigned depth)
{
        fputc('\n', s->out);
        for (unsigned i = 0; i < depth; i++)
                fputs("  ", s->out);
}

/* Before a value or key at the current depth: jansson's separator and indent. */
static void next_item(struct json_stream *s)
{
        if (s->after_key) {
                s->after_key = false;
                return;
        }
        if (s->depth == 0)
                return;
        if (s->has_items[s->depth - 1])
                fputc(',', s->out);
        s->has_items[s->depth - 1] = true;
        indent(s, s->depth);
}

void json_stream_begin(struct json_stream *s, char bracket)
{
        next_item(s);
        if (s->depth == JSON_STREAM_MAX_DEPTH) {
                s->failed = true;
                return;
        }
        fputc(bracket, s->out);
        s->has_items[s->depth++] = false;
}

void json_stream_end(struct json_stream *s, char bracket)
{
        if (s->depth == 0) {
                s->failed = true;
                return;
        }
        if (s->has_items[--s->depth])
                indent(s, s->depth);
        fputc(bracket, s->out);
}

void json_stream_key(struct json_stream *s, const char *key)
{
        json_t *name = json_string(key);
        char *text = name ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
        next_item(s);
        if (!text)
                s->failed = true;
        else
                fprintf(s->out, "%s: ", text);
        s->after_key = true;
        free(text);
        json_decref(name);
}

/* A dumped value's lines continue at the current depth (JSON strings hold no raw newline). */
void json_stream_value(struct json_stream *s, json_t *value)
{
        char *text = value ? json_dumps(value, DUMP_FLAGS) : NULL;
        json_decref(value);
        next_item(s);
        if (!text) {
                s->failed = true;
                return;
        }
        for (const char *p = text; *p; p++) {
                if (*p == '\n')
                        indent(s, s->depth);
                else
                        fputc(*p, s->out);
        }
        free(text);
}

int json_stream_finish(struct json_stream *s)
{
        fputc('\n', s->out);
        if (fflush(s->out) == EOF || ferror(s->out))
                return -EIO;
        return s->failed || s->depth ? -ENOMEM : 0;
}

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A JSON document written piece by piece, byte for byte as print_json() would write it whole
 * (sorted keys, 2-space indent): a long list (a schedule's instants) is printed item by item
 * and each item freed, instead of holding the whole document.  The caller gives keys in
 * sorted order.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define JSON_STREAM_MAX_DEPTH 8

struct json_stream {
        FILE *out;
        unsigned depth;
        bool has_items[JSON_STREAM_MAX_DEPTH];
        bool after_key;             /* a key was written; its value comes next */
        bool failed;                /* out of memory, too deep or a write error */
};

void json_stream_init(struct json_stream *s, FILE *out);
void json_stream_begin(struct json_stream *s, char bracket); /* '{' or '[' */
void json_stream_end(struct json_stream *s, char bracket);   /* '}' or ']' */
void json_stream_key(struct json_stream *s, const char *key);
/* One value (object member after json_stream_key, or array item); takes the reference. */
void json_stream_value(struct json_stream *s, json_t *value);
/* Ends the document with a newline and flushes; 0, -ENOMEM or -EIO. */
int json_stream_finish(struct json_stream *s);

/* SPDX-License-Identifier: MIT */
/*
 * tools/vault-policy/json-stream.c: a document written piece by piece must be byte for byte
 * what print_json (jansson, sorted keys, 2-space indent, a final newline) writes whole: for
 * documents of every shape, streamed member by member at every depth, or whole values
 * handed over at any depth.  Too deep, or ended more often than begun: an error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json-stream.h"

static int by_key(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Stream v; containers down to `split` levels are streamed piece by piece, deeper ones are
 * handed over whole. */
static void stream(struct json_stream *s, json_t *v, int split)
{
        if (split <= 0 || !(json_is_object(v) || json_is_array(v))) {
                json_stream_value(s, json_incref(v));
                return;
        }
        if (json_is_array(v)) {
                json_stream_begin(s, '[');
                for (size_t i = 0; i < json_array_size(v); i++)
                        stream(s, json_array_get(v, i), split - 1);
                json_stream_end(s, ']');
                return;
        }
        size_t n = json_object_size(v), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof(*keys));
        const char *key;
        json_t *member;
        json_object_foreach(v, key, member) keys[i++] = key;
        qsort(keys, n, sizeof(*keys), by_key);
        json_stream_begin(s, '{');
        for (i = 0; i < n; i++) {
                json_stream_key(s, keys[i]);
                stream(s, json_object_get(v, keys[i]), split - 1);
        }
        json_stream_end(s, '}');
        free(keys);
}

static const char *const documents[] = {
        "{}",
        "[]",
        "{\"a\": 1}",
        "[1, \"two\", null, true, 2.5]",
        "{\"b\": {}, \"a\": [], \"c\": [{}], \"d\": {\"e\": []}}",
        "{\"zeta\": [1, [2, [3, {\"k\": \"v\"}]]], \"alpha\": {\"x\": {\"y\": {\"z\": 0}}}}",
        "{\"\\u00e9t\\u00e9\": \"\\ud83d\\ude00 \\\"quoted\\\" \\\\ tab\\t\", \"b\": -0.001}",
        "[{\"user\": \"alice\", \"folders\": {\"eng\": \"rw\", \"wiki\": \"ro\"}}, "
        "{\"user\": \"bob\", \"folders\": {}}]",
};

static void test_streamed_as_printed_whole(void **state)
{
        for (size_t d = 0; d < sizeof(documents) / sizeof(documents[0]); d++) {
                json_error_t error;
                json_t *doc = json_loads(documents[d], 0, &error);
                if (!doc)
                        fail_msg("fixture %zu: %s", d, error.text);
                char *whole = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(2));
                assert_non_null(whole);
                for (int split = 0; split <= 5; split++) {
                        char *text = NULL;
                        size_t size = 0;
                        FILE *out = open_memstream(&text, &size);
                        struct json_stream s;
                        json_stream_init(&s, out);
                        stream(&s, doc, split);
                        assert_int_equal(json_stream_finish(&s), 0);
                        fclose(out);
                        size_t len = strlen(whole);
                        if (strncmp(text, whole, len) != 0 || strcmp(text + len, "\n") != 0)
                                fail_msg("document %zu split %d:\n%s\nwant:\n%s\n", d, split,
                                         text, whole);
                        free(text);
                }
                free(whole);
                json_decref(doc);
        }
}

static void test_unbalanced_or_too_deep_is_an_error(void **state)
{
        char *text = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&text, &size);
        struct json_stream s;
        json_stream_init(&s, out);
        for (int i = 0; i <= JSON_STREAM_MAX_DEPTH; i++)
                json_stream_begin(&s, '[');
        assert_int_equal(json_stream_finish(&s), -ENOMEM);
        json_stream_init(&s, out);
        json_stream_end(&s, '}');
        assert_int_equal(json_stream_finish(&s), -ENOMEM);
        json_stream_init(&s, out);
        json_stream_begin(&s, '{'); /* never ended */
        assert_int_equal(json_stream_finish(&s), -ENOMEM);
        fclose(out);
        free(text);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_streamed_as_printed_whole),
                cmocka_unit_test(test_unbalanced_or_too_deep_is_an_error),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

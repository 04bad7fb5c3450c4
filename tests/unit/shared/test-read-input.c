/* SPDX-License-Identifier: MIT */
/*
 * lib/shared/read-input.c over lib/base's reader (vs_read_file, base/file.h): the one way the
 * tools read a whole input file, and what they say when they cannot.  A file comes
 * back whole and NUL-terminated (empty, one byte short of the limit, at the limit, and a
 * /proc file whose size says 0); a file over the limit, a directory, a FIFO (without
 * blocking: no writer ever comes) and a missing file are refused, each with its words,
 * and the out-parameters are untouched on every failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#include "base/file.h"
#include "shared/read-input.h"

static char top[256];

static const char *at(const char *rel)
{
        return vs_path_in(top, rel);
}

static int setup(void **state)
{
        return vs_scratch_create(top, sizeof(top), "read-input") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
        vs_scratch_remove(top);
        return 0;
}

static void put(const char *rel, size_t size)
{
        FILE *f = fopen(at(rel), "w");
        assert_non_null(f);
        for (size_t i = 0; i < size; i++)
                fputc('a' + (int)(i % 26), f);
        fclose(f);
}

static void assert_read(const char *path, size_t max, size_t want)
{
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(vs_read_file(AT_FDCWD, path, 0, max, &text, &len), 0);
        assert_int_equal(len, want);
        assert_int_equal(strlen(text), want);
        for (size_t i = 0; i < want; i++)
                if (text[i] != 'a' + (int)(i % 26))
                        fail_msg("byte %zu differs", i);
        free(text);
}

static void assert_refused(const char *path, size_t max, int err, const char *words)
{
        char *text = (char *)"untouched";
        size_t len = 7;
        assert_int_equal(vs_read_file(AT_FDCWD, path, 0, max, &text, &len), err);
        assert_string_equal(text, "untouched");
        assert_int_equal(len, 7);
        char buf[VS_READ_INPUT_ERROR_BUF];
        const char *got = vs_read_input_error(err, max, buf, sizeof(buf));
        if (!strstr(got, words))
                fail_msg("%s: \"%s\" does not say \"%s\"", path, got, words);
}

static void test_whole_files(void **state)
{
        put("empty", 0);
        assert_read(at("empty"), 100, 0);
        put("small", 99);
        assert_read(at("small"), 100, 99);
        put("exact", 100);
        assert_read(at("exact"), 100, 100);
        put("big", 3 * 4096 + 5); /* past the first buffer */
        assert_read(at("big"), VS_INPUT_MAX_BYTES, 3 * 4096 + 5);
}

/* /proc files say size 0; what they hold is read all the same. */
static void test_a_file_whose_size_says_nothing(void **state)
{
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(vs_read_file(AT_FDCWD, "/proc/self/status", 0, VS_INPUT_MAX_BYTES, &text,
                                      &len), 0);
        assert_true(len > 0 && strstr(text, "Pid:"));
        free(text);
        /* and its limit holds as it reads */
        assert_refused("/proc/self/status", 16, -EFBIG, "larger than 16 bytes");
}

static void test_what_is_refused(void **state)
{
        put("over", 101);
        assert_refused(at("over"), 100, -EFBIG, "larger than 100 bytes");
        assert_refused(at("missing"), 100, -ENOENT, "No such file");
        assert_refused(top, 100, -EISDIR, "a directory");
        assert_int_equal(mkfifo(at("fifo"), 0600), 0);
        assert_refused(at("fifo"), 100, -EINVAL, "not a regular file"); /* never blocks */
        assert_refused("/dev/null", 100, -EINVAL, "not a regular file");
        char buf[VS_READ_INPUT_ERROR_BUF];
        assert_string_equal(vs_read_input_error(-EFBIG, VS_INPUT_MAX_BYTES, buf, sizeof(buf)),
                            "larger than 4 MiB");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_whole_files),
                T(test_a_file_whose_size_says_nothing),
                T(test_what_is_refused),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}

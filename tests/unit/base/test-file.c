/* SPDX-License-Identifier: MIT */
/*
 * lib/base/file.c: the one whole-file reader.  A FIFO or device named like the file never
 * blocks, a directory or symlink is refused as documented, the bound holds before and while
 * reading, and /proc files (whose size says 0) are read whole.
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

#include "scratch.h"

#include "base/file.h"

static void write_file(const char *name, const char *text, size_t len)
{
        int fd = openat(scratch_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        close(fd);
}

static void reads_a_regular_file_whole(void **state)
{
        write_file("a", "one\ntwo\n", 8);
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(vs_read_file(scratch_fd, "a", 0, 100, &text, &len), 0);
        assert_int_equal(len, 8);
        assert_string_equal(text, "one\ntwo\n");
        free(text);
        /* Exactly the bound is allowed; one byte more is not, and nothing is handed out. */
        assert_int_equal(vs_read_file(scratch_fd, "a", 0, 8, &text, &len), 0);
        free(text);
        text = (char *)"untouched";
        assert_int_equal(vs_read_file(scratch_fd, "a", 0, 7, &text, &len), -EFBIG);
        assert_string_equal(text, "untouched");
}

static void empty_and_large_files(void **state)
{
        write_file("empty", "", 0);
        char *text = NULL;
        size_t len = 1;
        assert_int_equal(vs_read_file(scratch_fd, "empty", 0, 10, &text, &len), 0);
        assert_int_equal(len, 0);
        assert_string_equal(text, "");
        free(text);

        size_t big = 300 * 1024;
        char *data = malloc(big);
        assert_non_null(data);
        for (size_t i = 0; i < big; i++)
                data[i] = (char)('a' + i % 26);
        write_file("big", data, big);
        assert_int_equal(vs_read_file(scratch_fd, "big", 0, big, &text, &len), 0);
        assert_int_equal(len, big);
        assert_memory_equal(text, data, big);
        free(text);
        free(data);
}

static void refuses_what_is_not_a_regular_file(void **state)
{
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(mkdirat(scratch_fd, "dir", 0755), 0);
        assert_int_equal(vs_read_file(scratch_fd, "dir", 0, 100, &text, &len), -EISDIR);
        /* A FIFO: the open does not block (O_NONBLOCK), and it is refused. */
        assert_int_equal(mkfifoat(scratch_fd, "fifo", 0644), 0);
        assert_int_equal(vs_read_file(scratch_fd, "fifo", 0, 100, &text, &len), -EINVAL);
        assert_int_equal(vs_open_regular(AT_FDCWD, "/dev/null", 0), -EINVAL);
        assert_int_equal(vs_read_file(scratch_fd, "missing", 0, 100, &text, &len), -ENOENT);
}

static void a_symlink_only_without_nofollow(void **state)
{
        write_file("target", "x", 1);
        assert_int_equal(symlinkat("target", scratch_fd, "link"), 0);
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(vs_read_file(scratch_fd, "link", VS_OPEN_NOFOLLOW, 10, &text, &len),
                         -ELOOP);
        assert_int_equal(vs_read_file(scratch_fd, "link", 0, 10, &text, &len), 0);
        assert_string_equal(text, "x");
        free(text);
}

/* The descriptor's offset does not matter: the file is read from its start. */
static void reads_from_offset_zero(void **state)
{
        write_file("offset", "abcdef", 6);
        int fd = vs_open_regular(scratch_fd, "offset", VS_OPEN_NOFOLLOW);
        assert_true(fd >= 0);
        assert_int_equal(lseek(fd, 3, SEEK_SET), 3);
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(vs_read_fd(fd, 100, &text, &len), 0);
        assert_string_equal(text, "abcdef");
        free(text);
        /* O_NONBLOCK is gone once the file is known to be regular. */
        assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
        close(fd);
}

/* /proc files say size 0: read until the end, and the bound still holds. */
static void reads_proc_files(void **state)
{
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(vs_read_file(AT_FDCWD, "/proc/self/mountinfo", 0, 16 << 20, &text,
                                      &len), 0);
        assert_true(len > 0);
        assert_int_equal(strlen(text), len);
        assert_int_equal(text[len - 1], '\n');
        free(text);
        assert_int_equal(vs_read_file(AT_FDCWD, "/proc/self/mountinfo", 0, 4, &text, &len),
                         -EFBIG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(reads_a_regular_file_whole),
                cmocka_unit_test(empty_and_large_files),
                cmocka_unit_test(refuses_what_is_not_a_regular_file),
                cmocka_unit_test(a_symlink_only_without_nofollow),
                cmocka_unit_test(reads_from_offset_zero),
                cmocka_unit_test(reads_proc_files),
        };
        return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}

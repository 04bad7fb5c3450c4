/* SPDX-License-Identifier: MIT */
/*
 * lib/move/links.c: the hard links met inside a tree, by (device, inode).  The first path
 * of an inode is kept (a copy of it, not the caller's buffer), another device's same
 * number is another inode, and nothing is lost as the table grows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "move/internal.h"

static struct statx inode(uint32_t major, uint32_t minor, uint64_t ino)
{
        struct statx st = { .stx_dev_major = major, .stx_dev_minor = minor, .stx_ino = ino };
        return st;
}

static void test_the_first_path_of_an_inode(void **state)
{
        struct vs_links links = { 0 };
        struct statx a = inode(8, 1, 12), b = inode(8, 1, 13);
        assert_null(vs_links_find(&links, &a));
        char path[32] = "notes/a.md";
        assert_int_equal(vs_links_add(&links, &a, path), 0);
        strcpy(path, "overwritten"); /* the table keeps its own copy */
        assert_string_equal(vs_links_find(&links, &a), "notes/a.md");
        assert_null(vs_links_find(&links, &b));
        assert_int_equal(vs_links_add(&links, &a, "notes/second-name.md"), 0);
        assert_string_equal(vs_links_find(&links, &a), "notes/a.md");
        assert_int_equal(links.count, 1);
        vs_links_free(&links);
        assert_int_equal(links.count, 0);
        assert_null(vs_links_find(&links, &a));
}

/* Inode numbers are per filesystem. */
static void test_the_same_number_on_another_device(void **state)
{
        struct vs_links links = { 0 };
        struct statx a = inode(8, 1, 12), b = inode(8, 2, 12), c = inode(9, 1, 12);
        assert_int_equal(vs_links_add(&links, &a, "a"), 0);
        assert_null(vs_links_find(&links, &b));
        assert_int_equal(vs_links_add(&links, &b, "b"), 0);
        assert_int_equal(vs_links_add(&links, &c, "c"), 0);
        assert_string_equal(vs_links_find(&links, &a), "a");
        assert_string_equal(vs_links_find(&links, &b), "b");
        assert_string_equal(vs_links_find(&links, &c), "c");
        vs_links_free(&links);
}

/* Many more than the first table holds, numbers chosen to collide in its low bits. */
static void test_nothing_is_lost_as_it_grows(void **state)
{
        enum { N = 5000 };
        struct vs_links links = { 0 };
        char path[32];
        for (uint64_t i = 0; i < N; i++) {
                struct statx st = inode(8, 1, i << 20);
                snprintf(path, sizeof(path), "f%llu", (unsigned long long)i);
                assert_int_equal(vs_links_add(&links, &st, path), 0);
        }
        assert_int_equal(links.count, N);
        assert_true(2 * links.count <= links.cap); /* never more than half full */
        for (uint64_t i = 0; i < N; i++) {
                struct statx st = inode(8, 1, i << 20);
                snprintf(path, sizeof(path), "f%llu", (unsigned long long)i);
                assert_string_equal(vs_links_find(&links, &st), path);
                st.stx_ino++;
                assert_null(vs_links_find(&links, &st));
        }
        vs_links_free(&links);
        /* Used again after being freed. */
        struct statx a = inode(8, 1, 1);
        assert_int_equal(vs_links_add(&links, &a, "again"), 0);
        assert_string_equal(vs_links_find(&links, &a), "again");
        vs_links_free(&links);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_the_first_path_of_an_inode),
                cmocka_unit_test(test_the_same_number_on_another_device),
                cmocka_unit_test(test_nothing_is_lost_as_it_grows),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

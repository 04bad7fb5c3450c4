/* SPDX-License-Identifier: MIT */
/*
 * lib/base/remove.c: the one tree remover.  A staged copy with read-only directories goes
 * whole; a dry run only counts; what is too deep to walk is kept and counted with the
 * directories above it; nothing behind a symlink is touched.
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#include "base/remove.h"
#include "base/walk.h"

static char top[256];
static int topfd = -1;

static int setup(void **state)
{
        if (vs_scratch_create(top, sizeof(top), "base-remove") < 0)
                return -1;
        topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return topfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        close(topfd);
        return vs_scratch_remove(top);
}

static void make(const char *rel, bool dir)
{
        if (dir) {
                assert_int_equal(mkdirat(topfd, rel, 0755), 0);
                return;
        }
        int fd = openat(topfd, rel, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
}

static bool exists(const char *rel)
{
        struct stat st;
        return fstatat(topfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* s/{f, ro/{g, h}, link -> ../outside}, outside/keep */
static void removes_a_tree_with_read_only_directories(void **state)
{
        make("s", true);
        make("s/f", false);
        make("s/ro", true);
        make("s/ro/g", false);
        make("s/ro/h", false);
        make("outside", true);
        make("outside/keep", false);
        assert_int_equal(symlinkat("../outside", topfd, "s/link"), 0);
        assert_int_equal(fchmodat(topfd, "s/ro", 0555, 0), 0);
        assert_int_equal(fchmodat(topfd, "s", 0555, 0), 0);

        unsigned long removed = 0, kept = 0;
        assert_int_equal(vs_remove_tree(topfd, "s", true, &removed, &kept), 0);
        assert_int_equal(removed, 6); /* f, g, h, link, ro, s */
        assert_int_equal(kept, 0);
        assert_true(exists("s/ro/g")); /* a dry run only counts */

        removed = 0;
        assert_int_equal(vs_remove_tree(topfd, "s", false, &removed, &kept), 0);
        assert_int_equal(removed, 6);
        assert_int_equal(kept, 0);
        assert_false(exists("s"));
        assert_true(exists("outside/keep")); /* never through a symlink */

        /* Nothing there, and a single file. */
        assert_int_equal(vs_remove_tree(topfd, "s", false, &removed, &kept), 0);
        assert_int_equal(vs_remove_tree(topfd, "outside/keep", false, &removed, &kept), 0);
        assert_int_equal(removed, 7);
        assert_false(exists("outside/keep"));
}

static void keeps_what_is_too_deep(void **state)
{
        struct rlimit saved;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
        struct rlimit small = { VS_WALK_FD_RESERVE + 3 * VS_WALK_FDS_PER_LEVEL, saved.rlim_max };

        /* d/1/2/3/4/5/f beside d/shallow */
        char rel[64] = "d";
        make(rel, true);
        make("d/shallow", false);
        for (int i = 1; i <= 5; i++) {
                size_t len = strlen(rel);
                snprintf(rel + len, sizeof(rel) - len, "/%d", i);
                make(rel, true);
        }
        make("d/1/2/3/4/5/f", false);
        unsigned long removed = 0, kept = 0;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &small), 0);
        int r = vs_remove_tree(topfd, "d", false, &removed, &kept);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
        assert_int_equal(r, 0);
        assert_int_equal(kept, 1);    /* d/1/2/3/4, passed by */
        assert_int_equal(removed, 1); /* d/shallow; d and d/1..3 stay above what was kept */
        assert_false(exists("d/shallow"));
        assert_true(exists("d/1/2/3/4/5/f"));

        assert_int_equal(vs_remove_tree(topfd, "d", false, &removed, &kept), 0);
        assert_false(exists("d"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(removes_a_tree_with_read_only_directories),
                cmocka_unit_test(keeps_what_is_too_deep),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

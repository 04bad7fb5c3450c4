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

#include "scratch.h"

#include "base/remove.h"
#include "base/walk.h"

/* s/{f, ro/{g, h}, link -> ../outside}, outside/keep */
static void removes_a_tree_with_read_only_directories(void **state)
{
        scratch_make("s", true);
        scratch_make("s/f", false);
        scratch_make("s/ro", true);
        scratch_make("s/ro/g", false);
        scratch_make("s/ro/h", false);
        scratch_make("outside", true);
        scratch_make("outside/keep", false);
        assert_int_equal(symlinkat("../outside", scratch_fd, "s/link"), 0);
        assert_int_equal(fchmodat(scratch_fd, "s/ro", 0555, 0), 0);
        assert_int_equal(fchmodat(scratch_fd, "s", 0555, 0), 0);

        unsigned long removed = 0, kept = 0;
        assert_int_equal(vs_remove_tree(scratch_fd, "s", true, &removed, &kept), 0);
        assert_int_equal(removed, 6); /* f, g, h, link, ro, s */
        assert_int_equal(kept, 0);
        assert_true(scratch_exists("s/ro/g")); /* a dry run only counts */

        removed = 0;
        assert_int_equal(vs_remove_tree(scratch_fd, "s", false, &removed, &kept), 0);
        assert_int_equal(removed, 6);
        assert_int_equal(kept, 0);
        assert_false(scratch_exists("s"));
        assert_true(scratch_exists("outside/keep")); /* never through a symlink */

        /* Nothing there, and a single file. */
        assert_int_equal(vs_remove_tree(scratch_fd, "s", false, &removed, &kept), 0);
        assert_int_equal(vs_remove_tree(scratch_fd, "outside/keep", false, &removed, &kept), 0);
        assert_int_equal(removed, 7);
        assert_false(scratch_exists("outside/keep"));
}

static void keeps_what_is_too_deep(void **state)
{
        struct rlimit saved;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
        struct rlimit small = { VS_WALK_FD_RESERVE + 3 * VS_WALK_FDS_PER_LEVEL, saved.rlim_max };

        /* d/1/2/3/4/5/f beside d/shallow */
        char rel[64] = "d";
        scratch_make(rel, true);
        scratch_make("d/shallow", false);
        for (int i = 1; i <= 5; i++) {
                size_t len = strlen(rel);
                snprintf(rel + len, sizeof(rel) - len, "/%d", i);
                scratch_make(rel, true);
        }
        scratch_make("d/1/2/3/4/5/f", false);
        unsigned long removed = 0, kept = 0;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &small), 0);
        int r = vs_remove_tree(scratch_fd, "d", false, &removed, &kept);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
        assert_int_equal(r, 0);
        assert_int_equal(kept, 1);    /* d/1/2/3/4, passed by */
        assert_int_equal(removed, 1); /* d/shallow; d and d/1..3 stay above what was kept */
        assert_false(scratch_exists("d/shallow"));
        assert_true(scratch_exists("d/1/2/3/4/5/f"));

        assert_int_equal(vs_remove_tree(scratch_fd, "d", false, &removed, &kept), 0);
        assert_false(scratch_exists("d"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(removes_a_tree_with_read_only_directories),
                cmocka_unit_test(keeps_what_is_too_deep),
        };
        return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}

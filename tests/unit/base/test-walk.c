/* SPDX-License-Identifier: MIT */
/*
 * lib/base/walk.c: the one directory walker.  Every entry once, depth-first, directories
 * entered and left in order, a callback's skip and error obeyed, never a symlink followed,
 * and the descriptor budget turned into a depth that is passed by or stops the walk.
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

#include "base/walk.h"

struct seen {
        char log[4096];
        unsigned leaves, enters, leaves_dir, too_deep;
        unsigned max_depth;
        const char *skip;   /* enter returns VS_WALK_SKIP for this name */
        const char *fail;   /* leaf returns -EIO for this name */
};

static void note(struct seen *s, char what, const struct vs_walk_entry *e)
{
        size_t len = strlen(s->log);
        snprintf(s->log + len, sizeof(s->log) - len, "%c%u:%s ", what, e->depth, e->name);
        if (e->depth > s->max_depth)
                s->max_depth = e->depth;
}

static int on_enter(void *ctx, const struct vs_walk_entry *e)
{
        struct seen *s = ctx;
        assert_true(S_ISDIR(e->st->stx_mode));
        s->enters++;
        note(s, '>', e);
        return s->skip && strcmp(e->name, s->skip) == 0 ? VS_WALK_SKIP : 0;
}

static int on_leaf(void *ctx, const struct vs_walk_entry *e)
{
        struct seen *s = ctx;
        assert_false(S_ISDIR(e->st->stx_mode));
        s->leaves++;
        note(s, '-', e);
        return s->fail && strcmp(e->name, s->fail) == 0 ? -EIO : 0;
}

static int on_leave(void *ctx, const struct vs_walk_entry *e)
{
        struct seen *s = ctx;
        s->leaves_dir++;
        note(s, '<', e);
        return 0;
}

static int on_too_deep(void *ctx, const struct vs_walk_entry *e)
{
        struct seen *s = ctx;
        s->too_deep++;
        return 0;
}

static int walk(const char *rel, const struct vs_walk_ops *ops, struct seen *s)
{
        int fd = openat(scratch_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct statx st;
        assert_int_equal(vs_statx(fd, "", &st), 0);
        int r = vs_walk_tree(fd, &st, ops, s);
        close(fd);
        return r;
}

static const struct vs_walk_ops all_ops = {
        .enter = on_enter, .leaf = on_leaf, .leave = on_leave, .too_deep = on_too_deep,
};

/* t/a/{x, b/y}, t/link -> a, t/z: every entry once, the symlink a leaf. */
static void visits_every_entry_once(void **state)
{
        scratch_make("t", true);
        scratch_make("t/a", true);
        scratch_make("t/a/x", false);
        scratch_make("t/a/b", true);
        scratch_make("t/a/b/y", false);
        scratch_make("t/z", false);
        assert_int_equal(symlinkat("a", scratch_fd, "t/link"), 0);
        struct seen s = { 0 };
        assert_int_equal(walk("t", &all_ops, &s), 0);
        assert_int_equal(s.enters, 2);
        assert_int_equal(s.leaves_dir, 2);
        assert_int_equal(s.leaves, 4); /* x, y, z, link */
        assert_int_equal(s.max_depth, 3);
        /* b is left before a, and a after all of its entries. */
        char *leave_b = strstr(s.log, "<2:b "), *leave_a = strstr(s.log, "<1:a ");
        assert_non_null(leave_b);
        assert_non_null(leave_a);
        assert_true(leave_b < leave_a);
        assert_true(strstr(s.log, "-3:y ") < leave_b);
        assert_true(strstr(s.log, "-2:x ") < leave_a);

        /* A skipped directory is neither opened nor left. */
        struct seen skipped = { .skip = "a" };
        assert_int_equal(walk("t", &all_ops, &skipped), 0);
        assert_int_equal(skipped.leaves, 2);
        assert_int_equal(skipped.leaves_dir, 0);

        /* A callback's error stops the walk and is its result. */
        struct seen failing = { .fail = "x" };
        assert_int_equal(walk("t", &all_ops, &failing), -EIO);
}

static void depth_budget_follows_the_descriptor_limit(void **state)
{
        struct rlimit saved;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
        struct rlimit small = { VS_WALK_FD_RESERVE + 4 * VS_WALK_FDS_PER_LEVEL, saved.rlim_max };
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &small), 0);
        assert_int_equal(vs_walk_depth(), 4);

        /* d/1/2/3/4/5/6/f: four levels are walked, the fifth passed by and left. */
        char rel[64] = "d";
        scratch_make(rel, true);
        for (int i = 1; i <= 6; i++) {
                size_t len = strlen(rel);
                snprintf(rel + len, sizeof(rel) - len, "/%d", i);
                scratch_make(rel, true);
        }
        struct seen s = { 0 };
        assert_int_equal(walk("d", &all_ops, &s), 0);
        assert_int_equal(s.too_deep, 1);
        assert_int_equal(s.enters, 5);
        assert_int_equal(s.leaves_dir, 5);
        assert_non_null(strstr(s.log, "<5:5 "));
        /* Without a too_deep callback the walk stops. */
        static const struct vs_walk_ops strict = { .enter = on_enter, .leave = on_leave };
        struct seen stopped = { 0 };
        assert_int_equal(walk("d", &strict, &stopped), -ELOOP);

        struct rlimit large = { saved.rlim_max, saved.rlim_max };
        if (saved.rlim_max > 100000) {
                assert_int_equal(setrlimit(RLIMIT_NOFILE, &large), 0);
                assert_int_equal(vs_walk_depth(), VS_WALK_DEPTH_CAP);
        }
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
}

static int failed_count;

static int count_failure(void *ctx, const struct vs_walk_entry *e, int err)
{
        failed_count++;
        return 0;
}

/* A directory that cannot be opened: reported to `failed`, which may let the walk go on. */
static void unreadable_directory(void **state)
{
        scratch_make("u", true);
        scratch_make("u/closed", true);
        scratch_make("u/closed/secret", false);
        scratch_make("u/open", false);
        if (geteuid() == 0)
                skip(); /* root reads any directory */
        assert_int_equal(fchmodat(scratch_fd, "u/closed", 0, 0), 0);
        static const struct vs_walk_ops ops = { .failed = count_failure };
        struct seen s = { 0 };
        assert_int_equal(walk("u", &ops, &s), 0);
        assert_int_equal(failed_count, 1);
        static const struct vs_walk_ops strict = { 0 };
        assert_int_equal(walk("u", &strict, &s), -EACCES);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(visits_every_entry_once),
                cmocka_unit_test(depth_budget_follows_the_descriptor_limit),
                cmocka_unit_test(unreadable_directory),
        };
        return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}

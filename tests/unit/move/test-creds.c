/* SPDX-License-Identifier: MIT */
/*
 * lib/move/creds.c: permission checks as the kernel makes them for the caller.  The
 * credentials as loaded (fsuid, CAP_FOWNER, CAP_DAC_OVERRIDE) for root and for a user;
 * the sticky, append-only and immutable rules case by case; may_delete's order (search
 * and write on the directory first, then the sticky rules, then the type); a symbolic
 * link checked as itself.  The user cases run in a child as uid 1000 (root needed: CI).
 */
#include <errno.h>
#include <fcntl.h>
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

#include "fixture.h"
#include "move/internal.h"

#define USER 1000

static char *root;

static int setup(void **state)
{
        root = fx_tmpdir();
        /* open/ a directory a user may write; shut/ one they may only read. */
        fx_build(root, (const char *const[]){ "d open 0777", "d shut 0555", "f open/mine.md x",
                                              "f shut/theirs.md x", "d open/sub", NULL });
        return 0;
}

static int teardown(void **state)
{
        fx_rm_rf(root);
        free(root);
        return 0;
}

static int dir_fd(const char *rel)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd;
}

static struct statx entry(uid_t uid, mode_t mode, uint64_t attributes)
{
        struct statx st = { .stx_uid = uid, .stx_mode = mode, .stx_attributes = attributes };
        return st;
}

static void test_root_has_the_capabilities(void **state)
{
        if (!fx_is_root())
                skip();
        struct vs_creds creds;
        vs_creds_load(&creds);
        assert_int_equal(creds.fsuid, 0);
        assert_true(creds.cap_fowner);
        assert_true(creds.cap_dac_override);
}

static int user_creds(void *unused)
{
        struct vs_creds creds;
        vs_creds_load(&creds);
        return creds.fsuid == USER && !creds.cap_fowner && !creds.cap_dac_override ? 0 : 1;
}

static void test_a_user_has_none(void **state)
{
        if (!fx_is_root())
                skip();
        assert_int_equal(fx_run_as(USER, user_creds, NULL), 0);
}

/* check_sticky(): in a sticky directory only the entry's owner, the directory's owner, or
 * CAP_FOWNER; append-only directories and append-only or immutable entries never. */
static void test_the_sticky_append_and_immutable_rules(void **state)
{
        const struct vs_creds user = { .fsuid = USER }, fowner = { .fsuid = USER,
                                                                   .cap_fowner = true };
        const struct statx sticky = entry(0, S_IFDIR | 01777, 0);
        const struct statx plain = entry(0, S_IFDIR | 0777, 0);
        const struct statx theirs = entry(2000, S_IFREG | 0644, 0);
        const struct statx mine = entry(USER, S_IFREG | 0644, 0);
        assert_int_equal(vs_check_unlinkable(&user, &sticky, &theirs), -EPERM);
        assert_int_equal(vs_check_unlinkable(&user, &sticky, &mine), 0);
        assert_int_equal(vs_check_unlinkable(&fowner, &sticky, &theirs), 0);
        const struct statx my_sticky = entry(USER, S_IFDIR | 01777, 0);
        assert_int_equal(vs_check_unlinkable(&user, &my_sticky, &theirs), 0);
        assert_int_equal(vs_check_unlinkable(&user, &plain, &theirs), 0);

        const struct statx append_dir = entry(0, S_IFDIR | 0777, STATX_ATTR_APPEND);
        assert_int_equal(vs_check_unlinkable(&fowner, &append_dir, &mine), -EPERM);
        const struct statx append = entry(USER, S_IFREG | 0644, STATX_ATTR_APPEND);
        const struct statx immutable = entry(USER, S_IFREG | 0644, STATX_ATTR_IMMUTABLE);
        assert_int_equal(vs_check_unlinkable(&fowner, &plain, &append), -EPERM);
        assert_int_equal(vs_check_unlinkable(&fowner, &plain, &immutable), -EPERM);
}

/* As a user: EACCES from the directory comes before the sticky rules and the type. */
static int user_may_delete(void *unused)
{
        struct vs_creds creds;
        vs_creds_load(&creds);
        int open_dir = dir_fd("open"), shut_dir = dir_fd("shut");
        if (open_dir < 0 || shut_dir < 0)
                return 10;
        const struct statx file = entry(2000, S_IFREG | 0644, 0);
        const struct statx dir = entry(2000, S_IFDIR | 0755, 0);
        const struct statx sticky = entry(0, S_IFDIR | 01777, 0);
        const struct statx plain = entry(0, S_IFDIR | 0777, 0);
        /* Not writable: EACCES, whatever the type and the sticky bit would say. */
        if (vs_may_delete(&creds, shut_dir, &sticky, &dir, false) != -EACCES)
                return 11;
        if (vs_may_create(shut_dir) != -EACCES)
                return 12;
        if (vs_access(shut_dir, "theirs.md", W_OK) != -EACCES)
                return 13;
        /* Writable: then the sticky rule, then the type. */
        if (vs_may_delete(&creds, open_dir, &sticky, &dir, false) != -EPERM)
                return 14;
        if (vs_may_delete(&creds, open_dir, &plain, &dir, false) != -EISDIR)
                return 15;
        if (vs_may_delete(&creds, open_dir, &plain, &file, true) != -ENOTDIR)
                return 16;
        if (vs_may_delete(&creds, open_dir, &plain, &file, false) != 0 ||
            vs_may_delete(&creds, open_dir, &plain, &dir, true) != 0)
                return 17;
        if (vs_may_create(open_dir) != 0)
                return 18;
        close(open_dir);
        close(shut_dir);
        return 0;
}

static void test_may_delete_in_the_kernels_order(void **state)
{
        if (!fx_is_root())
                skip();
        assert_int_equal(fx_run_as(USER, user_may_delete, NULL), 0);
}

/* Root reads and writes anything not immutable (CAP_DAC_OVERRIDE); search still needs an
 * x bit somewhere, as the kernel says. */
static void test_root_passes_the_mode_bits(void **state)
{
        if (!fx_is_root())
                skip();
        int shut = dir_fd("shut");
        assert_true(shut >= 0);
        assert_int_equal(vs_may_create(shut), 0);
        assert_int_equal(vs_access(shut, "theirs.md", R_OK | W_OK), 0);
        assert_int_equal(vs_access(shut, "missing.md", R_OK), -ENOENT);
        close(shut);
}

/* The link itself, never its target: a dangling link is there to be moved. */
static void test_a_symlink_is_checked_as_itself(void **state)
{
        char link[4096];
        snprintf(link, sizeof(link), "%s/open/dangling", root);
        assert_int_equal(symlink("/nonexistent/target", link), 0);
        int open_dir = dir_fd("open");
        assert_true(open_dir >= 0);
        assert_int_equal(vs_access(open_dir, "dangling", F_OK), 0);
        close(open_dir);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_root_has_the_capabilities),
                T(test_a_user_has_none),
                T(test_the_sticky_append_and_immutable_rules),
                T(test_may_delete_in_the_kernels_order),
                T(test_root_passes_the_mode_bits),
                T(test_a_symlink_is_checked_as_itself),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * lib/base/mount.c: mount identities and opening beneath a verified mount.  The mount of a
 * scratch directory is identified as mountinfo shows it, reopened only while it is still
 * that mount, a path is made relative to it only when strictly below it, and nothing beneath
 * it is reached through a symlink or "..".
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
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"

#include "base/mount.h"

static void identifies_the_mount_of_a_directory(void **state)
{
        struct vs_mount_identity m;
        assert_int_equal(vs_mount_identify(scratch_fd, &m), 0);
        /* The mount point is an ancestor of the directory (or the directory itself). */
        size_t n = strlen(m.point);
        const char *rest = scratch_top + n;
        assert_true(strcmp(m.point, "/") == 0 ||
                    (strncmp(scratch_top, m.point, n) == 0 && (*rest == '/' || *rest == '\0')));
        assert_true(m.fstype[0] != '\0');
        assert_true(m.root_ino != 0);
        struct stat st;
        assert_int_equal(fstat(scratch_fd, &st), 0);
        assert_int_equal(m.dev_major, major(st.st_dev));
        assert_int_equal(m.dev_minor, minor(st.st_dev));

        uint64_t a, b;
        assert_int_equal(vs_mount_id(AT_FDCWD, scratch_top, &a), 0);
        assert_int_equal(vs_mount_id(AT_FDCWD, m.point, &b), 0);
        assert_true(a == b);
        assert_int_equal(vs_mount_id(AT_FDCWD, "/no/such/place", &a), -ENOENT);

        struct vs_mount_identity again = m;
        assert_true(vs_mount_same(&m, &again));
        again.root_ino++;
        assert_false(vs_mount_same(&m, &again));
}

static void opens_only_the_same_mount(void **state)
{
        struct vs_mount_identity m;
        assert_int_equal(vs_mount_identify(scratch_fd, &m), 0);
        int fd = vs_mount_open_verified(&m);
        assert_true(fd >= 0);
        close(fd);
        struct vs_mount_identity other = m;
        strcpy(other.root, "/somewhere/else");
        assert_int_equal(vs_mount_open_verified(&other), -ESTALE);
        other = m;
        strcpy(other.point, "/no/such/mount/point");
        assert_int_equal(vs_mount_open_verified(&other), -ESTALE);
}

/* One read of the mount table serves several lookups, each as a fresh read would answer,
 * and the point it opened is the mount's root, the one vs_mount_open_verified() gives. */
static void one_table_for_several_lookups(void **state)
{
        struct vs_mount_table table;
        assert_int_equal(vs_mount_table_read(&table), 0);
        assert_true(table.text != NULL && table.len > 0);
        struct vs_mount_identity fresh, a, b;
        assert_int_equal(vs_mount_identify(scratch_fd, &fresh), 0);
        int fa = -1, fb = -1;
        assert_int_equal(vs_mount_identify_open(&table, scratch_fd, &a, &fa), 0);
        assert_int_equal(vs_mount_identify_open(&table, scratch_fd, &b, &fb), 0);
        vs_mount_table_free(&table);
        assert_null(table.text);
        assert_true(vs_mount_same(&a, &fresh) && vs_mount_same(&b, &fresh));

        int verified = vs_mount_open_verified(&fresh);
        assert_true(verified >= 0);
        struct stat x, y, z;
        assert_int_equal(fstat(fa, &x), 0);
        assert_int_equal(fstat(fb, &y), 0);
        assert_int_equal(fstat(verified, &z), 0);
        assert_true(x.st_ino == z.st_ino && x.st_dev == z.st_dev);
        assert_true(y.st_ino == z.st_ino && y.st_dev == z.st_dev);
        assert_true((uint64_t)x.st_ino == fresh.root_ino);
        close(fa);
        close(fb);
        close(verified);

        /* A table without the directory's mount tells nothing: -EXDEV, no descriptor. */
        char empty[] = "";
        struct vs_mount_table none = { .text = empty, .len = 0 };
        int fd = -1;
        assert_int_equal(vs_mount_identify_open(&none, scratch_fd, &a, &fd), -EXDEV);
        assert_int_equal(fd, -1);
}

static void relative_only_strictly_below(void **state)
{
        struct vs_mount_identity m = { .point = "/vault/personal" };
        char rel[PATH_MAX];
        assert_int_equal(vs_mount_relative(&m, "/vault/personal/a/b.md", rel, sizeof(rel)), 0);
        assert_string_equal(rel, "a/b.md");
        assert_int_equal(vs_mount_relative(&m, "/vault/personal", rel, sizeof(rel)), -EXDEV);
        assert_int_equal(vs_mount_relative(&m, "/vault/personalx/a", rel, sizeof(rel)), -EXDEV);
        assert_int_equal(vs_mount_relative(&m, "/vault/personal/a/../b", rel, sizeof(rel)),
                         -EXDEV);
        assert_int_equal(vs_mount_relative(&m, "/vault/personal/a//b", rel, sizeof(rel)),
                         -EXDEV);
        struct vs_mount_identity root = { .point = "/" };
        assert_int_equal(vs_mount_relative(&root, "/etc/x", rel, sizeof(rel)), 0);
        assert_string_equal(rel, "etc/x");
}

static void beneath_never_leaves(void **state)
{
        assert_int_equal(mkdirat(scratch_fd, "in", 0755), 0);
        assert_int_equal(symlinkat("/etc", scratch_fd, "in/out"), 0);
        int fd = vs_open_beneath(scratch_fd, "in", O_PATH | O_DIRECTORY);
        assert_true(fd >= 0);
        close(fd);
        fd = vs_open_beneath(scratch_fd, "", O_PATH | O_DIRECTORY); /* the root itself */
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(vs_open_beneath(scratch_fd, "in/out", O_PATH | O_DIRECTORY), -ELOOP);
        assert_int_equal(vs_open_beneath(scratch_fd, "in/../..", O_PATH | O_DIRECTORY), -EXDEV);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(identifies_the_mount_of_a_directory),
                cmocka_unit_test(opens_only_the_same_mount),
                cmocka_unit_test(one_table_for_several_lookups),
                cmocka_unit_test(relative_only_strictly_below),
                cmocka_unit_test(beneath_never_leaves),
        };
        return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}

/* SPDX-License-Identifier: MIT */
/*
 * lib/journal/location.c: where a session keeps its records.  The location from the
 * environment in its order; the directory opened only when it is ours alone (a real
 * directory, our uid, writable by nobody else), made mode 0700 with every missing level for
 * the XDG default and at most two missing ancestors for a VAULTSHIM_JOURNAL that is set;
 * the place resolved as far as it exists; a journal inside the vault private only below
 * VAULTSHIM_PERSONAL; an empty one removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#include "journal/journal.h"

/* <top>/a and <top>/b: two folders of one scratch directory. */
static char top[256];

static const char *at(const char *rel)
{
        return vs_path_in(top, rel);
}

static int setup(void **state)
{
        assert_int_equal(vs_scratch_create(top, sizeof(top), "journal-location"), 0);
        assert_int_equal(mkdir(at("a"), 0755), 0);
        assert_int_equal(mkdir(at("b"), 0755), 0);
        unsetenv("VAULTSHIM_JOURNAL");
        unsetenv("XDG_STATE_HOME");
        unsetenv("VAULTSHIM_PERSONAL");
        setenv("HOME", at("home"), 1);
        return 0;
}

static int teardown(void **state)
{
        vs_scratch_remove(top);
        return 0;
}

static mode_t mode_of(const char *path)
{
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        return st.st_mode;
}

static void assert_location(const char *want)
{
        char where[PATH_MAX];
        assert_int_equal(vs_journal_location(where, sizeof(where)), 0);
        assert_string_equal(where, want);
}

static void test_location_from_the_environment_in_order(void **state)
{
        char where[PATH_MAX];
        setenv("VAULTSHIM_JOURNAL", "/x/y/", 1);
        setenv("XDG_STATE_HOME", "/state", 1);
        assert_location("/x/y"); /* trailing slashes dropped */
        setenv("VAULTSHIM_JOURNAL", "", 1);
        assert_location("/state/vaultshim/journal");
        unsetenv("XDG_STATE_HOME");
        assert_location(at("home/.local/state/vaultshim/journal"));
        setenv("VAULTSHIM_JOURNAL", "/", 1);
        assert_location("/");
        unsetenv("VAULTSHIM_JOURNAL");
        unsetenv("HOME");
        assert_int_equal(vs_journal_location(where, sizeof(where)), -ENOENT);
}

/* A relative journal would move with the working directory; a long one is not cut. */
static void test_relative_or_too_long_is_refused(void **state)
{
        char where[PATH_MAX], small[8];
        setenv("VAULTSHIM_JOURNAL", "relative/dir", 1);
        assert_int_equal(vs_journal_location(where, sizeof(where)), -EINVAL);
        unsetenv("VAULTSHIM_JOURNAL");
        setenv("XDG_STATE_HOME", "state", 1);
        assert_int_equal(vs_journal_location(where, sizeof(where)), -EINVAL);
        setenv("XDG_STATE_HOME", "/state", 1);
        assert_int_equal(vs_journal_location(small, sizeof(small)), -ENAMETOOLONG);
}

static void test_private_directory_only(void **state)
{
        bool created;
        const char *journal = at("a/journal");
        int fd = vs_journal_dir_open(journal, false, &created);
        assert_int_equal(fd, -ENOENT);
        fd = vs_journal_dir_open(journal, true, &created);
        assert_true(fd >= 0 && created);
        close(fd);
        assert_int_equal(mode_of(journal) & 07777, 0700);
        fd = vs_journal_dir_open(journal, true, &created);
        assert_true(fd >= 0 && !created);
        close(fd);
        chmod(journal, 0720); /* its group could forge records here now */
        assert_int_equal(vs_journal_dir_open(journal, true, &created), -EPERM);
        chmod(journal, 0777);
        assert_int_equal(vs_journal_dir_open(journal, true, &created), -EPERM);
        chmod(journal, 0755); /* readable by others: their business, not a forgery */
        fd = vs_journal_dir_open(journal, true, &created);
        assert_true(fd >= 0);
        close(fd);
        chmod(journal, 0700);
        assert_int_equal(symlink(journal, at("link")), 0);
        assert_true(vs_journal_dir_open(at("link"), true, &created) < 0);
        int file = open(at("a/file"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(file >= 0);
        close(file);
        assert_true(vs_journal_dir_open(at("a/file"), true, &created) < 0);
}

/* Another user's directory, however private, is not ours. */
static void test_another_users_directory_is_refused(void **state)
{
        if (geteuid() != 0)
                skip(); /* chown needs root; CI runs as root */
        bool created;
        const char *journal = at("a/theirs");
        assert_int_equal(mkdir(journal, 0700), 0);
        assert_int_equal(chown(journal, 1000, 1000), 0);
        assert_int_equal(vs_journal_dir_open(journal, true, &created), -EPERM);
}

/* A VAULTSHIM_JOURNAL that is set belongs to the image: the directory and at most two
 * missing ancestors are made. */
static void test_a_set_journal_gets_at_most_two_missing_ancestors(void **state)
{
        bool created;
        setenv("VAULTSHIM_JOURNAL", at("a/one/two/journal"), 1);
        int fd = vs_journal_dir_open(at("a/one/two/journal"), true, &created);
        assert_true(fd >= 0 && created);
        close(fd);
        assert_int_equal(mode_of(at("a/one")) & 07777, 0700);
        assert_int_equal(mode_of(at("a/one/two")) & 07777, 0700);
        setenv("VAULTSHIM_JOURNAL", at("b/one/two/three/journal"), 1);
        assert_int_equal(vs_journal_dir_open(at("b/one/two/three/journal"), true, &created),
                         -ENOENT);
        assert_false(created);
        struct stat st;
        assert_int_equal(lstat(at("b/one"), &st), -1); /* nothing half made */
}

/* The default location gets every missing level, as the XDG Base Directory spec asks. */
static void test_the_default_journal_gets_every_missing_level(void **state)
{
        bool created;
        char where[PATH_MAX];
        assert_int_equal(vs_journal_location(where, sizeof(where)), 0);
        assert_string_equal(where, at("home/.local/state/vaultshim/journal"));
        int fd = vs_journal_dir_open(where, true, &created);
        assert_true(fd >= 0 && created);
        close(fd);
        static const char *const levels[] = {
                "home", "home/.local", "home/.local/state", "home/.local/state/vaultshim",
                "home/.local/state/vaultshim/journal",
        };
        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
                assert_int_equal(mode_of(at(levels[i])) & 07777, 0700);
}

static void test_resolved_as_far_as_it_exists(void **state)
{
        char real[PATH_MAX], resolved[PATH_MAX], want[2 * PATH_MAX];
        assert_non_null(realpath(at("a"), real));
        assert_int_equal(symlink(at("a"), at("to-a")), 0);
        assert_int_equal(vs_journal_resolve(at("to-a/not/yet/journal"), resolved,
                                            sizeof(resolved)), 0);
        snprintf(want, sizeof(want), "%s/not/yet/journal", real);
        assert_string_equal(resolved, want);
        assert_int_equal(vs_journal_resolve(at("a"), resolved, sizeof(resolved)), 0);
        assert_string_equal(resolved, real);
        assert_int_equal(vs_journal_resolve("/", resolved, sizeof(resolved)), 0);
        assert_string_equal(resolved, "/");
        assert_int_equal(vs_journal_resolve("relative", resolved, sizeof(resolved)), -EINVAL);
        assert_int_equal(vs_journal_resolve(at("a/x"), resolved, 4), -ENAMETOOLONG);
}

/* Where a journal may be: anywhere outside the vault; in it, only below VAULTSHIM_PERSONAL
 * on that folder's mount.  Resolved as far as it exists (it is made by the first move). */
static void test_journal_place(void **state)
{
        char real[PATH_MAX], resolved[PATH_MAX], want[2 * PATH_MAX];
        assert_non_null(realpath(at("a"), real));
        const char *why = NULL;
        snprintf(want, sizeof(want), "%s/not/yet/journal", real);
        assert_int_equal(vs_journal_check_place(want, false, &why), 0); /* not in the vault */
        assert_int_equal(vs_journal_check_place(want, true, &why), -EPERM);
        assert_string_equal(why, VS_JOURNAL_PERSONAL_UNKNOWN);
        setenv("VAULTSHIM_PERSONAL", "relative", 1);
        assert_int_equal(vs_journal_check_place(want, true, &why), -EPERM);
        assert_string_equal(why, VS_JOURNAL_PERSONAL_UNKNOWN);
        setenv("VAULTSHIM_PERSONAL", at("a"), 1);
        why = NULL;
        assert_int_equal(vs_journal_check_place(want, true, &why), 0);
        assert_null(why);
        assert_int_equal(vs_journal_check_place(real, true, &why), -EPERM); /* the folder */
        assert_int_equal(vs_journal_resolve(at("b/journal"), resolved, sizeof(resolved)), 0);
        assert_int_equal(vs_journal_check_place(resolved, true, &why), -EPERM);
        assert_string_equal(why, VS_JOURNAL_OUTSIDE_PERSONAL);
        /* A sibling whose name starts like the folder's is not inside it. */
        snprintf(want, sizeof(want), "%sx/journal", real);
        assert_int_equal(vs_journal_check_place(want, true, &why), -EPERM);
        assert_string_equal(why, VS_JOURNAL_OUTSIDE_PERSONAL);
}

static void test_an_empty_journal_is_removed_a_full_one_kept(void **state)
{
        struct stat st;
        assert_int_equal(mkdir(at("a/journal"), 0700), 0);
        int fd = open(at("a/journal/record"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        vs_journal_dir_remove_if_empty(at("a/journal"));
        assert_int_equal(lstat(at("a/journal/record"), &st), 0);
        assert_int_equal(unlink(at("a/journal/record")), 0);
        vs_journal_dir_remove_if_empty(at("a/journal"));
        assert_int_equal(lstat(at("a/journal"), &st), -1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_location_from_the_environment_in_order),
                T(test_relative_or_too_long_is_refused),
                T(test_private_directory_only),
                T(test_another_users_directory_is_refused),
                T(test_a_set_journal_gets_at_most_two_missing_ancestors),
                T(test_the_default_journal_gets_every_missing_level),
                T(test_resolved_as_far_as_it_exists),
                T(test_journal_place),
                T(test_an_empty_journal_is_removed_a_full_one_kept),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * lib/base/install-back.c: an object set aside goes back at its name, never over a name
 * taken meanwhile, by each of the ways a filesystem without rename flags leaves: the flag,
 * link(2), a directory's plain rename, a file's rename once the name is free.  Each
 * installs a missing name and answers -EEXIST for an existing one, the object then still
 * at its first name and the other untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"

#include "base/install-back.h"
#include "base/stat.h"

typedef int (*install_fn)(int dirfd, const char *from, const char *target);

static void write_text(const char *rel, const char *text)
{
        int fd = openat(scratch_fd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

static void assert_text(const char *rel, const char *text)
{
        char buf[64] = { 0 };
        int fd = openat(scratch_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_true(read(fd, buf, sizeof(buf) - 1) >= 0);
        close(fd);
        assert_string_equal(buf, text);
}

static void assert_same(const struct statx *a, const char *rel)
{
        struct statx b;
        assert_int_equal(vs_statx(scratch_fd, rel, &b), 0);
        assert_int_equal(a->stx_ino, b.stx_ino);
        assert_int_equal(a->stx_dev_major, b.stx_dev_major);
        assert_int_equal(a->stx_dev_minor, b.stx_dev_minor);
}

/* A file set aside as "<tag>.aside": refused over "<tag>.taken", put back at "<tag>". */
static void check_file(const char *tag, install_fn fn, bool back)
{
        char aside[64], taken[64], name[64];
        snprintf(aside, sizeof(aside), "%s.aside", tag);
        snprintf(taken, sizeof(taken), "%s.taken", tag);
        snprintf(name, sizeof(name), "%s", tag);
        write_text(aside, "source");
        write_text(taken, "saved meanwhile");
        struct statx before;
        assert_int_equal(vs_statx(scratch_fd, aside, &before), 0);

        int r = back ? vs_install_back(scratch_fd, aside, taken, false)
                     : fn(scratch_fd, aside, taken);
        assert_int_equal(r, -EEXIST);
        assert_text(taken, "saved meanwhile");
        assert_same(&before, aside);

        r = back ? vs_install_back(scratch_fd, aside, name, false) : fn(scratch_fd, aside, name);
        assert_int_equal(r, 0);
        assert_same(&before, name);
        assert_text(name, "source");
        assert_false(scratch_exists(aside));
}

static void file_back_with_the_flag(void **state)
{
        check_file("flag", NULL, true);
}

static void file_back_by_link(void **state)
{
        check_file("link", vs_install_by_link, false);
}

static void file_back_once_free(void **state)
{
        check_file("free", vs_install_if_free, false);
}

/* A folder: over a note or a non-empty folder -EEXIST, never a replacement. */
static void check_dir(const char *tag, bool back)
{
        char aside[64], note[64], full[64], inside[96], name[64];
        snprintf(aside, sizeof(aside), "%s.aside", tag);
        snprintf(note, sizeof(note), "%s.note", tag);
        snprintf(full, sizeof(full), "%s.full", tag);
        snprintf(inside, sizeof(inside), "%s/kept", full);
        snprintf(name, sizeof(name), "%s", tag);
        scratch_make(aside, true);
        write_text(note, "saved meanwhile");
        scratch_make(full, true);
        write_text(inside, "saved meanwhile");
        struct statx before;
        assert_int_equal(vs_statx(scratch_fd, aside, &before), 0);

        const char *taken[] = { note, full };
        for (size_t i = 0; i < 2; i++) {
                int r = back ? vs_install_back(scratch_fd, aside, taken[i], true)
                             : vs_install_dir_noflags(scratch_fd, aside, taken[i]);
                assert_int_equal(r, -EEXIST);
                assert_same(&before, aside);
        }
        assert_text(note, "saved meanwhile");
        assert_text(inside, "saved meanwhile");

        int r = back ? vs_install_back(scratch_fd, aside, name, true)
                     : vs_install_dir_noflags(scratch_fd, aside, name);
        assert_int_equal(r, 0);
        assert_same(&before, name);
        assert_false(scratch_exists(aside));
}

static void dir_back_with_the_flag(void **state)
{
        check_dir("dirflag", true);
}

static void dir_back_without_flags(void **state)
{
        check_dir("dirplain", false);
}

/* Nothing to put back: the caller's error, not a name created. */
static void missing_aside_is_enoent(void **state)
{
        assert_int_equal(vs_install_back(scratch_fd, "gone.aside", "gone", false), -ENOENT);
        assert_int_equal(vs_install_by_link(scratch_fd, "gone.aside", "gone"), -ENOENT);
        assert_int_equal(vs_install_if_free(scratch_fd, "gone.aside", "gone"), -ENOENT);
        assert_false(scratch_exists("gone"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(file_back_with_the_flag),
                cmocka_unit_test(file_back_by_link),
                cmocka_unit_test(file_back_once_free),
                cmocka_unit_test(dir_back_with_the_flag),
                cmocka_unit_test(dir_back_without_flags),
                cmocka_unit_test(missing_aside_is_enoent),
        };
        return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}

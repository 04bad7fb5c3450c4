/* SPDX-License-Identifier: MIT */
/*
 * lib/base/canonical.c: a directory's canonical path, found in one walk where no symlink is
 * on the way, must be what realpath(3) says, case by case: symlinks, "." and "..", ".."
 * out of a mount point and at "/", trailing and doubled slashes, a relative path, a path
 * through a directory descriptor, not a directory, a missing path, a directory removed
 * after it was opened, a process without /proc and one without openat2(2).
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
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#include "base/canonical.h"
#include "scratch.h"

static void at(char *buf, const char *rel)
{
        snprintf(buf, PATH_MAX, "%s/%s", scratch_top, rel);
}

static int setup(void **state)
{
        if (scratch_setup(state) < 0)
                return -1;
        scratch_make("dir", true);
        scratch_make("dir/sub", true);
        scratch_make("dir/file", false);
        scratch_make("looks (deleted)", true);
        char p[PATH_MAX], t[PATH_MAX];
        at(p, "to-sub");
        at(t, "dir/sub");
        if (symlink(t, p) < 0 || symlink("dir/../dir/sub", strcat(strcpy(t, scratch_top),
                                                                  "/relative-link")) < 0)
                return -1;
        return 0;
}

/* vs_canonical_path(path) says what realpath(3) says: the same name, or the same error with
 * out untouched; errno as it was either way. */
static void same_as_realpath(const char *path)
{
        char want[PATH_MAX], got[PATH_MAX];
        errno = 0;
        char *r = realpath(path, want);
        int want_err = r ? 0 : -errno;
        strcpy(got, "untouched");
        errno = EILSEQ;
        int res = vs_canonical_path(path, got);
        assert_int_equal(errno, EILSEQ);
        assert_int_equal(res, want_err);
        if (r)
                assert_string_equal(got, want);
        else
                assert_string_equal(got, "untouched");
}

static void same_as_realpath_at(const char *rel)
{
        char p[PATH_MAX];
        at(p, rel);
        same_as_realpath(p);
}

static void directories_by_every_spelling(void **state)
{
        (void)state;
        same_as_realpath(scratch_top);
        same_as_realpath("/");
        same_as_realpath("//");
        same_as_realpath("/..");
        same_as_realpath("/../tmp/./");
        same_as_realpath("/proc/..");
        same_as_realpath("/proc/self/..");
        same_as_realpath_at("dir");
        same_as_realpath_at("dir/sub/");
        same_as_realpath_at("dir//sub///");
        same_as_realpath_at("dir/./sub/..");
        same_as_realpath_at("dir/sub/../../dir/sub");
        same_as_realpath_at("to-sub");
        same_as_realpath_at("to-sub/");
        same_as_realpath_at("to-sub/..");
        same_as_realpath_at("relative-link");
        same_as_realpath_at("looks (deleted)");
        char got[PATH_MAX], want[PATH_MAX];
        at(want, "dir/sub");
        assert_int_equal(vs_canonical_path(strcat(strcpy(got, want), "/../sub"), got), 0);
        assert_string_equal(got, want);
}

static void not_a_directory_or_missing(void **state)
{
        (void)state;
        same_as_realpath_at("dir/file"); /* realpath(3) takes a file too */
        same_as_realpath_at("dir/file/");
        same_as_realpath_at("dir/missing");
        same_as_realpath_at("missing/dir");
        same_as_realpath_at("dir/file/sub");
        same_as_realpath("");
        char got[PATH_MAX] = "untouched";
        char p[PATH_MAX];
        at(p, "dir/missing");
        assert_int_equal(vs_canonical_path(p, got), -ENOENT);
        assert_string_equal(got, "untouched");
}

static void relative_and_through_a_descriptor(void **state)
{
        (void)state;
        char cwd[PATH_MAX];
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir(scratch_top), 0);
        same_as_realpath("dir/sub");
        same_as_realpath(".");
        same_as_realpath("to-sub/..");
        assert_int_equal(chdir(cwd), 0);

        char p[PATH_MAX];
        at(p, "dir");
        int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        snprintf(p, sizeof(p), "/proc/self/fd/%d/sub", fd);
        same_as_realpath(p);
        snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
        same_as_realpath(p);
        close(fd);
}

/* Removed after it was opened: the kernel's name ends in " (deleted)", realpath(3) fails. */
static void removed_directory(void **state)
{
        (void)state;
        scratch_make("gone", true);
        char p[PATH_MAX];
        at(p, "gone");
        int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(rmdir(p), 0);
        snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
        same_as_realpath(p);
        snprintf(p, sizeof(p), "/proc/self/fd/%d/.", fd);
        same_as_realpath(p);
        close(fd);
}

static int without_proc(void)
{
        if (vs_private_mounts() < 0)
                return 77;
        if (umount2("/proc", MNT_DETACH) < 0 && errno != EINVAL)
                return 77;
        if (access("/proc/self/fd", F_OK) == 0)
                return 77; /* something else still serves /proc */
        char p[PATH_MAX], want[PATH_MAX], got[PATH_MAX];
        at(p, "to-sub");
        if (!realpath(p, want) || vs_canonical_path(p, got) != 0 || strcmp(got, want) != 0)
                return 1;
        at(p, "dir/missing");
        return vs_canonical_path(p, got) == -ENOENT ? 0 : 2;
}

/* A kernel (or a seccomp policy) without openat2(2): every call of it fails with ENOSYS. */
static int without_openat2(void)
{
        struct sock_filter code[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                return 77;
        const char *rels[] = { "dir", "dir/sub/..", "to-sub", "dir/file", "dir/missing" };
        for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
                char p[PATH_MAX], want[PATH_MAX], got[PATH_MAX];
                at(p, rels[i]);
                int want_r = realpath(p, want) ? 0 : -errno;
                if (vs_canonical_path(p, got) != want_r || (want_r == 0 && strcmp(got, want)))
                        return 1;
        }
        return 0;
}

static void without_openat2_realpath_answers(void **state)
{
        (void)state;
        scratch_in_child(without_openat2);
}

static void without_proc_realpath_answers(void **state)
{
        (void)state;
        if (geteuid() != 0)
                skip(); /* a mount namespace needs root; CI runs as root */
        scratch_in_child(without_proc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(directories_by_every_spelling),
                cmocka_unit_test(not_a_directory_or_missing),
                cmocka_unit_test(relative_and_through_a_descriptor),
                cmocka_unit_test(removed_directory),
                cmocka_unit_test(without_proc_realpath_answers),
                cmocka_unit_test(without_openat2_realpath_answers),
        };
        return cmocka_run_group_tests(tests, setup, scratch_teardown);
}

/* SPDX-License-Identifier: MIT */
/* lib/base/stat.c: a symlink is itself, "" is the descriptor, the mount id is there. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"

#include "base/stat.h"

static void a_symlink_is_itself(void **state)
{
        int fd = scratch_fd;
        assert_int_equal(symlinkat(".", fd, "link"), 0);
        struct statx st, dir;
        assert_int_equal(vs_statx(fd, "link", &st), 0);
        assert_true(S_ISLNK(st.stx_mode));
        assert_int_equal(vs_statx(fd, "", &dir), 0);
        assert_true(S_ISDIR(dir.stx_mode));
        assert_true(dir.stx_mask & STATX_MNT_ID);
        assert_int_equal(st.stx_mnt_id, dir.stx_mnt_id);
        assert_int_equal(vs_statx(fd, "missing", &st), -ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_symlink_is_itself),
        };
        return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}

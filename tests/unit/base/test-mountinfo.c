/* SPDX-License-Identifier: MIT */
/*
 * lib/base/mountinfo.c: the one mountinfo parser.  Fields as the kernel writes them, the
 * optional fields skipped, escapes undone only where asked, and the two ways a line can be
 * wrong told apart; this process's own mount found by its statx mount id.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "base/mountinfo.h"

static const char SAMPLE[] =
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
        "617 22 0:50 /srv/my\\040notes /vault/per\\134sonal ro,nosuid master:3 shared:9 - "
        "fuse.rclone remote: rw,user_id=1000\n"
        "618 22 259:3 / /data rw - xfs /dev/nvme0n1p3 ro,attr2\n";

static void span_is(struct vs_span f, const char *want)
{
        assert_true(vs_span_equal(f, want));
}

static void parses_every_field(void **state)
{
        struct vs_mountinfo_entry e;
        assert_int_equal(vs_mountinfo_find(SAMPLE, strlen(SAMPLE), 617, &e), 0);
        assert_int_equal(e.id, 617);
        assert_int_equal(e.parent, 22);
        assert_int_equal(e.major, 0);
        assert_int_equal(e.minor, 50);
        span_is(e.root, "/srv/my\\040notes");
        span_is(e.point, "/vault/per\\134sonal");
        span_is(e.options, "ro,nosuid");
        span_is(e.fstype, "fuse.rclone");
        span_is(e.source, "remote:");
        span_is(e.super, "rw,user_id=1000");
        char buf[PATH_MAX];
        assert_int_equal(vs_mountinfo_unescape(e.root, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/srv/my notes");
        assert_int_equal(vs_mountinfo_unescape(e.point, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/vault/per\\sonal");
        assert_true(vs_mountinfo_has_option(e.options, "ro"));
        assert_true(vs_mountinfo_has_option(e.options, "nosuid"));
        assert_false(vs_mountinfo_has_option(e.options, "no"));
        assert_false(vs_mountinfo_has_option(e.super, "ro"));

        assert_int_equal(vs_mountinfo_find(SAMPLE, strlen(SAMPLE), 618, &e), 0);
        assert_int_equal(e.major, 259);
        assert_true(vs_mountinfo_has_option(e.super, "ro"));
        assert_int_equal(vs_mountinfo_find(SAMPLE, strlen(SAMPLE), 61, &e), -ENOENT);
        assert_int_equal(vs_mountinfo_find(SAMPLE, strlen(SAMPLE), 6170, &e), -ENOENT);
}

static void tells_bad_lines_apart(void **state)
{
        struct vs_mountinfo_entry e = { .id = 99 };
        static const char *const truncated[] = {
                "600 500 0:50 / /",
                "1 2 3:4 / /b rw shared:1",
                "1 2 3:4 / /b rw -",
                "1 2 3:4 / /b rw - ext4 /dev/x",
        };
        for (size_t i = 0; i < sizeof(truncated) / sizeof(truncated[0]); i++)
                assert_int_equal(vs_mountinfo_parse_line(truncated[i], strlen(truncated[i]), &e),
                                 -ENODATA);
        static const char *const numbers[] = {
                "x 2 3:4 / /a rw - ext4 /dev/x rw",
                "1 2 3-4 / /a rw - ext4 /dev/x rw",
                "1 2 3:4294967296 / /a rw - ext4 /dev/x rw",
                "1 -2 3:4 / /a rw - ext4 /dev/x rw",
        };
        for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
                assert_int_equal(vs_mountinfo_parse_line(numbers[i], strlen(numbers[i]), &e),
                                 -EINVAL);
        assert_int_equal(e.id, 99); /* untouched on failure */
}

static void unescape_limits(void **state)
{
        char buf[8];
        struct vs_span bad = { "/a\\09", 5 }, cut = { "/a\\04", 5 }, long_one = { "/abcdefgh", 9 };
        assert_int_equal(vs_mountinfo_unescape(bad, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vs_mountinfo_unescape(cut, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vs_mountinfo_unescape(long_one, buf, sizeof(buf)), -ENAMETOOLONG);
        struct vs_span fits = { "/a\\011b", 7 };
        assert_int_equal(vs_mountinfo_unescape(fits, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/a\tb");
}

/* The mount this test runs in, as statx names it, is in this process's mountinfo. */
static void finds_its_own_mount(void **state)
{
        struct statx stx;
        assert_int_equal(statx(AT_FDCWD, "/", 0, STATX_MNT_ID, &stx), 0);
        if (!(stx.stx_mask & STATX_MNT_ID))
                skip();
        char *text = NULL;
        size_t len = 0;
        assert_int_equal(vs_mountinfo_read(&text, &len), 0);
        struct vs_mountinfo_entry e;
        assert_int_equal(vs_mountinfo_find(text, len, stx.stx_mnt_id, &e), 0);
        span_is(e.point, "/");
        free(text);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_every_field),
                cmocka_unit_test(tells_bad_lines_apart),
                cmocka_unit_test(unescape_limits),
                cmocka_unit_test(finds_its_own_mount),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

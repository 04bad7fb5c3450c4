/* SPDX-License-Identifier: MIT */
/* The per-mount capability cache and the NOREPLACE install without renameat2 flags: the
 * fallbacks are forced on a local filesystem by teaching the cache that the flag (and then
 * hard links) are missing, as a FUSE mount would teach it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "move/internal.h"

struct world {
        char *dir;
        int dirfd;
        struct statx st;
};

static int world_setup(void **state)
{
        struct world *w = calloc(1, sizeof(*w));
        w->dirfd = fx_tmpdir_open(&w->dir);
        assert_int_equal(vs_statx(w->dirfd, "", &w->st), 0);
        *state = w;
        return 0;
}

static int world_teardown(void **state)
{
        struct world *w = *state;
        fx_tmpdir_close(w->dir, w->dirfd);
        free(w);
        return 0;
}

static void write_file(int dirfd, const char *name, const char *text)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

static void assert_text(int dirfd, const char *name, const char *text)
{
        char buf[64] = { 0 };
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_true(read(fd, buf, sizeof(buf) - 1) >= 0);
        close(fd);
        assert_string_equal(buf, text);
}

static void test_probe_local(void **state)
{
        struct world *w = *state;
        struct vs_fscaps caps;
        vs_fscaps_get(w->dirfd, &w->st, &caps);
        assert_int_equal(caps.mnt_id, w->st.stx_mnt_id);
        assert_false(caps.fuse);
        assert_int_equal(caps.locks, VS_REACH_LOCAL);
        assert_int_equal(caps.symlink_attrs, VS_CAP_YES);
        assert_int_equal(caps.rename_flags, VS_CAP_UNKNOWN); /* learned, never probed */
        assert_true(vs_fscaps_refusal(&caps, EOPNOTSUPP));
        assert_false(vs_fscaps_refusal(&caps, EIO)); /* EIO is a real error off FUSE */
        caps.fuse = true;
        assert_true(vs_fscaps_refusal(&caps, EIO)); /* rclone's answer to what it lacks */
}

/* The three ways to keep NOREPLACE, each: a missing name is installed, an existing one
 * is never replaced (EEXIST) and the staged copy stays for the caller to remove. */
static void check_noreplace(struct world *w, const char *tag)
{
        char staged[64], target[64];
        snprintf(staged, sizeof(staged), ".stage-%s", tag);
        snprintf(target, sizeof(target), "note-%s", tag);
        write_file(w->dirfd, staged, "copy");
        assert_int_equal(vs_install(w->dirfd, &w->st, staged, target, false, RENAME_NOREPLACE), 0);
        assert_text(w->dirfd, target, "copy");
        assert_int_equal(faccessat(w->dirfd, staged, F_OK, AT_SYMLINK_NOFOLLOW), -1);

        write_file(w->dirfd, staged, "second");
        assert_int_equal(vs_install(w->dirfd, &w->st, staged, target, false, RENAME_NOREPLACE),
                         -EEXIST);
        assert_text(w->dirfd, target, "copy");
        assert_text(w->dirfd, staged, "second");
        assert_int_equal(unlinkat(w->dirfd, staged, 0), 0);

        /* A folder: over a note or a non-empty folder it is EEXIST, never a replacement. */
        char dir[64];
        snprintf(dir, sizeof(dir), ".stage-dir-%s", tag);
        assert_int_equal(mkdirat(w->dirfd, dir, 0700), 0);
        assert_int_equal(vs_install(w->dirfd, &w->st, dir, target, true, RENAME_NOREPLACE),
                         -EEXIST);
        assert_text(w->dirfd, target, "copy");
        assert_int_equal(unlinkat(w->dirfd, dir, AT_REMOVEDIR), 0);
}

static void test_noreplace_fallbacks(void **state)
{
        struct world *w = *state;
        struct vs_fscaps caps;
        vs_fscaps_get(w->dirfd, &w->st, &caps);
        check_noreplace(w, "flag"); /* the kernel's flag */
        vs_fscaps_get(w->dirfd, &w->st, &caps);
        assert_int_equal(caps.rename_flags, VS_CAP_UNKNOWN);

        vs_fscaps_learn(w->st.stx_mnt_id, VS_LEARN_RENAME_FLAGS, false);
        check_noreplace(w, "link"); /* link(2) + unlink */

        vs_fscaps_learn(w->st.stx_mnt_id, VS_LEARN_HARD_LINKS, false);
        check_noreplace(w, "reserve"); /* O_EXCL reservation renamed over */
        vs_fscaps_get(w->dirfd, &w->st, &caps);
        assert_int_equal(caps.rename_flags, VS_CAP_NO);
        assert_int_equal(caps.hard_links, VS_CAP_NO);

        /* Without NOREPLACE an existing note is replaced, as rename(2) does. */
        write_file(w->dirfd, ".stage-plain", "plain");
        assert_int_equal(vs_install(w->dirfd, &w->st, ".stage-plain", "note-flag", false, 0), 0);
        assert_text(w->dirfd, "note-flag", "plain");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_probe_local, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_noreplace_fallbacks, world_setup,
                                                world_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

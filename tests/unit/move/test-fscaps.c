/* SPDX-License-Identifier: MIT */
/* The per-filesystem capability cache and the NOREPLACE install without renameat2 flags:
 * the fallbacks are forced on a local filesystem by teaching the cache that the flag (and
 * then hard links) are missing, as a FUSE mount would teach it.  As root, in a private mount
 * namespace: two bind mounts of one filesystem share one entry, and another filesystem
 * mounted on a reused device number does not inherit what was learned about the first. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

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
        assert_true(caps.dev == makedev(w->st.stx_dev_major, w->st.stx_dev_minor));
        assert_true(caps.fs_type != 0);
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

        vs_fscaps_learn(&caps, VS_LEARN_RENAME_FLAGS, false);
        check_noreplace(w, "link"); /* link(2) + unlink */

        vs_fscaps_learn(&caps, VS_LEARN_HARD_LINKS, false);
        check_noreplace(w, "reserve"); /* O_EXCL reservation renamed over */
        vs_fscaps_get(w->dirfd, &w->st, &caps);
        assert_int_equal(caps.rename_flags, VS_CAP_NO);
        assert_int_equal(caps.hard_links, VS_CAP_NO);

        /* Without NOREPLACE an existing note is replaced, as rename(2) does. */
        write_file(w->dirfd, ".stage-plain", "plain");
        assert_int_equal(vs_install(w->dirfd, &w->st, ".stage-plain", "note-flag", false, 0), 0);
        assert_text(w->dirfd, "note-flag", "plain");
}

/* dir (O_PATH) and its statx; exits 2 when it cannot be had. */
static int open_dir(const char *path, struct statx *st)
{
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || vs_statx(fd, "", st) < 0)
                _exit(2);
        return fd;
}

/* In a child, in a private mount namespace: what one mount of a filesystem learned holds
 * for another mount of it (one entry, probed once), and not for a new filesystem on the
 * same device number.  0, 77 when no mount can be made here, else the failed check. */
static int shares_per_filesystem(void *arg)
{
        const char *dir = arg;
        char a[4096], b[4096], m[4096];
        if (vs_mkdir_in(a, sizeof(a), dir, "a") < 0 || vs_mkdir_in(b, sizeof(b), dir, "b") < 0 ||
            vs_mkdir_in(m, sizeof(m), dir, "m") < 0)
                return 2;
        if (vs_private_mounts() < 0 ||
            mount(a, b, NULL, MS_BIND, NULL) < 0)
                return 77;
        struct statx sa, sb;
        int fa = open_dir(a, &sa), fb = open_dir(b, &sb);
        if (sa.stx_mnt_id == sb.stx_mnt_id)
                return 3; /* the bind mount is not a mount of its own */
        struct vs_fscaps ca, cb;
        vs_fscaps_get(fa, &sa, &ca);
        vs_fscaps_learn(&ca, VS_LEARN_RENAME_FLAGS, false);
        vs_fscaps_get(fb, &sb, &cb);
        if (cb.dev != ca.dev || cb.rename_flags != VS_CAP_NO)
                return 4; /* not one entry for the two mounts */
        vs_fscaps_learn(&cb, VS_LEARN_HARD_LINKS, false);
        vs_fscaps_get(fa, &sa, &ca);
        if (ca.hard_links != VS_CAP_NO)
                return 5;

        /* tmpfs, mounted twice at one place: the kernel reuses the device number, and each
         * instance has an f_fsid of its own. */
        if (mount("none", m, "tmpfs", 0, "size=1m") < 0)
                return 77;
        struct statx s1, s2;
        int f1 = open_dir(m, &s1);
        struct vs_fscaps c1, c2;
        vs_fscaps_get(f1, &s1, &c1);
        if (!c1.in_memory)
                return 6;
        if (c1.fsid == 0)
                return 77; /* a kernel whose tmpfs has no f_fsid (before its UUIDs) */
        vs_fscaps_learn(&c1, VS_LEARN_RENAME_FLAGS, false);
        close(f1);
        if (umount(m) < 0 || mount("none", m, "tmpfs", 0, "size=1m") < 0)
                return 7;
        int f2 = open_dir(m, &s2);
        vs_fscaps_get(f2, &s2, &c2);
        if (!c2.in_memory || c2.rename_flags != VS_CAP_UNKNOWN)
                return 8; /* what the first tmpfs taught was given to the second */
        /* learning about the first one now changes nothing for the second */
        vs_fscaps_learn(&c1, VS_LEARN_HARD_LINKS, false);
        vs_fscaps_get(f2, &s2, &c2);
        if (c2.hard_links != VS_CAP_UNKNOWN)
                return 9;
        close(f2);
        close(fa);
        close(fb);
        return 0;
}

static void test_one_entry_per_filesystem(void **state)
{
        struct world *w = *state;
        if (!fx_is_root())
                skip(); /* mounts need root; CI runs as root */
        int status = fx_run_as(0, shares_per_filesystem, w->dir);
        if (status == 77)
                skip();
        assert_int_equal(status, 0);
        char m[4096];
        snprintf(m, sizeof(m), "%s/m", w->dir);
        assert_int_equal(access(m, F_OK), 0); /* the child's mounts went with it */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_probe_local, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_noreplace_fallbacks, world_setup,
                                                world_teardown),
                cmocka_unit_test_setup_teardown(test_one_entry_per_filesystem, world_setup,
                                                world_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

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
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#include "scratch.h"

#include "base/mount.h"
#include "base/mountinfo.h"

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

/* One read of the mount table serves several lookups (where statmount(2) is missing), each
 * as a fresh read would answer, and the point opened is the mount's root, the one
 * vs_mount_open_verified() gives. */
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
}

/* What /proc/self/mountinfo says of the mount of fd, the way identities keep it (root and
 * point unescaped, the type as written): the oracle for statmount's answer. */
static int mountinfo_view(int fd, struct vs_mount_identity *m)
{
        struct statx stx;
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
                return -1;
        char *text = NULL;
        size_t len = 0;
        struct vs_mountinfo_entry e;
        int r = vs_mountinfo_read(&text, &len);
        if (r == 0)
                r = vs_mountinfo_find(text, len, stx.stx_mnt_id, &e);
        if (r == 0)
                r = vs_mountinfo_unescape(e.root, m->root, sizeof(m->root));
        if (r == 0)
                r = vs_mountinfo_unescape(e.point, m->point, sizeof(m->point));
        if (r == 0 && e.fstype.len < sizeof(m->fstype)) {
                memcpy(m->fstype, e.fstype.s, e.fstype.len);
                m->fstype[e.fstype.len] = '\0';
                m->dev_major = e.major;
                m->dev_minor = e.minor;
        } else if (r == 0) {
                r = -1;
        }
        free(text);
        return r;
}

/* The identity of path's mount is mountinfo's, whichever way it was found: 0, or a code. */
static int same_as_mountinfo(const char *path)
{
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct vs_mount_identity got, want;
        if (fd < 0 || mountinfo_view(fd, &want) < 0)
                return 10;
        if (vs_mount_identify(fd, &got) < 0)
                return 11;
        close(fd);
        if (strcmp(got.point, want.point) != 0)
                return 12;
        if (strcmp(got.root, want.root) != 0)
                return 13;
        if (strcmp(got.fstype, want.fstype) != 0)
                return 14;
        if (got.dev_major != want.dev_major || got.dev_minor != want.dev_minor)
                return 15;
        int v = vs_mount_open_verified(&got);
        if (v < 0)
                return 16;
        close(v);
        return 0;
}

static void identity_is_what_mountinfo_shows(void **state)
{
        assert_int_equal(same_as_mountinfo(scratch_top), 0);
        assert_int_equal(same_as_mountinfo("/"), 0);
        assert_int_equal(same_as_mountinfo("/proc"), 0);
}

/* In a private mount namespace: a bind mount of a subfolder whose names need mountinfo's
 * escapes (its root is not "/"), and a tmpfs, each at a point with a space in it. */
static int odd_names_in_a_namespace(void)
{
        char src[512], point[512], tmp[512];
        if (vs_mkdir_in(src, sizeof(src), scratch_top, "a b\\c\tx") < 0 ||
            vs_mkdir_in(point, sizeof(point), scratch_top, "m p") < 0 ||
            vs_mkdir_in(tmp, sizeof(tmp), scratch_top, "t\\mp") < 0)
                return 2;
        if (vs_private_mounts() < 0 ||
            mount(src, point, NULL, MS_BIND, NULL) < 0 ||
            mount("none", tmp, "tmpfs", 0, "size=1m") < 0)
                return 77;
        int r = same_as_mountinfo(point);
        if (r == 0)
                r = same_as_mountinfo(tmp);
        return r;
}

/* fn() in a child (its namespace and seccomp filter go with it): 0 passes, 77 skips. */
static void identity_of_odd_names_is_what_mountinfo_shows(void **state)
{
        if (geteuid() != 0)
                skip(); /* mounts need root; CI runs as root */
        scratch_in_child(odd_names_in_a_namespace);
}

/* A kernel without statmount(2) (before 6.8): every call of it fails with ENOSYS, by a
 * seccomp filter on this process.  0, or -1 when no filter can be set. */
static int without_statmount(void)
{
        struct sock_filter code[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 457, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                return -1;
        return 0;
}

static int from_mountinfo_alone(void)
{
        if (without_statmount() < 0)
                return 77;
        int r = same_as_mountinfo(scratch_top);
        if (r == 0)
                r = same_as_mountinfo("/");
        struct vs_mount_table table = { 0 };
        struct vs_mount_identity a, b;
        int fa = -1, fb = -1;
        if (r == 0 && (vs_mount_identify_open(&table, scratch_fd, &a, &fa) < 0 || !table.text))
                r = 20; /* the table was read on its first use */
        char *kept = table.text;
        if (r == 0 && (vs_mount_identify_open(&table, scratch_fd, &b, &fb) < 0 ||
                       table.text != kept || !vs_mount_same(&a, &b)))
                r = 21; /* and kept for the next */
        vs_mount_table_free(&table);
        if (fa >= 0)
                close(fa);
        if (fb >= 0)
                close(fb);
        return r;
}

static void identity_from_mountinfo_where_statmount_is_missing(void **state)
{
        scratch_in_child(from_mountinfo_alone);
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
                cmocka_unit_test(identity_is_what_mountinfo_shows),
                cmocka_unit_test(identity_of_odd_names_is_what_mountinfo_shows),
                cmocka_unit_test(identity_from_mountinfo_where_statmount_is_missing),
                cmocka_unit_test(relative_only_strictly_below),
                cmocka_unit_test(beneath_never_leaves),
        };
        return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}

/* SPDX-License-Identifier: MIT */
/*
 * lib/journal/identity.c: what an object is, and what proves that an object found later is
 * the one a record names.  On real files of the scratch filesystem: the identity of a name
 * (never following a symbolic link) and of a descriptor agree; a rename keeps the proof and
 * moves only the ctime; a write keeps the object but not its content; an object made anew
 * is never proven to be the old one.  By hand: every field the proof compares (inode,
 * type, handle type, length and bytes, birth time), and no handle proving nothing.  Where
 * name_to_handle_at is refused (Docker's seccomp profile; this program's own
 * name_to_handle_at stands in for the kernel's refusal), the generation comes from
 * FS_IOC_GETVERSION where the filesystem answers it, and such an identity is never taken
 * for one with a kernel handle.
 */
#include <dlfcn.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#include "journal/journal.h"

static char top[256];
static bool handles_refused;

/* The journal library is linked into this program, so its calls come here first. */
__attribute__((visibility("default"))) int name_to_handle_at(int dirfd, const char *path,
                                                             struct file_handle *handle,
                                                             int *mount_id, int flags)
{
        static int (*real)(int, const char *, struct file_handle *, int *, int);
        if (handles_refused) {
                errno = EPERM;
                return -1;
        }
        if (!real) {
                void *sym = dlsym(RTLD_NEXT, "name_to_handle_at");
                memcpy(&real, &sym, sizeof(sym));
        }
        return real(dirfd, path, handle, mount_id, flags);
}

static const char *at(const char *rel)
{
        return vs_path_in(top, rel);
}

static void put(const char *rel, const char *text)
{
        int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

static struct vs_identity identity_of(const char *rel)
{
        struct vs_identity id;
        memset(&id, 0x5a, sizeof(id));
        assert_int_equal(vs_identity_at(AT_FDCWD, at(rel), &id), 0);
        return id;
}

static int setup(void **state)
{
        assert_int_equal(vs_scratch_create(top, sizeof(top), "journal-identity"), 0);
        handles_refused = false;
        return 0;
}

static int teardown(void **state)
{
        handles_refused = false;
        vs_scratch_remove(top);
        return 0;
}

/* Without handles nothing is provable: the proof tests then say so and stop. */
static void require_proof(const struct vs_identity *id)
{
        if (!vs_identity_has_proof(id))
                skip(); /* a filesystem without file handles (old overlayfs) */
}

static void test_a_name_and_its_descriptor_agree(void **state)
{
        put("note.md", "twelve bytes");
        struct stat st;
        assert_int_equal(lstat(at("note.md"), &st), 0);
        struct vs_identity id = identity_of("note.md");
        assert_true(id.known);
        assert_int_equal(id.ino, st.st_ino);
        assert_int_equal(id.dev, st.st_dev);
        assert_int_equal(id.mode, st.st_mode);
        assert_int_equal(id.size, 12);
        assert_int_equal(id.mtime_sec, st.st_mtim.tv_sec);
        assert_int_equal(id.mtime_nsec, st.st_mtim.tv_nsec);
        assert_int_equal(id.ctime_sec, st.st_ctim.tv_sec);
        assert_int_equal(id.ctime_nsec, st.st_ctim.tv_nsec);
        int fd = open(at("note.md"), O_PATH | O_CLOEXEC);
        assert_true(fd >= 0);
        struct vs_identity by_fd, cached;
        assert_int_equal(vs_identity_of_fd(fd, &by_fd), 0);
        close(fd);
        assert_int_equal(vs_identity_at_cached(AT_FDCWD, at("note.md"), &cached), 0);
        assert_true(vs_identity_unchanged(&id, &by_fd));
        assert_true(vs_identity_unchanged(&id, &cached));
        require_proof(&id);
        assert_true(vs_identity_proven(&id, &by_fd));
        assert_true(vs_identity_proven(&id, &cached));
}

/* The link itself, never what it points to (a rename acts on the link). */
static void test_a_symlink_is_itself(void **state)
{
        put("note.md", "x");
        assert_int_equal(symlink("note.md", at("link")), 0);
        struct vs_identity link = identity_of("link"), note = identity_of("note.md");
        assert_true(S_ISLNK(link.mode));
        assert_false(vs_identity_same_object(&link, &note));
        struct vs_identity missing;
        assert_int_equal(vs_identity_at(AT_FDCWD, at("missing"), &missing), -ENOENT);
        assert_int_equal(vs_identity_at(AT_FDCWD, at("link/x"), &missing), -ENOTDIR);
}

/* A rename keeps the object and its proof and moves only the ctime; a write keeps the
 * object, not its content. */
static void test_rename_and_write(void **state)
{
        put("note.md", "first");
        struct vs_identity before = identity_of("note.md");
        require_proof(&before);
        struct timespec pause = { 0, 20 * 1000 * 1000 }; /* ctime must be able to move */
        nanosleep(&pause, NULL);
        assert_int_equal(rename(at("note.md"), at("moved.md")), 0);
        struct vs_identity moved = identity_of("moved.md");
        assert_true(vs_identity_proven(&before, &moved));
        assert_true(vs_identity_same_content(&before, &moved));
        assert_false(vs_identity_unchanged(&before, &moved));
        put("moved.md", "second, longer");
        struct vs_identity written = identity_of("moved.md");
        assert_true(vs_identity_proven(&before, &written));
        assert_false(vs_identity_same_content(&before, &written));
}

/* Deleted and made anew (even if the filesystem hands out the same number): not it. */
static void test_an_object_made_anew_is_not_proven(void **state)
{
        put("note.md", "first");
        struct vs_identity old = identity_of("note.md");
        require_proof(&old);
        for (int i = 0; i < 8; i++) {
                assert_int_equal(unlink(at("note.md")), 0);
                put("note.md", "first");
                struct vs_identity now = identity_of("note.md");
                assert_false(vs_identity_proven(&old, &now));
        }
}

static struct vs_identity with_handle(void)
{
        struct vs_identity id = {
                .known = true, .ino = 42, .mode = S_IFREG | 0644, .size = 5, .mtime_sec = 7,
                .has_btime = true, .btime_sec = 1765000000, .btime_nsec = 5,
                .handle_type = 1, .handle_len = 8,
        };
        memcpy(id.handle, "\x2a\0\0\0\x11\x22\x33\x44", 8);
        return id;
}

/* Every field the proof compares, one at a time. */
static void test_each_field_of_the_proof(void **state)
{
        const struct vs_identity rec = with_handle();
        struct vs_identity now = rec;
        assert_true(vs_identity_proven(&rec, &now));
        now.ctime_sec++; /* renamed, chmod-ed: still the object */
        now.size++;      /* written: still the object */
        assert_true(vs_identity_proven(&rec, &now));

        now = rec;
        now.ino++;
        assert_false(vs_identity_proven(&rec, &now));
        assert_false(vs_identity_same_object(&rec, &now));
        now = rec;
        now.mode = S_IFDIR | 0644;
        assert_false(vs_identity_proven(&rec, &now));
        assert_false(vs_identity_same_object(&rec, &now));
        now = rec;
        now.handle_type = 2;
        assert_false(vs_identity_proven(&rec, &now));
        now = rec;
        now.handle_len = 7;
        assert_false(vs_identity_proven(&rec, &now));
        now = rec;
        now.handle[7] ^= 0x80; /* another generation */
        assert_false(vs_identity_proven(&rec, &now));
        now = rec;
        now.btime_nsec++;
        assert_false(vs_identity_proven(&rec, &now));
        now = rec;
        now.has_btime = false; /* a filesystem does not stop reporting it */
        assert_false(vs_identity_proven(&rec, &now));
        now = rec;
        now.known = false;
        assert_false(vs_identity_proven(&rec, &now));
        assert_false(vs_identity_same_object(&rec, &now));

        /* Recorded without a birth time: the handle alone proves it. */
        struct vs_identity no_btime = rec;
        no_btime.has_btime = false;
        now = rec;
        assert_true(vs_identity_proven(&no_btime, &now));
}

/* No handle on either side: nothing is proven, whatever else agrees. */
static void test_no_handle_proves_nothing(void **state)
{
        const struct vs_identity rec = with_handle();
        struct vs_identity bare = rec;
        bare.handle_len = 0;
        assert_false(vs_identity_has_proof(&bare));
        assert_true(vs_identity_has_proof(&rec));
        assert_false(vs_identity_proven(&bare, &rec));
        assert_false(vs_identity_proven(&rec, &bare));
        assert_false(vs_identity_proven(&bare, &bare));
        assert_true(vs_identity_same_object(&bare, &rec)); /* a hint, never a proof */

        struct stat st;
        put("note.md", "x");
        assert_int_equal(lstat(at("note.md"), &st), 0);
        struct vs_identity from_stat;
        vs_identity_from_stat(&from_stat, &st);
        assert_true(from_stat.known);
        assert_false(vs_identity_has_proof(&from_stat));
        assert_false(from_stat.has_btime);
        assert_int_equal(from_stat.ino, st.st_ino);
        assert_int_equal(from_stat.size, 1);
}

static void test_birth_time_only_when_the_statx_mask_has_it(void **state)
{
        put("note.md", "x");
        struct statx stx;
        assert_int_equal(statx(AT_FDCWD, at("note.md"), AT_SYMLINK_NOFOLLOW,
                               STATX_BASIC_STATS | STATX_BTIME, &stx), 0);
        struct vs_identity id;
        stx.stx_mask &= ~(unsigned)STATX_BTIME;
        stx.stx_btime.tv_sec = 99;
        vs_identity_from_statx(&id, &stx);
        assert_false(id.has_btime);
        assert_int_equal(id.btime_sec, 0);
        stx.stx_mask |= STATX_BTIME;
        vs_identity_from_statx(&id, &stx);
        assert_true(id.has_btime);
        assert_int_equal(id.btime_sec, 99);
        assert_int_equal(id.handle_len, 0);
        assert_int_equal(id.ino, stx.stx_ino);
}

/* In a container name_to_handle_at is refused: the generation from FS_IOC_GETVERSION. */
static void test_without_handles_the_generation_from_the_filesystem(void **state)
{
        put("note.md", "x");
        assert_int_equal(mkdir(at("dir"), 0755), 0);
        assert_int_equal(symlink("note.md", at("link")), 0);
        struct vs_identity kernel = identity_of("note.md");
        handles_refused = true;
        struct vs_identity file = identity_of("note.md"), dir = identity_of("dir"),
                           link = identity_of("link");
        struct vs_identity again = identity_of("note.md");
        handles_refused = false;
        assert_true(file.known && dir.known && link.known);
        assert_false(vs_identity_has_proof(&link)); /* no descriptor for the ioctl */
        if (!vs_identity_has_proof(&file))
                skip(); /* the filesystem does not answer FS_IOC_GETVERSION (tmpfs) */
        assert_int_equal(file.handle_len, sizeof(uint64_t) + sizeof(uint32_t));
        uint64_t ino;
        memcpy(&ino, file.handle, sizeof(ino));
        assert_int_equal(ino, file.ino);
        assert_true(vs_identity_has_proof(&dir));
        assert_true(vs_identity_proven(&file, &again));
        /* Either kind of proof, never one for the other. */
        if (vs_identity_has_proof(&kernel)) {
                assert_false(vs_identity_proven(&kernel, &file));
                assert_false(vs_identity_proven(&file, &kernel));
        }
        assert_int_equal(unlink(at("note.md")), 0);
        put("note.md", "x");
        handles_refused = true;
        struct vs_identity anew = identity_of("note.md");
        handles_refused = false;
        assert_false(vs_identity_proven(&file, &anew));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_a_name_and_its_descriptor_agree),
                T(test_a_symlink_is_itself),
                T(test_rename_and_write),
                T(test_an_object_made_anew_is_not_proven),
                T(test_each_field_of_the_proof),
                T(test_no_handle_proves_nothing),
                T(test_birth_time_only_when_the_statx_mask_has_it),
                T(test_without_handles_the_generation_from_the_filesystem),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}

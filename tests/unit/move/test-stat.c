/* SPDX-License-Identifier: MIT */
/* What "unchanged" means on storage whose times and inode numbers are unstable, and
 * vs_settle_times(): a time that may be rclone's "now" for a file another program reads is
 * read again until it goes back.  rclone is played on a local filesystem by a capability
 * entry with unstable times and inode numbers, and a thread that sets the file's time back,
 * as rclone does when the reader's descriptor is released. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "move/internal.h"

#define OLD_SEC 1609459200 /* 2021-01-01: the note's own time */
#define OLD_NSEC 123456789

struct world {
        char *dir;
        int dirfd;
        struct vs_fscaps unstable, stable;
};

static int world_setup(void **state)
{
        struct world *w = calloc(1, sizeof(*w));
        w->dirfd = fx_tmpdir_open(&w->dir);
        w->unstable.stable_times = VS_CAP_NO;
        w->unstable.stable_inodes = VS_CAP_NO;
        w->stable.stable_times = VS_CAP_YES;
        w->stable.stable_inodes = VS_CAP_YES;
        int fd = openat(w->dirfd, "note.md", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "note\n", 5), 5);
        close(fd);
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

static void set_old_time(int dirfd)
{
        const struct timespec old[2] = { { OLD_SEC, OLD_NSEC }, { OLD_SEC, OLD_NSEC } };
        assert_int_equal(utimensat(dirfd, "note.md", old, 0), 0);
}

/* The note as a reader left it: its time "now". */
static struct statx reader_now(int dirfd)
{
        struct statx st;
        assert_int_equal(utimensat(dirfd, "note.md", NULL, 0), 0);
        assert_int_equal(vs_statx(dirfd, "note.md", &st), 0);
        return st;
}

struct later {
        int dirfd;
        unsigned ms;
        bool append; /* a writer instead of the release */
};

static void *after_a_while(void *arg)
{
        const struct later *l = arg;
        struct timespec ts = { 0, (long)l->ms * 1000000L };
        nanosleep(&ts, NULL);
        if (l->append) {
                int fd = openat(l->dirfd, "note.md", O_WRONLY | O_APPEND | O_CLOEXEC);
                if (fd >= 0) {
                        (void)!write(fd, "more\n", 5);
                        close(fd);
                }
        }
        const struct timespec old[2] = { { OLD_SEC, OLD_NSEC }, { OLD_SEC, OLD_NSEC } };
        utimensat(l->dirfd, "note.md", old, 0);
        return NULL;
}

static void test_unchanged_as_far_as_the_storage_shows(void **state)
{
        (void)state;
        struct statx before = { .stx_ino = 7, .stx_size = 5,
                                .stx_mtime = { OLD_SEC, OLD_NSEC },
                                .stx_ctime = { OLD_SEC, OLD_NSEC } };
        struct statx touched = before, renumbered = before, grown = before;
        touched.stx_mtime.tv_sec++;
        renumbered.stx_ino = 8; /* rclone: the same file, seen under its new name */
        grown.stx_size++;
        struct vs_fscaps local = { .stable_times = VS_CAP_YES, .stable_inodes = VS_CAP_YES };
        struct vs_fscaps times_only = { .stable_times = VS_CAP_NO, .stable_inodes = VS_CAP_YES };
        struct vs_fscaps rclone = { .stable_times = VS_CAP_NO, .stable_inodes = VS_CAP_NO };

        assert_true(vs_unchanged_on(NULL, &before, &before));
        assert_false(vs_unchanged_on(NULL, &before, &touched));
        assert_false(vs_unchanged_on(&local, &before, &touched));
        assert_false(vs_unchanged_on(&local, &before, &renumbered));
        assert_true(vs_unchanged_on(&times_only, &before, &touched));
        assert_false(vs_unchanged_on(&times_only, &before, &renumbered));
        assert_true(vs_unchanged_on(&rclone, &before, &touched));
        assert_true(vs_unchanged_on(&rclone, &before, &renumbered));
        assert_false(vs_unchanged_on(&rclone, &before, &grown));
}

static void test_stable_storage_is_trusted(void **state)
{
        struct world *w = *state;
        struct statx st = reader_now(w->dirfd), before = st;
        int64_t budget = VS_SETTLE_BUDGET_NS;
        assert_false(vs_settle_times(w->dirfd, "note.md", &w->stable, &st, &budget));
        assert_false(vs_settle_times(w->dirfd, "note.md", NULL, &st, &budget));
        assert_true(budget == VS_SETTLE_BUDGET_NS);
        assert_memory_equal(&st, &before, sizeof(st));
}

static void test_old_time_is_never_a_readers(void **state)
{
        struct world *w = *state;
        set_old_time(w->dirfd);
        struct statx st;
        assert_int_equal(vs_statx(w->dirfd, "note.md", &st), 0);
        int64_t budget = VS_SETTLE_BUDGET_NS;
        assert_false(vs_settle_times(w->dirfd, "note.md", &w->unstable, &st, &budget));
        assert_true(budget == VS_SETTLE_BUDGET_NS);
        assert_int_equal(st.stx_mtime.tv_sec, OLD_SEC);
}

static void test_time_taken_when_it_goes_back(void **state)
{
        struct world *w = *state;
        struct statx st = reader_now(w->dirfd);
        struct later l = { .dirfd = w->dirfd, .ms = 20 };
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, after_a_while, &l), 0);
        int64_t budget = 5 * 1000000000LL; /* far more than the release takes */
        bool settled = vs_settle_times(w->dirfd, "note.md", &w->unstable, &st, &budget);
        pthread_join(t, NULL);
        assert_true(settled);
        assert_true(budget > 0); /* stopped when the time went back */
        assert_int_equal(st.stx_mtime.tv_sec, OLD_SEC);
        assert_int_equal(st.stx_mtime.tv_nsec, OLD_NSEC);
        assert_int_equal(st.stx_atime.tv_sec, OLD_SEC);
        assert_int_equal(st.stx_size, 5);
}

static void test_time_that_stays_is_kept_within_the_budget(void **state)
{
        struct world *w = *state;
        struct statx st = reader_now(w->dirfd), before = st;
        int64_t budget = 30 * 1000000LL;
        assert_false(vs_settle_times(w->dirfd, "note.md", &w->unstable, &st, &budget));
        assert_true(budget <= 0);
        assert_memory_equal(&st, &before, sizeof(st));
        /* The budget is the whole move's: spent, later files are not waited for. */
        assert_false(vs_settle_times(w->dirfd, "note.md", &w->unstable, &st, &budget));
        assert_memory_equal(&st, &before, sizeof(st));
}

static void test_rewritten_file_is_left_to_the_move(void **state)
{
        struct world *w = *state;
        struct statx st = reader_now(w->dirfd), before = st;
        struct later l = { .dirfd = w->dirfd, .ms = 20, .append = true };
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, after_a_while, &l), 0);
        int64_t budget = 5 * 1000000000LL;
        bool settled = vs_settle_times(w->dirfd, "note.md", &w->unstable, &st, &budget);
        pthread_join(t, NULL);
        /* Another size: not the file that was planned, so its time is not taken (the
         * move's own check sees the change and copies again). */
        assert_false(settled);
        assert_memory_equal(&st, &before, sizeof(st));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unchanged_as_far_as_the_storage_shows),
                cmocka_unit_test_setup_teardown(test_stable_storage_is_trusted, world_setup,
                                                world_teardown),
                cmocka_unit_test_setup_teardown(test_old_time_is_never_a_readers, world_setup,
                                                world_teardown),
                cmocka_unit_test_setup_teardown(test_time_taken_when_it_goes_back, world_setup,
                                                world_teardown),
                cmocka_unit_test_setup_teardown(test_time_that_stays_is_kept_within_the_budget,
                                                world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_rewritten_file_is_left_to_the_move,
                                                world_setup, world_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

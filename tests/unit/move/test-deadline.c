/* SPDX-License-Identifier: MIT */
/*
 * One deadline per call (vs_move_opts.started_ms): a move whose source lock someone else
 * holds fails with EBUSY, nothing changed, once VS_MOVE_BOUND_MS have passed since the
 * entry into rename() -- not since the engine began, nor since its last re-plan.  No
 * timing is asserted: a holder that lets go after a while shows whether the engine still
 * waited then.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "fixture.h"
#include "move/internal.h"

struct vault {
        char *root;
        int a, b; /* the two folders */
};

/* Holds the move lock of a/x until `hold_ms` have passed, then lets go. */
struct holder {
        struct vault *v;
        unsigned hold_ms;
        struct vs_journal_lock lock;
        pthread_t thread;
};

static int setup(void **state)
{
        struct vault *v = calloc(1, sizeof(*v));
        v->root = fx_tmpdir();
        fx_build(v->root, (const char *const[]){ "d a", "d b", "f a/x the note", NULL });
        char path[4096];
        snprintf(path, sizeof(path), "%s/a", v->root);
        v->a = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        snprintf(path, sizeof(path), "%s/b", v->root);
        v->b = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(v->a >= 0 && v->b >= 0);
        *state = v;
        return 0;
}

static int teardown(void **state)
{
        struct vault *v = *state;
        close(v->a);
        close(v->b);
        fx_rm_rf(v->root);
        free(v->root);
        free(v);
        return 0;
}

static void *hold(void *arg)
{
        struct holder *h = arg;
        struct timespec ts = { (time_t)(h->hold_ms / 1000), (long)(h->hold_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        vs_journal_unlock_object(&h->lock);
        return NULL;
}

static void start_holder(struct holder *h, struct vault *v, unsigned hold_ms)
{
        struct statx st;
        assert_int_equal(vs_statx(v->a, "x", &st), 0);
        struct vs_identity id;
        vs_identity_from_statx(&id, &st);
        h->v = v;
        h->hold_ms = hold_ms;
        assert_int_equal(vs_journal_lock_object(v->a, "x", &id, 0, &h->lock), 0);
        assert_int_equal(pthread_create(&h->thread, NULL, hold, h), 0);
}

static bool exists(int dirfd, const char *name)
{
        return faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The call entered rename() a whole bound ago: a lock held for one more second is not waited
 * for, and nothing changes. */
static void test_deadline_counts_from_the_entry(void **state)
{
        struct vault *v = *state;
        struct holder h;
        start_holder(&h, v, 1000);
        const struct vs_move_opts opts = { .started_ms = vs_now_ms() - VS_MOVE_BOUND_MS };
        assert_int_equal(vs_move(v->a, "x", v->b, "x", 0, &opts), -EBUSY);
        pthread_join(h.thread, NULL);
        assert_true(exists(v->a, "x"));
        assert_false(exists(v->b, "x"));
}

/* Entered just now: a lock let go within the bound is waited for, and the move happens. */
static void test_lock_released_within_the_bound_is_waited_for(void **state)
{
        struct vault *v = *state;
        struct holder h;
        start_holder(&h, v, 200);
        const struct vs_move_opts opts = { .started_ms = vs_now_ms() };
        assert_int_equal(vs_move(v->a, "x", v->b, "x", 0, &opts), 0);
        pthread_join(h.thread, NULL);
        assert_false(exists(v->a, "x"));
        assert_true(exists(v->b, "x"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_deadline_counts_from_the_entry, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_lock_released_within_the_bound_is_waited_for,
                                                setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

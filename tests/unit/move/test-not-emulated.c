/* SPDX-License-Identifier: MIT */
/*
 * lib/move/not-emulated.c: why a move under the roots is not emulated.  The word noted deep
 * in the checks is taken once, by the thread that noted it; vs_move() hands it to its stats
 * only with the -EXDEV it returns, and a later call never sees an earlier call's word.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "move/internal.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static void test_noted_once_then_forgotten(void **state)
{
        (void)vs_not_emulated_take();
        assert_null(vs_not_emulated_take());
        assert_int_equal(vs_not_emulated(VS_NOT_EMULATED_TOO_DEEP), -EXDEV);
        assert_int_equal(vs_not_emulated(VS_NOT_EMULATED_SPECIAL), -EXDEV); /* the last wins */
        assert_string_equal(vs_not_emulated_take(), VS_NOT_EMULATED_SPECIAL);
        assert_null(vs_not_emulated_take());
}

static void *note_and_take(void *arg)
{
        const char **seen = arg;
        seen[0] = vs_not_emulated_take(); /* nothing of the main thread's */
        (void)vs_not_emulated(VS_NOT_EMULATED_MOUNT_POINT);
        seen[1] = vs_not_emulated_take();
        (void)vs_not_emulated(VS_NOT_EMULATED_FLAGS); /* left behind on this thread */
        return NULL;
}

static void test_each_thread_its_own(void **state)
{
        const char *seen[2] = { "unset", "unset" };
        (void)vs_not_emulated(VS_NOT_EMULATED_NO_JOURNAL);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, note_and_take, seen), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_null(seen[0]);
        assert_string_equal(seen[1], VS_NOT_EMULATED_MOUNT_POINT);
        assert_string_equal(vs_not_emulated_take(), VS_NOT_EMULATED_NO_JOURNAL);
}

/* Through vs_move(): the reason with its EXDEV, and nothing for the next call. */
static void test_vs_move_reports_the_reason_with_its_exdev(void **state)
{
        char *root = fx_tmpdir();
        fx_build(root, (const char *const[]){ "d a", "d b", "f a/note.md note", "f b/x.md x",
                                              NULL });
        char path[4096];
        snprintf(path, sizeof(path), "%s/a", root);
        int a = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        snprintf(path, sizeof(path), "%s/b", root);
        int b = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(a >= 0 && b >= 0);

        struct vs_move_stats stats;
        const struct vs_move_opts opts = { .stats = &stats };
        assert_int_equal(vs_move(a, "note.md", b, "x.md", RENAME_EXCHANGE, &opts), -EXDEV);
        assert_string_equal(stats.not_emulated, VS_NOT_EMULATED_FLAGS);

        /* A socket only its creator's kernel object can be: the kernel's EXDEV stands. */
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/a/sock", root);
        if (s >= 0 && n > 0 && (size_t)n < sizeof(addr.sun_path) &&
            bind(s, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
                assert_int_equal(vs_move(a, "sock", b, "sock", 0, &opts), -EXDEV);
                assert_string_equal(stats.not_emulated, VS_NOT_EMULATED_SPECIAL);
        }
        if (s >= 0)
                close(s);

        /* A word noted before the call is not this call's. */
        (void)vs_not_emulated(VS_NOT_EMULATED_TOO_DEEP);
        assert_int_equal(vs_move(a, "missing.md", b, "y.md", 0, &opts), -ENOENT);
        assert_null(stats.not_emulated);
        (void)vs_not_emulated(VS_NOT_EMULATED_TOO_DEEP);
        assert_int_equal(vs_move(a, "note.md", b, "note.md", 0, &opts), 0);
        assert_null(stats.not_emulated);
        assert_null(vs_not_emulated_take());
        close(a);
        close(b);
        fx_rm_rf(root);
        free(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_noted_once_then_forgotten),
                cmocka_unit_test(test_each_thread_its_own),
                cmocka_unit_test(test_vs_move_reports_the_reason_with_its_exdev),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

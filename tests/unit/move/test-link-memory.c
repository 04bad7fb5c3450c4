/* SPDX-License-Identifier: MIT */
/* The process's memory of hard-linked files moved by copying (link-memory.c): what it keeps,
 * what it refuses, what gives way when it is full, and that it never waits. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "move/internal.h"

static struct vs_identity proven(uint64_t dev, uint64_t ino)
{
        struct vs_identity id = { .known = true, .dev = dev, .ino = ino, .mode = S_IFREG | 0644,
                                  .size = 6, .handle_type = 1, .handle_len = 12 };
        memcpy(id.handle, &ino, sizeof(ino));
        return id;
}

static struct vs_link_memory_entry entry(uint64_t ino, uint64_t copy_ino, const char *path)
{
        struct vs_link_memory_entry e = { .source = proven(7, ino), .copy = proven(9, copy_ino) };
        strcpy(e.copy_path, path);
        return e;
}

static struct vs_link_memory *fresh(void)
{
        return calloc(1, sizeof(struct vs_link_memory));
}

static void test_put_then_get(void **state)
{
        (void)state;
        struct vs_link_memory *m = fresh();
        struct vs_link_memory_entry e = entry(100, 500, "/vault/b/DIR/f"), got;
        assert_int_equal(vs_link_memory_get(m, 7, 100, &got), -ENOENT);
        assert_int_equal(vs_link_memory_put(m, &e), 0);
        assert_int_equal(vs_link_memory_get(m, 7, 100, &got), 0);
        assert_int_equal(got.copy.ino, 500);
        assert_string_equal(got.copy_path, "/vault/b/DIR/f");
        assert_true(vs_identity_proven(&e.source, &got.source));
        /* the key is the source's device and inode: another device is another file */
        assert_int_equal(vs_link_memory_get(m, 8, 100, &got), -ENOENT);
        free(m);
}

static void test_same_source_replaces(void **state)
{
        (void)state;
        struct vs_link_memory *m = fresh();
        struct vs_link_memory_entry a = entry(100, 500, "/vault/b/one"), b = entry(100, 501,
                                                                                 "/vault/c/two");
        struct vs_link_memory_entry got;
        assert_int_equal(vs_link_memory_put(m, &a), 0);
        assert_int_equal(vs_link_memory_put(m, &b), 0);
        assert_int_equal(vs_link_memory_get(m, 7, 100, &got), 0);
        assert_int_equal(got.copy.ino, 501);
        assert_string_equal(got.copy_path, "/vault/c/two");
        unsigned used = 0;
        for (int i = 0; i < VS_LINK_MEMORY_SLOTS; i++)
                used += m->slots[i].stored != 0;
        assert_int_equal(used, 1);
        free(m);
}

static void test_refuses_what_cannot_be_verified(void **state)
{
        (void)state;
        struct vs_link_memory *m = fresh();
        struct vs_link_memory_entry e = entry(100, 500, "/vault/f"), got;
        e.copy.handle_len = 0; /* a filesystem without handles: nothing to prove it with */
        assert_int_equal(vs_link_memory_put(m, &e), -EINVAL);
        e = entry(100, 500, "/vault/f");
        e.source.known = false;
        assert_int_equal(vs_link_memory_put(m, &e), -EINVAL);
        e = entry(100, 500, "relative/f");
        assert_int_equal(vs_link_memory_put(m, &e), -ENAMETOOLONG);
        e = entry(100, 500, "/");
        memset(e.copy_path + 1, 'x', sizeof(e.copy_path) - 1); /* no terminator fits */
        assert_int_equal(vs_link_memory_put(m, &e), -ENAMETOOLONG);
        assert_int_equal(vs_link_memory_get(m, 7, 100, &got), -ENOENT);
        free(m);
}

static void test_full_table_evicts_the_oldest(void **state)
{
        (void)state;
        struct vs_link_memory *m = fresh();
        struct vs_link_memory_entry got;
        for (uint64_t i = 0; i < VS_LINK_MEMORY_SLOTS; i++) {
                struct vs_link_memory_entry e = entry(1000 + i, 5000 + i, "/vault/x");
                assert_int_equal(vs_link_memory_put(m, &e), 0);
        }
        /* stored again: the most recent now, so the second-oldest is the one to go */
        struct vs_link_memory_entry again = entry(1000, 5000, "/vault/x");
        assert_int_equal(vs_link_memory_put(m, &again), 0);
        struct vs_link_memory_entry newest = entry(9999, 9000, "/vault/new");
        assert_int_equal(vs_link_memory_put(m, &newest), 0);
        assert_int_equal(vs_link_memory_get(m, 7, 1001, &got), -ENOENT);
        assert_int_equal(vs_link_memory_get(m, 7, 1000, &got), 0);
        assert_int_equal(vs_link_memory_get(m, 7, 9999, &got), 0);
        for (uint64_t i = 2; i < VS_LINK_MEMORY_SLOTS; i++)
                assert_int_equal(vs_link_memory_get(m, 7, 1000 + i, &got), 0);
        free(m);
}

static void test_forget_only_that_copy(void **state)
{
        (void)state;
        struct vs_link_memory *m = fresh();
        struct vs_link_memory_entry e = entry(100, 500, "/vault/f"), got;
        assert_int_equal(vs_link_memory_put(m, &e), 0);
        /* a caller that proved another copy stale must not drop a newer one */
        vs_link_memory_forget(m, 7, 100, 499);
        assert_int_equal(vs_link_memory_get(m, 7, 100, &got), 0);
        vs_link_memory_forget(m, 7, 100, 500);
        assert_int_equal(vs_link_memory_get(m, 7, 100, &got), -ENOENT);
        /* the freed slot is used again before anything is evicted */
        assert_int_equal(vs_link_memory_put(m, &e), 0);
        assert_int_equal(vs_link_memory_get(m, 7, 100, &got), 0);
        free(m);
}

static void test_busy_table_is_a_miss_never_a_wait(void **state)
{
        (void)state;
        struct vs_link_memory *m = fresh();
        struct vs_link_memory_entry e = entry(100, 500, "/vault/f"), got;
        assert_int_equal(vs_link_memory_put(m, &e), 0);
        m->busy = 1; /* held, as by a thread interrupted by the signal handler that renames */
        assert_int_equal(vs_link_memory_get(m, 7, 100, &got), -EBUSY);
        assert_int_equal(vs_link_memory_put(m, &e), -EBUSY);
        vs_link_memory_forget(m, 7, 100, 500); /* gives up too */
        m->busy = 0;
        assert_int_equal(vs_link_memory_get(m, 7, 100, &got), 0);
        free(m);
}

struct racer {
        struct vs_link_memory *m;
        uint64_t base;
        int failures;
};

static void *race(void *arg)
{
        struct racer *r = arg;
        for (uint64_t round = 0; round < 2000; round++) {
                uint64_t ino = r->base + round % 16;
                struct vs_link_memory_entry e = entry(ino, ino + 100000, "/vault/race"), got;
                int p = vs_link_memory_put(r->m, &e);
                int g = vs_link_memory_get(r->m, 7, ino, &got);
                /* never torn: what is read is one whole entry */
                if ((p != 0 && p != -EBUSY) || (g == 0 && (got.copy.ino != ino + 100000 ||
                                                           got.source.ino != ino)))
                        r->failures++;
                if (round % 3 == 0)
                        vs_link_memory_forget(r->m, 7, ino, ino + 100000);
        }
        return NULL;
}

static void test_threads(void **state)
{
        (void)state;
        struct vs_link_memory *m = fresh();
        struct racer racers[4];
        pthread_t threads[4];
        for (int i = 0; i < 4; i++) {
                racers[i] = (struct racer){ .m = m, .base = (uint64_t)i * 16 };
                assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
                pthread_join(threads[i], NULL);
                assert_int_equal(racers[i].failures, 0);
        }
        assert_int_equal(m->busy, 0);
        free(m);
}

static void test_process_table_is_one(void **state)
{
        (void)state;
        assert_ptr_equal(vs_link_memory(), vs_link_memory());
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_put_then_get),
                cmocka_unit_test(test_same_source_replaces),
                cmocka_unit_test(test_refuses_what_cannot_be_verified),
                cmocka_unit_test(test_full_table_evicts_the_oldest),
                cmocka_unit_test(test_forget_only_that_copy),
                cmocka_unit_test(test_busy_table_is_a_miss_never_a_wait),
                cmocka_unit_test(test_threads),
                cmocka_unit_test(test_process_table_is_one),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

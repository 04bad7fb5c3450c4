/* SPDX-License-Identifier: MIT */
/*
 * lib/fmt: the bounded, stdio-free string builder of the code inside the application.  It
 * must never write past its buffer, always leave the text terminated, and once it has
 * overflowed say so for good (a journal name cut short must never be used).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fmt/fmt.h"

#define GUARD 0x5a

/* A buffer of cap bytes followed by guard bytes that must stay untouched. */
struct guarded {
        char storage[64 + 16];
        size_t cap;
        struct vs_buf b;
};

static void guarded_init(struct guarded *g, size_t cap)
{
        memset(g->storage, GUARD, sizeof(g->storage));
        g->cap = cap;
        vs_buf_init(&g->b, g->storage, cap);
}

static void assert_guard_intact(const struct guarded *g)
{
        for (size_t i = g->cap; i < sizeof(g->storage); i++)
                assert_int_equal((unsigned char)g->storage[i], GUARD);
}

static void exact_fit_is_not_an_overflow(void **state)
{
        struct guarded g;
        guarded_init(&g, 6);
        vs_buf_puts(&g.b, "hello");
        assert_false(g.b.overflow);
        assert_string_equal(g.storage, "hello");
        assert_int_equal(g.b.len, 5);
        assert_guard_intact(&g);
}

static void one_byte_short_overflows_truncated_and_terminated(void **state)
{
        struct guarded g;
        guarded_init(&g, 5);
        vs_buf_puts(&g.b, "hello");
        assert_true(g.b.overflow);
        assert_string_equal(g.storage, "hell");
        assert_guard_intact(&g);
}

static void overflow_is_sticky(void **state)
{
        struct guarded g;
        guarded_init(&g, 4);
        vs_buf_puts(&g.b, "abcdef");
        assert_true(g.b.overflow);
        vs_buf_puts(&g.b, "");
        vs_buf_putn(&g.b, "x", 1);
        vs_buf_putu(&g.b, 7, 0);
        assert_true(g.b.overflow);
        assert_string_equal(g.storage, "abc");
        assert_guard_intact(&g);
}

static void zero_capacity_writes_nothing(void **state)
{
        struct guarded g;
        guarded_init(&g, 0);
        vs_buf_puts(&g.b, "a");
        vs_buf_put_json(&g.b, "b");
        assert_true(g.b.overflow);
        assert_int_equal(g.b.len, 0);
        assert_guard_intact(&g);
}

static void capacity_one_holds_the_terminator_only(void **state)
{
        struct guarded g;
        guarded_init(&g, 1);
        vs_buf_putd(&g.b, -1);
        assert_true(g.b.overflow);
        assert_string_equal(g.storage, "");
        assert_guard_intact(&g);
}

static void putn_stops_at_n_not_at_nul(void **state)
{
        struct guarded g;
        guarded_init(&g, 16);
        vs_buf_putn(&g.b, "abcdef", 3);
        assert_false(g.b.overflow);
        assert_string_equal(g.storage, "abc");
}

static void numbers_at_their_limits(void **state)
{
        struct guarded g;
        guarded_init(&g, 64);
        vs_buf_putu(&g.b, UINT64_MAX, 0);
        vs_buf_puts(&g.b, " ");
        vs_buf_putd(&g.b, INT64_MIN);
        vs_buf_puts(&g.b, " ");
        vs_buf_putd(&g.b, 0);
        vs_buf_puts(&g.b, " ");
        vs_buf_putx(&g.b, UINT64_MAX, 0);
        assert_false(g.b.overflow);
        assert_string_equal(g.storage,
                            "18446744073709551615 -9223372036854775808 0 ffffffffffffffff");
        assert_guard_intact(&g);
}

static void width_pads_with_zeros_and_never_truncates(void **state)
{
        struct guarded g;
        guarded_init(&g, 32);
        vs_buf_putu(&g.b, 42, 5);
        vs_buf_puts(&g.b, ":");
        vs_buf_putx(&g.b, 0xabc, 8);
        vs_buf_puts(&g.b, ":");
        vs_buf_putu(&g.b, 123456, 2);
        assert_string_equal(g.storage, "00042:00000abc:123456");
}

static void a_number_cut_short_is_an_overflow(void **state)
{
        struct guarded g;
        guarded_init(&g, 4);
        vs_buf_putu(&g.b, 12345, 0);
        assert_true(g.b.overflow);
        assert_string_equal(g.storage, "123");
        assert_guard_intact(&g);
}

static void json_escapes_quotes_backslashes_and_controls(void **state)
{
        struct guarded g;
        guarded_init(&g, 64);
        vs_buf_put_json(&g.b, "a\"b\\c\n\x01\x1f");
        assert_false(g.b.overflow);
        assert_string_equal(g.storage, "\"a\\\"b\\\\c\\u000a\\u0001\\u001f\"");
}

static void json_passes_utf8_bytes_through(void **state)
{
        struct guarded g;
        guarded_init(&g, 16);
        vs_buf_put_json(&g.b, "n\xc3\xb6te");
        assert_string_equal(g.storage, "\"n\xc3\xb6te\"");
}

static void json_overflow_inside_an_escape_stays_bounded(void **state)
{
        for (size_t cap = 0; cap <= 12; cap++) {
                struct guarded g;
                guarded_init(&g, cap);
                vs_buf_put_json(&g.b, "\x01\x02");
                assert_true(g.b.overflow == (cap < 15));
                if (cap > 0)
                        assert_true(strlen(g.storage) < cap);
                assert_guard_intact(&g);
        }
}

/* Paths that other users named: one line, no control bytes, valid UTF-8, still readable. */
static void escaped_paths_cannot_drive_a_terminal(void **state)
{
        (void)state;
        char out[256];
        struct vs_buf b;
        vs_buf_init(&b, out, sizeof(out));
        vs_buf_put_escaped(&b, "a\nb\tc\\d\x1b[2J\x07 caf\xc3\xa9 \xff \xc2\x9b x\xe2\x80\xaey");
        assert_string_equal(out, "a\\nb\\tc\\\\d\\x1b[2J\\x07 caf\xc3\xa9 \\xff \\xc2\\x9b "
                                 "x\\xe2\\x80\\xaey");
        vs_buf_init(&b, out, sizeof(out));
        vs_buf_put_escaped(&b, "\xe2\x82"); /* a sequence cut short at the end */
        assert_string_equal(out, "\\xe2\\x82");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(exact_fit_is_not_an_overflow),
                cmocka_unit_test(one_byte_short_overflows_truncated_and_terminated),
                cmocka_unit_test(overflow_is_sticky),
                cmocka_unit_test(zero_capacity_writes_nothing),
                cmocka_unit_test(capacity_one_holds_the_terminator_only),
                cmocka_unit_test(putn_stops_at_n_not_at_nul),
                cmocka_unit_test(numbers_at_their_limits),
                cmocka_unit_test(width_pads_with_zeros_and_never_truncates),
                cmocka_unit_test(a_number_cut_short_is_an_overflow),
                cmocka_unit_test(json_escapes_quotes_backslashes_and_controls),
                cmocka_unit_test(json_passes_utf8_bytes_through),
                cmocka_unit_test(json_overflow_inside_an_escape_stays_bounded),
                cmocka_unit_test(escaped_paths_cannot_drive_a_terminal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

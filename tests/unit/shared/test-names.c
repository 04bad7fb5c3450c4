/* SPDX-License-Identifier: MIT */
/*
 * lib/shared/names.c: the names that become host paths.  User tokens as Kasm has them
 * (e-mail logins, SSO names with '+' or letters beyond ASCII) accepted; every character that
 * would break a host path, Docker's volume syntax, a Kasm token or a shell refused with its
 * reason; bad UTF-8 (overlong, surrogates, C1 controls, cut sequences) refused by offset.
 * Segment tokens, folder names and normalised paths at their edges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shared/names.h"

static void test_user_tokens_as_kasm_has_them(void **state)
{
        static const char *const good[] = {
                "alice", "user@kasm.local", "first.last+sso@example.org", "J_Doe-2",
                "\xc3\xa9milie",           /* émilie */
                "\xe5\xb1\xb1\xe7\x94\xb0", /* 山田 */
                "\xf0\x9f\x98\x80",         /* an emoji, U+1F600 */
                "\xc2\xa0nbsp",             /* U+00A0, the first code point allowed */
                "...", ".x", "x.",
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                char buf[VS_USER_TOKEN_WHY];
                const char *why = vs_user_token_problem(good[i], buf);
                if (why)
                        fail_msg("'%s' refused: %s", good[i], why);
                assert_true(vs_user_token_valid(good[i]));
        }
        char longest[256];
        memset(longest, 'a', 255);
        longest[255] = '\0';
        assert_true(vs_user_token_valid(longest));
}

static void assert_token_refused(const char *s, const char *why)
{
        char buf[VS_USER_TOKEN_WHY];
        const char *got = vs_user_token_problem(s, buf);
        if (!got)
                fail_msg("'%s' accepted", s);
        if (!strstr(got, why))
                fail_msg("'%s': \"%s\" does not say \"%s\"", s, got, why);
        assert_false(vs_user_token_valid(s));
}

static void test_user_tokens_refused_with_their_reason(void **state)
{
        assert_token_refused("", "empty");
        assert_token_refused(".", "traverse");
        assert_token_refused("..", "traverse");
        assert_token_refused("a/b", "'/' (U+002F) is not allowed: it separates host path");
        assert_token_refused("a:b", "Docker's volume syntax");
        assert_token_refused("a,b", "--mount");
        assert_token_refused("{username}", "Kasm token");
        assert_token_refused("a b", "whitespace");
        assert_token_refused("a$b", "shell");
        assert_token_refused("a`b", "shell");
        assert_token_refused("a'b", "shell");
        assert_token_refused("a\\b", "shell");
        assert_token_refused("a*", "glob");
        assert_token_refused("a[1]", "glob");
        assert_token_refused("a#b", "not one of letters");
        assert_token_refused("a\tb", "control character U+0009");
        assert_token_refused("a\x7f", "control character U+007F");
        assert_token_refused("a\xc2\x85", "byte 0xc2 at offset 1");       /* C1 control U+0085 */
        assert_token_refused("\xc0\xaf", "byte 0xc0 at offset 0");        /* overlong '/' */
        assert_token_refused("\xe0\x80\xaf", "byte 0xe0");                /* overlong, 3 bytes */
        assert_token_refused("\xed\xa0\x80", "byte 0xed");                /* a surrogate */
        assert_token_refused("\xf4\x90\x80\x80", "byte 0xf4");            /* beyond U+10FFFF */
        assert_token_refused("ab\xc3", "byte 0xc3 at offset 2");          /* cut short */
        assert_token_refused("\xff", "byte 0xff");
        char too_long[257];
        memset(too_long, 'a', 256);
        too_long[256] = '\0';
        assert_token_refused(too_long, "longer than 255 bytes");
}

static void test_segment_tokens(void **state)
{
        assert_true(vs_segment_token_valid("engineering"));
        assert_true(vs_segment_token_valid("A-Z.a_z-09"));
        assert_true(vs_segment_token_valid("..."));
        char longest[65];
        memset(longest, 'x', 64);
        longest[64] = '\0';
        assert_true(vs_segment_token_valid(longest));
        static const char *const bad[] = { "", ".", "..", "a b", "a/b", "a@b", "a+b",
                                           "\xc3\xa9" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (vs_segment_token_valid(bad[i]))
                        fail_msg("'%s' accepted", bad[i]);
        char too_long[66];
        memset(too_long, 'x', 65);
        too_long[65] = '\0';
        assert_false(vs_segment_token_valid(too_long));
}

static void test_folder_names(void **state)
{
        assert_true(vs_folder_name_valid("Design docs"));
        assert_true(vs_folder_name_valid("Q3: plans, 2027 (draft)"));
        assert_true(vs_folder_name_valid("\xc3\xa9t\xc3\xa9"));
        static const char *const bad[] = { "", ".obsidian", ".", "..", ".trash", "a/b", "a\\b",
                                           "a\nb", "a\x7f" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (vs_folder_name_valid(bad[i]))
                        fail_msg("'%s' accepted", bad[i]);
        char name[257];
        memset(name, 'n', 256);
        name[255] = '\0';
        assert_true(vs_folder_name_valid(name));
        name[255] = 'n';
        name[256] = '\0';
        assert_false(vs_folder_name_valid(name));
}

static void test_normalised_paths(void **state)
{
        static const char *const good[] = { "/", "/vault", "/vault/a b/c", "/.hidden/x",
                                            "/a/...", "/a/.b" };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                if (!vs_path_normalised(good[i]))
                        fail_msg("'%s' refused", good[i]);
        static const char *const bad[] = { "", "vault", "//", "/vault/", "/a//b", "/a/./b",
                                           "/a/../b", "/.", "/..", "/a/.", "/a\nb" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (vs_path_normalised(bad[i]))
                        fail_msg("'%s' accepted", bad[i]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_user_tokens_as_kasm_has_them),
                cmocka_unit_test(test_user_tokens_refused_with_their_reason),
                cmocka_unit_test(test_segment_tokens),
                cmocka_unit_test(test_folder_names),
                cmocka_unit_test(test_normalised_paths),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

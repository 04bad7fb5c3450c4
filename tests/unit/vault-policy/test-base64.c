/* SPDX-License-Identifier: MIT */
/*
 * tools/vault-policy/base64.c: a JWS part (base64url, no padding) and a PEM body (base64,
 * padding and line breaks skipped).  Every length of random bytes comes back as it was
 * encoded by an encoder written here from RFC 4648's table; each alphabet refuses the
 * other's characters; the decoded text is NUL-terminated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

/* RFC 4648, §4 and §5. */
static size_t encode(const unsigned char *in, size_t len, bool url, bool pad, char *out)
{
        static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        char table[65];
        snprintf(table, sizeof(table), "%s0123456789%s", letters, url ? "-_" : "+/");
        size_t n = 0;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16;
                size_t left = len - i;
                if (left > 1)
                        v |= (uint32_t)in[i + 1] << 8;
                if (left > 2)
                        v |= in[i + 2];
                out[n++] = table[v >> 18 & 63];
                out[n++] = table[v >> 12 & 63];
                if (left > 1)
                        out[n++] = table[v >> 6 & 63];
                else if (pad)
                        out[n++] = '=';
                if (left > 2)
                        out[n++] = table[v & 63];
                else if (pad)
                        out[n++] = '=';
        }
        out[n] = '\0';
        return n;
}

static void test_every_length_round_trips(void **state)
{
        unsigned char bytes[300];
        char text[512];
        srand(25);
        for (size_t len = 0; len <= sizeof(bytes); len++) {
                for (size_t i = 0; i < len; i++)
                        bytes[i] = (unsigned char)rand();
                for (int url = 0; url <= 1; url++) {
                        size_t n = encode(bytes, len, url, !url, text);
                        size_t out_len = 9999;
                        char *out = base64_decode(text, n, url, &out_len);
                        assert_non_null(out);
                        assert_int_equal(out_len, len);
                        assert_memory_equal(out, bytes, len);
                        assert_int_equal(out[len], '\0');
                        free(out);
                }
        }
}

static void test_a_pem_body_with_line_breaks(void **state)
{
        const char *pem = "SGVsbG8s\nIFBF\r\nTSBi b2R5\tIQ==\n";
        size_t len;
        char *out = base64_decode(pem, strlen(pem), false, &len);
        assert_non_null(out);
        assert_string_equal(out, "Hello, PEM body!");
        assert_int_equal(len, 16);
        free(out);
        out = base64_decode("", 0, false, NULL);
        assert_non_null(out);
        assert_string_equal(out, "");
        free(out);
}

/* Each alphabet refuses what only the other has, and a JWS part has no padding or spaces. */
static void test_the_alphabets_apart(void **state)
{
        static const char *const not_url[] = { "ab+c", "ab/c", "YQ==", "YW J", "YW\nJ", "Y*" };
        for (size_t i = 0; i < sizeof(not_url) / sizeof(not_url[0]); i++)
                if (base64_decode(not_url[i], strlen(not_url[i]), true, NULL))
                        fail_msg("base64url accepted '%s'", not_url[i]);
        static const char *const not_std[] = { "ab-c", "ab_c", "Y*", "Y.Q" };
        for (size_t i = 0; i < sizeof(not_std) / sizeof(not_std[0]); i++)
                if (base64_decode(not_std[i], strlen(not_std[i]), false, NULL))
                        fail_msg("base64 accepted '%s'", not_std[i]);
        char *out = base64_decode("_-8", 3, true, NULL);
        assert_non_null(out);
        assert_memory_equal(out, "\xff\xef", 2);
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_length_round_trips),
                cmocka_unit_test(test_a_pem_body_with_line_breaks),
                cmocka_unit_test(test_the_alphabets_apart),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

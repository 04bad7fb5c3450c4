/* SPDX-License-Identifier: MIT */
/* Display widths as a table: name, columns on a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "shared/display-width.h"

static void test_widths(void **state)
{
        static const struct {
                const char *text;
                size_t width;
        } cases[] = {
                { "", 0 },
                { "alice", 5 },
                { "j\xc3\xbcrgen", 6 },  /* jürgen: precomposed ü */
                { "ju\xcc\x88rgen", 6 }, /* jürgen: u + combining diaeresis */
                { "\xe6\x9d\x8e\xe5\xb0\x8f\xe9\xbe\x8d", 6 }, /* 李小龍: three wide characters */
                { "zo\xc3\xab@kasm.local", 14 },               /* zoë@kasm.local */
                { "\xf0\x9f\x98\x80", 2 },                     /* an emoji */
                { "a\xffz", 3 },                               /* an invalid byte counts as one */
                { "\xe2\x80\x8b", 0 },                         /* zero-width space */
        };
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
                if (vs_display_width(cases[i].text) != cases[i].width)
                        fail_msg("case %zu: width %zu, expected %zu", i,
                                 vs_display_width(cases[i].text), cases[i].width);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_widths),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

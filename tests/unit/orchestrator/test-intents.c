/* SPDX-License-Identifier: MIT */
/*
 * The sessions still to end (tools/vault-orchestrator/intents.c): saved and loaded back
 * whole, a missing file is none, a file that is not ours is an error naming it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "intents.h"

static char dir[] = "/tmp/vs-intents-XXXXXX";

static void round_trip(void **state)
{
        struct intents in = { 0 }, back = { 0 };
        char why[512];
        (void)state;
        assert_int_equal(intents_load(dir, &back, why), 0);
        assert_int_equal(back.count, 0);
        assert_int_equal(intents_add(&in, "u-erin"), 0);
        assert_int_equal(intents_add(&in, "u-bob"), 0);
        assert_int_equal(intents_add(&in, "u-erin"), 0);
        assert_int_equal(in.count, 2);
        assert_int_equal(intents_save(dir, &in, why), 0);
        assert_int_equal(intents_load(dir, &back, why), 0);
        assert_int_equal(back.count, 2);
        assert_true(intents_has(&back, "u-bob"));
        assert_true(intents_has(&back, "u-erin"));
        assert_false(intents_has(&back, "u-alice"));
        intents_remove(&back, "u-bob");
        assert_false(intents_has(&back, "u-bob"));
        assert_int_equal(back.count, 1);
        intents_clear(&in);
        intents_clear(&back);
}

static void foreign_file_is_an_error(void **state)
{
        struct intents in = { 0 };
        char why[512], path[256];
        (void)state;
        snprintf(path, sizeof(path), "%s/%s", dir, INTENTS_FILE);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("[\"u-erin\"]", f);
        fclose(f);
        assert_int_equal(intents_load(dir, &in, why), -EINVAL);
        assert_non_null(strstr(why, path));
        unlink(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(round_trip),
                cmocka_unit_test(foreign_file_is_an_error),
        };
        if (!mkdtemp(dir))
                return 1;
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, INTENTS_FILE);
        unlink(path);
        rmdir(dir);
        return r;
}

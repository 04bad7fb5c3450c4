/* SPDX-License-Identifier: MIT */
/*
 * lib/preload/config.c: the environment as the shim reads it at the first EXDEV.  Each
 * variable's spellings (VAULTSHIM_DISABLE, VAULTSHIM_DURABLE, VAULTSHIM_LOG), the journal's
 * place (VAULTSHIM_JOURNAL, then XDG_STATE_HOME, then HOME; a relative one is none) and
 * whether it is private (inside a root only below VAULTSHIM_PERSONAL, found through a
 * symbolic link too), and a second load replacing everything the first one set.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#include "journal/journal.h"
#include "preload/config.h"

/* <top>/vault (the root) with a/, <top>/state, <top>/link -> <top>/vault/a. */
static char top[256];
static struct vs_shim_config config;

static const char *at(const char *rel)
{
        return vs_path_in(top, rel);
}

static const char *const variables[] = {
        "VAULTSHIM_DISABLE", "VAULTSHIM_DURABLE", "VAULTSHIM_ROOTS", "VAULTSHIM_LOG",
        "VAULTSHIM_JOURNAL", "VAULTSHIM_PERSONAL", "XDG_STATE_HOME",  "HOME",
};

static int setup(void **state)
{
        assert_int_equal(vs_scratch_create(top, sizeof(top), "preload-config"), 0);
        assert_int_equal(mkdir(at("vault"), 0755), 0);
        assert_int_equal(mkdir(at("vault/a"), 0755), 0);
        assert_int_equal(mkdir(at("state"), 0700), 0);
        assert_int_equal(symlink(at("vault/a"), at("link")), 0);
        for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++)
                unsetenv(variables[i]);
        setenv("VAULTSHIM_ROOTS", at("vault"), 1);
        setenv("VAULTSHIM_JOURNAL", at("state/journal"), 1);
        memset(&config, 0x5a, sizeof(config)); /* every field must be written */
        return 0;
}

static int teardown(void **state)
{
        vs_scratch_remove(top);
        return 0;
}

static void test_disable_is_any_value_but_empty_and_zero(void **state)
{
        static const struct {
                const char *value;
                bool disabled;
        } cases[] = {
                { NULL, false }, { "", false }, { "0", false },
                { "1", true },   { "yes", true }, { "00", true },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                if (cases[i].value)
                        setenv("VAULTSHIM_DISABLE", cases[i].value, 1);
                else
                        unsetenv("VAULTSHIM_DISABLE");
                vs_shim_config_load(&config);
                if (config.disabled != cases[i].disabled)
                        fail_msg("VAULTSHIM_DISABLE=%s: disabled %d", cases[i].value,
                                 config.disabled);
        }
}

static void test_durable_at_return_only_for_return(void **state)
{
        static const char *const not_return[] = { "", "1", "Return", "return ", "returned" };
        unsetenv("VAULTSHIM_DURABLE");
        vs_shim_config_load(&config);
        assert_false(config.durable_at_return);
        for (size_t i = 0; i < sizeof(not_return) / sizeof(not_return[0]); i++) {
                setenv("VAULTSHIM_DURABLE", not_return[i], 1);
                vs_shim_config_load(&config);
                if (config.durable_at_return)
                        fail_msg("VAULTSHIM_DURABLE='%s' taken as return", not_return[i]);
        }
        setenv("VAULTSHIM_DURABLE", "return", 1);
        vs_shim_config_load(&config);
        assert_true(config.durable_at_return);
}

static void test_log_path_as_given_or_none(void **state)
{
        vs_shim_config_load(&config);
        assert_string_equal(config.log_path, "");
        setenv("VAULTSHIM_LOG", at("audit.log"), 1);
        vs_shim_config_load(&config);
        assert_string_equal(config.log_path, at("audit.log"));
        /* One that does not fit is no log at all, never a cut path. */
        char *long_path = malloc(PATH_MAX + 2);
        memset(long_path, 'x', PATH_MAX + 1);
        long_path[0] = '/';
        long_path[PATH_MAX + 1] = '\0';
        setenv("VAULTSHIM_LOG", long_path, 1);
        vs_shim_config_load(&config);
        assert_string_equal(config.log_path, "");
        free(long_path);
}

static void test_roots_from_the_environment(void **state)
{
        char list[2 * PATH_MAX];
        snprintf(list, sizeof(list), "%s:%s/elsewhere/", at("vault"), top);
        setenv("VAULTSHIM_ROOTS", list, 1);
        vs_shim_config_load(&config);
        assert_int_equal(config.roots.count, 2);
        assert_string_equal(config.roots.paths[0], at("vault"));
        assert_string_equal(config.roots.paths[1], at("elsewhere"));
        unsetenv("VAULTSHIM_ROOTS");
        vs_shim_config_load(&config);
        assert_int_equal(config.roots.count, 1);
        assert_string_equal(config.roots.paths[0], VS_ROOTS_DEFAULT);
}

static void assert_private_journal(const char *want)
{
        vs_shim_config_load(&config);
        assert_string_equal(config.journal_dir, want);
        assert_false(config.journal_in_vault);
        assert_null(config.journal_refused);
}

/* VAULTSHIM_JOURNAL, else $XDG_STATE_HOME/vaultshim/journal, else ~/.local/state/...;
 * trailing slashes dropped. */
static void test_journal_location_in_order(void **state)
{
        char with_slash[PATH_MAX];
        snprintf(with_slash, sizeof(with_slash), "%s//", at("state/journal"));
        setenv("VAULTSHIM_JOURNAL", with_slash, 1);
        assert_private_journal(at("state/journal"));
        setenv("XDG_STATE_HOME", at("state/xdg"), 1);
        setenv("HOME", at("state/home"), 1);
        unsetenv("VAULTSHIM_JOURNAL");
        assert_private_journal(at("state/xdg/vaultshim/journal"));
        setenv("XDG_STATE_HOME", "", 1);
        assert_private_journal(at("state/home/.local/state/vaultshim/journal"));
}

static void assert_no_journal(void)
{
        vs_shim_config_load(&config);
        assert_string_equal(config.journal_dir, "");
        assert_false(config.journal_in_vault);
}

/* None configured, or a relative one (it would move with the working directory). */
static void test_no_journal(void **state)
{
        unsetenv("VAULTSHIM_JOURNAL");
        assert_no_journal();
        setenv("VAULTSHIM_JOURNAL", "state/journal", 1);
        assert_no_journal();
        unsetenv("VAULTSHIM_JOURNAL");
        setenv("XDG_STATE_HOME", "relative", 1);
        assert_no_journal();
}

static void test_journal_inside_a_root_is_private_only_in_the_personal_folder(void **state)
{
        setenv("VAULTSHIM_JOURNAL", at("vault/a/.journal"), 1);
        vs_shim_config_load(&config);
        assert_string_equal(config.journal_dir, at("vault/a/.journal"));
        assert_true(config.journal_in_vault);
        assert_string_equal(config.journal_refused, VS_JOURNAL_PERSONAL_UNKNOWN);

        assert_int_equal(mkdir(at("vault/b"), 0755), 0);
        setenv("VAULTSHIM_PERSONAL", at("vault/b"), 1);
        vs_shim_config_load(&config);
        assert_string_equal(config.journal_refused, VS_JOURNAL_OUTSIDE_PERSONAL);

        setenv("VAULTSHIM_PERSONAL", at("vault/a"), 1);
        vs_shim_config_load(&config);
        assert_true(config.journal_in_vault);
        assert_null(config.journal_refused);
}

/* Through a symbolic link the journal is where the link leads: in the vault. */
static void test_journal_behind_a_symlink_is_where_it_leads(void **state)
{
        setenv("VAULTSHIM_JOURNAL", at("link/.journal"), 1);
        vs_shim_config_load(&config);
        assert_string_equal(config.journal_dir, at("link/.journal"));
        assert_true(config.journal_in_vault);
        assert_string_equal(config.journal_refused, VS_JOURNAL_PERSONAL_UNKNOWN);
}

/* A load replaces what an earlier one found: nothing of it stays behind. */
static void test_a_second_load_replaces_the_first(void **state)
{
        setenv("VAULTSHIM_DISABLE", "1", 1);
        setenv("VAULTSHIM_DURABLE", "return", 1);
        setenv("VAULTSHIM_LOG", at("audit.log"), 1);
        setenv("VAULTSHIM_JOURNAL", at("vault/a/.journal"), 1);
        vs_shim_config_load(&config);
        assert_true(config.disabled && config.durable_at_return && config.journal_in_vault);
        assert_non_null(config.journal_refused);

        for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++)
                unsetenv(variables[i]);
        setenv("VAULTSHIM_JOURNAL", at("state/journal"), 1);
        vs_shim_config_load(&config);
        assert_false(config.disabled);
        assert_false(config.durable_at_return);
        assert_string_equal(config.log_path, "");
        assert_string_equal(config.journal_dir, at("state/journal"));
        assert_false(config.journal_in_vault);
        assert_null(config.journal_refused);

        unsetenv("VAULTSHIM_JOURNAL");
        vs_shim_config_load(&config);
        assert_string_equal(config.journal_dir, "");
        assert_false(config.journal_in_vault);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_disable_is_any_value_but_empty_and_zero),
                T(test_durable_at_return_only_for_return),
                T(test_log_path_as_given_or_none),
                T(test_roots_from_the_environment),
                T(test_journal_location_in_order),
                T(test_no_journal),
                T(test_journal_inside_a_root_is_private_only_in_the_personal_folder),
                T(test_journal_behind_a_symlink_is_where_it_leads),
                T(test_a_second_load_replaces_the_first),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * lib/obsidian/root-link.c: <vault>/.obsidian becomes a link to the personal folder's.
 * Made once and left alone after (unchanged), put right when it leads elsewhere (relink); a
 * real directory there is someone's settings: what the personal copy lacks is copied into
 * it (the personal copy wins), the directory kept whole under the first free backup name,
 * nothing deleted; a dry run reports the same and changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#include "obsidian/obsidian.h"

static char top[256];
static struct vs_obsidian_plan plan = { .personal = "personal" };
static struct vs_changes changes;
static struct vs_diags diags;

static const char *at(const char *rel)
{
        return vs_path_in(top, rel);
}

static void put(const char *rel, const char *text)
{
        assert_int_equal(vs_write_text(at(rel), text), 0);
}

static const char *text_of(const char *rel)
{
        static char text[256];
        FILE *f = fopen(at(rel), "r");
        if (!f)
                return "(missing)";
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        text[n] = '\0';
        fclose(f);
        return text;
}

static const char *link_of(const char *rel)
{
        static char target[PATH_MAX];
        ssize_t n = readlink(at(rel), target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        return n > 0 ? target : "(not a link)";
}

static int setup(void **state)
{
        assert_int_equal(vs_scratch_create(top, sizeof(top), "obsidian-root-link"), 0);
        assert_int_equal(mkdir(at("personal"), 0755), 0);
        assert_int_equal(mkdir(at("personal/.obsidian"), 0755), 0);
        plan.vault = top;
        changes = (struct vs_changes){ 0 };
        diags = (struct vs_diags){ 0 };
        return 0;
}

static int teardown(void **state)
{
        vs_changes_clear(&changes);
        vs_diags_clear(&diags);
        vs_scratch_remove(top);
        return 0;
}

/* The actions recorded, "action path-relative-to-top" joined by "; ". */
static const char *recorded(void)
{
        static char out[1024];
        out[0] = '\0';
        for (size_t i = 0; i < changes.count; i++) {
                const char *path = changes.items[i].path;
                if (strncmp(path, top, strlen(top)) == 0)
                        path += strlen(top) + 1;
                snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s %s", i ? "; " : "",
                         changes.items[i].action, path);
        }
        vs_changes_clear(&changes);
        return out;
}

static void link_root(void)
{
        assert_int_equal(vs_obsidian_link_root(&plan, &changes, &diags), 0);
        assert_int_equal(diags.count, 0);
}

static void test_made_once_then_left_alone(void **state)
{
        link_root();
        assert_string_equal(recorded(), "link .obsidian");
        assert_string_equal(link_of(".obsidian"), "personal/.obsidian");
        link_root();
        assert_string_equal(recorded(), "unchanged .obsidian");
}

static void test_a_link_elsewhere_is_put_right(void **state)
{
        assert_int_equal(symlink("elsewhere/.obsidian", at(".obsidian")), 0);
        link_root();
        assert_string_equal(recorded(), "relink .obsidian");
        assert_string_equal(link_of(".obsidian"), "personal/.obsidian");
}

/* Someone's real settings: merged into the personal copy, which wins, and kept whole. */
static void test_a_real_directory_is_merged_and_kept(void **state)
{
        assert_int_equal(mkdir(at(".obsidian"), 0755), 0);
        assert_int_equal(mkdir(at(".obsidian/plugins"), 0755), 0);
        put(".obsidian/app.json", "{\"theirs\": true}");
        put(".obsidian/hotkeys.json", "{\"hotkeys\": 1}");
        put(".obsidian/plugins/main.js", "plugin();");
        assert_int_equal(symlink("app.json", at(".obsidian/alias.json")), 0);
        put("personal/.obsidian/app.json", "{\"mine\": true}");
        put(".obsidian.before-vaultshim", "an older backup");

        link_root();
        assert_string_equal(link_of(".obsidian"), "personal/.obsidian");
        assert_string_equal(text_of("personal/.obsidian/app.json"), "{\"mine\": true}");
        assert_string_equal(text_of("personal/.obsidian/hotkeys.json"), "{\"hotkeys\": 1}");
        assert_string_equal(text_of("personal/.obsidian/plugins/main.js"), "plugin();");
        assert_string_equal(link_of("personal/.obsidian/alias.json"), "app.json");
        /* Nothing deleted: the old directory whole, under the first free name. */
        assert_string_equal(text_of(".obsidian.before-vaultshim"), "an older backup");
        assert_string_equal(text_of(".obsidian.before-vaultshim.1/app.json"), "{\"theirs\": true}");
        assert_string_equal(text_of(".obsidian.before-vaultshim.1/plugins/main.js"), "plugin();");
        const char *what = recorded();
        if (!strstr(what, "backup .obsidian.before-vaultshim.1") ||
            !strstr(what, "link .obsidian") || !strstr(what, "mkdir personal/.obsidian/plugins"))
                fail_msg("recorded: %s", what);
}

static void test_a_file_in_its_place_is_kept(void **state)
{
        put(".obsidian", "not a directory");
        link_root();
        assert_string_equal(link_of(".obsidian"), "personal/.obsidian");
        assert_string_equal(text_of(".obsidian.before-vaultshim"), "not a directory");
}

static void test_a_dry_run_changes_nothing(void **state)
{
        assert_int_equal(mkdir(at(".obsidian"), 0755), 0);
        put(".obsidian/app.json", "{\"theirs\": true}");
        changes.dry_run = true;
        link_root();
        const char *what = recorded();
        if (!strstr(what, "backup .obsidian.before-vaultshim") || !strstr(what, "link .obsidian"))
                fail_msg("recorded: %s", what);
        assert_string_equal(text_of(".obsidian/app.json"), "{\"theirs\": true}");
        assert_string_equal(text_of("personal/.obsidian/app.json"), "(missing)");
        struct stat st;
        assert_int_equal(lstat(at(".obsidian.before-vaultshim"), &st), -1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_made_once_then_left_alone),
                T(test_a_link_elsewhere_is_put_right),
                T(test_a_real_directory_is_merged_and_kept),
                T(test_a_file_in_its_place_is_kept),
                T(test_a_dry_run_changes_nothing),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * lib/obsidian/app-config.c: the settings vaultshim owns in .obsidian/app.json and the
 * files it writes.  The desired settings (new notes and attachments in the personal folder,
 * trash "none", excluded folders only on request); the first render makes the folders,
 * app.json and the state file; a second one changes no byte; a user's own trash setting is
 * kept, with a warning saying why it fails; a broken app.json is left untouched and named
 * at its line; a broken state file only costs the memory of our values.
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
static struct vs_diags warnings, diags;

static const char *at(const char *rel)
{
        return vs_path_in(top, rel);
}

static void put(const char *rel, const char *text)
{
        assert_int_equal(vs_write_text(at(rel), text), 0);
}

static json_t *load(const char *rel)
{
        json_error_t error;
        json_t *doc = json_load_file(at(rel), 0, &error);
        if (!doc)
                fail_msg("%s: %s", rel, error.text);
        return doc;
}

static const char *string_at(json_t *doc, const char *key)
{
        const char *s = json_string_value(json_object_get(doc, key));
        return s ? s : "(none)";
}

static int setup(void **state)
{
        assert_int_equal(vs_scratch_create(top, sizeof(top), "obsidian-app-config"), 0);
        assert_int_equal(mkdir(at("personal"), 0755), 0);
        plan.vault = top;
        plan.excluded = NULL;
        plan.n_excluded = 0;
        changes = (struct vs_changes){ 0 };
        warnings = diags = (struct vs_diags){ 0 };
        return 0;
}

static int teardown(void **state)
{
        vs_changes_clear(&changes);
        vs_diags_clear(&warnings);
        vs_diags_clear(&diags);
        vs_scratch_remove(top);
        return 0;
}

static void test_the_desired_settings(void **state)
{
        json_t *d = vs_obsidian_desired(&plan);
        assert_non_null(d);
        assert_string_equal(string_at(d, "newFileLocation"), "folder");
        assert_string_equal(string_at(d, "newFileFolderPath"), "personal/Inbox");
        assert_string_equal(string_at(d, "attachmentFolderPath"), "personal/Attachments");
        assert_string_equal(string_at(d, "trashOption"), "none");
        assert_null(json_object_get(d, "userIgnoreFilters")); /* only on request */
        json_decref(d);

        static const char *const excluded[] = { "archive", "Big Reference" };
        plan.excluded = excluded;
        plan.n_excluded = 2;
        d = vs_obsidian_desired(&plan);
        json_t *filters = json_object_get(d, "userIgnoreFilters");
        assert_int_equal(json_array_size(filters), 2);
        assert_string_equal(json_string_value(json_array_get(filters, 0)), "archive/");
        assert_string_equal(json_string_value(json_array_get(filters, 1)), "Big Reference/");
        json_decref(d);
}

static void render(void)
{
        vs_changes_clear(&changes);
        assert_int_equal(vs_obsidian_render(&plan, &changes, &warnings, &diags), 0);
        assert_int_equal(diags.count, 0);
}

static void test_first_render_then_nothing_changes(void **state)
{
        render();
        assert_true(vs_changes_any(&changes));
        struct stat st;
        assert_int_equal(stat(at("personal/Inbox"), &st), 0);
        assert_int_equal(stat(at("personal/Attachments"), &st), 0);
        json_t *app = load("personal/.obsidian/app.json");
        assert_string_equal(string_at(app, "trashOption"), "none");
        assert_string_equal(string_at(app, "newFileFolderPath"), "personal/Inbox");
        json_decref(app);
        json_t *owned = load("personal/.obsidian/" VS_OBSIDIAN_STATE_FILE);
        assert_int_equal(json_integer_value(json_object_get(owned, "version")), 1);
        assert_string_equal(string_at(json_object_get(owned, "app.json"), "trashOption"), "none");
        json_decref(owned);

        struct stat before, after;
        assert_int_equal(stat(at("personal/.obsidian/app.json"), &before), 0);
        render();
        assert_false(vs_changes_any(&changes));
        assert_int_equal(stat(at("personal/.obsidian/app.json"), &after), 0);
        assert_int_equal(before.st_ino, after.st_ino);
        assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
        assert_int_equal(warnings.count, 0);
}

/* The user chose another trash: kept, and a warning says why deleting will fail. */
static void test_a_users_trash_setting_is_kept_with_a_warning(void **state)
{
        render();
        json_t *app = load("personal/.obsidian/app.json");
        json_object_set_new(app, "trashOption", json_string("system"));
        json_object_set_new(app, "theme", json_string("moonstone"));
        assert_int_equal(json_dump_file(app, at("personal/.obsidian/app.json"), 0), 0);
        json_decref(app);
        render();
        app = load("personal/.obsidian/app.json");
        assert_string_equal(string_at(app, "trashOption"), "system");
        assert_string_equal(string_at(app, "theme"), "moonstone");
        json_decref(app);
        assert_int_equal(warnings.count, 1);
        assert_non_null(strstr(warnings.items[0].message, "EXDEV"));
        assert_non_null(strstr(warnings.items[0].message, "\"system\""));
}

static void test_a_broken_app_json_is_left_untouched(void **state)
{
        assert_int_equal(mkdir(at("personal/.obsidian"), 0755), 0);
        put("personal/.obsidian/app.json", "{\n  \"theme\": \"moonstone\",\n  oops\n}\n");
        assert_int_equal(vs_obsidian_render(&plan, &changes, &warnings, &diags), -EINVAL);
        assert_int_equal(diags.count, 1);
        assert_int_equal(diags.items[0].line, 3);
        assert_non_null(strstr(diags.items[0].message, "left untouched"));
        char text[128] = "";
        FILE *f = fopen(at("personal/.obsidian/app.json"), "r");
        assert_non_null(f);
        assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
        fclose(f);
        assert_string_equal(text, "{\n  \"theme\": \"moonstone\",\n  oops\n}\n");
        vs_diags_clear(&diags);
        put("personal/.obsidian/app.json", "[1, 2]");
        assert_int_equal(vs_obsidian_render(&plan, &changes, &warnings, &diags), -EINVAL);
        assert_non_null(strstr(diags.items[0].message, "must be a JSON object"));
        vs_diags_clear(&diags);
}

/* Without the state file every value already equal to ours becomes ours again. */
static void test_a_broken_state_file_is_started_afresh(void **state)
{
        render();
        put("personal/.obsidian/" VS_OBSIDIAN_STATE_FILE, "not json");
        render();
        json_t *owned = load("personal/.obsidian/" VS_OBSIDIAN_STATE_FILE);
        assert_string_equal(string_at(json_object_get(owned, "app.json"), "trashOption"), "none");
        json_decref(owned);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_the_desired_settings),
                T(test_first_render_then_nothing_changes),
                T(test_a_users_trash_setting_is_kept_with_a_warning),
                T(test_a_broken_app_json_is_left_untouched),
                T(test_a_broken_state_file_is_started_afresh),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}

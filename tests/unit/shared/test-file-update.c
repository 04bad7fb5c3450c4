/* SPDX-License-Identifier: MIT */
/* Atomic configuration writes: unchanged files are not touched, nothing is left behind. */
#include <dirent.h>
#include <errno.h>
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

#include "shared/file-update.h"

static char dir[64];

static int setup(void **state)
{
        strcpy(dir, "/tmp/vs-test-file-update.XXXXXX");
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd);
}

static size_t entries(const char *path)
{
        DIR *d = opendir(path);
        size_t n = 0;
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        closedir(d);
        return n;
}

static const char *update(const char *path, const char *text, bool dry_run)
{
        static char action[32];
        struct vs_changes changes = {.dry_run = dry_run};
        struct vs_diags diags = {0};
        assert_int_equal(vs_file_update(path, text, strlen(text), 0640, &changes, &diags), 0);
        assert_int_equal(changes.count, 1);
        assert_string_equal(changes.items[0].path, path);
        snprintf(action, sizeof(action), "%s", changes.items[0].action);
        vs_changes_clear(&changes);
        vs_diags_clear(&diags);
        return action;
}

static void test_update(void **state)
{
        char path[128], *text = NULL;
        size_t len;
        struct stat a, b;
        snprintf(path, sizeof(path), "%s/app.json", dir);

        assert_string_equal(update(path, "{}", true), "create");
        assert_int_equal(access(path, F_OK), -1);

        assert_string_equal(update(path, "{}", false), "create");
        assert_int_equal(stat(path, &a), 0);
        assert_int_equal(a.st_mode & 0777, 0640);

        assert_string_equal(update(path, "{}", false), "unchanged");
        assert_int_equal(stat(path, &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);

        assert_string_equal(update(path, "{\"a\": 1}", true), "update");
        assert_int_equal(vs_file_read(path, &text, &len), 0);
        assert_string_equal(text, "{}");
        free(text);

        assert_string_equal(update(path, "{\"a\": 1}", false), "update");
        assert_int_equal(stat(path, &b), 0);
        assert_int_not_equal(a.st_ino, b.st_ino); /* replaced by rename, never rewritten in place */
        assert_int_equal(vs_file_read(path, &text, &len), 0);
        assert_string_equal(text, "{\"a\": 1}");
        free(text);
        assert_int_equal(entries(dir), 1); /* no temporary file left */
}

static void test_update_errors(void **state)
{
        char path[128];
        struct vs_changes changes = {0};
        struct vs_diags diags = {0};
        snprintf(path, sizeof(path), "%s/missing-dir/app.json", dir);
        assert_int_equal(vs_file_update(path, "x", 1, 0644, &changes, &diags), -ENOENT);
        assert_int_equal(diags.count, 1);
        assert_string_equal(diags.items[0].file, path);
        assert_int_equal(changes.count, 0);
        vs_diags_clear(&diags);
}

static void test_mkdir_p(void **state)
{
        char path[128], file[128];
        struct vs_changes changes = {.dry_run = true};
        struct vs_diags diags = {0};
        snprintf(path, sizeof(path), "%s/a/b/c", dir);
        assert_int_equal(vs_mkdir_p(path, 0755, &changes, &diags), 0);
        assert_int_equal(changes.count, 3);
        assert_int_equal(access(path, F_OK), -1);
        vs_changes_clear(&changes);

        changes.dry_run = false;
        assert_int_equal(vs_mkdir_p(path, 0755, &changes, &diags), 0);
        assert_int_equal(changes.count, 3);
        assert_string_equal(changes.items[2].action, "mkdir");
        assert_int_equal(access(path, F_OK), 0);
        vs_changes_clear(&changes);
        assert_int_equal(vs_mkdir_p(path, 0755, &changes, &diags), 0);
        assert_int_equal(changes.count, 0);

        snprintf(file, sizeof(file), "%s/a/f", dir);
        FILE *f = fopen(file, "w");
        assert_non_null(f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/a/f/g", dir);
        assert_int_equal(vs_mkdir_p(path, 0755, &changes, &diags), -ENOTDIR);
        assert_string_equal(diags.items[0].file, file);
        assert_string_equal(diags.items[0].message, "exists and is not a directory");
        vs_changes_clear(&changes);
        vs_diags_clear(&diags);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_update, setup, teardown),
                cmocka_unit_test_setup_teardown(test_update_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

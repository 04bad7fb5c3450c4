/* SPDX-License-Identifier: MIT */
/* The app.json merge: our keys are set only while missing or still at our last value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "obsidian/obsidian.h"

struct merge_case {
        const char *what;
        const char *app;       /* the user's app.json */
        const char *state;     /* what we wrote last time */
        const char *desired;
        const char *app_after;
        const char *state_after;
        int changed;
};

#define WANT "{\"trashOption\": \"none\", \"newFileFolderPath\": \"personal/Inbox\"}"

static const struct merge_case cases[] = {
        {"fresh vault: everything set", "{}", "{}", WANT,
         "{\"trashOption\": \"none\", \"newFileFolderPath\": \"personal/Inbox\"}", WANT, 1},
        {"user keys untouched, ours appended", "{\"theme\": \"moonstone\"}", "{}", WANT,
         "{\"theme\": \"moonstone\", \"trashOption\": \"none\", \"newFileFolderPath\": \"personal/Inbox\"}",
         WANT, 1},
        {"second run: nothing to do", WANT, WANT, WANT, WANT, WANT, 0},
        {"a user's change is kept", "{\"trashOption\": \"system\", \"newFileFolderPath\": \"personal/Inbox\"}",
         WANT, WANT, "{\"trashOption\": \"system\", \"newFileFolderPath\": \"personal/Inbox\"}", WANT, 0},
        {"a value present before we ever ran is the user's",
         "{\"trashOption\": \"local\"}", "{}", WANT,
         "{\"trashOption\": \"local\", \"newFileFolderPath\": \"personal/Inbox\"}",
         "{\"newFileFolderPath\": \"personal/Inbox\"}", 1},
        {"a value already equal to ours becomes ours", "{\"trashOption\": \"none\"}", "{}", WANT,
         "{\"trashOption\": \"none\", \"newFileFolderPath\": \"personal/Inbox\"}", WANT, 1},
        {"our own old value follows a new plan",
         "{\"trashOption\": \"none\", \"newFileFolderPath\": \"me/Inbox\"}",
         "{\"trashOption\": \"none\", \"newFileFolderPath\": \"me/Inbox\"}", WANT, WANT, WANT, 1},
        {"a key we no longer want is removed if still ours",
         "{\"trashOption\": \"none\", \"promptDelete\": true, \"newFileFolderPath\": \"personal/Inbox\"}",
         "{\"trashOption\": \"none\", \"promptDelete\": true, \"newFileFolderPath\": \"personal/Inbox\"}", WANT,
         WANT, WANT, 1},
        {"... and kept if the user changed it",
         "{\"promptDelete\": false}", "{\"promptDelete\": true}", "{}", "{\"promptDelete\": false}", "{}", 0},
        {"lists: ours added, the user's kept", "{\"userIgnoreFilters\": [\"Archive/\"]}", "{}",
         "{\"userIgnoreFilters\": [\"wiki/\"]}", "{\"userIgnoreFilters\": [\"Archive/\", \"wiki/\"]}",
         "{\"userIgnoreFilters\": [\"wiki/\"]}", 1},
        {"lists: an entry we no longer want goes, the user's stays",
         "{\"userIgnoreFilters\": [\"Archive/\", \"wiki/\"]}", "{\"userIgnoreFilters\": [\"wiki/\"]}",
         "{\"userIgnoreFilters\": [\"handbook/\"]}",
         "{\"userIgnoreFilters\": [\"Archive/\", \"handbook/\"]}", "{\"userIgnoreFilters\": [\"handbook/\"]}", 1},
        {"lists: not wanted any more, ours only: the key goes",
         "{\"userIgnoreFilters\": [\"wiki/\"]}", "{\"userIgnoreFilters\": [\"wiki/\"]}", "{}", "{}", "{}", 1},
        {"lists: a non-list value is the user's", "{\"userIgnoreFilters\": \"odd\"}", "{}",
         "{\"userIgnoreFilters\": [\"wiki/\"]}", "{\"userIgnoreFilters\": \"odd\"}", "{}", 0},
};

static json_t *parse(const char *text)
{
        json_error_t err;
        json_t *j = json_loads(text, 0, &err);
        if (!j)
                fail_msg("bad fixture %s: %s", text, err.text);
        return j;
}

static void test_merge(void **state)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct merge_case *c = &cases[i];
                json_t *app = parse(c->app), *prev = parse(c->state), *desired = parse(c->desired);
                json_t *want_app = parse(c->app_after), *want_state = parse(c->state_after);
                json_t *new_state = NULL;
                int r = vs_obsidian_merge(app, prev, desired, &new_state);
                char *got_app = json_dumps(app, JSON_COMPACT), *got_state = json_dumps(new_state, JSON_COMPACT);
                if (r != c->changed || !json_equal(app, want_app) || !json_equal(new_state, want_state))
                        fail_msg("%s: changed %d (want %d)\n  app   %s\n  want  %s\n  state %s\n  want  %s",
                                 c->what, r, c->changed, got_app, c->app_after, got_state, c->state_after);
                /* Order matters for byte-identical output: the user's keys keep their place. */
                char *want_text = json_dumps(want_app, JSON_COMPACT);
                assert_string_equal(got_app, want_text);
                free(want_text);
                free(got_app);
                free(got_state);
                json_decref(app);
                json_decref(prev);
                json_decref(desired);
                json_decref(want_app);
                json_decref(want_state);
                json_decref(new_state);
        }
}

static void test_desired(void **state)
{
        const char *const excluded[] = {"wiki", "handbook"};
        struct vs_obsidian_plan plan = {.vault = "/vault", .personal = "me", .excluded = excluded,
                                        .n_excluded = 2};
        json_t *d = vs_obsidian_desired(&plan);
        char *text = json_dumps(d, JSON_COMPACT);
        assert_string_equal(text, "{\"newFileLocation\":\"folder\",\"newFileFolderPath\":\"me/Inbox\","
                                  "\"attachmentFolderPath\":\"me/Attachments\",\"trashOption\":\"none\","
                                  "\"userIgnoreFilters\":[\"wiki/\",\"handbook/\"]}");
        free(text);
        json_decref(d);
        plan.n_excluded = 0;
        d = vs_obsidian_desired(&plan);
        assert_null(json_object_get(d, "userIgnoreFilters"));
        json_decref(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_merge),
                cmocka_unit_test(test_desired),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

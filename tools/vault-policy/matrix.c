/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/display-width.h"
#include "vault-policy.h"

static int decide_user(const struct vs_policy *policy, const struct vs_user *user, int64_t now,
                       struct vs_decision **ret)
{
        struct vs_request request = {
                .user_name = user->name,
                .user_id = user->id,
                .groups = (const char *const *)user->groups,
                .n_groups = user->n_groups,
                .now = now,
        };
        return vs_policy_decide(policy, &request, ret);
}

static size_t column_width(const char *header)
{
        size_t n = strlen(header);
        return n < 7 ? 7 : n; /* fits "refused" */
}

/* Every column padded to its header's width (docker/examples/matrix.txt pins this layout). */
static void print_cell(const char *header, const char *text, bool last)
{
        /* The last column is not padded: no line ends with spaces. */
        if (last)
                printf("  %s\n", text);
        else
                printf("  %-*s", (int)column_width(header), text);
}

/* The user column: padded to width by what the name shows, not by its bytes (jürgen, 李). */
static void print_user(const char *name, size_t width)
{
        size_t shown = vs_display_width(name);
        fputs(name, stdout);
        for (; shown < width; shown++)
                putchar(' ');
}

int run_matrix(const struct vs_policy *policy, const struct vs_users *users, int64_t now, bool json)
{
        json_t *rows = json_array(), *names = json_array();
        size_t user_width = 4, refused = 0;
        int r = 0;

        for (size_t u = 0; u < users->count; u++)
                if (vs_display_width(users->items[u].name) > user_width)
                        user_width = vs_display_width(users->items[u].name);
        if (!json) {
                print_user("user", user_width);
                for (size_t f = 0; f < policy->n_folders; f++)
                        print_cell(policy->folders[f].name, policy->folders[f].name,
                                   f + 1 == policy->n_folders);
                if (policy->n_folders == 0)
                        printf("\n");
        }
        for (size_t f = 0; f < policy->n_folders; f++)
                json_array_append_new(names, json_string(policy->folders[f].name));

        for (size_t u = 0; u < users->count && r == 0; u++) {
                const struct vs_user *user = &users->items[u];
                struct vs_decision *d;
                r = decide_user(policy, user, now, &d);
                if (r < 0)
                        break;
                refused += report_decision_refusals(d, NULL);
                json_t *cells = json_object(), *groups = json_array();
                if (!json)
                        print_user(user->name, user_width);
                for (size_t f = 0; f < d->n_folders; f++) {
                        const struct vs_folder_decision *fd = &d->folders[f];
                        if (json)
                                json_object_set_new(cells, fd->folder->name,
                                                    json_string(vs_folder_decision_cell(fd)));
                        else
                                print_cell(fd->folder->name, vs_folder_decision_cell(fd),
                                           f + 1 == d->n_folders);
                }
                if (!json && d->n_folders == 0)
                        printf("\n");
                for (size_t g = 0; g < user->n_groups; g++)
                        json_array_append_new(groups, json_string(user->groups[g]));
                json_array_append_new(rows,
                                      json_pack("{s:s, s:s, s:o, s:o}", "name", user->name, "id",
                                                user->id, "groups", groups, "folders", cells));
                vs_decision_free(d);
        }
        if (r == 0 && json) {
                json_t *root = json_pack("{s:o, s:o}", "folders", names, "users", rows);
                names = rows = NULL;
                if (!root || json_dumpf(root, stdout, JSON_SORT_KEYS | JSON_INDENT(2)) < 0)
                        r = -EIO;
                else
                        fputc('\n', stdout);
                json_decref(root);
        }
        json_decref(names);
        json_decref(rows);
        if (r < 0)
                return r;
        return refused ? EXIT_PARTIAL : EXIT_OK;
}

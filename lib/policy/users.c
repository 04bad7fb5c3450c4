/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-internal.h"

/*
 * The users file for `vault-policy matrix`, `explain --users`, `lint --users` and the Kasm
 * planning commands:
 *
 *   users:
 *     - name: alice
 *       id: "1001"
 *       groups: [engineering, all-employees]
 */

static unsigned load_user(const struct yt_doc *doc, const struct yt_node *node,
                          struct vs_user *user, struct vs_diags *diags)
{
        static const struct yt_key keys[] = { { "name", true },
                                              { "id", true },
                                              { "groups", true } };
        const struct yt_node *v[3];
        unsigned errors = 0;

        if (!yt_expect(doc, node, YT_MAPPING, "a user", diags))
                return 1;
        errors += yt_map_fields(doc, node, "a user", keys, 3, v, diags);
        if (v[0] && !yt_string(doc, v[0], "name", &user->name, diags))
                errors++;
        if (v[1] && !yt_string(doc, v[1], "id", &user->id, diags))
                errors++;
        if (!v[2])
                return errors;
        if (!yt_expect(doc, v[2], YT_SEQUENCE, "groups", diags))
                return errors + 1;
        size_t n = v[2]->n_children ? v[2]->n_children : 1;
        user->groups = calloc(n, sizeof(char *));
        user->group_marks = calloc(n, sizeof(*user->group_marks));
        if (!user->groups || !user->group_marks)
                return errors + 1;
        for (size_t i = 0; i < v[2]->n_children; i++) {
                const struct yt_node *group = v[2]->children[i];
                if (yt_string(doc, group, "a group name", &user->groups[user->n_groups], diags))
                        user->group_marks[user->n_groups++] =
                                (struct vs_mark){ .line = group->line, .column = group->column };
                else
                        errors++;
        }
        return errors;
}

int vs_users_parse(const char *name, const char *text, size_t len, struct vs_users *ret,
                   struct vs_diags *diags)
{
        static const struct yt_key keys[] = { { "users", true } };
        const struct yt_node *v[1], *folders_key = NULL;
        struct yt_doc doc;
        struct vs_users users = { 0 };
        unsigned errors = 0;

        int r = yt_parse(name, text, len, &doc.root, diags);
        if (r < 0)
                return r;
        doc.file = name;
        if (!doc.root) {
                vs_diags_add(diags, name, 1, 1,
                             "empty users file; expected a mapping with a \"users\" list");
                errors++;
        } else if (!yt_expect(&doc, doc.root, YT_MAPPING, "the users file", diags)) {
                errors++;
        } else if (vp_root_key(doc.root, "folders", &folders_key) &&
                   !vp_root_key(doc.root, "users", NULL)) {
                vs_diags_add(diags, name, folders_key->line, folders_key->column,
                             "this looks like a policy (a top-level \"folders\" list, no "
                             "\"users\"), not a users "
                             "file: give the users file with --users and the policy as POLICY");
                errors++;
        } else {
                errors += yt_map_fields(&doc, doc.root, "the users file", keys, 1, v, diags);
                if (v[0] && yt_expect(&doc, v[0], YT_SEQUENCE, "users", diags)) {
                        users.items = calloc(v[0]->n_children ? v[0]->n_children : 1,
                                             sizeof(*users.items));
                        if (!users.items)
                                errors++;
                        for (size_t i = 0; users.items && i < v[0]->n_children; i++)
                                errors += load_user(&doc, v[0]->children[i],
                                                    &users.items[users.count++], diags);
                        /* A second entry for a user would give the matrix two rows that
                         * disagree. */
                        for (size_t i = 0; users.items && i < users.count; i++)
                                for (size_t j = 0; users.items[i].name && j < i; j++)
                                        if (users.items[j].name &&
                                            strcmp(users.items[i].name, users.items[j].name) == 0) {
                                                const struct yt_node *dup = v[0]->children[i],
                                                                     *first = v[0]->children[j];
                                                vs_diags_add(diags, name, dup->line, dup->column,
                                                             "duplicate user \"%s\" (first at "
                                                             "%u:%u); give each user once",
                                                             users.items[i].name, first->line,
                                                             first->column);
                                                errors++;
                                                break;
                                        }
                } else if (v[0]) {
                        errors++;
                }
        }
        yt_free(doc.root);
        if (!errors && !(users.file = strdup(name)))
                errors++;
        if (errors) {
                vs_users_clear(&users);
                return -EINVAL;
        }
        *ret = users;
        return 0;
}

static int parse_users(const char *name, const char *text, size_t len, void *ret,
                       struct vs_diags *diags)
{
        return vs_users_parse(name, text, len, ret, diags);
}

int vs_users_load(const char *path, struct vs_users *ret, struct vs_diags *diags)
{
        return vp_load_file(path, "users file", parse_users, ret, diags);
}

void vs_users_clear(struct vs_users *users)
{
        for (size_t i = 0; i < users->count; i++) {
                struct vs_user *user = &users->items[i];
                for (size_t g = 0; g < user->n_groups; g++)
                        free(user->groups[g]);
                free(user->groups);
                free(user->group_marks);
                free(user->name);
                free(user->id);
        }
        free(users->items);
        free(users->file);
        *users = (struct vs_users){ 0 };
}

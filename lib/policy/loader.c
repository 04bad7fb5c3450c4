/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "policy/policy-internal.h"
#include "shared/rfc3339.h"

#define CONTROL_CHARACTERS "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" \
        "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"

struct loader {
        const struct yt_doc *doc;
        struct vs_diags *diags;
        unsigned errors;
};

#define load_error(l, node, ...)                                                                   \
        ((l)->errors++, yt_error((l)->doc, (node), (l)->diags, __VA_ARGS__))

static struct vs_mark mark_of(const struct yt_node *node)
{
        return (struct vs_mark){ .line = node->line, .column = node->column };
}

static bool load_string(struct loader *l, const struct yt_node *node, const char *what, char **ret)
{
        if (yt_string(l->doc, node, what, ret, l->diags))
                return true;
        l->errors++;
        return false;
}

/* A scalar that must be one of two words; sets *ret to 0 or 1. */
static bool load_choice(struct loader *l, const struct yt_node *node, const char *what,
                        const char *first, const char *second, int *ret)
{
        if (!yt_expect(l->doc, node, YT_SCALAR, what, l->diags)) {
                l->errors++;
                return false;
        }
        if (strcmp(node->value, first) == 0) {
                *ret = 0;
                return true;
        }
        if (strcmp(node->value, second) == 0) {
                *ret = 1;
                return true;
        }
        load_error(l, node, "%s must be \"%s\" or \"%s\", got \"%s\"", what, first, second,
                   node->value);
        return false;
}

static void load_mode(struct loader *l, const struct yt_node *node, const char *what,
                      enum vs_mode *ret)
{
        int choice;
        if (load_choice(l, node, what, "ro", "rw", &choice))
                *ret = choice ? VS_MODE_RW : VS_MODE_RO;
}

static void load_time(struct loader *l, const struct yt_node *node, const char *what, int64_t *ret)
{
        if (!yt_expect(l->doc, node, YT_SCALAR, what, l->diags)) {
                l->errors++;
                return;
        }
        char why[VS_RFC3339_PROBLEM_MAX];
        if (vp_time_parse_bound(node->value, ret) < 0)
                load_error(l, node,
                           "%s must be an RFC 3339 date-time with a time zone, such as "
                           "2027-01-31T00:00:00Z, got \"%s\": %s",
                           what, node->value, vs_rfc3339_problem(node->value, why));
}

static void load_groups(struct loader *l, const struct yt_node *node, struct vs_policy_rule *rule)
{
        if (!yt_expect(l->doc, node, YT_SEQUENCE, "groups", l->diags)) {
                l->errors++;
                return;
        }
        if (node->n_children == 0) {
                load_error(l, node, "groups must not be empty; expected at least one group name");
                return;
        }
        rule->groups = calloc(node->n_children, sizeof(*rule->groups));
        if (!rule->groups) {
                l->errors++;
                return;
        }
        for (size_t i = 0; i < node->n_children; i++) {
                const struct yt_node *item = node->children[i];
                char *name = NULL;
                if (!load_string(l, item, "a group name", &name))
                        continue;
                if (!*name || strcspn(name, CONTROL_CHARACTERS) != strlen(name)) {
                        load_error(l, item,
                                   "a group name must be non-empty and free of control characters");
                        free(name);
                        continue;
                }
                for (size_t j = 0; j < rule->n_groups; j++)
                        if (strcmp(rule->groups[j].name, name) == 0) {
                                load_error(l, item,
                                           "group \"%s\" is listed twice in this rule (first at "
                                           "%u:%u)",
                                           name, rule->groups[j].mark.line,
                                           rule->groups[j].mark.column);
                                free(name);
                                name = NULL;
                                break;
                        }
                if (name)
                        rule->groups[rule->n_groups++] =
                                (struct vs_policy_group){ .name = name, .mark = mark_of(item) };
        }
}

static void load_rule(struct loader *l, const struct yt_node *node, struct vs_policy_rule *rule)
{
        static const struct yt_key keys[] = {
                { "groups", true },     { "compound", false }, { "mode", false },
                { "effect", false },    { "scope", false },    { "not_before", false },
                { "not_after", false },
        };
        const struct yt_node *v[7];
        int choice;

        rule->mark = mark_of(node);
        rule->not_before = rule->not_after = VS_TIME_NONE;
        rule->mode = VS_MODE_RO;
        if (!yt_expect(l->doc, node, YT_MAPPING, "an access rule", l->diags)) {
                l->errors++;
                return;
        }
        l->errors += yt_map_fields(l->doc, node, "an access rule", keys, 7, v, l->diags);
        if (v[0])
                load_groups(l, v[0], rule);
        if (v[1] && load_choice(l, v[1], "compound", "any", "all", &choice))
                rule->compound = choice ? VS_COMPOUND_ALL : VS_COMPOUND_ANY;
        if (v[3] && load_choice(l, v[3], "effect", "allow", "deny", &choice))
                rule->effect = choice ? VS_EFFECT_DENY : VS_EFFECT_ALLOW;
        if (v[2]) {
                load_mode(l, v[2], "mode", &rule->mode);
                if (rule->effect == VS_EFFECT_DENY)
                        load_error(l, v[2],
                                   "mode applies to allow rules only; a deny rule takes \"scope: "
                                   "all\" or \"scope: write\"");
        }
        if (v[4]) {
                if (load_choice(l, v[4], "scope", "all", "write", &choice))
                        rule->scope = choice ? VS_SCOPE_WRITE : VS_SCOPE_ALL;
                if (rule->effect != VS_EFFECT_DENY)
                        load_error(l, v[4],
                                   "scope applies to deny rules only; an allow rule takes \"mode: "
                                   "ro\" or \"mode: rw\"");
        }
        if (v[5]) {
                load_time(l, v[5], "not_before", &rule->not_before);
                rule->not_before_mark = mark_of(v[5]);
        }
        if (v[6]) {
                load_time(l, v[6], "not_after", &rule->not_after);
                rule->not_after_mark = mark_of(v[6]);
        }
}

static void load_implies(struct loader *l, const struct yt_node *node,
                         struct vs_policy_implies *implies)
{
        static const struct yt_key keys[] = { { "folder", true }, { "max_mode", false } };
        const struct yt_node *v[2];

        implies->mark = mark_of(node);
        implies->max_mode = VS_MODE_RO;
        if (!yt_expect(l->doc, node, YT_MAPPING, "an implies entry", l->diags)) {
                l->errors++;
                return;
        }
        l->errors += yt_map_fields(l->doc, node, "an implies entry", keys, 2, v, l->diags);
        if (v[0])
                load_string(l, v[0], "implies folder", &implies->folder);
        if (v[1])
                load_mode(l, v[1], "max_mode", &implies->max_mode);
}

/* Allocate and load each item of a sequence; n_ret counts the slots loaded. */
#define LOAD_LIST(l, node, what, array, n_array, load_one)                                         \
        do {                                                                                       \
                if (!yt_expect((l)->doc, (node), YT_SEQUENCE, (what), (l)->diags)) {               \
                        (l)->errors++;                                                             \
                        break;                                                                     \
                }                                                                                  \
                if ((node)->n_children == 0)                                                       \
                        break;                                                                     \
                (array) = calloc((node)->n_children, sizeof(*(array)));                            \
                if (!(array)) {                                                                    \
                        (l)->errors++;                                                             \
                        break;                                                                     \
                }                                                                                  \
                for (size_t i_ = 0; i_ < (node)->n_children; i_++) {                               \
                        (array)[i_].index = i_;                                                    \
                        load_one((l), (node)->children[i_], &(array)[i_]);                         \
                        (n_array)++;                                                               \
                }                                                                                  \
        } while (0)

static void load_folder(struct loader *l, const struct yt_node *node,
                        struct vs_policy_folder *folder)
{
        static const struct yt_key keys[] = {
                { "name", true },     { "path", true },      { "access", false },
                { "implies", false }, { "required", false }, { "personal", false },
        };
        const struct yt_node *v[6];

        folder->mark = mark_of(node);
        folder->required = true;
        if (!yt_expect(l->doc, node, YT_MAPPING, "a folder", l->diags)) {
                l->errors++;
                return;
        }
        l->errors += yt_map_fields(l->doc, node, "a folder", keys, 6, v, l->diags);
        if (v[0] && load_string(l, v[0], "name", &folder->name))
                folder->name_mark = mark_of(v[0]);
        if (v[1] && load_string(l, v[1], "path", &folder->path))
                folder->path_mark = mark_of(v[1]);
        if (v[2])
                LOAD_LIST(l, v[2], "access", folder->rules, folder->n_rules, load_rule);
        if (v[3])
                LOAD_LIST(l, v[3], "implies", folder->implies, folder->n_implies, load_implies);
        if (v[4] && !yt_bool(l->doc, v[4], "required", &folder->required, l->diags))
                l->errors++;
        if (v[5] && !yt_bool(l->doc, v[5], "personal", &folder->personal, l->diags))
                l->errors++;
}

bool vp_root_key(const struct yt_node *map, const char *name, const struct yt_node **key)
{
        for (size_t i = 0; map->kind == YT_MAPPING && i < map->n_children; i++)
                if (map->keys[i]->kind == YT_SCALAR && strcmp(map->keys[i]->value, name) == 0) {
                        if (key)
                                *key = map->keys[i];
                        return true;
                }
        return false;
}

static void load_root(struct loader *l, const struct yt_node *root, struct vs_policy *policy)
{
        const struct yt_node *users_key = NULL;
        static const struct yt_key keys[] = { { "version", false },
                                              { "vault", false },
                                              { "folders", true } };
        const struct yt_node *v[3];

        if (!root) {
                l->errors++;
                vs_diags_add(l->diags, l->doc->file, 1, 1,
                             "empty policy; expected a mapping with a \"folders\" list");
                return;
        }
        if (!yt_expect(l->doc, root, YT_MAPPING, "the policy", l->diags)) {
                l->errors++;
                return;
        }
        /* Two files in one command are easily swapped: say which one this is. */
        if (vp_root_key(root, "users", &users_key) && !vp_root_key(root, "folders", NULL)) {
                load_error(l, users_key,
                           "this looks like a users file (a top-level \"users\" list, no "
                           "\"folders\"), not "
                           "a policy: give it with --users and the policy as POLICY");
                return;
        }
        l->errors += yt_map_fields(l->doc, root, "the policy", keys, 3, v, l->diags);
        if (v[0] && !(v[0]->kind == YT_SCALAR && v[0]->plain && strcmp(v[0]->value, "1") == 0))
                load_error(l, v[0], "version must be 1, got \"%s\"",
                           v[0]->kind == YT_SCALAR ? v[0]->value : "?");
        if (v[1] && load_string(l, v[1], "vault", &policy->vault))
                policy->vault_mark = mark_of(v[1]);
        if (!policy->vault && !(policy->vault = strdup(VS_POLICY_DEFAULT_VAULT)))
                l->errors++;
        if (v[2] && yt_expect(l->doc, v[2], YT_SEQUENCE, "folders", l->diags)) {
                size_t n = v[2]->n_children;
                policy->folders = n ? calloc(n, sizeof(*policy->folders)) : NULL;
                if (n && !policy->folders) {
                        l->errors++;
                        return;
                }
                for (size_t i = 0; i < n; i++) {
                        load_folder(l, v[2]->children[i], &policy->folders[i]);
                        policy->n_folders++;
                }
        } else if (v[2]) {
                l->errors++;
        }
}

static int compare_diag_position(const void *a, const void *b)
{
        const struct vs_diag *da = a, *db = b;
        if (da->line != db->line)
                return da->line < db->line ? -1 : 1;
        if (da->column != db->column)
                return da->column < db->column ? -1 : 1;
        return strcmp(da->message, db->message);
}

/* Report in file order, whichever pass found the problem. */
static void sort_diags_from(struct vs_diags *diags, size_t first)
{
        if (diags->count - first > 1)
                qsort(diags->items + first, diags->count - first, sizeof(*diags->items),
                      compare_diag_position);
}

int vs_policy_parse(const char *name, const char *text, size_t len, struct vs_policy **ret,
                    struct vs_diags *diags)
{
        struct yt_doc doc;
        size_t first_diag = diags->count;
        int r = yt_parse(name, text, len, &doc.root, diags);
        if (r < 0)
                return r;
        doc.file = name;

        struct vs_policy *policy = calloc(1, sizeof(*policy));
        if (!policy || !(policy->file = strdup(name))) {
                free(policy);
                yt_free(doc.root);
                return -ENOMEM;
        }
        struct loader l = { .doc = &doc, .diags = diags };
        load_root(&l, doc.root, policy);
        yt_free(doc.root);

        l.errors += vs_policy_validate(policy, diags);
        sort_diags_from(diags, first_diag);
        if (l.errors) {
                vs_policy_free(policy);
                return -EINVAL;
        }
        vs_policy_index(policy);
        /* Only a valid, indexed policy can be decided, which the nesting check does. */
        if (vs_policy_check_nesting(policy, diags)) {
                sort_diags_from(diags, first_diag);
                vs_policy_free(policy);
                return -EINVAL;
        }
        *ret = policy;
        return 0;
}

int vp_load_file(const char *path, const char *what, vp_parse_fn parse, void *ret,
                 struct vs_diags *diags)
{
        char *text;
        size_t len;
        char why[VS_READ_INPUT_ERROR_BUF];
        int r = vs_read_file(AT_FDCWD, path, 0, VS_INPUT_MAX_BYTES, &text, &len);
        if (r < 0) {
                vs_diags_add(diags, path, 0, 0, "cannot read %s: %s", what,
                             vs_read_input_error(r, VS_INPUT_MAX_BYTES, why, sizeof(why)));
                return r;
        }
        r = parse(path, text, len, ret, diags);
        free(text);
        return r;
}

static int parse_policy(const char *name, const char *text, size_t len, void *ret,
                        struct vs_diags *diags)
{
        return vs_policy_parse(name, text, len, ret, diags);
}

int vs_policy_load(const char *path, struct vs_policy **ret, struct vs_diags *diags)
{
        return vp_load_file(path, "policy", parse_policy, ret, diags);
}

static void rule_free(struct vs_policy_rule *rule)
{
        for (size_t i = 0; i < rule->n_groups; i++)
                free(rule->groups[i].name);
        free(rule->groups);
}

void vs_policy_free(struct vs_policy *policy)
{
        if (!policy)
                return;
        for (size_t f = 0; f < policy->n_folders; f++) {
                struct vs_policy_folder *folder = &policy->folders[f];
                for (size_t i = 0; i < folder->n_rules; i++)
                        rule_free(&folder->rules[i]);
                free(folder->rules);
                for (size_t i = 0; i < folder->n_implies; i++)
                        free(folder->implies[i].folder);
                free(folder->implies);
                free(folder->name);
                free(folder->path);
        }
        free(policy->folders);
        free(policy->vault);
        free(policy->file);
        free(policy);
}

/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "shared/yaml-fields.h"

static const char *kind_noun(enum yt_kind kind)
{
        return kind == YT_MAPPING ? "a mapping" : kind == YT_SEQUENCE ? "a list" : "a scalar";
}

unsigned yt_map_fields(const struct yt_doc *doc, const struct yt_node *map, const char *what,
                       const struct yt_key *keys, size_t n_keys, const struct yt_node **values,
                       struct vs_diags *diags)
{
        unsigned errors = 0;

        for (size_t k = 0; k < n_keys; k++)
                values[k] = NULL;

        for (size_t i = 0; i < map->n_children; i++) {
                const struct yt_node *key = map->keys[i];
                if (key->kind != YT_SCALAR) {
                        yt_error(doc, key, diags, "expected a key name in %s, got %s", what,
                                 yt_kind_name(key));
                        errors++;
                        continue;
                }
                size_t k;
                for (k = 0; k < n_keys; k++)
                        if (strcmp(keys[k].name, key->value) == 0)
                                break;
                if (k == n_keys) {
                        char expected[256] = "";
                        for (size_t j = 0; j < n_keys; j++) {
                                strncat(expected, j ? ", " : "", sizeof(expected) - strlen(expected) - 1);
                                strncat(expected, keys[j].name, sizeof(expected) - strlen(expected) - 1);
                        }
                        yt_error(doc, key, diags, "unknown key \"%s\" in %s; expected one of: %s",
                                 key->value, what, expected);
                        errors++;
                        continue;
                }
                if (values[k]) {
                        for (size_t j = 0; j < i; j++)
                                if (map->keys[j]->kind == YT_SCALAR && strcmp(map->keys[j]->value, key->value) == 0) {
                                        yt_error(doc, key, diags,
                                                 "duplicate key \"%s\" in %s (first at %u:%u)",
                                                 key->value, what, map->keys[j]->line,
                                                 map->keys[j]->column);
                                        break;
                                }
                        errors++;
                        continue;
                }
                values[k] = map->children[i];
        }

        for (size_t k = 0; k < n_keys; k++)
                if (keys[k].required && !values[k]) {
                        yt_error(doc, map, diags, "missing required key \"%s\" in %s", keys[k].name,
                                 what);
                        errors++;
                }
        return errors;
}

bool yt_expect(const struct yt_doc *doc, const struct yt_node *node, enum yt_kind kind,
               const char *what, struct vs_diags *diags)
{
        if (node->kind == kind)
                return true;
        yt_error(doc, node, diags, "%s must be %s, got %s", what, kind_noun(kind),
                 yt_kind_name(node));
        return false;
}

bool yt_bool(const struct yt_doc *doc, const struct yt_node *node, const char *what, bool *ret,
             struct vs_diags *diags)
{
        if (!yt_expect(doc, node, YT_SCALAR, what, diags))
                return false;
        if (node->plain && (strcmp(node->value, "true") == 0 || strcmp(node->value, "false") == 0)) {
                *ret = node->value[0] == 't';
                return true;
        }
        yt_error(doc, node, diags, "%s must be true or false, got \"%s\"", what, node->value);
        return false;
}

bool yt_string(const struct yt_doc *doc, const struct yt_node *node, const char *what, char **ret,
               struct vs_diags *diags)
{
        if (!yt_expect(doc, node, YT_SCALAR, what, diags))
                return false;
        char *copy = strdup(node->value);
        if (!copy)
                return false;
        *ret = copy;
        return true;
}

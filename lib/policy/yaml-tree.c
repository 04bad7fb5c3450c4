/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy/yaml-tree.h"

/* Deep nesting is never meaningful here and would make the recursive free unbounded. */
#define VPY_MAX_DEPTH 64

static void node_free(struct vpy_node *node)
{
        if (!node)
                return;
        for (size_t i = 0; i < node->n_items; i++)
                node_free(node->items[i]);
        free(node->items);
        free(node->value);
        free(node);
}

void vpy_free(struct vpy_doc *doc)
{
        node_free(doc->root);
        doc->root = NULL;
}

const char *vpy_kind_name(enum vpy_kind kind)
{
        switch (kind) {
        case VPY_SCALAR:
                return "a scalar";
        case VPY_SEQUENCE:
                return "a sequence";
        case VPY_MAPPING:
                return "a mapping";
        }
        return "?";
}

static int node_append(struct vpy_node *parent, struct vpy_node *child)
{
        struct vpy_node **items = realloc(parent->items, (parent->n_items + 1) * sizeof(*items));
        if (!items)
                return -ENOMEM;
        items[parent->n_items++] = child;
        parent->items = items;
        return 0;
}

static struct vpy_node *node_new(enum vpy_kind kind, const yaml_mark_t *mark)
{
        struct vpy_node *node = calloc(1, sizeof(*node));
        if (!node)
                return NULL;
        node->kind = kind;
        node->line = (unsigned)mark->line + 1;
        node->column = (unsigned)mark->column + 1;
        return node;
}

/* Refuse anchors and explicit tags: policies must read the same to every YAML consumer. */
static bool refuse_decorations(const char *file, const yaml_event_t *ev, const yaml_char_t *anchor,
                               const yaml_char_t *tag, struct vs_diags *diags)
{
        unsigned line = (unsigned)ev->start_mark.line + 1, column = (unsigned)ev->start_mark.column + 1;
        bool refused = false;
        if (anchor) {
                vs_diags_add(diags, file, line, column,
                             "YAML anchors are not allowed (found &%s); write the value out", anchor);
                refused = true;
        }
        if (tag) {
                vs_diags_add(diags, file, line, column,
                             "YAML tags are not allowed (found %s); write a plain value", tag);
                refused = true;
        }
        return refused;
}

int vpy_parse(const char *file, const char *text, size_t len, struct vpy_doc *doc, struct vs_diags *diags)
{
        yaml_parser_t parser;
        struct vpy_node *stack[VPY_MAX_DEPTH];
        size_t depth = 0;
        struct vpy_node *root = NULL;
        unsigned documents = 0;
        bool failed = false, done = false;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

        while (!done) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&parser, &ev)) {
                        const yaml_mark_t *mark = parser.context ? &parser.context_mark : &parser.problem_mark;
                        if (parser.problem_mark.line || parser.problem_mark.column)
                                mark = &parser.problem_mark;
                        vs_diags_add(diags, file, (unsigned)mark->line + 1, (unsigned)mark->column + 1,
                                     "invalid YAML: %s%s%s", parser.problem ? parser.problem : "parse error",
                                     parser.context ? " " : "", parser.context ? parser.context : "");
                        failed = true;
                        break;
                }

                struct vpy_node *node = NULL;
                bool opens = false;
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++documents > 1) {
                                vs_diags_add(diags, file, (unsigned)ev.start_mark.line + 1,
                                             (unsigned)ev.start_mark.column + 1,
                                             "expected a single YAML document, found another one");
                                failed = true;
                                done = true;
                        }
                        break;
                case YAML_ALIAS_EVENT:
                        vs_diags_add(diags, file, (unsigned)ev.start_mark.line + 1,
                                     (unsigned)ev.start_mark.column + 1,
                                     "YAML aliases are not allowed (found *%s); write the value out",
                                     ev.data.alias.anchor);
                        failed = true;
                        break;
                case YAML_SCALAR_EVENT:
                        if (refuse_decorations(file, &ev, ev.data.scalar.anchor, ev.data.scalar.tag, diags))
                                failed = true;
                        node = node_new(VPY_SCALAR, &ev.start_mark);
                        if (node) {
                                node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                                node->length = ev.data.scalar.length;
                                node->value = malloc(node->length + 1);
                                if (node->value) {
                                        memcpy(node->value, ev.data.scalar.value, node->length);
                                        node->value[node->length] = '\0';
                                }
                        }
                        if (!node || !node->value)
                                r = -ENOMEM;
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        if (refuse_decorations(file, &ev, ev.data.sequence_start.anchor,
                                               ev.data.sequence_start.tag, diags))
                                failed = true;
                        node = node_new(VPY_SEQUENCE, &ev.start_mark);
                        opens = true;
                        if (!node)
                                r = -ENOMEM;
                        break;
                case YAML_MAPPING_START_EVENT:
                        if (refuse_decorations(file, &ev, ev.data.mapping_start.anchor,
                                               ev.data.mapping_start.tag, diags))
                                failed = true;
                        node = node_new(VPY_MAPPING, &ev.start_mark);
                        opens = true;
                        if (!node)
                                r = -ENOMEM;
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        if (depth > 0)
                                depth--;
                        break;
                default:
                        break;
                }

                if (node && r == 0) {
                        if (depth > 0)
                                r = node_append(stack[depth - 1], node);
                        else if (!root)
                                root = node;
                        else
                                r = -EINVAL; /* cannot happen with one document */
                        if (r < 0) {
                                node_free(node);
                        } else if (opens) {
                                if (depth == VPY_MAX_DEPTH) {
                                        vs_diags_add(diags, file, node->line, node->column,
                                                     "YAML nested deeper than %d levels", VPY_MAX_DEPTH);
                                        failed = true;
                                        done = true;
                                } else {
                                        stack[depth++] = node;
                                }
                        }
                } else if (node) {
                        node_free(node);
                }
                yaml_event_delete(&ev);
                if (r < 0)
                        break;
        }
        yaml_parser_delete(&parser);

        if (r == 0 && failed)
                r = -EINVAL;
        if (r < 0) {
                node_free(root);
                return r;
        }
        *doc = (struct vpy_doc){ .file = file, .root = root };
        return 0;
}

unsigned vpy_map_fields(const struct vpy_doc *doc, const struct vpy_node *map, const char *what,
                       const struct vpy_key *keys, size_t n_keys, const struct vpy_node **values,
                       struct vs_diags *diags)
{
        unsigned errors = 0;

        for (size_t k = 0; k < n_keys; k++)
                values[k] = NULL;

        for (size_t i = 0; i + 1 < map->n_items; i += 2) {
                const struct vpy_node *key = map->items[i];
                if (key->kind != VPY_SCALAR) {
                        vpy_error(doc, key, diags, "expected a key name in %s, got %s", what,
                                 vpy_kind_name(key->kind));
                        errors++;
                        continue;
                }
                size_t k;
                for (k = 0; k < n_keys; k++)
                        if (strcmp(keys[k].name, key->value) == 0 && strlen(key->value) == key->length)
                                break;
                if (k == n_keys) {
                        char expected[256] = "";
                        for (size_t j = 0; j < n_keys; j++) {
                                strncat(expected, j ? ", " : "", sizeof(expected) - strlen(expected) - 1);
                                strncat(expected, keys[j].name, sizeof(expected) - strlen(expected) - 1);
                        }
                        vpy_error(doc, key, diags, "unknown key \"%s\" in %s; expected one of: %s",
                                 key->value, what, expected);
                        errors++;
                        continue;
                }
                if (values[k]) {
                        for (size_t j = 0; j < i; j += 2)
                                if (map->items[j]->kind == VPY_SCALAR && strcmp(map->items[j]->value, key->value) == 0) {
                                        vpy_error(doc, key, diags, "duplicate key \"%s\" in %s (first at %u:%u)",
                                                 key->value, what, map->items[j]->line, map->items[j]->column);
                                        break;
                                }
                        errors++;
                        continue;
                }
                values[k] = map->items[i + 1];
        }

        for (size_t k = 0; k < n_keys; k++)
                if (keys[k].required && !values[k]) {
                        vpy_error(doc, map, diags, "missing required key \"%s\" in %s", keys[k].name, what);
                        errors++;
                }
        return errors;
}

bool vpy_expect(const struct vpy_doc *doc, const struct vpy_node *node, enum vpy_kind kind,
               const char *what, struct vs_diags *diags)
{
        if (node->kind == kind)
                return true;
        vpy_error(doc, node, diags, "%s must be %s, got %s", what, vpy_kind_name(kind), vpy_kind_name(node->kind));
        return false;
}

bool vpy_bool(const struct vpy_doc *doc, const struct vpy_node *node, const char *what, bool *ret,
             struct vs_diags *diags)
{
        if (!vpy_expect(doc, node, VPY_SCALAR, what, diags))
                return false;
        if (node->plain && strcmp(node->value, "true") == 0) {
                *ret = true;
                return true;
        }
        if (node->plain && strcmp(node->value, "false") == 0) {
                *ret = false;
                return true;
        }
        vpy_error(doc, node, diags, "%s must be true or false, got \"%s\"", what, node->value);
        return false;
}

bool vpy_string(const struct vpy_doc *doc, const struct vpy_node *node, const char *what, char **ret,
               struct vs_diags *diags)
{
        if (!vpy_expect(doc, node, VPY_SCALAR, what, diags))
                return false;
        if (strlen(node->value) != node->length) {
                vpy_error(doc, node, diags, "%s must not contain a NUL byte", what);
                return false;
        }
        char *copy = strdup(node->value);
        if (!copy)
                return false;
        *ret = copy;
        return true;
}

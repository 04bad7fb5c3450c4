/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "shared/yaml-tree.h"

struct builder {
        yaml_parser_t parser;
        const char *file;
        struct vs_diags *diags;
        int error;
};

static int add_child(struct yt_node *parent, struct yt_node *key, struct yt_node *child)
{
        size_t n = parent->n_children + 1;
        struct yt_node **children = realloc(parent->children, n * sizeof(*children));
        if (!children)
                return -ENOMEM;
        parent->children = children;
        if (parent->kind == YT_MAPPING) {
                struct yt_node **keys = realloc(parent->keys, n * sizeof(*keys));
                if (!keys)
                        return -ENOMEM;
                parent->keys = keys;
                keys[n - 1] = key;
        }
        children[n - 1] = child;
        parent->n_children = n;
        return 0;
}

static struct yt_node *new_node(enum yt_kind kind, const yaml_mark_t *mark)
{
        struct yt_node *n = calloc(1, sizeof(*n));
        if (n) {
                n->kind = kind;
                n->line = (unsigned)mark->line + 1;
                n->column = (unsigned)mark->column + 1;
        }
        return n;
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
        if (yaml_parser_parse(&b->parser, ev))
                return 0;
        const yaml_mark_t *m = &b->parser.problem_mark;
        if (b->parser.context)
                vs_diags_add(b->diags, b->file, (unsigned)m->line + 1, (unsigned)m->column + 1,
                             "YAML syntax error: %s %s", b->parser.problem, b->parser.context);
        else
                vs_diags_add(b->diags, b->file, (unsigned)m->line + 1, (unsigned)m->column + 1,
                             "YAML syntax error: %s",
                             b->parser.problem ? b->parser.problem : "cannot parse");
        return -EINVAL;
}

/* Refuse the YAML features a data file has no use for; report each one where it is. */
static int refuse_decorations(struct builder *b, const yaml_event_t *ev, const char *anchor,
                              const char *tag)
{
        unsigned line = (unsigned)ev->start_mark.line + 1, col = (unsigned)ev->start_mark.column + 1;
        int r = 0;
        if (anchor) {
                vs_diags_add(b->diags, b->file, line, col,
                             "YAML anchors are not allowed (&%s)", anchor);
                r = -EINVAL;
        }
        if (tag) {
                vs_diags_add(b->diags, b->file, line, col, "YAML tags are not allowed (%s)", tag);
                r = -EINVAL;
        }
        return r;
}

static int build_node(struct builder *b, yaml_event_t *ev, struct yt_node **ret);

static int build_collection(struct builder *b, struct yt_node *coll, yaml_event_type_t end)
{
        for (;;) {
                yaml_event_t ev;
                int r = next_event(b, &ev);
                if (r < 0)
                        return r;
                if (ev.type == end) {
                        yaml_event_delete(&ev);
                        return 0;
                }
                struct yt_node *key = NULL, *child = NULL;
                if (coll->kind == YT_MAPPING) {
                        r = build_node(b, &ev, &key);
                        yaml_event_delete(&ev);
                        if (r < 0)
                                return r;
                        r = next_event(b, &ev);
                        if (r < 0) {
                                yt_free(key);
                                return r;
                        }
                }
                r = build_node(b, &ev, &child);
                yaml_event_delete(&ev);
                if (r >= 0)
                        r = add_child(coll, key, child);
                if (r < 0) {
                        yt_free(key);
                        yt_free(child);
                        return r;
                }
        }
}

static int build_node(struct builder *b, yaml_event_t *ev, struct yt_node **ret)
{
        struct yt_node *n = NULL;
        int r;

        switch (ev->type) {
        case YAML_ALIAS_EVENT:
                vs_diags_add(b->diags, b->file, (unsigned)ev->start_mark.line + 1,
                             (unsigned)ev->start_mark.column + 1,
                             "YAML aliases are not allowed (*%s)", (char *)ev->data.alias.anchor);
                return -EINVAL;
        case YAML_SCALAR_EVENT:
                r = refuse_decorations(b, ev, (char *)ev->data.scalar.anchor,
                                       (char *)ev->data.scalar.tag);
                if (r < 0)
                        return r;
                n = new_node(YT_SCALAR, &ev->start_mark);
                if (!n)
                        return -ENOMEM;
                n->value = strndup((char *)ev->data.scalar.value, ev->data.scalar.length);
                if (!n->value) {
                        free(n);
                        return -ENOMEM;
                }
                if (strlen(n->value) != ev->data.scalar.length) {
                        vs_diags_add(b->diags, b->file, n->line, n->column,
                                     "NUL bytes are not allowed in values");
                        yt_free(n);
                        return -EINVAL;
                }
                n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                *ret = n;
                return 0;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT: {
                bool mapping = ev->type == YAML_MAPPING_START_EVENT;
                r = refuse_decorations(b, ev,
                                       (char *)(mapping ? ev->data.mapping_start.anchor
                                                        : ev->data.sequence_start.anchor),
                                       (char *)(mapping ? ev->data.mapping_start.tag
                                                        : ev->data.sequence_start.tag));
                if (r < 0)
                        return r;
                n = new_node(mapping ? YT_MAPPING : YT_SEQUENCE, &ev->start_mark);
                if (!n)
                        return -ENOMEM;
                r = build_collection(b, n, mapping ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT);
                if (r < 0) {
                        yt_free(n);
                        return r;
                }
                *ret = n;
                return 0;
        }
        default:
                vs_diags_add(b->diags, b->file, (unsigned)ev->start_mark.line + 1,
                             (unsigned)ev->start_mark.column + 1, "unexpected YAML event");
                return -EINVAL;
        }
}

/* Read the next event, which libyaml guarantees to be of a structural type here; drop it. */
static int skip_event(struct builder *b, yaml_event_type_t *type)
{
        yaml_event_t ev;
        int r = next_event(b, &ev);
        if (r < 0)
                return r;
        if (type)
                *type = ev.type;
        yaml_event_delete(&ev);
        return 0;
}

int yt_parse(const char *file, const char *text, size_t len, struct yt_node **ret,
             struct vs_diags *diags)
{
        struct builder b = {.file = file, .diags = diags};
        struct yt_node *root = NULL;
        yaml_event_type_t type;
        yaml_event_t ev;
        int r;

        if (!yaml_parser_initialize(&b.parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);

        r = skip_event(&b, NULL); /* STREAM_START */
        if (r < 0)
                goto out;
        r = skip_event(&b, &type); /* DOCUMENT_START or STREAM_END */
        if (r < 0)
                goto out;
        if (type == YAML_STREAM_END_EVENT) {
                vs_diags_add(diags, file, 1, 1, "the file is empty");
                r = -EINVAL;
                goto out;
        }

        r = next_event(&b, &ev);
        if (r < 0)
                goto out;
        r = build_node(&b, &ev, &root);
        yaml_event_delete(&ev);
        if (r < 0)
                goto out;

        r = skip_event(&b, NULL); /* DOCUMENT_END */
        if (r < 0)
                goto out;
        r = next_event(&b, &ev);
        if (r < 0)
                goto out;
        if (ev.type != YAML_STREAM_END_EVENT) {
                vs_diags_add(diags, file, (unsigned)ev.start_mark.line + 1,
                             (unsigned)ev.start_mark.column + 1,
                             "only one YAML document is allowed");
                r = -EINVAL;
        }
        yaml_event_delete(&ev);

out:
        yaml_parser_delete(&b.parser);
        if (r < 0) {
                yt_free(root);
                return r == -ENOMEM ? r : -EINVAL;
        }
        *ret = root;
        return 0;
}

void yt_free(struct yt_node *n)
{
        if (!n)
                return;
        for (size_t i = 0; i < n->n_children; i++) {
                if (n->keys)
                        yt_free(n->keys[i]);
                yt_free(n->children[i]);
        }
        free(n->keys);
        free(n->children);
        free(n->value);
        free(n);
}

bool yt_is_null(const struct yt_node *n)
{
        return n->kind == YT_SCALAR && n->plain &&
               (n->value[0] == '\0' || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
                strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0);
}

bool yt_is_bool(const struct yt_node *n, bool *value)
{
        static const char *const truthy[] = {"true", "yes", "on", "y"};
        static const char *const falsy[] = {"false", "no", "off", "n"};
        if (n->kind != YT_SCALAR || !n->plain)
                return false;
        for (size_t i = 0; i < sizeof(truthy) / sizeof(truthy[0]); i++) {
                if (strcasecmp(n->value, truthy[i]) == 0) {
                        if (value)
                                *value = true;
                        return true;
                }
                if (strcasecmp(n->value, falsy[i]) == 0) {
                        if (value)
                                *value = false;
                        return true;
                }
        }
        return false;
}

const char *yt_kind_name(const struct yt_node *n)
{
        switch (n->kind) {
        case YT_MAPPING:
                return "a mapping";
        case YT_SEQUENCE:
                return "a list";
        case YT_SCALAR:
                break;
        }
        if (yt_is_null(n))
                return "null";
        if (yt_is_bool(n, NULL))
                return "a boolean";
        return "a scalar";
}

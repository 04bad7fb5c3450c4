/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Strict field access over the shared YAML tree (lib/manifest/yaml-tree.h): every unknown
 * or duplicate key, wrong type or non-literal boolean becomes a file:line:col diagnostic.
 */

#include <stdbool.h>
#include <stddef.h>

#include "shared/diag.h"
#include "shared/yaml-tree.h"

struct vpy_doc {
        const char *file;       /* name used in diagnostics (not owned) */
        struct yt_node *root;
};

#define vpy_error(doc, node, diags, ...) \
        vs_diags_add((diags), (doc)->file, (node)->line, (node)->column, __VA_ARGS__)

struct vpy_key {
        const char *name;
        bool required;
};

/*
 * Walk a mapping against a table of allowed keys: records every unknown or duplicate key
 * and stores each known key's value node in values[i] (NULL when absent).  Returns the
 * number of errors recorded.
 */
unsigned vpy_map_fields(const struct vpy_doc *doc, const struct yt_node *map, const char *what,
                        const struct vpy_key *keys, size_t n_keys, const struct yt_node **values,
                        struct vs_diags *diags);

/* Record "<what> must be <kind>, got <kind>" and return false when the kind differs. */
bool vpy_expect(const struct vpy_doc *doc, const struct yt_node *node, enum yt_kind kind, const char *what,
                struct vs_diags *diags);

/* Only the literals true and false: "yes"/"on" are too easy to write by accident. */
bool vpy_bool(const struct vpy_doc *doc, const struct yt_node *node, const char *what, bool *ret,
              struct vs_diags *diags);

/* A scalar, copied. */
bool vpy_string(const struct vpy_doc *doc, const struct yt_node *node, const char *what, char **ret,
                struct vs_diags *diags);

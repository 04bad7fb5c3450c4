/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Strict field access over the YAML tree (yaml-tree.h), the one walker of the policy, users
 * and manifest readers: every unknown or duplicate key, missing required key, wrong type or
 * non-literal boolean becomes a file:line:col diagnostic, worded the same for every file.
 */

#include <stdbool.h>
#include <stddef.h>

#include "shared/diag.h"
#include "shared/yaml-tree.h"

struct yt_doc {
        const char *file;       /* name used in diagnostics (not owned) */
        struct yt_node *root;
};

#define yt_error(doc, node, diags, ...)                                                            \
        vs_diags_add((diags), (doc)->file, (node)->line, (node)->column, __VA_ARGS__)

struct yt_key {
        const char *name;
        bool required;
};

/*
 * Walk a mapping against a table of allowed keys: records every unknown or duplicate key
 * and stores each known key's value node in values[i] (NULL when absent).  Returns the
 * number of errors recorded.
 */
unsigned yt_map_fields(const struct yt_doc *doc, const struct yt_node *map, const char *what,
                       const struct yt_key *keys, size_t n_keys, const struct yt_node **values,
                       struct vs_diags *diags);

/* Record "<what> must be <kind>, got <kind>" and return false when the kind differs. */
bool yt_expect(const struct yt_doc *doc, const struct yt_node *node, enum yt_kind kind,
               const char *what, struct vs_diags *diags);

/* Only the literals true and false: "yes"/"on" are too easy to write by accident. */
bool yt_bool(const struct yt_doc *doc, const struct yt_node *node, const char *what, bool *ret,
             struct vs_diags *diags);

/* A scalar, copied. */
bool yt_string(const struct yt_doc *doc, const struct yt_node *node, const char *what, char **ret,
               struct vs_diags *diags);

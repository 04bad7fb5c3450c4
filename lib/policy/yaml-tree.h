/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A small YAML document tree with 1-based source marks, built from libyaml events.
 * Anchors, aliases, tags and multiple documents are refused while building, so
 * every consumer sees plain data only.  Shared by the policy and users loaders.
 */

#include <stdbool.h>
#include <stddef.h>

#include <vaultshim/diag.h>

enum vpy_kind { VPY_SCALAR, VPY_SEQUENCE, VPY_MAPPING };

struct vpy_node {
        enum vpy_kind kind;
        unsigned line, column;
        bool plain;             /* scalar written without quotes */
        char *value;            /* scalar text */
        size_t length;          /* scalar length (may hold NUL bytes) */
        size_t n_items;         /* sequence items, or mapping pairs (keys and values interleaved) */
        struct vpy_node **items;
};

struct vpy_doc {
        const char *file;       /* name used in diagnostics (not owned) */
        struct vpy_node *root;   /* NULL for an empty document */
};

/* Parse text into doc; on malformed YAML or refused constructs returns -EINVAL with diags. */
int vpy_parse(const char *file, const char *text, size_t len, struct vpy_doc *doc, struct vs_diags *diags);
void vpy_free(struct vpy_doc *doc);

const char *vpy_kind_name(enum vpy_kind kind);

/*
 * Walk a mapping against a table of allowed keys: records every unknown or duplicate key
 * and stores each known key's value node in values[i] (NULL when absent).  Returns the
 * number of errors recorded.
 */
struct vpy_key {
        const char *name;
        bool required;
};
unsigned vpy_map_fields(const struct vpy_doc *doc, const struct vpy_node *map, const char *what,
                       const struct vpy_key *keys, size_t n_keys, const struct vpy_node **values,
                       struct vs_diags *diags);

/* Type expectations: record "expected X, got Y" and return false when the kind differs. */
bool vpy_expect(const struct vpy_doc *doc, const struct vpy_node *node, enum vpy_kind kind,
               const char *what, struct vs_diags *diags);

/* A scalar that is plain `true` or `false`. */
bool vpy_bool(const struct vpy_doc *doc, const struct vpy_node *node, const char *what, bool *ret,
             struct vs_diags *diags);

/* A scalar string without NUL bytes, copied. */
bool vpy_string(const struct vpy_doc *doc, const struct vpy_node *node, const char *what, char **ret,
               struct vs_diags *diags);

/* Helper for diagnostics positioned at a node. */
#define vpy_error(doc, node, diags, ...) \
        vs_diags_add((diags), (doc)->file, (node)->line, (node)->column, __VA_ARGS__)

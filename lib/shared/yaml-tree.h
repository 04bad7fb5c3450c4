/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A small YAML document tree built from libyaml events, keeping every node's position.
 * Anchors, aliases and explicit tags are refused while building: a manifest is plain data
 * and an alias would let one line silently stand for another.
 */

#include <stdbool.h>
#include <stddef.h>

#include "shared/diag.h"

enum yt_kind {
        YT_SCALAR,
        YT_MAPPING,
        YT_SEQUENCE,
};

struct yt_node {
        enum yt_kind kind;
        unsigned line;           /* 1-based */
        unsigned column;         /* 1-based */
        /* scalars */
        char *value;
        bool plain;              /* unquoted: may resolve to null/bool/int */
        /* mappings: keys[i] -> children[i]; sequences: children only */
        size_t n_children;
        struct yt_node **keys;
        struct yt_node **children;
};

/* Parse exactly one document.  Returns 0, or -EINVAL with records in diags. */
int yt_parse(const char *file, const char *text, size_t len, struct yt_node **ret,
             struct vs_diags *diags);
void yt_free(struct yt_node *n);

/* Plain scalars that YAML 1.1 resolves to null or to a boolean. */
bool yt_is_null(const struct yt_node *n);
bool yt_is_bool(const struct yt_node *n, bool *value);
const char *yt_kind_name(const struct yt_node *n);

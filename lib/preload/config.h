/* SPDX-License-Identifier: MIT */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define VS_SHIM_MAX_ROOTS 16

/* The environment, read once (VAULTSHIM_DISABLE, VAULTSHIM_ROOTS, VAULTSHIM_LOG,
 * VAULTSHIM_JOURNAL / XDG_STATE_HOME / HOME for the journal). */
struct vs_shim_config {
        bool disabled;
        size_t root_count;
        char roots[VS_SHIM_MAX_ROOTS][PATH_MAX];
        char log_path[PATH_MAX]; /* "" when unset */
        /* The private journal directory (vs_journal_location); "" when none is configured:
         * then no move is emulated, the caller gets the kernel's EXDEV. */
        char journal_dir[PATH_MAX];
        bool journal_in_vault; /* inside a root: removed whenever empty (leaves no trace) */
};

void vs_shim_config_load(struct vs_shim_config *config);

/*
 * Is path (relative to dirfd) inside a root?  Resolved as the kernel would reach it: the
 * parent through realpath (symlinks cannot escape a root), the last component as given.
 * On success writes the absolute path to resolved (PATH_MAX bytes).
 */
/* The root that holds an absolute path resolved by vs_shim_under_root(), or NULL. */
const char *vs_shim_root_of(const struct vs_shim_config *config, const char *resolved);
bool vs_shim_under_root(const struct vs_shim_config *config, int dirfd, const char *path,
                        char *resolved);

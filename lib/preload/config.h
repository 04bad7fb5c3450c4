/* SPDX-License-Identifier: MIT */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/roots.h"

/* The environment, read once (VAULTSHIM_DISABLE, VAULTSHIM_ROOTS, VAULTSHIM_LOG,
 * VAULTSHIM_JOURNAL / XDG_STATE_HOME / HOME for the journal, VAULTSHIM_DURABLE). */
struct vs_shim_config {
        bool disabled;
        struct vs_roots roots; /* VAULTSHIM_ROOTS; the inside-a-root check is base/roots.h's */
        char log_path[PATH_MAX]; /* "" when unset */
        /* The private journal directory (vs_journal_location); "" when none is configured:
         * then no move is emulated, the caller gets the kernel's EXDEV. */
        char journal_dir[PATH_MAX];
        bool journal_in_vault; /* inside a root: removed whenever empty (leaves no trace) */
        /* Why the journal is not private (vs_journal_check_place: in a vault folder other
         * users may mount), or NULL.  Then no move is emulated either. */
        const char *journal_refused;
        bool durable_at_return; /* VAULTSHIM_DURABLE=return; otherwise the kernel's semantics */
};

void vs_shim_config_load(struct vs_shim_config *config);

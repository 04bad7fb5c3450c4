/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "journal/journal.h"

/* What the scan of one root found, handed to the tool's printer as it goes. */
struct fsck_sink {
        void (*record)(const struct vs_recovery_result *r, void *userdata);
        /* staging residue that no journal record names: removed (err 0) or not (-errno) */
        void (*orphan)(const char *path, unsigned long removed, int err, void *userdata);
        void (*error)(const char *path, int err, void *userdata);
        void *userdata;
};

/*
 * Walk `root` (not following symlinks, crossing into the vault's bind mounts), recover every
 * journal directory and beside-the-target record, then remove staging residue that no record
 * names (a copy that was never installed).  Returns 0 or a negative errno when the root itself cannot be opened.
 */
int fsck_scan_root(const char *root, bool dry_run, const struct fsck_sink *sink);

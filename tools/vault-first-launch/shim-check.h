/* SPDX-License-Identifier: MIT */
#pragma once

#include "report.h"

/*
 * Is libvaultshim.so active for this session?  Checks LD_PRELOAD, UV_USE_IO_URING,
 * VAULTSHIM_DISABLE / VAULTSHIM_ROOTS, then renames a probe file between two writable
 * folders (in this process, so the preloaded shim, if any, does the move).
 */
void fl_check_shim(struct fl_report *r, bool dry_run);

/* Does a colon-separated VAULTSHIM_ROOTS cover path (the root itself or an ancestor)? */
bool fl_roots_cover(const char *roots, const char *path);

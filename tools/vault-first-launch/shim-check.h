/* SPDX-License-Identifier: MIT */
#pragma once

#include "report.h"

/*
 * Is libvaultshim.so active for this session?  Checks LD_PRELOAD, UV_USE_IO_URING,
 * VAULTSHIM_DISABLE / VAULTSHIM_ROOTS, then renames a probe file between two writable
 * folders (in this process, so the preloaded shim, if any, does the move).
 */
void fl_check_shim(struct fl_report *r, bool dry_run);

/* Is path (as written, or resolved) a vault root or below one, as the shim reads
 * VAULTSHIM_ROOTS (lib/base/roots.h: unset or empty is /vault)? */
bool fl_roots_cover(const char *path);

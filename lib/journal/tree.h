/* SPDX-License-Identifier: MIT */
#pragma once

/* What recovery removes of a set-aside source tree, on lib/base's walker (tree.c); a
 * staging copy goes whole with lib/base's vs_remove_tree() (base/remove.h). */

#include <stdbool.h>

/*
 * Remove from src_dirfd/src_name every entry that its copy under dst_dirfd/dst_name holds:
 * same type and, for non-directories, the same size and mtime (the engine gives every copy
 * its source's mtime); directories once emptied.  Entries that differ or have no copy are
 * kept and counted in *kept, and so is a directory on another filesystem or deeper than the
 * walker's budget.  Works for a single non-directory too.
 */
int vs_journal_remove_copied(int src_dirfd, const char *src_name, int dst_dirfd,
                             const char *dst_name, bool dry_run, unsigned long *removed,
                             unsigned long *kept);

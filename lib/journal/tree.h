/* SPDX-License-Identifier: MIT */
#pragma once

/* Directory-tree operations recovery needs, relative to directory fds, iterative and
 * depth-bounded (tree.c). */

#include <stdbool.h>

/* Remove dirfd/name and everything below it.  With dry_run, only count.  Entries too deep
 * to walk are kept and counted in *kept.  0 or -errno. */
int vs_journal_tree_remove(int dirfd, const char *name, bool dry_run, unsigned long *removed,
                           unsigned long *kept);

/*
 * Remove from src_dirfd/src_name every entry that its copy under dst_dirfd/dst_name holds:
 * same type and, for non-directories, the same size and mtime (the engine gives every copy
 * its source's mtime); directories once emptied.  Entries that differ or have no copy are
 * kept and counted in *kept.  Works for a single non-directory too.
 */
int vs_journal_remove_copied(int src_dirfd, const char *src_name, int dst_dirfd,
                             const char *dst_name, bool dry_run, unsigned long *removed,
                             unsigned long *kept);

/* SPDX-License-Identifier: MIT */
#pragma once

/* Directory-tree operations recovery needs, all relative to directory fds (no PATH_MAX
 * buffers per level, so depth costs only open descriptors). */

#include <stdbool.h>

/* Remove dirfd/name and everything below it.  With dry_run, only count.  0 or -errno. */
int vs_journal_tree_remove(int dirfd, const char *name, bool dry_run, unsigned long *removed);

/*
 * Remove from src_dirfd/src_name every entry that provably also exists in
 * dst_dirfd/dst_name: same type, regular files byte-identical, symlinks with the same
 * text, FIFOs/devices alike; directories once emptied.  Entries that differ or are missing
 * in dst are kept and counted in *kept.  Works for a single non-directory too.
 */
int vs_journal_remove_copied(int src_dirfd, const char *src_name, int dst_dirfd,
                          const char *dst_name, bool dry_run, unsigned long *removed,
                          unsigned long *kept);

/* 1 when the two open regular files have equal contents, 0 when not, or -errno. */
int vs_journal_files_equal(int a, int b);

/* SPDX-License-Identifier: MIT */
#pragma once

/* The one tree remover, built on the walker (walk.h): a staging copy left by a move, by the
 * engine itself or by recovery.  libc only. */

#include <stdbool.h>

/*
 * Remove dirfd/name and everything below it, never following a symlink and never into
 * another filesystem; directories are made writable by their owner first (a staged copy may
 * carry read-only modes).  With dry_run, only count.  Each entry removed (or that would be)
 * adds one to *removed; one that stays adds one to *kept: another filesystem below, a
 * directory deeper than the walker's budget, or something that appeared meanwhile (and the
 * directories above it).  0 (nothing at dirfd/name is 0) or -errno.
 */
int vs_remove_tree(int dirfd, const char *name, bool dry_run, unsigned long *removed,
                   unsigned long *kept);

/* One entry of such a walk (isdir: an emptied directory), counted the same way: gone
 * meanwhile is 0 and not counted; a directory that something entered meanwhile is kept. */
int vs_remove_entry(int dirfd, const char *name, bool isdir, bool dry_run,
                    unsigned long *removed, unsigned long *kept);

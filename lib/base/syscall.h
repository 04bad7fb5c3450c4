/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * System calls made directly.  Inside libvaultshim.so the names rename, renameat and
 * renameat2 are the exported wrappers: the code there renames only through these.
 */

/* renameat2(2) as the raw system call; 0 or -errno. */
int vs_sys_renameat2(int olddirfd, const char *oldname, int newdirfd, const char *newname,
                     unsigned flags);

/* fd's dirty data written back and waited for, without a cache flush (sync_file_range):
 * on a filesystem that commits in order, on the disk before any later change of its
 * metadata is.  0 or -errno. */
int vs_sys_writeback(int fd);

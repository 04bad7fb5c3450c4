/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Mount identities, and opening beneath a verified mount: what a journal record says about
 * the mount each side of a move is on, and how recovery proves that the mount now at that
 * place is the same folder before it touches anything beneath it.  libc only, no stdio.
 */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A mount as /proc/self/mountinfo shows it.  Two are the same folder when root, fstype and
 * the root directory's inode agree and the filesystem id agrees (statfs f_fsid, derived from
 * the filesystem UUID on ext4 and btrfs, so it survives a reboot and another loop device);
 * when a filesystem reports no fsid, the device number must agree instead.
 */
struct vs_mount_identity {
        char point[PATH_MAX]; /* where it is mounted in this mount namespace */
        char root[PATH_MAX];  /* the directory of its filesystem that it shows */
        char fstype[32];
        uint32_t dev_major, dev_minor;
        uint64_t fsid;
        uint64_t root_ino;
};

/*
 * /proc/self/mountinfo read at most once for the several lookups of one move (both sides'
 * mounts), where statmount(2) is missing: its first read in a process costs 50-130 us, more
 * than the rest of what a lookup does.  A table is a snapshot: every lookup in it also asks
 * the kernel afresh (the mount id, the mount root flag, the root's inode, the filesystem
 * id), as a lookup in a table read just before would.
 */
struct vs_mount_table {
        char *text; /* malloc()ed */
        size_t len;
};
/* 0 or -errno; *t untouched on failure. */
int vs_mount_table_read(struct vs_mount_table *t);
void vs_mount_table_free(struct vs_mount_table *t);

/* The mount id (statx STATX_MNT_ID) of dirfd/path, following symlinks: 0, -EOPNOTSUPP on a
 * kernel without mount ids, or -errno. */
int vs_mount_id(int dirfd, const char *path, uint64_t *id);
/* The identity of the mount that the directory dirfd is on.  -EXDEV when it cannot be
 * told (no mountinfo entry, or its mount point now shows another mount). */
int vs_mount_identify(int dirfd, struct vs_mount_identity *out);
/* The same, keeping the mount point as it was opened (O_PATH, no symlinks on the way) and
 * found to show that mount: *point_fd, which the caller closes; what
 * vs_mount_open_verified() would return right then, without a second look.  Where the
 * kernel has statmount(2), mountinfo is not read at all; else from the table t (NULL: read
 * afresh; a table not read yet, { 0 }, is read on its first use and kept for the next). */
int vs_mount_identify_open(struct vs_mount_table *t, int dirfd, struct vs_mount_identity *out,
                           int *point_fd);
/* Write abs relative to m->point into rel: -EXDEV when abs is not strictly below it. */
int vs_mount_relative(const struct vs_mount_identity *m, const char *abs, char *rel,
                      size_t size);
bool vs_mount_same(const struct vs_mount_identity *a, const struct vs_mount_identity *b);
/* Open m->point (no symlinks on the way) as O_PATH and check that the mount there is m:
 * the fd, -ESTALE when another mount or none is there now, or -errno. */
int vs_mount_open_verified(const struct vs_mount_identity *m);
/* openat2(rootfd, rel, flags, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV);
 * rel "" is rootfd itself. */
int vs_open_beneath(int rootfd, const char *rel, int flags);

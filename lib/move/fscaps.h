/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What a filesystem can do, cached for the life of the process.  Kasm's rclone Storage
 * Providers, sshfs and other FUSE or network storage hold less than ext4: no renameat2
 * flags, no xattrs, coarse times, modes and owners ignored, flock that stays in this kernel.
 * The engine asks here instead of failing on the first refusal.
 *
 * Two kinds of knowledge: what one look without side effects can tell (filesystem type, its
 * ext4 mount options, xattr listing) is probed when a filesystem is first seen; what only an
 * attempt can tell (renameat2 flags, hard links) starts unknown and is learned from the
 * engine's own first attempt, which fails without a side effect when unsupported.  All of
 * it belongs to the filesystem (its superblock), not to one mount of it: the two bind mounts
 * of one folder that make a move cross-mount share one entry.  libc only, thread-safe (a
 * fixed table under a mutex); only a probe allocates (mountinfo, read with lib/base), once
 * per filesystem.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

enum vs_cap { VS_CAP_UNKNOWN = 0, VS_CAP_YES, VS_CAP_NO };

/* Where flock() and fsync() reach on this filesystem. */
enum vs_fs_reach {
        VS_REACH_LOCAL,   /* a disk (or memory) of this machine: the whole host sees it */
        VS_REACH_SERVER,  /* NFS: locks and COMMIT reach the server, other hosts see them */
        VS_REACH_DAEMON,  /* FUSE or SMB: this kernel only; what the daemon or server does
                           * with fsync is its own business (rclone: its cache file) */
};

struct vs_fscaps {
        /* Which filesystem: its device number, and what statfs says of it (type, f_fsid),
         * which a filesystem mounted later on a reused device number does not share. */
        uint64_t dev;
        uint64_t fs_type, fsid;
        bool fuse;              /* FUSE: unsupported operations may come back as EIO */
        enum vs_fs_reach locks; /* how far an flock() taken here is seen */
        enum vs_fs_reach sync;  /* what an fsync() here makes durable */
        bool in_memory;         /* tmpfs, ramfs: nothing here survives a power cut */
        enum vs_cap xattrs;     /* extended attributes, hence POSIX ACLs */
        /* Times and owner of a symlink itself: sshfs applies them to the link's target
         * (SFTP SETSTAT follows links), so there they are never set. */
        enum vs_cap symlink_attrs;
        /* Renaming what was just written is safe: rclone (1.60, --vfs-cache-mode writes)
         * loses a file renamed while it uploads, and a folder's files with the folder, so
         * there a tree is built in place instead of staged and renamed. */
        enum vs_cap rename_after_write;
        /* A file's times stay put while it is read: rclone reports the time of its cache
         * file (now) while a note written in the last seconds waits for its upload, so there
         * only identity and size can show that nobody wrote to it. */
        enum vs_cap stable_times;
        /* An inode number names one object for its life.  FUSE daemons make them up: rclone
         * per lookup (a hash that changes after a rename, or once its cache forgets the
         * node), libfuse per node (sshfs, bindfs without use_ino: a hard link is a new
         * number, and so is a node looked up again after the kernel forgot it).  There an
         * object is recognised by its type (and a file's size) alone. */
        enum vs_cap stable_inodes;
        /* Metadata changes reach the disk in the order they were made, and data written
         * back (and waited for) before a change is on the disk before that change: ext4
         * with its journal (data=ordered or journal, barriers, no fast or asynchronous
         * commits) and xfs.  There a crash leaves a prefix of the move's steps, so most of
         * its flushes can go (vaultshim(7), DURABILITY); elsewhere every step is flushed. */
        enum vs_cap ordered;
        enum vs_cap rename_flags; /* renameat2(RENAME_NOREPLACE): learned */
        enum vs_cap hard_links;   /* linkat(): learned */
};

enum vs_fscap_learned { VS_LEARN_RENAME_FLAGS, VS_LEARN_HARD_LINKS };

/*
 * The capabilities of the filesystem that holds the directory dirfd (its statx in dir).  An
 * entry is found by the directory's device number and trusted for a mount it was already
 * trusted for (the mount id); a mount not seen before is checked first with statfs (the
 * same type and f_fsid, one system call), so that another filesystem on a reused device
 * number is probed afresh, never given the capabilities of the one before.
 */
void vs_fscaps_get(int dirfd, const struct statx *dir, struct vs_fscaps *out);
/* Remembers, for the filesystem caps describes, what an attempt showed. */
void vs_fscaps_learn(const struct vs_fscaps *caps, enum vs_fscap_learned what, bool supported);

/* err, returned by an operation on a filesystem with caps, means "this filesystem cannot":
 * EOPNOTSUPP and ENOSYS anywhere; on FUSE also EIO, EPERM and EINVAL, which daemons such
 * as rclone return for every operation they do not implement. */
bool vs_fscaps_refusal(const struct vs_fscaps *caps, int err);

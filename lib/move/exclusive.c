/* SPDX-License-Identifier: MIT */
/*
 * The install step for a RENAME_NOREPLACE caller on a filesystem whose rename has no
 * flags (FUSE: rclone, sshfs, bindfs; the kernel answers EINVAL there).  The target must
 * never be replaced, also when it appears between the engine's check and the install:
 *  - a file is installed with link(2), which fails with EEXIST when the name exists, by
 *    one atomic step on the server too (sshfs sends hardlink@openssh.com, NFS a LINK), then
 *    the temporary name goes;
 *  - without hard links (rclone), the name is reserved first by an exclusive create
 *    (O_CREAT|O_EXCL is atomic in this kernel's directory lock), then the copy is renamed
 *    over the reservation only while it is still ours and empty.  Only a copy this move
 *    wrote there: rclone 1.60 (--vfs-cache-mode writes) renames its cached data over the
 *    reservation's, but a note its cache does not hold (put there by another host, or not
 *    opened for an hour) leaves the empty reservation's cache entry at the name: rclone
 *    shows it (0 bytes, the instant it was put back) and uploads it over the note 5 s
 *    later (measured, move-storage-rclone-putback).  A source put back (vs_install_back(),
 *    lib/base/install-back.c, shared with recovery) is therefore renamed only to a name
 *    that is free right before, a check a save in between would defeat where a
 *    reservation would not, but that loses nothing else;
 *  - a directory is renamed without the flag: rename(2) can replace only an empty
 *    directory (a file target is ENOTDIR, a non-empty one ENOTEMPTY, both reported as
 *    EEXIST), so at worst an empty directory made in that instant goes: no data can.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/install-back.h"
#include "move/fscaps.h"
#include "move/internal.h"

static int install_over_reservation(int dirfd, const char *staged, const char *target)
{
        int fd = openat(dirfd, target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
        if (fd < 0)
                return -errno;
        struct statx reserved, now;
        int r = vs_statx(fd, "", &reserved);
        close(fd);
        if (r == 0)
                r = vs_statx(dirfd, target, &now);
        /* Someone opened the new empty name and wrote to it: it is theirs now. */
        if (r == 0 && (!vs_same_inode(&reserved, &now) || now.stx_size != 0))
                return -EEXIST;
        if (r == 0)
                r = vs_sys_renameat2(dirfd, staged, dirfd, target, 0);
        if (r < 0 && vs_statx(dirfd, target, &now) == 0 && vs_same_inode(&reserved, &now) &&
            now.stx_size == 0)
                (void)unlinkat(dirfd, target, 0);
        return r;
}

static int install_exclusive(const struct vs_fscaps *caps, int dirfd, const char *staged,
                             const char *target, bool is_dir)
{
        if (is_dir)
                return vs_install_dir_noflags(dirfd, staged, target);
        if (caps->hard_links != VS_CAP_NO) {
                int r = vs_install_by_link(dirfd, staged, target);
                if (r == 0 || r == -EEXIST || !(vs_fscaps_refusal(caps, -r) || r == -EPERM ||
                                                r == -EMLINK))
                        return r;
                vs_fscaps_learn(caps, VS_LEARN_HARD_LINKS, false);
        }
        return install_over_reservation(dirfd, staged, target);
}

int vs_rename_to_fresh_name(int dirfd, const struct statx *dir, const char *from,
                            const char *fresh)
{
        struct vs_fscaps caps;
        vs_fscaps_get(dirfd, dir, &caps);
        if (caps.rename_flags != VS_CAP_NO) {
                int r = vs_sys_renameat2(dirfd, from, dirfd, fresh, RENAME_NOREPLACE);
                if (r != -EINVAL)
                        return r;
                vs_fscaps_learn(&caps, VS_LEARN_RENAME_FLAGS, false);
        }
        /* One rename: the object leaves its name in one step on the server too, so of two
         * hosts taking it only one succeeds (link+unlink would let both). */
        return vs_sys_renameat2(dirfd, from, dirfd, fresh, 0);
}

static int install_noreplace(int dirfd, const struct statx *dir, const char *from,
                             const char *target, bool is_dir)
{
        struct vs_fscaps caps;
        vs_fscaps_get(dirfd, dir, &caps);
        if (caps.rename_flags != VS_CAP_NO) {
                /* Both names in one directory: EINVAL can only mean "no such flag here". */
                int r = vs_sys_renameat2(dirfd, from, dirfd, target, RENAME_NOREPLACE);
                if (r != -EINVAL)
                        return r;
                vs_fscaps_learn(&caps, VS_LEARN_RENAME_FLAGS, false);
        }
        return install_exclusive(&caps, dirfd, from, target, is_dir);
}

int vs_install(int dirfd, const struct statx *dir, const char *staged, const char *target,
               bool is_dir, unsigned flags)
{
        if (!(flags & RENAME_NOREPLACE))
                return vs_sys_renameat2(dirfd, staged, dirfd, target, 0);
        return install_noreplace(dirfd, dir, staged, target, is_dir);
}

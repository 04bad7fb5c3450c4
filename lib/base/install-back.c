/* SPDX-License-Identifier: MIT */
/*
 * Putting an object back at a name, never over another, where renameat2 has no flags.
 * Shared by the engine (a source set aside during a move that failed) and recovery (the
 * same after a crash, vault-fsck): both must leave nothing hidden on FUSE mounts too.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/install-back.h"
#include "base/stat.h"
#include "base/syscall.h"

int vs_install_by_link(int dirfd, const char *from, const char *target)
{
        if (linkat(dirfd, from, dirfd, target, 0) < 0)
                return -errno;
        /* Installed: the object now has its name; the first one is only residue. */
        (void)unlinkat(dirfd, from, 0);
        return 0;
}

int vs_install_dir_noflags(int dirfd, const char *from, const char *target)
{
        int r = vs_sys_renameat2(dirfd, from, dirfd, target, 0);
        /* A name taken meanwhile: ENOTDIR, ENOTEMPTY, or a server's generic refusal
         * (sshfs: EPERM); the NOREPLACE caller's answer is EEXIST. */
        struct statx taken;
        if (r < 0 && (r == -ENOTDIR || r == -ENOTEMPTY || vs_statx(dirfd, target, &taken) == 0))
                return -EEXIST;
        return r;
}

int vs_install_if_free(int dirfd, const char *from, const char *target)
{
        struct statx taken;
        int r = vs_statx(dirfd, target, &taken);
        if (r == 0)
                return -EEXIST;
        return r == -ENOENT ? vs_sys_renameat2(dirfd, from, dirfd, target, 0) : r;
}

/* link(2)'s answers that mean "no hard links here" rather than a failure of this one: the
 * generic ones, and what FUSE servers send for an operation they lack (rclone: EIO, EPERM). */
static bool link_refused(int err)
{
        return err == EOPNOTSUPP || err == ENOSYS || err == EPERM || err == EMLINK ||
               err == EIO || err == EINVAL;
}

int vs_install_back(int dirfd, const char *aside, const char *target, bool is_dir)
{
        /* Both names in one directory: EINVAL can only mean "no such flag here". */
        int r = vs_sys_renameat2(dirfd, aside, dirfd, target, RENAME_NOREPLACE);
        if (r != -EINVAL)
                return r;
        if (is_dir)
                return vs_install_dir_noflags(dirfd, aside, target);
        r = vs_install_by_link(dirfd, aside, target);
        if (r == 0 || r == -EEXIST || !link_refused(-r))
                return r;
        return vs_install_if_free(dirfd, aside, target);
}

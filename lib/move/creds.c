/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "move/internal.h"

void vs_creds_load(struct vs_creds *creds)
{
        /* setfsuid() with an invalid id changes nothing and returns the current fsuid. */
        creds->fsuid = (uid_t)setfsuid((uid_t)-1);

        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
        bool got = syscall(SYS_capget, &header, data) == 0;
        creds->cap_fowner =
                got && (data[CAP_TO_INDEX(CAP_FOWNER)].effective & CAP_TO_MASK(CAP_FOWNER));
        creds->cap_dac_override = got && (data[CAP_TO_INDEX(CAP_DAC_OVERRIDE)].effective &
                                          CAP_TO_MASK(CAP_DAC_OVERRIDE));
}

/*
 * faccessat2(AT_EACCESS) runs the kernel's own inode_permission() with the caller's
 * fsuid/fsgid, groups, capabilities and POSIX ACLs, so nothing is re-implemented here:
 * EACCES for missing bits, EPERM for immutable files, EROFS for read-only mounts.
 */
int vs_access(int dirfd, const char *name, int mode)
{
        int flags = AT_EACCESS | AT_SYMLINK_NOFOLLOW;
        if (name[0] == '\0')
                flags |= AT_EMPTY_PATH;
        if (faccessat(dirfd, name, mode, flags) < 0)
                return -errno;
        return 0;
}

int vs_check_unlinkable(const struct vs_creds *creds, const struct statx *dir,
                        const struct statx *victim)
{
        if (dir->stx_attributes & STATX_ATTR_APPEND)
                return -EPERM;
        /* check_sticky(): only the owner of the entry or of the directory, or CAP_FOWNER. */
        if ((dir->stx_mode & S_ISVTX) && victim->stx_uid != creds->fsuid &&
            dir->stx_uid != creds->fsuid && !creds->cap_fowner)
                return -EPERM;
        if (victim->stx_attributes & (STATX_ATTR_APPEND | STATX_ATTR_IMMUTABLE))
                return -EPERM;
        return 0;
}

/* The kernel's may_delete(), in its order. */
int vs_may_delete(const struct vs_creds *creds, int dirfd, const struct statx *dir,
                  const struct statx *victim, bool isdir)
{
        int r = vs_access(dirfd, "", W_OK | X_OK);
        if (r < 0)
                return r;
        r = vs_check_unlinkable(creds, dir, victim);
        if (r < 0)
                return r;
        if (isdir && !S_ISDIR(victim->stx_mode))
                return -ENOTDIR;
        if (!isdir && S_ISDIR(victim->stx_mode))
                return -EISDIR;
        return 0;
}

int vs_may_create(int dirfd)
{
        return vs_access(dirfd, "", W_OK | X_OK);
}

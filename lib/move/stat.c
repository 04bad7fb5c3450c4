/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "move/internal.h"

#define VS_STATX_MASK (STATX_BASIC_STATS | STATX_MNT_ID)

int vs_statx(int dirfd, const char *name, struct statx *out)
{
        int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT;
        if (name[0] == '\0')
                flags |= AT_EMPTY_PATH;
        if (statx(dirfd, name, flags, VS_STATX_MASK, out) < 0)
                return -errno;
        return 0;
}

bool vs_same_inode(const struct statx *a, const struct statx *b)
{
        return a->stx_ino == b->stx_ino && a->stx_dev_major == b->stx_dev_major &&
               a->stx_dev_minor == b->stx_dev_minor;
}

bool vs_same_time(const struct statx_timestamp *a, const struct statx_timestamp *b)
{
        return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

bool vs_unchanged(const struct statx *before, const struct statx *after)
{
        return vs_same_inode(before, after) && before->stx_size == after->stx_size &&
               vs_same_time(&before->stx_mtime, &after->stx_mtime) &&
               vs_same_time(&before->stx_ctime, &after->stx_ctime);
}

bool vs_unchanged_on(const struct vs_fscaps *caps, const struct statx *before,
                     const struct statx *after)
{
        if (caps && caps->stable_times == VS_CAP_NO)
                return vs_same_inode(before, after) && before->stx_size == after->stx_size;
        return vs_unchanged(before, after);
}

bool vs_copy_matches(const struct statx *src, const struct statx *copy, unsigned dropped)
{
        if ((src->stx_mode & S_IFMT) != (copy->stx_mode & S_IFMT))
                return false;
        if (S_ISDIR(src->stx_mode))
                return true;
        if (src->stx_size != copy->stx_size)
                return false;
        if (dropped & VS_DROPPED_TIMES)
                return true;
        if (dropped & VS_DROPPED_TIME_NSEC)
                return src->stx_mtime.tv_sec == copy->stx_mtime.tv_sec;
        return vs_same_time(&src->stx_mtime, &copy->stx_mtime);
}

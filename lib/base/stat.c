/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>

#include "base/stat.h"

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

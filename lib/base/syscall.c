/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/syscall.h"

int vs_sys_renameat2(int olddirfd, const char *oldname, int newdirfd, const char *newname,
                     unsigned flags)
{
        if (syscall(SYS_renameat2, olddirfd, oldname, newdirfd, newname, flags) < 0)
                return -errno;
        return 0;
}

int vs_sys_writeback(int fd)
{
        unsigned flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                         SYNC_FILE_RANGE_WAIT_AFTER;
        return sync_file_range(fd, 0, 0, flags) < 0 ? -errno : 0;
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
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

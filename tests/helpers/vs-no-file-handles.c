/* SPDX-License-Identifier: MIT */
/*
 * Preloaded before libvaultshim.so: name_to_handle_at refused with EPERM, as Docker's
 * default seccomp profile refuses it inside every container.
 */
#include <errno.h>
#include <fcntl.h>

__attribute__((visibility("default"))) int name_to_handle_at(int dirfd, const char *path,
                                                             struct file_handle *handle,
                                                             int *mount_id, int flags)
{
        (void)dirfd;
        (void)path;
        (void)handle;
        (void)mount_id;
        (void)flags;
        errno = EPERM;
        return -1;
}

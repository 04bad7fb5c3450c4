/* SPDX-License-Identifier: MIT */
#pragma once

/* statx(2) as every layer asks it: libc only. */

#include <sys/stat.h>

/* dirfd/name ("": dirfd itself), never following a final symlink nor triggering an
 * automount: the basic fields and the mount id.  0 or -errno. */
int vs_statx(int dirfd, const char *name, struct statx *out);

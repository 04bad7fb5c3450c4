/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/*
 * Renames within one directory that keep RENAME_NOREPLACE's promise (a name that exists is
 * never replaced) also where the filesystem has no rename flags: FUSE mounts (rclone,
 * sshfs, bindfs) answer the flag with EINVAL.  Each returns 0 or a negative errno, -EEXIST
 * when the target exists; on failure the object stays at its first name.
 */

/* A file by link(2), which fails with EEXIST when the name exists, in one atomic step on
 * the server too; then the first name goes. */
int vs_install_by_link(int dirfd, const char *from, const char *target);

/* A directory by a plain rename, which can replace only an empty directory (a file target
 * is ENOTDIR, a non-empty one ENOTEMPTY, a server's refusal of a taken name EPERM: all
 * -EEXIST), so at worst an empty directory made in that instant goes: no data can. */
int vs_install_dir_noflags(int dirfd, const char *from, const char *target);

/* A file by a plain rename once the target is found free right before: a save in between
 * would be replaced, the last resort where neither the flag nor link(2) exists (rclone). */
int vs_install_if_free(int dirfd, const char *from, const char *target);

/* An object set aside (aside) put back at target: renameat2(RENAME_NOREPLACE), on EINVAL
 * the ways above.  Never over a reservation (an empty file created first), which rclone
 * would show and upload in the object's place. */
int vs_install_back(int dirfd, const char *aside, const char *target, bool is_dir);

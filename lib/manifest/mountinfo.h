/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * /proc/self/mountinfo, parsed (proc(5)):
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)         (6)        (7)      (8)(9)  (10)     (11)
 * Paths are octal-escaped by the kernel (space \040, tab \011, newline \012, backslash \134).
 * A mount is read-only if either its per-mount options (6) or its superblock options (11)
 * say "ro": `mount -o remount,bind,ro` sets the former, a ro filesystem the latter.
 */

#include <stdbool.h>
#include <stddef.h>

#include "shared/diag.h"

struct vs_mount {
        int mount_id;
        int parent_id;
        unsigned major, minor;
        char *root;          /* path of the mount's root inside its filesystem */
        char *mount_point;
        char *fstype;
        char *source;        /* "mount source": device or "none" */
        bool mount_ro;       /* per-mount "ro" */
        bool super_ro;       /* superblock "ro" */
};

struct vs_mounts {
        struct vs_mount *items;
        size_t count;
};

/* Parse mountinfo text; bad lines are errors naming name:line:column. */
int vs_mounts_parse(const char *name, const char *text, struct vs_mounts *ret, struct vs_diags *diags);
/* Read and parse /proc/self/mountinfo (or path, for tests). */
int vs_mounts_load(const char *path, struct vs_mounts *ret, struct vs_diags *diags);
void vs_mounts_clear(struct vs_mounts *m);

/* The mount visible at mount_point: the last one listed there (later mounts stack on top). */
const struct vs_mount *vs_mounts_find(const struct vs_mounts *m, const char *mount_point);
const struct vs_mount *vs_mounts_find_id(const struct vs_mounts *m, int mount_id);

static inline bool vs_mount_read_only(const struct vs_mount *mnt)
{
        return mnt->mount_ro || mnt->super_ro;
}

/* The mount ID the kernel reports for path (statx STATX_MNT_ID, Linux >= 5.8). */
int vs_path_mount_id(const char *path, int *ret);

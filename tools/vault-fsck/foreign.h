/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* What the walk of a vault root found in its shared folders, handed to the printer. */
struct foreign_sink {
        /* a record of the old, shared-location journal: listed, never acted on; removed
         * (err 0) or not (err < 0) with --purge-foreign */
        void (*record)(const char *path, bool purged, int err, void *userdata);
        /* a lock file left by a mover that died, removed (protocol-safe: not held) */
        void (*stale_lock)(const char *path, int err, void *userdata);
        /* a set-aside source that no live move holds (a crash, or an older version's move):
         * put back at restored_as, its own name or, when that is taken or unknown, its
         * visible kept name (err 0; in a dry run: would be), or not (err < 0) */
        void (*leftover)(const char *path, const char *restored_as, int err, void *userdata);
        /* a directory the walk could not read, or did not enter (too deep) */
        void (*error)(const char *path, int err, void *userdata);
        void *userdata;
};

struct foreign_options {
        bool dry_run;
        bool purge;
        dev_t skip_dev; /* the private journal directory, never walked as foreign */
        ino_t skip_ino;
};

/*
 * Walk root (not following symlinks, crossing into the vault's bind mounts) for vaultshim's
 * old shared-location records (.vaultshim/journal/<id>, .vaultshim-journal-<id>), stale
 * lock files, and set-aside sources left hidden (.vaultshim-aside-*), which any session puts
 * back where everyone sees them, deleting nothing; with lib/base's walker (base/walk.h).
 * Returns 0 or a negative errno when root itself cannot be opened.
 */
int foreign_scan(const char *root, const struct foreign_options *o,
                 const struct foreign_sink *sink);

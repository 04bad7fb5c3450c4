/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Writing configuration without ever leaving a half-written file, and recording what changed
 * so the tool can report it (or, with dry_run, report what it would change).
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "shared/diag.h"

struct vs_change {
        char *path;
        char *action;   /* "create", "update", "unchanged", "mkdir", "link", "backup", ... */
};

struct vs_changes {
        struct vs_change *items;
        size_t count;
        size_t capacity;
        bool dry_run;   /* report only: nothing is written */
};

int vs_changes_add(struct vs_changes *c, const char *path, const char *action);
void vs_changes_clear(struct vs_changes *c);
/* True when anything other than "unchanged" was recorded. */
bool vs_changes_any(const struct vs_changes *c);

/*
 * Replace path with data unless it already holds exactly these bytes: temp file in the same
 * directory, write, fsync, rename over, fsync the directory.  An unchanged file is not
 * touched at all (same inode, same mtime), which is what makes re-runs byte-identical.
 */
int vs_file_update(const char *path, const void *data, size_t len, mode_t mode,
                   struct vs_changes *changes, struct vs_diags *diags);

/* Read a whole (small) regular file; -ENOENT when it does not exist.  *ret is NUL-terminated.
 * The errors are vs_read_file's (base/file.h), with a 16 MiB limit. */
int vs_file_read(const char *path, char **ret, size_t *ret_len);
/* Record a vs_file_read failure as "path: cannot read: <why>" ("not a regular file ...",
 * "larger than 16 MiB", or the errno's words) and return err. */
int vs_file_read_failed(struct vs_diags *diags, const char *path, int err);

/* mkdir -p with the given mode for each created component; records "mkdir". */
int vs_mkdir_p(const char *path, mode_t mode, struct vs_changes *changes, struct vs_diags *diags);

/* fsync the directory that contains path. */
int vs_fsync_parent(const char *path);

/* SPDX-License-Identifier: MIT */
#pragma once

/* Checking a manifest against what is really mounted. */

#include <stdbool.h>
#include <stdint.h>

#include "manifest/manifest.h"

#include "manifest/mountinfo.h"

enum vs_severity {
        VS_SEVERITY_OK = 0,
        VS_SEVERITY_WARNING = 1,
        VS_SEVERITY_ERROR = 2,
};

enum vs_folder_state {
        VS_FOLDER_OK,
        VS_FOLDER_MISSING,          /* the target does not exist */
        VS_FOLDER_NOT_MOUNTED,      /* a plain directory of its parent mount */
        VS_FOLDER_RO_VIOLATED,      /* promised ro, writable: the policy would be broken */
        VS_FOLDER_RW_DEGRADED,      /* promised rw, mounted ro */
        VS_FOLDER_SOURCE_MISMATCH,  /* mounted, but apparently from elsewhere */
        VS_FOLDER_EXPIRED,          /* valid_until has passed */
};

struct vs_folder_check {
        const struct vs_manifest_folder *folder;
        enum vs_folder_state state;
        enum vs_severity severity;
        bool usable;                /* configure it (sync, obsidian)? */
        enum vs_mode mode;          /* the mode to configure: the mounted one when usable */
        int mount_id;               /* -1 when not a mount */
        char *message;              /* what is wrong, with the fix; NULL when OK */
};

struct vs_verify_result {
        struct vs_folder_check *folders;   /* one per manifest folder, same order */
        size_t n_folders;
        char *manifest_message;            /* manifest-level problem (stale), or NULL */
        enum vs_severity severity;         /* the worst of all */
};

/* How the mount ID of a path is found; vs_path_mount_id normally, a table in tests. */
typedef int (*vs_mount_id_fn)(const char *path, int *ret);

int vs_verify(const struct vs_manifest *m, const struct vs_mounts *mounts, int64_t now,
              vs_mount_id_fn mount_id_of, struct vs_verify_result *ret);
void vs_verify_result_clear(struct vs_verify_result *r);

const char *vs_folder_state_to_string(enum vs_folder_state s);

/*
 * Mount points under the manifest's vault root that no manifest folder targets: a leftover
 * Kasm group mapping, or a nested mount inside a granted folder.  The strings are borrowed
 * from mounts; the caller frees the array.
 */
int vs_ungranted_mounts(const struct vs_manifest *m, const struct vs_mounts *mounts,
                        const char ***ret, size_t *n_ret);

/* Does the mountinfo root field agree with the manifest's source?  Best effort. */
bool vs_source_matches(const char *source, const char *mount_root);

/*
 * Derive a manifest from the mounts directly under vault (Kasm-native volume mappings).
 * Sources are "" (mountinfo does not know host paths); personal (default "personal") must be
 * one of the folders.  Mount points whose names are unsafe are skipped with a diagnostic.
 * -ENOENT, with a diagnostic naming vault, when nothing is mounted under it or the personal
 * folder is not.
 */
int vs_discover(const struct vs_mounts *mounts, const char *vault, const char *personal,
                const char *user_name, const char *user_id, struct vs_manifest **ret,
                struct vs_diags *diags);

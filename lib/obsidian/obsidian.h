/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Obsidian's per-vault configuration (.obsidian/app.json), kept in the personal folder so
 * it persists with the user's own mount, and linked from the vault root.
 *
 * Only the keys listed in the desired settings are ours.  A small state file
 * (.obsidian/vaultshim.json) records the value we last wrote for each: a key is (re)set only
 * when it is missing or still holds that value, so a setting the user changed in Obsidian
 * is never overwritten.
 */

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "shared/diag.h"
#include "shared/file-update.h"

#define VS_OBSIDIAN_STATE_FILE "vaultshim.json"
#define VS_OBSIDIAN_INBOX "Inbox"
#define VS_OBSIDIAN_ATTACHMENTS "Attachments"

struct vs_obsidian_plan {
        const char *vault;                 /* /vault */
        const char *personal;              /* folder name of the user's rw space */
        const char *const *excluded;       /* folder names for userIgnoreFilters */
        size_t n_excluded;
};

/*
 * Merge desired settings into app (in place).  prev_state is what we wrote last time
 * ({} when unknown); *new_state receives what we own after this merge.  Keys whose value is
 * an array are merged per element: entries we added before and no longer want are removed,
 * the user's own entries stay.  Returns 1 if app changed, 0 if not, or a negative errno.
 */
int vs_obsidian_merge(json_t *app, const json_t *prev_state, const json_t *desired,
                      json_t **new_state);

/* The settings we own for this plan (a new object). */
json_t *vs_obsidian_desired(const struct vs_obsidian_plan *plan);

/*
 * Create the folders and write app.json + the state file under <vault>/<personal>/.obsidian.
 * User settings that defeat the vault (a trash option that cannot work) go to warnings.
 */
int vs_obsidian_render(const struct vs_obsidian_plan *plan, struct vs_changes *changes,
                       struct vs_diags *warnings, struct vs_diags *diags);

/*
 * Make <vault>/.obsidian a symlink to <personal>/.obsidian.  An existing real directory is
 * merged into the personal one (entries the personal copy lacks are copied) and then kept as
 * <vault>/.obsidian.before-vaultshim[.N]; nothing is deleted.
 */
int vs_obsidian_link_root(const struct vs_obsidian_plan *plan, struct vs_changes *changes,
                          struct vs_diags *diags);

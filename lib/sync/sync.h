/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Sync-daemon configuration: one room (Syncthing folder) per usable vault folder;
 * read-only folders are receive-only.  Room ids are derived from the folder's name and
 * source only, so every user who mounts the same shared folder gets the same id and their
 * devices meet in the same room.
 */

#include <stddef.h>

#include "manifest/manifest.h"
#include "shared/diag.h"
#include "shared/file-update.h"

/* "vs-" + 16 hex digits + NUL */
#define VS_ROOM_ID_MAX 20
#define VS_ROOM_ID_PREFIX "vs-"

struct vs_sync_folder {
        const char *name;
        const char *path;       /* where it is mounted */
        const char *source;     /* host path, "" when unknown */
        enum vs_mode mode;      /* as mounted and verified */
};

struct vs_sync_plan {
        const char *vault;
        const char *user_name;
        const char *user_id;
        const struct vs_sync_folder *folders;
        size_t n_folders;
};

/* Stable room id: FNV-1a 64 of name "\0" source. */
void vs_room_id(const char *name, const char *source, char out[static VS_ROOM_ID_MAX]);

/*
 * The generic rooms file (JSON), for any sync daemon:
 *   {"version": 1, "vault": "/vault", "user": {"name": "alice", "id": "1000"},
 *    "rooms": [{"id": "vs-…", "name": "wiki", "path": "/vault/wiki", "source": "/shared/wiki",
 *               "mode": "ro", "direction": "receive-only"}, …]}
 * direction is "send-receive" for rw folders and "receive-only" for ro ones.
 */
int vs_rooms_render(const struct vs_sync_plan *plan, const char *path, struct vs_changes *changes,
                    struct vs_diags *diags);

/*
 * Merge the plan into <home>/config.xml (Syncthing 1.19, config version 36): our folders
 * (ids starting with "vs-") are added, updated (path, type, marker) or removed; everything
 * else — devices, the user's own folders, their tuning of our folders, gui, options — is
 * kept, except the options that would put the container on the internet (global announce,
 * relays, NAT, usage reporting, crash reporting, auto upgrade) and a GUI address off
 * 127.0.0.1.  ro_type is the folder type for read-only folders ("receiveonly").
 * A missing config.xml is created from a built-in safe template.
 */
int vs_syncthing_render(const struct vs_sync_plan *plan, const char *home, const char *ro_type,
                        struct vs_changes *changes, struct vs_diags *diags);

/*
 * Keep a managed block in <folder>/.stignore (Syncthing's ignore file) that stops the
 * shim's journal and staging copies, trash folders and Obsidian's workspace layout from
 * being synced.  Lines outside the block are the user's and stay.
 */
int vs_stignore_render(const char *folder, struct vs_changes *changes, struct vs_diags *diags);

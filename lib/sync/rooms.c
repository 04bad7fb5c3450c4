/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sync/sync.h"

void vs_room_id(const char *name, const char *source, char out[static VS_ROOM_ID_MAX])
{
        uint64_t h = 0xcbf29ce484222325u;
        const char *parts[] = {name, source};
        for (size_t i = 0; i < 2; i++) {
                /* Include the terminating NUL so ("ab","c") and ("a","bc") differ. */
                for (const unsigned char *p = (const unsigned char *)parts[i];; p++) {
                        h = (h ^ *p) * 0x100000001b3u;
                        if (!*p)
                                break;
                }
        }
        snprintf(out, VS_ROOM_ID_MAX, VS_ROOM_ID_PREFIX "%016" PRIx64, h);
}

int vs_rooms_render(const struct vs_sync_plan *plan, const char *path, struct vs_changes *changes,
                    struct vs_diags *diags)
{
        json_t *rooms = json_array(), *doc = NULL;
        char *text = NULL;
        int r = -ENOMEM;
        if (!rooms)
                return -ENOMEM;
        for (size_t i = 0; i < plan->n_folders; i++) {
                const struct vs_sync_folder *f = &plan->folders[i];
                char id[VS_ROOM_ID_MAX];
                vs_room_id(f->name, f->source, id);
                json_t *room = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "name",
                                         f->name, "path", f->path, "source", f->source, "mode",
                                         vs_mode_to_string(f->mode), "direction",
                                         f->mode == VS_MODE_RW ? "send-receive" : "receive-only");
                if (!room || json_array_append_new(rooms, room) < 0)
                        goto out;
        }
        doc = json_pack("{s:i, s:s, s:{s:s, s:s}, s:O}", "version", 1, "vault", plan->vault, "user",
                        "name", plan->user_name, "id", plan->user_id, "rooms", rooms);
        if (!doc)
                goto out;
        text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                goto out;
        /* A trailing newline, as text files are expected to have. */
        size_t len = strlen(text);
        char *with_nl = realloc(text, len + 2);
        if (!with_nl)
                goto out;
        text = with_nl;
        memcpy(text + len, "\n", 2);
        r = vs_file_update(path, text, len + 1, 0644, changes, diags);
out:
        free(text);
        json_decref(doc);
        json_decref(rooms);
        return r;
}

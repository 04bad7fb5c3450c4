/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obsidian/obsidian.h"

#define STATE_VERSION 1

json_t *vs_obsidian_desired(const struct vs_obsidian_plan *plan)
{
        char *inbox = NULL, *attachments = NULL;
        json_t *d = NULL, *ignore = NULL;

        if (asprintf(&inbox, "%s/%s", plan->personal, VS_OBSIDIAN_INBOX) < 0)
                inbox = NULL;
        if (asprintf(&attachments, "%s/%s", plan->personal, VS_OBSIDIAN_ATTACHMENTS) < 0)
                attachments = NULL;
        if (!inbox || !attachments)
                goto out;
        /*
         * Deleting: "local" renames into <vault>/.trash, which is another mount than every
         * folder, so it fails with EXDEV (Obsidian has no copy fallback); "system" runs
         * `gio trash`, which picks the home trash or <mount root>/.Trash-<uid> by comparing
         * st_dev, and bind mounts of one filesystem share st_dev, so it fails with EXDEV or
         * EROFS and Obsidian falls back to "local".  Only "none" (a plain unlink, with
         * Obsidian's confirmation prompt) works in every folder.
         */
        d = json_pack("{s:s, s:s, s:s, s:s}",
                      "newFileLocation", "folder",
                      "newFileFolderPath", inbox,
                      "attachmentFolderPath", attachments,
                      "trashOption", "none");
        if (!d || plan->n_excluded == 0)
                goto out;
        /*
         * "Excluded files" still show in the file explorer and can be opened; they only leave
         * search, graph, quick switcher and link suggestions.  So exclusion protects nothing,
         * and is only wanted when a large read-only folder drowns the user's own notes: the
         * tool does it on request (--exclude-readonly), never by default.
         */
        ignore = json_array();
        if (!ignore)
                goto fail;
        for (size_t i = 0; i < plan->n_excluded; i++) {
                char *entry = NULL;
                if (asprintf(&entry, "%s/", plan->excluded[i]) < 0 ||
                    json_array_append_new(ignore, json_string(entry)) < 0) {
                        free(entry);
                        goto fail;
                }
                free(entry);
        }
        if (json_object_set_new(d, "userIgnoreFilters", ignore) == 0)
                goto out;
        ignore = NULL;
fail:
        json_decref(ignore);
        json_decref(d);
        d = NULL;
out:
        free(inbox);
        free(attachments);
        return d;
}

/* Load a JSON object; a missing file is an empty object, a broken one an error at its place. */
static int load_object(const char *path, json_t **ret, bool *existed, struct vs_diags *diags)
{
        char *text = NULL;
        size_t len = 0;
        json_error_t err;
        int r = vs_file_read(path, &text, &len);
        *existed = r == 0;
        if (r == -ENOENT) {
                *ret = json_object();
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0) {
                vs_file_read_failed(diags, path, r);
                return r;
        }
        json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
        free(text);
        if (!doc) {
                vs_diags_add(diags, path, (unsigned)(err.line > 0 ? err.line : 0),
                             (unsigned)(err.column > 0 ? err.column : 0),
                             "not valid JSON: %s (left untouched)", err.text);
                return -EINVAL;
        }
        if (!json_is_object(doc)) {
                json_decref(doc);
                vs_diags_add(diags, path, 1, 1, "must be a JSON object (left untouched)");
                return -EINVAL;
        }
        *ret = doc;
        return 0;
}

static int write_json(const char *path, const json_t *doc, struct vs_changes *changes,
                      struct vs_diags *diags)
{
        /* The layout of JSON.stringify(x, null, 2), which is how Obsidian itself saves. */
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return -ENOMEM;
        int r = vs_file_update(path, text, strlen(text), 0644, changes, diags);
        free(text);
        return r;
}

int vs_obsidian_render(const struct vs_obsidian_plan *plan, struct vs_changes *changes,
                       struct vs_diags *warnings, struct vs_diags *diags)
{
        char *personal = NULL, *config = NULL, *inbox = NULL, *attachments = NULL;
        char *app_path = NULL, *state_path = NULL;
        json_t *app = NULL, *state = NULL, *desired = NULL, *owned = NULL, *state_out = NULL;
        struct vs_diags ignored = {0};
        bool app_existed = false, state_existed = false;
        int r = -ENOMEM;

        if (asprintf(&personal, "%s/%s", plan->vault, plan->personal) < 0 ||
            asprintf(&config, "%s/.obsidian", personal) < 0 ||
            asprintf(&inbox, "%s/%s", personal, VS_OBSIDIAN_INBOX) < 0 ||
            asprintf(&attachments, "%s/%s", personal, VS_OBSIDIAN_ATTACHMENTS) < 0 ||
            asprintf(&app_path, "%s/app.json", config) < 0 ||
            asprintf(&state_path, "%s/%s", config, VS_OBSIDIAN_STATE_FILE) < 0)
                goto out;

        /* Obsidian silently puts new notes at the vault root when the folder is missing. */
        if ((r = vs_mkdir_p(config, 0755, changes, diags)) < 0 ||
            (r = vs_mkdir_p(inbox, 0755, changes, diags)) < 0 ||
            (r = vs_mkdir_p(attachments, 0755, changes, diags)) < 0)
                goto out;

        r = load_object(app_path, &app, &app_existed, diags);
        if (r < 0)
                goto out;
        /* A broken state file only costs us the memory of our values: start afresh. */
        if (load_object(state_path, &state, &state_existed, &ignored) < 0)
                state = json_object();
        r = -ENOMEM;
        desired = vs_obsidian_desired(plan);
        if (!state || !desired)
                goto out;
        json_t *prev = json_object_get(state, "app.json");
        r = vs_obsidian_merge(app, json_is_object(prev) ? prev : NULL, desired, &owned);
        if (r < 0)
                goto out;
        const char *trash = json_string_value(json_object_get(app, "trashOption"));
        if (trash && strcmp(trash, "none") != 0)
                vs_diags_add(warnings, app_path, 0, 0,
                             "trashOption is \"%s\" (a user setting, kept): deleting fails with "
                             "EXDEV across the vault's mounts; set \"Deleted files\" to "
                             "\"Permanently delete\"", trash);
        if (r > 0 || !app_existed)
                r = write_json(app_path, app, changes, diags);
        else
                r = vs_changes_add(changes, app_path, "unchanged");
        if (r < 0)
                goto out;

        state_out = json_pack("{s:i, s:s, s:O}", "version", STATE_VERSION, "comment",
                              "Values vault-first-launch last wrote to app.json; a key is only "
                              "set again while it still holds this value.",
                              "app.json", owned);
        r = state_out ? write_json(state_path, state_out, changes, diags) : -ENOMEM;
out:
        vs_diags_clear(&ignored);
        json_decref(app);
        json_decref(state);
        json_decref(desired);
        json_decref(owned);
        json_decref(state_out);
        free(personal);
        free(config);
        free(inbox);
        free(attachments);
        free(app_path);
        free(state_path);
        return r;
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intents.h"
#include "shared/file-update.h"

static int compare_ids(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t position(const struct intents *in, const char *id, bool *found)
{
        size_t lo = 0, hi = in->count;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(in->user_ids[mid], id);
                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

bool intents_has(const struct intents *in, const char *user_id)
{
        bool found;
        position(in, user_id, &found);
        return found;
}

int intents_add(struct intents *in, const char *user_id)
{
        bool found;
        size_t at = position(in, user_id, &found);
        if (found)
                return 0;
        char **grown = realloc(in->user_ids, (in->count + 1) * sizeof(char *));
        if (!grown)
                return -ENOMEM;
        in->user_ids = grown;
        char *id = strdup(user_id);
        if (!id)
                return -ENOMEM;
        memmove(grown + at + 1, grown + at, (in->count - at) * sizeof(char *));
        grown[at] = id;
        in->count++;
        return 0;
}

void intents_remove(struct intents *in, const char *user_id)
{
        bool found;
        size_t at = position(in, user_id, &found);
        if (!found)
                return;
        free(in->user_ids[at]);
        memmove(in->user_ids + at, in->user_ids + at + 1, (in->count - at - 1) * sizeof(char *));
        in->count--;
}

void intents_clear(struct intents *in)
{
        for (size_t i = 0; i < in->count; i++)
                free(in->user_ids[i]);
        free(in->user_ids);
        *in = (struct intents){ 0 };
}

int intents_load(const char *dir, struct intents *ret, char why[512])
{
        struct intents in = { 0 };
        char *path = NULL, *text = NULL;
        size_t len, i;
        json_t *root = NULL, *ids, *id;
        int r;
        if (asprintf(&path, "%s/%s", dir, INTENTS_FILE) < 0)
                return -ENOMEM;
        r = vs_file_read(path, &text, &len);
        if (r == -ENOENT || r == -ENOTDIR) {
                free(path);
                *ret = in;
                return 0;
        }
        if (r < 0) {
                snprintf(why, 512, "%s: %s", path, strerror(-r));
                goto out;
        }
        root = json_loadb(text, len, 0, NULL);
        ids = json_object_get(root, "user_ids");
        r = -EINVAL;
        if (!json_is_array(ids)) {
                snprintf(why, 512,
                         "%s: not {\"user_ids\": [...]}; it was written by "
                         "vault-orchestrator and must not be edited",
                         path);
                goto out;
        }
        json_array_foreach(ids, i, id)
        {
                if (!json_is_string(id)) {
                        snprintf(why, 512, "%s: user_ids[%zu] is not a string", path, i);
                        goto out;
                }
                if ((r = intents_add(&in, json_string_value(id))) < 0)
                        goto out;
                r = -EINVAL;
        }
        if (in.count)
                qsort(in.user_ids, in.count, sizeof(char *), compare_ids);
        r = 0;
out:
        json_decref(root);
        free(text);
        free(path);
        if (r < 0) {
                intents_clear(&in);
                return r;
        }
        *ret = in;
        return 0;
}

int intents_save(const char *dir, const struct intents *in, char why[512])
{
        struct vs_diags diags = { 0 };
        struct vs_changes changes = { 0 };
        json_t *ids = json_array(), *root = NULL;
        char *path = NULL, *text = NULL;
        int r = -ENOMEM;
        for (size_t i = 0; ids && i < in->count; i++)
                json_array_append_new(ids, json_string(in->user_ids[i]));
        if (!ids || asprintf(&path, "%s/%s", dir, INTENTS_FILE) < 0)
                goto out;
        root = json_pack("{s:O}", "user_ids", ids);
        if (!root || !(text = json_dumps(root, 0)))
                goto out;
        r = vs_file_update(path, text, strlen(text), 0600, &changes, &diags);
        if (r < 0)
                snprintf(why, 512, "%s", diags.count ? diags.items[0].message : strerror(-r));
out:
        if (r == -ENOMEM)
                snprintf(why, 512, "out of memory");
        vs_diags_clear(&diags);
        vs_changes_clear(&changes);
        json_decref(root);
        json_decref(ids);
        free(text);
        free(path);
        return r;
}

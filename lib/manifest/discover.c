/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/verify.h"
#include "shared/names.h"

static int compare_folders(const void *a, const void *b)
{
        return strcmp(((const struct vs_manifest_folder *)a)->name,
                      ((const struct vs_manifest_folder *)b)->name);
}

/* The folder name if mount_point is directly under vault, else NULL. */
static const char *child_name(const char *vault, const char *mount_point)
{
        size_t n = strlen(vault);
        if (strncmp(mount_point, vault, n) != 0 || mount_point[n] != '/' ||
            mount_point[n + 1] == '\0')
                return NULL;
        const char *name = mount_point + n + 1;
        return strchr(name, '/') ? NULL : name;
}

int vs_discover(const struct vs_mounts *mounts, const char *vault, const char *personal,
                const char *user_name, const char *user_id, struct vs_manifest **ret,
                struct vs_diags *diags)
{
        struct vs_manifest *m = calloc(1, sizeof(*m));
        int r = -ENOMEM;
        if (!m)
                return -ENOMEM;
        m->version = VS_MANIFEST_VERSION;
        m->valid_until = VS_TIME_NONE;
        m->vault = strdup(vault);
        m->user_name = strdup(user_name);
        m->user_id = strdup(user_id);
        if (!m->vault || !m->user_name || !m->user_id)
                goto fail;
        if (mounts->count) {
                m->folders = calloc(mounts->count, sizeof(*m->folders));
                if (!m->folders)
                        goto fail;
        }

        for (size_t i = 0; i < mounts->count; i++) {
                const struct vs_mount *mnt = &mounts->items[i];
                const char *name = child_name(vault, mnt->mount_point);
                /* Several mounts stacked on one point: only the last (top) one is visible. */
                if (!name || vs_mounts_find(mounts, mnt->mount_point) != mnt)
                        continue;
                if (!vs_folder_name_valid(name)) {
                        if (name[0] != '.')
                                vs_diags_add(diags, mnt->mount_point, 0, 0,
                                             "skipped: not a safe folder name");
                        continue;
                }
                struct vs_manifest_folder *f = &m->folders[m->n_folders++];
                f->name = strdup(name);
                f->source = strdup("");
                f->target = strdup(mnt->mount_point);
                f->mode = vs_mount_read_only(mnt) ? VS_MODE_RO : VS_MODE_RW;
                f->required = true;
                f->valid_until = VS_TIME_NONE;
                if (!f->name || !f->source || !f->target)
                        goto fail;
        }
        if (m->n_folders)
                qsort(m->folders, m->n_folders, sizeof(*m->folders), compare_folders);

        /* The mounts are all there is: without a folder, or without the user's own one, a
         * session has nowhere to keep a note (Obsidian would write into the container). */
        if (m->n_folders == 0) {
                vs_diags_add(diags, vault, 0, 0,
                             "nothing is mounted under the vault root; no folder to configure");
                r = -ENOENT;
                goto fail;
        }
        const char *want = personal ? personal : "personal";
        for (size_t i = 0; i < m->n_folders; i++)
                if (strcmp(m->folders[i].name, want) == 0) {
                        m->personal = strdup(want);
                        if (!m->personal)
                                goto fail;
                }
        if (!m->personal) {
                char mounted[512] = "";
                size_t used = 0;
                for (size_t i = 0; i < m->n_folders && used < sizeof(mounted); i++) {
                        int n = snprintf(mounted + used, sizeof(mounted) - used, "%s%s",
                                         i ? ", " : "", m->folders[i].name);
                        used += n > 0 ? (size_t)n : 0;
                }
                vs_diags_add(diags, vault, 0, 0,
                             "no mount named \"%s\" for the personal folder (mounted: %s)", want,
                             mounted);
                r = -ENOENT;
                goto fail;
        }
        *ret = m;
        return 0;
fail:
        vs_manifest_free(m);
        return r;
}

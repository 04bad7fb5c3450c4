/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/verify.h"
#include "shared/rfc3339.h"

const char *vs_folder_state_to_string(enum vs_folder_state s)
{
        switch (s) {
        case VS_FOLDER_OK:
                return "ok";
        case VS_FOLDER_MISSING:
                return "missing";
        case VS_FOLDER_NOT_MOUNTED:
                return "not-mounted";
        case VS_FOLDER_RO_VIOLATED:
                return "ro-violated";
        case VS_FOLDER_RW_DEGRADED:
                return "rw-degraded";
        case VS_FOLDER_SOURCE_MISMATCH:
                return "source-mismatch";
        case VS_FOLDER_EXPIRED:
                return "expired";
        }
        return "unknown";
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool vs_source_matches(const char *source, const char *mount_root)
{
        /*
         * The root field is the mount's path inside its own filesystem, not on the host:
         * /srv/eng bind-mounted from a filesystem mounted at /srv shows as "/eng", and a
         * btrfs subvolume can add a prefix ("/@/srv/eng").  So only a suffix relation can be
         * checked, and a whole filesystem ("/") or an unknown source always passes.
         */
        if (source[0] == '\0' || strcmp(mount_root, "/") == 0)
                return true;
        return has_suffix(source, mount_root) || has_suffix(mount_root, source);
}

static int check_folder(const struct vs_manifest_folder *f, const struct vs_mounts *mounts,
                        int64_t now, vs_mount_id_fn mount_id_of, struct vs_folder_check *c)
{
        char when[VS_RFC3339_MAX] = "";
        const struct vs_mount *mnt = NULL;
        int id = -1, r;

        c->folder = f;
        c->mount_id = -1;
        c->mode = f->mode;

        if (f->valid_until != VS_TIME_NONE && f->valid_until <= now) {
                vs_rfc3339_format(f->valid_until, when);
                c->state = VS_FOLDER_EXPIRED;
                c->severity = VS_SEVERITY_ERROR;
                r = asprintf(&c->message,
                             "%s: access expired at %s; refusing to configure it: end this session "
                             "(a bind mount cannot be revoked inside a running container; the next "
                             "session gets the policy's current folders)", f->target, when);
                goto out;
        }

        r = mount_id_of(f->target, &id);
        if (r == 0)
                mnt = vs_mounts_find_id(mounts, id);
        if (r < 0 || !mnt || strcmp(mnt->mount_point, f->target) != 0) {
                c->state = r == -ENOENT || r == -ENOTDIR ? VS_FOLDER_MISSING : VS_FOLDER_NOT_MOUNTED;
                c->severity = f->required ? VS_SEVERITY_ERROR : VS_SEVERITY_WARNING;
                if (c->state == VS_FOLDER_MISSING)
                        r = asprintf(&c->message, "%s: %s folder is missing (expected a %s bind mount%s%s)",
                                     f->target, f->required ? "required" : "optional",
                                     vs_mode_to_string(f->mode), f->source[0] ? " of " : "", f->source);
                else if (r < 0)
                        r = asprintf(&c->message, "%s: cannot inspect: %s", f->target, strerror(-r));
                else
                        r = asprintf(&c->message,
                                     "%s: %s folder is a plain directory, not a mount point (expected a "
                                     "%s bind mount%s%s); its contents would not persist",
                                     f->target, f->required ? "required" : "optional",
                                     vs_mode_to_string(f->mode), f->source[0] ? " of " : "", f->source);
                goto out;
        }

        c->mount_id = id;
        c->usable = true;
        bool ro = vs_mount_read_only(mnt);
        if (f->mode == VS_MODE_RO && !ro) {
                c->state = VS_FOLDER_RO_VIOLATED;
                c->severity = VS_SEVERITY_ERROR;
                c->usable = false;
                r = asprintf(&c->message,
                             "%s: promised read-only but mounted read-write (mount %d); refusing to "
                             "configure it (fix the volume mapping: mode \"ro\")",
                             f->target, id);
        } else if (f->mode == VS_MODE_RW && ro) {
                c->state = VS_FOLDER_RW_DEGRADED;
                c->severity = VS_SEVERITY_WARNING;
                c->mode = VS_MODE_RO;
                r = asprintf(&c->message,
                             "%s: promised read-write but mounted read-only (%s); configuring it as "
                             "read-only", f->target, mnt->super_ro ? "filesystem is ro" : "mount is ro");
        } else if (!vs_source_matches(f->source, mnt->root)) {
                c->state = VS_FOLDER_SOURCE_MISMATCH;
                c->severity = VS_SEVERITY_WARNING;
                r = asprintf(&c->message,
                             "%s: mounted from \"%s\" on %s, which does not look like the promised "
                             "source %s", f->target, mnt->root, mnt->source, f->source);
        } else {
                c->state = VS_FOLDER_OK;
                c->severity = VS_SEVERITY_OK;
                r = 0;
        }
out:
        if (r < 0) {
                c->message = NULL;
                return -ENOMEM;
        }
        return 0;
}

int vs_verify(const struct vs_manifest *m, const struct vs_mounts *mounts, int64_t now,
              vs_mount_id_fn mount_id_of, struct vs_verify_result *ret)
{
        struct vs_verify_result res = {0};
        int r = 0;

        if (m->n_folders) {
                res.folders = calloc(m->n_folders, sizeof(*res.folders));
                if (!res.folders)
                        return -ENOMEM;
        }
        res.n_folders = m->n_folders;
        for (size_t i = 0; i < m->n_folders; i++) {
                r = check_folder(&m->folders[i], mounts, now, mount_id_of, &res.folders[i]);
                if (r < 0)
                        goto fail;
                if (res.folders[i].severity > res.severity)
                        res.severity = res.folders[i].severity;
        }
        if (m->valid_until != VS_TIME_NONE && m->valid_until <= now) {
                char when[VS_RFC3339_MAX] = "";
                vs_rfc3339_format(m->valid_until, when);
                if (asprintf(&res.manifest_message,
                             "the manifest is stale since %s: the policy's decision changed then; "
                             "end this session so that the next one gets the current folders "
                             "(expired folders are refused, the others are still configured)",
                             when) < 0) {
                        res.manifest_message = NULL;
                        r = -ENOMEM;
                        goto fail;
                }
                res.severity = VS_SEVERITY_ERROR;
        }
        *ret = res;
        return 0;
fail:
        vs_verify_result_clear(&res);
        return r;
}

void vs_verify_result_clear(struct vs_verify_result *r)
{
        for (size_t i = 0; i < r->n_folders; i++)
                free(r->folders[i].message);
        free(r->folders);
        free(r->manifest_message);
        *r = (struct vs_verify_result){0};
}

static bool granted(const struct vs_manifest *m, const char *mount_point)
{
        for (size_t i = 0; i < m->n_folders; i++)
                if (strcmp(m->folders[i].target, mount_point) == 0)
                        return true;
        return false;
}

int vs_ungranted_mounts(const struct vs_manifest *m, const struct vs_mounts *mounts, const char ***ret,
                        size_t *n_ret)
{
        size_t len = strlen(m->vault), n = 0;
        const char **list = calloc(mounts->count + 1, sizeof(*list));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < mounts->count; i++) {
                const struct vs_mount *mnt = &mounts->items[i];
                const char *mp = mnt->mount_point;
                /* Stacked mounts: only the visible one counts, and only once. */
                if (strncmp(mp, m->vault, len) != 0 || mp[len] != '/' || vs_mounts_find(mounts, mp) != mnt ||
                    granted(m, mp))
                        continue;
                list[n++] = mp;
        }
        *ret = list;
        *n_ret = n;
        return 0;
}

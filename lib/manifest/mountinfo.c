/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/mount.h"
#include "base/mountinfo.h"
#include "manifest/mountinfo.h"
#include "shared/file-update.h"

/* A field unescaped into a string of its own: 0, -EINVAL for a bad escape, or -ENOMEM. */
static int field_dup(struct vs_span f, char **out)
{
        char *s = malloc(f.len + 1);
        if (!s)
                return -ENOMEM;
        int r = vs_mountinfo_unescape(f, s, f.len + 1);
        if (r < 0) {
                free(s);
                return -EINVAL; /* unescaped is never longer than escaped */
        }
        *out = s;
        return 0;
}

static int parse_line(const char *name, unsigned lineno, const char *line, size_t len,
                      struct vs_mount *mnt, struct vs_diags *diags)
{
        struct vs_mountinfo_entry e;
        int r = vs_mountinfo_parse_line(line, len, &e);
        if (r == -ENODATA) {
                vs_diags_add(diags, name, lineno, (unsigned)len + 1, "truncated mountinfo line");
                return -EINVAL;
        }
        if (r < 0 || e.id > INT_MAX || e.parent > INT_MAX) {
                vs_diags_add(diags, name, lineno, 1,
                             "bad mount id or device number in mountinfo line");
                return -EINVAL;
        }
        mnt->mount_id = (int)e.id;
        mnt->parent_id = (int)e.parent;
        mnt->major = e.major;
        mnt->minor = e.minor;
        mnt->mount_ro = vs_mountinfo_has_option(e.options, "ro");
        mnt->super_ro = vs_mountinfo_has_option(e.super, "ro");
        r = field_dup(e.root, &mnt->root);
        if (r == 0)
                r = field_dup(e.point, &mnt->mount_point);
        if (r == 0)
                r = field_dup(e.fstype, &mnt->fstype);
        if (r == 0)
                r = field_dup(e.source, &mnt->source);
        if (r == -EINVAL)
                vs_diags_add(diags, name, lineno, 1, "bad octal escape in mountinfo line");
        return r;
}

static void mount_free(struct vs_mount *mnt)
{
        free(mnt->root);
        free(mnt->mount_point);
        free(mnt->fstype);
        free(mnt->source);
}

int vs_mounts_parse(const char *name, const char *text, struct vs_mounts *ret,
                    struct vs_diags *diags)
{
        struct vs_mounts m = {0};
        size_t cap = 0;
        unsigned lineno = 0;
        int r = 0;
        for (const char *line = text, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
                nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                lineno++;
                if (m.count == cap) {
                        cap = cap ? cap * 2 : 64;
                        struct vs_mount *items = realloc(m.items, cap * sizeof(*items));
                        if (!items) {
                                r = -ENOMEM;
                                break;
                        }
                        m.items = items;
                }
                struct vs_mount *mnt = &m.items[m.count];
                *mnt = (struct vs_mount){0};
                r = parse_line(name, lineno, line, len, mnt, diags);
                if (r < 0) {
                        mount_free(mnt);
                        break;
                }
                m.count++;
        }
        if (r < 0) {
                vs_mounts_clear(&m);
                return r;
        }
        *ret = m;
        return 0;
}

int vs_mounts_load(const char *path, struct vs_mounts *ret, struct vs_diags *diags)
{
        char *text = NULL;
        size_t len;
        const char *file = path ? path : "/proc/self/mountinfo";
        int r = vs_file_read(file, &text, &len);
        if (r < 0) {
                vs_file_read_failed(diags, file, r);
                return r;
        }
        r = vs_mounts_parse(file, text, ret, diags);
        free(text);
        return r;
}

void vs_mounts_clear(struct vs_mounts *m)
{
        for (size_t i = 0; i < m->count; i++)
                mount_free(&m->items[i]);
        free(m->items);
        *m = (struct vs_mounts){0};
}

const struct vs_mount *vs_mounts_find(const struct vs_mounts *m, const char *mount_point)
{
        for (size_t i = m->count; i > 0; i--)
                if (strcmp(m->items[i - 1].mount_point, mount_point) == 0)
                        return &m->items[i - 1];
        return NULL;
}

const struct vs_mount *vs_mounts_find_id(const struct vs_mounts *m, int mount_id)
{
        for (size_t i = 0; i < m->count; i++)
                if (m->items[i].mount_id == mount_id)
                        return &m->items[i];
        return NULL;
}

/* lib/base's lookup, as the int that mountinfo's ids are kept in here (vs_mount_id_fn). */
int vs_path_mount_id(const char *path, int *ret)
{
        uint64_t id;
        int r = vs_mount_id(AT_FDCWD, path, &id);
        if (r == 0)
                *ret = (int)id;
        return r;
}

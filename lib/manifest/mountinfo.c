/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "manifest/mountinfo.h"
#include "shared/file-update.h"

/* Undo the kernel's octal escapes (\ooo) in place. */
static bool unescape(char *s)
{
        char *w = s;
        for (const char *p = s; *p; p++) {
                if (*p != '\\') {
                        *w++ = *p;
                        continue;
                }
                if (p[1] < '0' || p[1] > '3' || p[2] < '0' || p[2] > '7' || p[3] < '0' ||
                    p[3] > '7')
                        return false;
                *w++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                p += 3;
        }
        *w = '\0';
        return true;
}

static bool has_option(const char *opts, const char *want)
{
        size_t n = strlen(want);
        for (const char *p = opts; p;) {
                if (strncmp(p, want, n) == 0 && (p[n] == ',' || p[n] == '\0'))
                        return true;
                p = strchr(p, ',');
                if (p)
                        p++;
        }
        return false;
}

struct line_cursor {
        char *p;
        unsigned column;
};

/* Next space-separated field; NULL at end of line. */
static char *next_field(struct line_cursor *c, unsigned *column)
{
        while (*c->p == ' ') {
                c->p++;
                c->column++;
        }
        if (*c->p == '\0')
                return NULL;
        char *start = c->p;
        *column = c->column;
        while (*c->p && *c->p != ' ') {
                c->p++;
                c->column++;
        }
        if (*c->p) {
                *c->p++ = '\0';
                c->column++;
        }
        return start;
}

static int parse_line(const char *name, unsigned lineno, char *line, struct vs_mount *mnt,
                      struct vs_diags *diags)
{
        struct line_cursor c = {.p = line, .column = 1};
        char *fields[6], *f;
        unsigned col = 1;

        for (int i = 0; i < 6; i++) {
                fields[i] = next_field(&c, &col);
                if (!fields[i]) {
                        vs_diags_add(diags, name, lineno, c.column, "truncated mountinfo line");
                        return -EINVAL;
                }
        }
        char *end;
        mnt->mount_id = (int)strtol(fields[0], &end, 10);
        if (*end)
                goto bad_number;
        mnt->parent_id = (int)strtol(fields[1], &end, 10);
        if (*end)
                goto bad_number;
        if (sscanf(fields[2], "%u:%u", &mnt->major, &mnt->minor) != 2)
                goto bad_number;
        mnt->mount_ro = has_option(fields[5], "ro");

        /* Optional fields (shared:N, master:N, ...) run up to a lone "-". */
        while ((f = next_field(&c, &col)) && strcmp(f, "-") != 0)
                ;
        char *fstype = next_field(&c, &col), *source = next_field(&c, &col);
        char *super = next_field(&c, &col);
        if (!f || !fstype || !source || !super) {
                vs_diags_add(diags, name, lineno, c.column, "truncated mountinfo line");
                return -EINVAL;
        }
        if (!unescape(fields[3]) || !unescape(fields[4]) || !unescape(fstype) ||
            !unescape(source)) {
                vs_diags_add(diags, name, lineno, 1, "bad octal escape in mountinfo line");
                return -EINVAL;
        }
        mnt->super_ro = has_option(super, "ro");
        mnt->root = strdup(fields[3]);
        mnt->mount_point = strdup(fields[4]);
        mnt->fstype = strdup(fstype);
        mnt->source = strdup(source);
        if (!mnt->root || !mnt->mount_point || !mnt->fstype || !mnt->source)
                return -ENOMEM;
        return 0;

bad_number:
        vs_diags_add(diags, name, lineno, 1, "bad mount id or device number in mountinfo line");
        return -EINVAL;
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
        char *copy = strdup(text);
        int r = 0;
        if (!copy)
                return -ENOMEM;
        for (char *line = copy, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
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
                r = parse_line(name, lineno, line, mnt, diags);
                if (r < 0) {
                        mount_free(mnt);
                        break;
                }
                m.count++;
        }
        free(copy);
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

int vs_path_mount_id(const char *path, int *ret)
{
        struct statx stx;
        if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) < 0)
                return -errno;
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        *ret = (int)stx.stx_mnt_id;
        return 0;
}

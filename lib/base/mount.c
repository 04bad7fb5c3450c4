/* SPDX-License-Identifier: MIT */
/* Mount identities (mount.h), from /proc/self/mountinfo as lib/base parses it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/mount.h"
#include "base/mountinfo.h"

int vs_open_beneath(int rootfd, const char *rel, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV,
        };
        long fd = syscall(SYS_openat2, rootfd, rel[0] ? rel : ".", &how, sizeof(how));
        return fd < 0 ? -errno : (int)fd;
}

/* A mount point of this namespace, reached without following any symlink. */
static int open_point(const char *point)
{
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS,
        };
        long fd = syscall(SYS_openat2, AT_FDCWD, point, &how, sizeof(how));
        return fd < 0 ? -errno : (int)fd;
}

int vs_mount_table_read(struct vs_mount_table *t)
{
        char *text = NULL;
        size_t len = 0;
        int r = vs_mountinfo_read(&text, &len);
        if (r < 0)
                return r;
        t->text = text;
        t->len = len;
        return 0;
}

void vs_mount_table_free(struct vs_mount_table *t)
{
        free(t->text);
        t->text = NULL;
        t->len = 0;
}

/* Fill point, root, fstype and device of mount `id` from the table t (NULL: this process's
 * mountinfo, read now). */
static int find_mount(const struct vs_mount_table *t, uint64_t id, struct vs_mount_identity *m)
{
        struct vs_mount_table fresh = { 0 };
        if (!t && vs_mount_table_read(&fresh) < 0)
                return -EXDEV;
        if (!t)
                t = &fresh;
        struct vs_mountinfo_entry e;
        int r = vs_mountinfo_find(t->text, t->len, id, &e);
        if (r == 0 && e.fstype.len >= sizeof(m->fstype))
                r = -EXDEV;
        if (r == 0)
                r = vs_mountinfo_unescape(e.root, m->root, sizeof(m->root));
        if (r == 0)
                r = vs_mountinfo_unescape(e.point, m->point, sizeof(m->point));
        if (r == 0) {
                memcpy(m->fstype, e.fstype.s, e.fstype.len);
                m->fstype[e.fstype.len] = '\0';
                m->dev_major = e.major;
                m->dev_minor = e.minor;
        }
        vs_mount_table_free(&fresh);
        return r < 0 ? -EXDEV : 0;
}

int vs_mount_id(int dirfd, const char *path, uint64_t *id)
{
        struct statx stx;
        if (statx(dirfd, path, AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) < 0)
                return -errno;
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        *id = stx.stx_mnt_id;
        return 0;
}

static int mount_id_of(int fd, uint64_t *id, uint64_t *ino, bool *is_root)
{
        struct statx stx;
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_MNT_ID, &stx) < 0)
                return -errno;
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -EXDEV;
        *id = stx.stx_mnt_id;
        *ino = stx.stx_ino;
        *is_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                   (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
        return 0;
}

static uint64_t fsid_of(int fd)
{
        struct statfs sf;
        if (fstatfs(fd, &sf) < 0)
                return 0;
        return (uint64_t)(uint32_t)sf.f_fsid.__val[0] << 32 | (uint32_t)sf.f_fsid.__val[1];
}

/* The mount at m->point, identified afresh: root inode and fsid from the mount root. */
static int identify_point(int point_fd, uint64_t want_id, struct vs_mount_identity *m)
{
        uint64_t id = 0, ino = 0; /* set whenever mount_id_of succeeds; -O3 cannot tell */
        bool is_root = false;
        int r = mount_id_of(point_fd, &id, &ino, &is_root);
        if (r < 0)
                return r;
        if (id != want_id || !is_root)
                return -ESTALE; /* something else is mounted there now */
        m->root_ino = ino;
        m->fsid = fsid_of(point_fd);
        return 0;
}

int vs_mount_identify_open(const struct vs_mount_table *t, int dirfd,
                           struct vs_mount_identity *out, int *point_fd)
{
        uint64_t id = 0, ino = 0; /* set whenever mount_id_of succeeds; -O3 cannot tell */
        bool is_root = false;
        int r = mount_id_of(dirfd, &id, &ino, &is_root);
        if (r < 0)
                return -EXDEV;
        struct vs_mount_identity m;
        r = find_mount(t, id, &m);
        if (r < 0)
                return r;
        int fd = open_point(m.point);
        if (fd < 0)
                return -EXDEV;
        r = identify_point(fd, id, &m);
        if (r < 0) {
                close(fd);
                return -EXDEV;
        }
        *out = m;
        *point_fd = fd;
        return 0;
}

int vs_mount_identify(int dirfd, struct vs_mount_identity *out)
{
        int fd = -1;
        int r = vs_mount_identify_open(NULL, dirfd, out, &fd);
        if (r == 0)
                close(fd);
        return r;
}

bool vs_mount_same(const struct vs_mount_identity *a, const struct vs_mount_identity *b)
{
        if (strcmp(a->point, b->point) != 0 || strcmp(a->root, b->root) != 0 ||
            strcmp(a->fstype, b->fstype) != 0 || a->root_ino != b->root_ino)
                return false;
        if (a->fsid && b->fsid)
                return a->fsid == b->fsid;
        return a->dev_major == b->dev_major && a->dev_minor == b->dev_minor;
}

int vs_mount_open_verified(const struct vs_mount_identity *m)
{
        int fd = open_point(m->point);
        if (fd < 0)
                return fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP ? -ESTALE : fd;
        uint64_t id = 0, ino = 0; /* set whenever mount_id_of succeeds; -O3 cannot tell */
        bool is_root = false;
        struct vs_mount_identity now;
        int r = mount_id_of(fd, &id, &ino, &is_root);
        if (r == 0)
                r = is_root ? find_mount(NULL, id, &now) : -ESTALE;
        if (r == 0)
                r = identify_point(fd, id, &now);
        if (r == 0 && !vs_mount_same(m, &now))
                r = -ESTALE;
        if (r < 0) {
                close(fd);
                return r == -EXDEV ? -ESTALE : r;
        }
        return fd;
}

int vs_mount_relative(const struct vs_mount_identity *m, const char *abs, char *rel,
                      size_t size)
{
        size_t plen = strlen(m->point);
        const char *rest;
        if (plen == 1 && m->point[0] == '/')
                rest = abs + 1;
        else if (strncmp(abs, m->point, plen) == 0 && abs[plen] == '/')
                rest = abs + plen + 1;
        else
                return -EXDEV;
        size_t len = strlen(rest);
        if (len == 0 || len >= size || abs[0] != '/')
                return -EXDEV;
        /* realpath()'s output is clean; anything else is not ours to interpret. */
        for (const char *p = rest; *p;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return -EXDEV;
                p += n + (slash ? 1 : 0);
        }
        memcpy(rel, rest, len + 1);
        return 0;
}

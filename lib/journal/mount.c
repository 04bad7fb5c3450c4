/* SPDX-License-Identifier: MIT */
/*
 * Mount identities: what a record says about the mount each side of a move is on, and how
 * recovery proves that the mount now at that place is the same folder before it touches
 * anything beneath it.  /proc/self/mountinfo is read with read(2) (no stdio: this is
 * linked into libvaultshim.so).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "journal/journal.h"

#define MOUNTINFO_MAX (16u << 20)

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

static int read_mountinfo(char **text, size_t *len)
{
        int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t cap = 16384, n = 0;
        char *buf = malloc(cap);
        int r = buf ? 0 : -ENOMEM;
        while (r == 0) {
                if (n + 1 == cap) {
                        char *grown = cap >= MOUNTINFO_MAX ? NULL : realloc(buf, cap * 2);
                        if (!grown) {
                                r = -ENOMEM;
                                break;
                        }
                        buf = grown;
                        cap *= 2;
                }
                ssize_t got = read(fd, buf + n, cap - 1 - n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        r = -errno;
                else if (got == 0)
                        break;
                else
                        n += (size_t)got;
        }
        close(fd);
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[n] = '\0';
        *text = buf;
        *len = n;
        return 0;
}

/* mountinfo's octal escapes (\040 for a space, ...) undone; -ENAMETOOLONG if it won't fit. */
static int unescape(const char *s, size_t len, char *out, size_t size)
{
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '\\' && i + 3 < len &&
                    s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
                    s[i + 3] >= '0' && s[i + 3] <= '7') {
                        c = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
                                   (s[i + 3] - '0'));
                        i += 3;
                }
                if (n + 1 >= size)
                        return -ENAMETOOLONG;
                out[n++] = c;
        }
        out[n] = '\0';
        return 0;
}

static uint64_t decimal(const char *s, size_t len, bool *ok)
{
        uint64_t v = 0;
        *ok = len > 0 && len < 20;
        for (size_t i = 0; i < len && *ok; i++) {
                *ok = s[i] >= '0' && s[i] <= '9';
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        return v;
}

/* Fill point, root, fstype and device of mount `id` from one mountinfo line. */
static int parse_line(const char *line, size_t len, uint64_t id, struct vs_mount_identity *m)
{
        const char *field[6];
        size_t flen[6], n = 0, i = 0;
        while (n < 6 && i < len) {
                size_t j = i;
                while (j < len && line[j] != ' ')
                        j++;
                field[n] = line + i;
                flen[n++] = j - i;
                i = j + 1;
        }
        bool ok;
        if (n < 6 || decimal(field[0], flen[0], &ok) != id || !ok)
                return -ENOENT;
        /* The optional fields end at " - ", then the filesystem type. */
        const char *sep = NULL;
        for (size_t k = i; k + 1 < len; k++)
                if (line[k] == '-' && line[k - 1] == ' ' && line[k + 1] == ' ') {
                        sep = line + k;
                        break;
                }
        if (!sep)
                return -EXDEV;
        const char *type = sep + 2;
        size_t type_len = 0;
        while (type + type_len < line + len && type[type_len] != ' ')
                type_len++;
        const char *colon = memchr(field[2], ':', flen[2]);
        if (!colon || type_len == 0 || type_len >= sizeof(m->fstype))
                return -EXDEV;
        bool ok_major, ok_minor;
        uint64_t major = decimal(field[2], (size_t)(colon - field[2]), &ok_major);
        uint64_t minor = decimal(colon + 1, flen[2] - (size_t)(colon - field[2]) - 1, &ok_minor);
        if (!ok_major || !ok_minor || major > UINT32_MAX || minor > UINT32_MAX)
                return -EXDEV;
        int r = unescape(field[3], flen[3], m->root, sizeof(m->root));
        if (r == 0)
                r = unescape(field[4], flen[4], m->point, sizeof(m->point));
        if (r < 0)
                return -EXDEV;
        memcpy(m->fstype, type, type_len);
        m->fstype[type_len] = '\0';
        m->dev_major = (uint32_t)major;
        m->dev_minor = (uint32_t)minor;
        return 0;
}

static int find_mount(uint64_t id, struct vs_mount_identity *m)
{
        char *text = NULL;
        size_t len = 0;
        int r = read_mountinfo(&text, &len);
        if (r < 0)
                return -EXDEV;
        r = -EXDEV;
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t line_len = nl ? (size_t)(nl - (text + i)) : len - i;
                int found = parse_line(text + i, line_len, id, m);
                if (found != -ENOENT) {
                        r = found;
                        break;
                }
                i += line_len + 1;
        }
        free(text);
        return r;
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
        uint64_t id, ino;
        bool is_root;
        int r = mount_id_of(point_fd, &id, &ino, &is_root);
        if (r < 0)
                return r;
        if (id != want_id || !is_root)
                return -ESTALE; /* something else is mounted there now */
        m->root_ino = ino;
        m->fsid = fsid_of(point_fd);
        return 0;
}

int vs_mount_identify(int dirfd, struct vs_mount_identity *out)
{
        uint64_t id, ino;
        bool is_root;
        int r = mount_id_of(dirfd, &id, &ino, &is_root);
        if (r < 0)
                return -EXDEV;
        struct vs_mount_identity m;
        r = find_mount(id, &m);
        if (r < 0)
                return r;
        int fd = open_point(m.point);
        if (fd < 0)
                return -EXDEV;
        r = identify_point(fd, id, &m);
        close(fd);
        if (r < 0)
                return -EXDEV;
        *out = m;
        return 0;
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
        uint64_t id, ino;
        bool is_root;
        struct vs_mount_identity now;
        int r = mount_id_of(fd, &id, &ino, &is_root);
        if (r == 0)
                r = is_root ? find_mount(id, &now) : -ESTALE;
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

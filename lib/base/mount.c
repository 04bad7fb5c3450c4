/* SPDX-License-Identifier: MIT */
/* Mount identities (mount.h): from statmount(2), else /proc/self/mountinfo as lib/base
 * parses it. */
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

/* Fill point, root, fstype and device of mount `id` (the id mountinfo shows) from the table
 * t: NULL, this process's mountinfo read now; a table not read yet ({0}), read now and kept
 * for the next lookup. */
static int find_mount(struct vs_mount_table *t, uint64_t id, struct vs_mount_identity *m)
{
        struct vs_mount_table fresh = { 0 };
        if (!t)
                t = &fresh;
        if (!t->text && vs_mount_table_read(t) < 0)
                return -EXDEV;
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

/*
 * statmount(2) (Linux 6.8; the type's subtype 6.13) tells one mount's point, root, type and
 * device by its unique id (statx STATX_MNT_ID_UNIQUE), without reading mountinfo, whose
 * first read in a process costs 50-130 us.  It answers what mountinfo shows, unescaped: the
 * kernel makes both with the same functions (show_path for the root, seq_path_root for the
 * point, the type and its subtype, the superblock's device).  The type is escaped here as
 * mountinfo escapes it (" \t\n\\" as \ooo), since identities keep mountinfo's text.  The
 * layout is the kernel's UAPI (linux/mount.h), which the build's headers may predate.
 */
#if defined(__alpha__) || defined(__mips__)
#define HAVE_STATMOUNT 0 /* another system call number there; mountinfo serves */
#else
#define HAVE_STATMOUNT 1
#define SYSCALL_STATMOUNT 457
#endif
#define MNT_ID_UNIQUE 0x4000U /* STATX_MNT_ID_UNIQUE */
#define SM_SB_BASIC 0x1U
#define SM_MNT_ROOT 0x8U
#define SM_MNT_POINT 0x10U
#define SM_FS_TYPE 0x20U
#define SM_FS_SUBTYPE 0x100U

struct sm_request {
        uint32_t size, spare;
        uint64_t mnt_id, param;
};

struct sm_head { /* struct statmount: 512 bytes, strings after it */
        uint32_t size, mnt_opts;
        uint64_t mask;
        uint32_t sb_dev_major, sb_dev_minor;
        uint64_t sb_magic;
        uint32_t sb_flags, fs_type;
        uint64_t mnt_id, mnt_parent_id;
        uint32_t mnt_id_old, mnt_parent_id_old;
        uint64_t mnt_attr, mnt_propagation, mnt_peer_group, mnt_master, propagate_from;
        uint32_t mnt_root, mnt_point;
        uint64_t mnt_ns_id;
        uint32_t fs_subtype, sb_source;
        uint32_t opt_num, opt_array, opt_sec_num, opt_sec_array;
        uint64_t spare2[46];
};
_Static_assert(sizeof(struct sm_head) == 512, "struct statmount is 512 bytes");

struct sm_answer {
        struct sm_head head;
        char str[2 * PATH_MAX + 512];
};

/* The string at offset off of the answer, or NULL when it does not end inside it. */
static const char *sm_string(const struct sm_answer *a, uint32_t off)
{
        size_t room = sizeof(a->str);
        if (off >= room || !memchr(a->str + off, '\0', room - off))
                return NULL;
        return a->str + off;
}

/* Append s escaped as mountinfo's mangle() escapes it: false when it does not fit. */
static bool put_mangled(char *out, size_t size, size_t *len, const char *s)
{
        for (; *s; s++) {
                bool esc = *s == ' ' || *s == '\t' || *s == '\n' || *s == '\\';
                if (*len + (esc ? 4 : 1) >= size)
                        return false;
                if (esc) {
                        unsigned char c = (unsigned char)*s;
                        out[(*len)++] = '\\';
                        out[(*len)++] = (char)('0' + (c >> 6));
                        out[(*len)++] = (char)('0' + ((c >> 3) & 7));
                        out[(*len)++] = (char)('0' + (c & 7));
                } else {
                        out[(*len)++] = *s;
                }
        }
        out[*len] = '\0';
        return true;
}

/* A mount as statmount describes it: point and root in the answer, the type as mountinfo
 * writes it. */
struct sm_view {
        const char *point, *root;
        char fstype[sizeof(((struct vs_mount_identity *)0)->fstype)];
        uint32_t dev_major, dev_minor;
};

/* The mount with unique id `id` into *a, and *v pointing into it: 0, or a negative errno
 * when statmount cannot say (then mountinfo is read instead). */
static int statmount_view(uint64_t id, struct sm_answer *a, struct sm_view *v)
{
#if HAVE_STATMOUNT
        struct sm_request req = {
                .size = 24, /* MNT_ID_REQ_SIZE_VER0 */
                .mnt_id = id,
                .param = SM_SB_BASIC | SM_MNT_ROOT | SM_MNT_POINT | SM_FS_TYPE | SM_FS_SUBTYPE,
        };
        if (syscall(SYSCALL_STATMOUNT, &req, a, sizeof(*a), 0) < 0)
                return -errno;
        const uint64_t need = SM_SB_BASIC | SM_MNT_ROOT | SM_MNT_POINT | SM_FS_TYPE;
        if ((a->head.mask & need) != need || a->head.size < sizeof(a->head) ||
            a->head.size > sizeof(*a))
                return -ENODATA;
        const char *type = sm_string(a, a->head.fs_type);
        const char *subtype = a->head.mask & SM_FS_SUBTYPE ? sm_string(a, a->head.fs_subtype)
                                                           : "";
        v->point = sm_string(a, a->head.mnt_point);
        v->root = sm_string(a, a->head.mnt_root);
        if (!v->point || !v->root || !type || !subtype || !*v->point || !*type)
                return -ENODATA; /* a point outside this root: mountinfo leaves it out too */
        /* Only FUSE has subtypes; a kernel that does not say one may have hidden it. */
        if (!(a->head.mask & SM_FS_SUBTYPE) &&
            (strcmp(type, "fuse") == 0 || strcmp(type, "fuseblk") == 0))
                return -ENODATA;
        size_t len = 0;
        if (strlen(v->point) >= PATH_MAX || strlen(v->root) >= PATH_MAX ||
            !put_mangled(v->fstype, sizeof(v->fstype), &len, type) ||
            (*subtype && (!put_mangled(v->fstype, sizeof(v->fstype), &len, ".") ||
                          !put_mangled(v->fstype, sizeof(v->fstype), &len, subtype))))
                return -ENAMETOOLONG;
        v->dev_major = a->head.sb_dev_major;
        v->dev_minor = a->head.sb_dev_minor;
        return 0;
#else
        (void)id;
        (void)a;
        (void)v;
        return -ENOSYS;
#endif
}

/* Only the strings' own bytes are written: a whole identity is 8 KiB, and each page of it
 * first touched in a fresh process costs a page fault, the dearest thing a move does here. */
static void identity_from_view(const struct sm_view *v, struct vs_mount_identity *m)
{
        strcpy(m->point, v->point);
        strcpy(m->root, v->root);
        memcpy(m->fstype, v->fstype, sizeof(m->fstype));
        m->dev_major = v->dev_major;
        m->dev_minor = v->dev_minor;
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

/* The mount fd is on: its id (the unique one when unique, else mountinfo's), fd's inode
 * and whether fd is that mount's root.  -EOPNOTSUPP when the kernel has no such id. */
static int mount_id_of(int fd, bool unique, uint64_t *id, uint64_t *ino, bool *is_root)
{
        unsigned want = unique ? MNT_ID_UNIQUE : STATX_MNT_ID;
        struct statx stx;
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_INO | want, &stx) < 0)
                return -errno;
        if (!(stx.stx_mask & want))
                return unique ? -EOPNOTSUPP : -EXDEV;
        *id = stx.stx_mnt_id;
        *ino = stx.stx_ino;
        *is_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                   (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
        return 0;
}

/* A mount as the kernel names it: its id, and which kind of id that is. */
struct mount_ref {
        uint64_t id;
        bool unique;
};

/* Point, root, fstype and device of the mount fd is on (statmount, else the table t as
 * find_mount() takes it); *ref, fd's inode and whether fd is that mount's root. */
static int describe(struct vs_mount_table *t, int fd, struct vs_mount_identity *m,
                    struct mount_ref *ref, uint64_t *ino, bool *is_root)
{
        struct sm_answer a;
        struct sm_view v;
        if (mount_id_of(fd, true, &ref->id, ino, is_root) == 0 &&
            statmount_view(ref->id, &a, &v) == 0) {
                identity_from_view(&v, m);
                ref->unique = true;
                return 0;
        }
        ref->unique = false;
        int r = mount_id_of(fd, false, &ref->id, ino, is_root);
        return r < 0 ? r : find_mount(t, ref->id, m);
}

static uint64_t fsid_of(int fd)
{
        struct statfs sf;
        if (fstatfs(fd, &sf) < 0)
                return 0;
        return (uint64_t)(uint32_t)sf.f_fsid.__val[0] << 32 | (uint32_t)sf.f_fsid.__val[1];
}

/* The mount at a point, identified afresh: the mount want, its root inode and fsid. */
static int identify_point(int point_fd, const struct mount_ref *want, uint64_t *root_ino,
                          uint64_t *fsid)
{
        uint64_t id = 0, ino = 0; /* set whenever mount_id_of succeeds; -O3 cannot tell */
        bool is_root = false;
        int r = mount_id_of(point_fd, want->unique, &id, &ino, &is_root);
        if (r < 0)
                return r;
        if (id != want->id || !is_root)
                return -ESTALE; /* something else is mounted there now */
        *root_ino = ino;
        *fsid = fsid_of(point_fd);
        return 0;
}

/* Open point and check that it shows the mount ref: the fd, or -EXDEV. */
static int open_identified_point(const char *point, const struct mount_ref *ref,
                                 uint64_t *root_ino, uint64_t *fsid)
{
        int fd = open_point(point);
        if (fd < 0)
                return -EXDEV;
        if (identify_point(fd, ref, root_ino, fsid) < 0) {
                close(fd);
                return -EXDEV;
        }
        return fd;
}

/* vs_mount_identify_open() from mountinfo (the table t). */
static int identify_open_mountinfo(struct vs_mount_table *t, int dirfd,
                                   struct vs_mount_identity *out, int *point_fd)
{
        uint64_t ino = 0; /* set whenever mount_id_of succeeds; -O3 cannot tell */
        bool is_root = false;
        struct mount_ref ref = { .unique = false };
        struct vs_mount_identity m;
        if (mount_id_of(dirfd, false, &ref.id, &ino, &is_root) < 0 ||
            find_mount(t, ref.id, &m) < 0)
                return -EXDEV;
        int fd = open_identified_point(m.point, &ref, &m.root_ino, &m.fsid);
        if (fd < 0)
                return fd;
        *out = m;
        *point_fd = fd;
        return 0;
}

int vs_mount_identify_open(struct vs_mount_table *t, int dirfd, struct vs_mount_identity *out,
                           int *point_fd)
{
        uint64_t ino = 0; /* set whenever mount_id_of succeeds; -O3 cannot tell */
        bool is_root = false;
        struct mount_ref ref = { .unique = true };
        struct sm_answer a;
        struct sm_view v;
        if (mount_id_of(dirfd, true, &ref.id, &ino, &is_root) < 0 ||
            statmount_view(ref.id, &a, &v) < 0)
                return identify_open_mountinfo(t, dirfd, out, point_fd);
        uint64_t root_ino = 0, fsid = 0;
        int fd = open_identified_point(v.point, &ref, &root_ino, &fsid);
        if (fd < 0)
                return fd;
        identity_from_view(&v, out);
        out->root_ino = root_ino;
        out->fsid = fsid;
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
        uint64_t ino = 0; /* set whenever describe succeeds; -O3 cannot tell */
        bool is_root = false;
        struct mount_ref ref = { 0 };
        struct vs_mount_identity now;
        int r = describe(NULL, fd, &now, &ref, &ino, &is_root);
        if (r == 0 && !is_root)
                r = -ESTALE;
        if (r == 0)
                r = identify_point(fd, &ref, &now.root_ino, &now.fsid);
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

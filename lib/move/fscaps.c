/* SPDX-License-Identifier: MIT */
/*
 * The capability cache (fscaps.h).  A small fixed table keyed by filesystem (device number,
 * with statfs's type and f_fsid): a process moves between a handful of filesystems, and an
 * evicted entry is only probed again.  A lookup costs one fstatfs, which tells the
 * filesystem apart from another that reused its device number.  Each entry remembers the
 * few mounts it was found through: a filesystem without an f_fsid (FUSE, some network
 * ones) cannot be told from another that reused its device number, so it is shared by no two
 * mounts, as before, and probed per mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/file.h"
#include "base/mountinfo.h"
#include "fmt/fmt.h"
#include "move/fscaps.h"

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif
#ifndef SMB2_MAGIC_NUMBER
#define SMB2_MAGIC_NUMBER 0xfe534d42
#endif
#ifndef CIFS_SUPER_MAGIC
#define CIFS_SUPER_MAGIC 0xff534d42
#endif

#ifndef EXT4_SUPER_MAGIC
#define EXT4_SUPER_MAGIC 0xEF53
#endif
#ifndef XFS_SUPER_MAGIC
#define XFS_SUPER_MAGIC 0x58465342
#endif

#define VS_FSCAPS_SLOTS 16
#define VS_FSCAPS_MOUNTS 4 /* mounts remembered per filesystem (a vault binds a few) */
/* /proc/fs/ext4/<device>/options is a few hundred bytes. */
#define OPTIONS_MAX 4095

struct slot {
        struct vs_fscaps caps;
        uint64_t mounts[VS_FSCAPS_MOUNTS]; /* mount ids it was found through; 0: none */
        unsigned next_mount;               /* round-robin among them */
};

static struct {
        pthread_mutex_t lock;
        struct slot slots[VS_FSCAPS_SLOTS];
        bool used[VS_FSCAPS_SLOTS];
        unsigned next; /* round-robin eviction */
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static enum vs_cap xattr_support(int dirfd, bool fuse)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return VS_CAP_UNKNOWN;
        enum vs_cap cap = VS_CAP_YES;
        if (flistxattr(fd, NULL, 0) < 0) {
                int err = errno;
                if (err == EOPNOTSUPP || err == ENOSYS || (fuse && (err == EIO || err == EPERM)))
                        cap = VS_CAP_NO;
                else
                        cap = VS_CAP_UNKNOWN;
        }
        close(fd);
        return cap;
}

/* Whether mount mnt_id is of filesystem type fstype, as this process's mountinfo says. */
static bool mount_has_type(uint64_t mnt_id, const char *fstype)
{
        char *text = NULL;
        size_t len = 0;
        if (vs_mountinfo_read(&text, &len) < 0)
                return false;
        struct vs_mountinfo_entry e;
        bool found = vs_mountinfo_find(text, len, mnt_id, &e) == 0 &&
                     vs_span_equal(e.fstype, fstype);
        free(text);
        return found;
}

static bool has_line(const char *text, const char *line)
{
        size_t n = strlen(line);
        for (const char *p = text; (p = strstr(p, line)); p += n)
                if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
                        return true;
        return false;
}

/* The block device's name (sda1, loop0) from its number: /sys/dev/block/M:m links to it. */
static bool block_device_name(uint32_t major, uint32_t minor, char *name, size_t size)
{
        char path[64], target[256];
        struct vs_buf b;
        vs_buf_init(&b, path, sizeof(path));
        vs_buf_puts(&b, "/sys/dev/block/");
        vs_buf_putu(&b, major, 0);
        vs_buf_puts(&b, ":");
        vs_buf_putu(&b, minor, 0);
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (b.overflow || n <= 0 || (size_t)n >= sizeof(target) - 1)
                return false;
        target[n] = '\0';
        const char *slash = strrchr(target, '/');
        const char *base = slash ? slash + 1 : target;
        if (!*base || strlen(base) >= size)
                return false;
        strcpy(name, base);
        return true;
}

/*
 * ext4 commits its metadata in order only through its journal (jbd2): one running
 * transaction, committed whole, behind a cache flush (barrier).  Not proven, and so flushed
 * at every step as before: no journal, nobarrier, journal_async_commit (the commit block
 * without the flush before it), fast commits (an fsync that commits one inode's changes
 * ahead of earlier ones; the option list shows them as fc_debug_force), data=writeback.
 * The mount options are in /proc/fs/ext4/<device>/options; without it, not proven.
 */
static enum vs_cap ext4_ordered(const struct statx *dir)
{
        char dev[64], path[128];
        if (!block_device_name(dir->stx_dev_major, dir->stx_dev_minor, dev, sizeof(dev)))
                return VS_CAP_NO;
        struct vs_buf b;
        vs_buf_init(&b, path, sizeof(path));
        vs_buf_puts(&b, "/proc/fs/ext4/");
        vs_buf_puts(&b, dev);
        vs_buf_puts(&b, "/options");
        char *options = NULL;
        size_t len = 0;
        if (b.overflow ||
            vs_read_file(AT_FDCWD, path, VS_OPEN_NOFOLLOW, OPTIONS_MAX, &options, &len) < 0)
                return VS_CAP_NO;
        bool journaled = has_line(options, "data=ordered") || has_line(options, "data=journal");
        bool proven = journaled && has_line(options, "barrier") &&
                      !has_line(options, "journal_async_commit") &&
                      !has_line(options, "fc_debug_force") && !has_line(options, "fast_commit");
        free(options);
        return proven ? VS_CAP_YES : VS_CAP_NO;
}

static uint64_t fsid_of(const struct statfs *fs)
{
        return (uint64_t)(uint32_t)fs->f_fsid.__val[0] << 32 | (uint32_t)fs->f_fsid.__val[1];
}

/* fs: the directory's statfs, NULL when it could not be had. */
static void probe(int dirfd, const struct statx *dir, const struct statfs *fs,
                  struct vs_fscaps *caps)
{
        memset(caps, 0, sizeof(*caps));
        caps->dev = makedev(dir->stx_dev_major, dir->stx_dev_minor);
        caps->locks = caps->sync = VS_REACH_LOCAL;
        caps->ordered = VS_CAP_NO;
        if (fs) {
                caps->fs_type = (uint64_t)fs->f_type;
                caps->fsid = fsid_of(fs);
                switch ((unsigned long)fs->f_type) {
                case TMPFS_MAGIC:
                case RAMFS_MAGIC:
                        caps->in_memory = true;
                        break;
                case XFS_SUPER_MAGIC: /* its log is one ordered stream, always with barriers */
                        caps->ordered = VS_CAP_YES;
                        break;
                case EXT4_SUPER_MAGIC:
                        caps->ordered = ext4_ordered(dir);
                        break;
                case FUSE_SUPER_MAGIC:
                        caps->fuse = true;
                        caps->locks = caps->sync = VS_REACH_DAEMON;
                        break;
                case NFS_SUPER_MAGIC:
                        caps->locks = caps->sync = VS_REACH_SERVER;
                        break;
                case SMB2_MAGIC_NUMBER:
                case CIFS_SUPER_MAGIC:
                case SMB_SUPER_MAGIC:
                        caps->locks = caps->sync = VS_REACH_DAEMON;
                        break;
                default:
                        break;
                }
        }
        caps->xattrs = xattr_support(dirfd, caps->fuse);
        caps->symlink_attrs = caps->fuse && mount_has_type(dir->stx_mnt_id, "fuse.sshfs")
                                      ? VS_CAP_NO : VS_CAP_YES;
        bool rclone = caps->fuse && mount_has_type(dir->stx_mnt_id, "fuse.rclone");
        caps->rename_after_write = rclone ? VS_CAP_NO : VS_CAP_YES;
        caps->stable_times = rclone ? VS_CAP_NO : VS_CAP_YES;
        caps->stable_inodes = caps->fuse ? VS_CAP_NO : VS_CAP_YES;
}

/* The entry of the filesystem with device number dev, or -1.  Under cache.lock. */
static int find_dev(uint64_t dev)
{
        for (int i = 0; i < VS_FSCAPS_SLOTS; i++)
                if (cache.used[i] && cache.slots[i].caps.dev == dev)
                        return i;
        return -1;
}

/* The entry is of the filesystem whose statfs type and f_fsid these are. */
static bool of_filesystem(const struct slot *s, uint64_t fs_type, uint64_t fsid)
{
        return s->caps.fs_type == fs_type && s->caps.fsid == fsid;
}

static bool knows_mount(const struct slot *s, uint64_t mnt_id)
{
        for (unsigned i = 0; i < VS_FSCAPS_MOUNTS; i++)
                if (s->mounts[i] == mnt_id)
                        return true;
        return false;
}

static void add_mount(struct slot *s, uint64_t mnt_id)
{
        if (!knows_mount(s, mnt_id))
                s->mounts[s->next_mount++ % VS_FSCAPS_MOUNTS] = mnt_id;
}

/*
 * Under cache.lock: the entry for a directory on device dev, mount mnt_id, whose statfs is
 * fs, or -1.  The entry must be of the filesystem fs shows now: the same type, and the same
 * f_fsid where the filesystem has one (ext4 and xfs derive it from their UUID, tmpfs makes
 * one per instance), which every mount of it shares.  Without one (FUSE) nothing tells two
 * instances apart but the mount they were seen on, as the cache always keyed them.  Mount
 * ids and device numbers alone are not enough: unmounting frees both, and the next mount
 * takes them again.
 */
static int lookup(uint64_t dev, uint64_t mnt_id, const struct statfs *fs)
{
        int i = find_dev(dev);
        if (i < 0)
                return -1;
        struct slot *s = &cache.slots[i];
        uint64_t fsid = fsid_of(fs);
        if (!of_filesystem(s, (uint64_t)fs->f_type, fsid) || (fsid == 0 && !knows_mount(s, mnt_id)))
                return -1;
        add_mount(s, mnt_id);
        return i;
}

void vs_fscaps_get(int dirfd, const struct statx *dir, struct vs_fscaps *out)
{
        uint64_t dev = makedev(dir->stx_dev_major, dir->stx_dev_minor);
        struct statfs fs;
        bool have_fs = fstatfs(dirfd, &fs) == 0;
        int i = -1;
        if (have_fs) {
                pthread_mutex_lock(&cache.lock);
                i = lookup(dev, dir->stx_mnt_id, &fs);
                if (i >= 0)
                        *out = cache.slots[i].caps;
                pthread_mutex_unlock(&cache.lock);
                if (i >= 0)
                        return;
        }

        /* Probed outside the lock (it makes syscalls on storage that may be slow); two
         * threads probing one filesystem at once store the same answer.  Without a statfs
         * nothing is known of the filesystem, and nothing is kept. */
        struct vs_fscaps fresh;
        probe(dirfd, dir, have_fs ? &fs : NULL, &fresh);
        if (!have_fs) {
                *out = fresh;
                return;
        }
        pthread_mutex_lock(&cache.lock);
        i = lookup(dev, dir->stx_mnt_id, &fs);
        if (i < 0) {
                /* New, or another filesystem on a reused device number: what was learned
                 * about the one before does not carry over. */
                i = find_dev(dev);
                if (i < 0) {
                        i = (int)(cache.next++ % VS_FSCAPS_SLOTS);
                        cache.used[i] = true;
                }
                cache.slots[i] = (struct slot){ .caps = fresh };
                add_mount(&cache.slots[i], dir->stx_mnt_id);
        }
        *out = cache.slots[i].caps;
        pthread_mutex_unlock(&cache.lock);
}

void vs_fscaps_learn(const struct vs_fscaps *caps, enum vs_fscap_learned what, bool supported)
{
        enum vs_cap cap = supported ? VS_CAP_YES : VS_CAP_NO;
        pthread_mutex_lock(&cache.lock);
        int i = find_dev(caps->dev);
        /* Only the filesystem the attempt was made on, not another on its device number. */
        if (i >= 0 && !of_filesystem(&cache.slots[i], caps->fs_type, caps->fsid))
                i = -1;
        if (i >= 0 && what == VS_LEARN_RENAME_FLAGS)
                cache.slots[i].caps.rename_flags = cap;
        else if (i >= 0 && what == VS_LEARN_HARD_LINKS)
                cache.slots[i].caps.hard_links = cap;
        pthread_mutex_unlock(&cache.lock);
}

bool vs_fscaps_refusal(const struct vs_fscaps *caps, int err)
{
        if (err == EOPNOTSUPP || err == ENOSYS)
                return true;
        return caps && caps->fuse && (err == EIO || err == EPERM || err == EINVAL);
}

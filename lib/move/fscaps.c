/* SPDX-License-Identifier: MIT */
/*
 * The per-mount capability cache (fscaps.h).  A small fixed table keyed by mount id: a
 * process moves between a handful of mounts, and an evicted entry is only probed again.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
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
/* /proc/fs/ext4/<device>/options is a few hundred bytes. */
#define OPTIONS_MAX 4095

static struct {
        pthread_mutex_t lock;
        struct vs_fscaps slots[VS_FSCAPS_SLOTS];
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

/* An O_TMPFILE file never gets a name: probing leaves nothing behind, not even an mtime. */
static enum vs_cap tmpfile_support(int dirfd)
{
        int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0) {
                close(fd);
                return VS_CAP_YES;
        }
        return errno == EOPNOTSUPP || errno == EISDIR || errno == ENOSYS ? VS_CAP_NO
                                                                          : VS_CAP_UNKNOWN;
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

static void probe(int dirfd, const struct statx *dir, struct vs_fscaps *caps)
{
        memset(caps, 0, sizeof(*caps));
        caps->mnt_id = dir->stx_mnt_id;
        caps->locks = caps->sync = VS_REACH_LOCAL;
        caps->ordered = VS_CAP_NO;
        struct statfs fs;
        if (fstatfs(dirfd, &fs) == 0) {
                switch ((unsigned long)fs.f_type) {
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
        caps->tmpfile = tmpfile_support(dirfd);
}

static int find_slot(uint64_t mnt_id)
{
        for (int i = 0; i < VS_FSCAPS_SLOTS; i++)
                if (cache.used[i] && cache.slots[i].mnt_id == mnt_id)
                        return i;
        return -1;
}

void vs_fscaps_get(int dirfd, const struct statx *dir, struct vs_fscaps *out)
{
        pthread_mutex_lock(&cache.lock);
        int i = find_slot(dir->stx_mnt_id);
        if (i >= 0)
                *out = cache.slots[i];
        pthread_mutex_unlock(&cache.lock);
        if (i >= 0)
                return;

        /* Probed outside the lock (it makes syscalls on storage that may be slow); two
         * threads probing one mount at once store the same answer. */
        struct vs_fscaps fresh;
        probe(dirfd, dir, &fresh);
        pthread_mutex_lock(&cache.lock);
        i = find_slot(dir->stx_mnt_id);
        if (i < 0) {
                i = (int)(cache.next++ % VS_FSCAPS_SLOTS);
                cache.slots[i] = fresh;
                cache.used[i] = true;
        }
        *out = cache.slots[i];
        pthread_mutex_unlock(&cache.lock);
}

void vs_fscaps_learn(uint64_t mnt_id, enum vs_fscap_learned what, bool supported)
{
        enum vs_cap cap = supported ? VS_CAP_YES : VS_CAP_NO;
        pthread_mutex_lock(&cache.lock);
        int i = find_slot(mnt_id);
        if (i >= 0 && what == VS_LEARN_RENAME_FLAGS)
                cache.slots[i].rename_flags = cap;
        else if (i >= 0 && what == VS_LEARN_HARD_LINKS)
                cache.slots[i].hard_links = cap;
        pthread_mutex_unlock(&cache.lock);
}

bool vs_fscaps_refusal(const struct vs_fscaps *caps, int err)
{
        if (err == EOPNOTSUPP || err == ENOSYS)
                return true;
        return caps && caps->fuse && (err == EIO || err == EPERM || err == EINVAL);
}

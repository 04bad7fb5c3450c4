/* SPDX-License-Identifier: MIT */
/*
 * The per-mount capability cache (fscaps.h).  A small fixed table keyed by mount id: a
 * process moves between a handful of mounts, and an evicted entry is only probed again.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <string.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

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

#define VS_FSCAPS_SLOTS 16

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

/* Whether the line of /proc/self/mountinfo for mount mnt_id names filesystem type fstype. */
static bool line_has_type(const char *line, size_t len, uint64_t mnt_id, const char *fstype)
{
        uint64_t id = 0;
        size_t i = 0;
        for (; i < len && line[i] >= '0' && line[i] <= '9'; i++)
                id = id * 10 + (uint64_t)(line[i] - '0');
        if (i == 0 || id != mnt_id)
                return false;
        for (; i + 3 <= len; i++)
                if (memcmp(line + i, " - ", 3) == 0) {
                        size_t n = strlen(fstype);
                        return i + 3 + n < len && memcmp(line + i + 3, fstype, n) == 0 &&
                               line[i + 3 + n] == ' ';
                }
        return false;
}

/* Reads mountinfo in pieces with a fixed buffer (no stdio, no allocation); a line longer
 * than the buffer is skipped. */
static bool mount_has_type(uint64_t mnt_id, const char *fstype)
{
        int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        char buf[4096];
        size_t have = 0;
        bool found = false, skipping = false;
        for (;;) {
                ssize_t n = read(fd, buf + have, sizeof(buf) - have);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                have += (size_t)n;
                size_t start = 0;
                for (char *nl; (nl = memchr(buf + start, '\n', have - start)); ) {
                        size_t len = (size_t)(nl - (buf + start));
                        if (!skipping && line_has_type(buf + start, len, mnt_id, fstype))
                                found = true;
                        skipping = false;
                        start += len + 1;
                }
                if (found)
                        break;
                if (start == 0 && have == sizeof(buf)) {
                        have = 0; /* one line fills the buffer: skip to its end */
                        skipping = true;
                        continue;
                }
                memmove(buf, buf + start, have - start);
                have -= start;
        }
        close(fd);
        return found;
}

static void probe(int dirfd, const struct statx *dir, struct vs_fscaps *caps)
{
        memset(caps, 0, sizeof(*caps));
        caps->mnt_id = dir->stx_mnt_id;
        caps->locks = caps->sync = VS_REACH_LOCAL;
        struct statfs fs;
        if (fstatfs(dirfd, &fs) == 0) {
                switch ((unsigned long)fs.f_type) {
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

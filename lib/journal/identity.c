/* SPDX-License-Identifier: MIT */
/*
 * Object identities, and what proves that an object found now is the one a record names.
 *
 * An inode number proves nothing on its own: ext4 hands a freed number to the next file
 * created, and anyone with write access to a shared folder can delete a hidden file and
 * create another.  What a colleague can neither reuse nor forge is the pair (inode
 * number, generation), which the filesystem's own file handle carries (name_to_handle_at:
 * ext4, xfs, btrfs and tmpfs put the generation in it, as NFS needs them to), and the
 * birth time, which no system call sets.  Where a filesystem gives no handle, nothing is
 * proven, and recovery keeps both copies.
 *
 * FUSE gives a handle, but not the stored file's: the kernel encodes the daemon's node id
 * and a generation the daemon makes up.  rclone (bazil.org/fuse) numbers its nodes afresh
 * from 2 on every mount and binds each to a name in its cache (its inode number is a hash
 * of the name), so one name holds the same "handle" in every session whatever file it is,
 * and within a session only while the kernel keeps its inode: taken for proof, a note put
 * back at its name was removed by the next move's recovery or kept, as the kernel's inode
 * cache had it.  So on FUSE (rclone, sshfs, bindfs) nothing is proven, as vaultshim(7) says.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fmt/fmt.h"
#include "journal/journal.h"

#define IDENTITY_STATX_MASK (STATX_BASIC_STATS | STATX_BTIME)
#ifndef AT_HANDLE_FID
#define AT_HANDLE_FID 0x200 /* Linux 6.5: a handle to identify, not to open */
#endif
#define FILEID_INO64_GEN 0x81        /* include/linux/exportfs.h: FUSE's, and xfs's */
#define FILEID_INO64_GEN_PARENT 0x82 /* the same with the parent's */
/* Not a kernel handle type (those fit in a byte): (inode number, generation) as
 * FS_IOC_GETVERSION gives it, where name_to_handle_at is refused. */
#define VS_HANDLE_INO_GETVERSION 0x76730001

/* The object fd is on a FUSE mount, whose handles and generations are its daemon's. */
static bool on_fuse(int fd)
{
        struct statfs fs;
        return fstatfs(fd, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC;
}

/* Docker's default seccomp profile refuses name_to_handle_at (EPERM), so in a Kasm session
 * the handle is out of reach; ext4 answers FS_IOC_GETVERSION to anyone, which carries the
 * same generation.  The ioctl needs a real descriptor: a regular file or a directory is
 * reopened read-only through /proc (an O_PATH descriptor keeps the object, not the name). */
static void read_generation(int fd, uint32_t mode, uint64_t ino, struct vs_identity *id)
{
        if (!S_ISREG(mode) && !S_ISDIR(mode))
                return;
        char proc[32];
        struct vs_buf b;
        vs_buf_init(&b, proc, sizeof(proc));
        vs_buf_puts(&b, "/proc/self/fd/");
        vs_buf_putu(&b, (uint64_t)fd, 0);
        int real = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (real < 0)
                return;
        struct statx stx;
        int generation = 0;
        bool same = statx(real, "", AT_EMPTY_PATH, STATX_INO, &stx) == 0 && stx.stx_ino == ino;
        int r = same ? ioctl(real, FS_IOC_GETVERSION, &generation) : -1;
        close(real);
        if (r < 0)
                return;
        uint32_t gen = (uint32_t)generation;
        id->handle_type = VS_HANDLE_INO_GETVERSION;
        id->handle_len = sizeof(ino) + sizeof(gen);
        memcpy(id->handle, &ino, sizeof(ino));
        memcpy(id->handle + sizeof(ino), &gen, sizeof(gen));
}

void vs_identity_from_statx(struct vs_identity *id, const struct statx *stx)
{
        bool btime = (stx->stx_mask & STATX_BTIME) != 0;
        *id = (struct vs_identity){
                .known = true,
                .dev = makedev(stx->stx_dev_major, stx->stx_dev_minor),
                .ino = stx->stx_ino,
                .mode = stx->stx_mode,
                .size = (int64_t)stx->stx_size,
                .mtime_sec = stx->stx_mtime.tv_sec,
                .mtime_nsec = stx->stx_mtime.tv_nsec,
                .ctime_sec = stx->stx_ctime.tv_sec,
                .ctime_nsec = stx->stx_ctime.tv_nsec,
                .has_btime = btime,
                .btime_sec = btime ? stx->stx_btime.tv_sec : 0,
                .btime_nsec = btime ? stx->stx_btime.tv_nsec : 0,
        };
}

void vs_identity_from_stat(struct vs_identity *id, const struct stat *st)
{
        *id = (struct vs_identity){
                .known = true,
                .dev = (uint64_t)st->st_dev,
                .ino = (uint64_t)st->st_ino,
                .mode = (uint32_t)st->st_mode,
                .size = (int64_t)st->st_size,
                .mtime_sec = (int64_t)st->st_mtim.tv_sec,
                .mtime_nsec = (int64_t)st->st_mtim.tv_nsec,
                .ctime_sec = (int64_t)st->st_ctim.tv_sec,
                .ctime_nsec = (int64_t)st->st_ctim.tv_nsec,
        };
}

/* The handle of the object fd (O_PATH will do) into id; id->handle_len stays 0 when the
 * filesystem gives none. */
static void read_handle(int fd, struct vs_identity *id)
{
        union {
                struct file_handle fh;
                unsigned char bytes[sizeof(struct file_handle) + VS_HANDLE_MAX];
        } h;
        int mount_id;
        h.fh.handle_bytes = VS_HANDLE_MAX;
        int r = name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH);
        /* Overlayfs (a container's /tmp) gives a decodable handle only with nfs_export on;
         * its identifying handle wraps the real filesystem's.  The generic one the kernel
         * makes for a filesystem without export support (FILEID_INO64_GEN) may hold a
         * generation of 0: no proof. */
        if (r < 0 && errno == EOPNOTSUPP) {
                h.fh.handle_bytes = VS_HANDLE_MAX;
                r = name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH | AT_HANDLE_FID);
                if (r == 0 && h.fh.handle_type == FILEID_INO64_GEN)
                        return;
        }
        /* The filesystem is asked only where the handle could be FUSE's (the generation
         * ioctl too would reach the daemon, and an open of a file there is a use of it). */
        if (r < 0 && (errno == EPERM || errno == EACCES || errno == ENOSYS)) {
                if (!on_fuse(fd))
                        read_generation(fd, id->mode, id->ino, id);
                return;
        }
        if (r < 0 || h.fh.handle_bytes == 0 || h.fh.handle_bytes > VS_HANDLE_MAX ||
            h.fh.handle_type < 0)
                return;
        if ((h.fh.handle_type == FILEID_INO64_GEN || h.fh.handle_type == FILEID_INO64_GEN_PARENT) &&
            on_fuse(fd))
                return;
        id->handle_type = (uint32_t)h.fh.handle_type;
        id->handle_len = h.fh.handle_bytes;
        memcpy(id->handle, h.fh.f_handle, h.fh.handle_bytes);
}

static int identity_of_fd(int fd, int sync, struct vs_identity *out)
{
        struct statx stx;
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | sync, IDENTITY_STATX_MASK,
                  &stx) < 0)
                return -errno;
        struct vs_identity id;
        vs_identity_from_statx(&id, &stx);
        read_handle(fd, &id);
        *out = id;
        return 0;
}

int vs_identity_of_fd(int fd, struct vs_identity *out)
{
        return identity_of_fd(fd, AT_STATX_SYNC_AS_STAT, out);
}

static int identity_at(int dirfd, const char *name, int sync, struct vs_identity *out)
{
        /* One open object for both questions: a name swapped between a stat and a handle
         * lookup would otherwise pair one object's inode with another's generation. */
        int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = identity_of_fd(fd, sync, out);
        close(fd);
        return r;
}

int vs_identity_at(int dirfd, const char *name, struct vs_identity *out)
{
        return identity_at(dirfd, name, AT_STATX_SYNC_AS_STAT, out);
}

int vs_identity_at_cached(int dirfd, const char *name, struct vs_identity *out)
{
        /* A FUSE mount asks its server again for a birth time it never cached; rclone
         * answers for a file it is still uploading with the time now, which the move's
         * later checks would then see as a write. */
        return identity_at(dirfd, name, AT_STATX_DONT_SYNC, out);
}

bool vs_identity_same_object(const struct vs_identity *a, const struct vs_identity *b)
{
        return a->known && b->known && a->ino == b->ino &&
               (a->mode & S_IFMT) == (b->mode & S_IFMT);
}

bool vs_identity_has_proof(const struct vs_identity *id)
{
        return id->known && id->handle_len > 0;
}

bool vs_identity_proven(const struct vs_identity *recorded, const struct vs_identity *now)
{
        if (!vs_identity_same_object(recorded, now) || !vs_identity_has_proof(recorded) ||
            !vs_identity_has_proof(now))
                return false;
        if (recorded->handle_type != now->handle_type ||
            recorded->handle_len != now->handle_len ||
            memcmp(recorded->handle, now->handle, recorded->handle_len) != 0)
                return false;
        /* Recorded, the birth time must be there still: a filesystem does not stop
         * reporting it, and an object that has another one was born another time. */
        return !recorded->has_btime ||
               (now->has_btime && recorded->btime_sec == now->btime_sec &&
                recorded->btime_nsec == now->btime_nsec);
}

bool vs_identity_same_content(const struct vs_identity *a, const struct vs_identity *b)
{
        return vs_identity_same_object(a, b) && a->size == b->size &&
               a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec;
}

bool vs_identity_unchanged(const struct vs_identity *a, const struct vs_identity *b)
{
        return vs_identity_same_content(a, b) && a->ctime_sec == b->ctime_sec &&
               a->ctime_nsec == b->ctime_nsec;
}

/* SPDX-License-Identifier: MIT */
/* The writing side of the journal: where records live, and making each state durable. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fmt/fmt.h"
#include "journal/journal.h"
#include "journal/paths.h"

/* Three escaped paths plus identities; escaping rarely grows a real path much. */
#define RECORD_LINE_MAX (3 * PATH_MAX + 512)

void vs_identity_from_statx(struct vs_identity *id, const struct statx *stx)
{
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

bool vs_identity_same_object(const struct vs_identity *a, const struct vs_identity *b)
{
        return a->known && b->known && a->dev == b->dev && a->ino == b->ino &&
               (a->mode & S_IFMT) == (b->mode & S_IFMT);
}

bool vs_identity_unchanged(const struct vs_identity *a, const struct vs_identity *b)
{
        return vs_identity_same_object(a, b) && a->size == b->size &&
               a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
               a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

static uint64_t mount_id_of(const char *path)
{
        struct statx stx;
        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0 ||
            !(stx.stx_mask & STATX_MNT_ID))
                return 0;
        return stx.stx_mnt_id;
}

/*
 * The highest ancestor of `dir` that is still on dir's mount and not above `vault_root`.
 * st_dev cannot tell bind mounts of one filesystem apart; the mount id can.
 */
static int mount_root_of(const char *dir, const char *vault_root, char *out, size_t size)
{
        size_t root_len = strlen(vault_root);
        while (root_len > 1 && vault_root[root_len - 1] == '/')
                root_len--;
        size_t len = strlen(dir);
        if (len >= size)
                return -ENAMETOOLONG;
        memcpy(out, dir, len + 1);

        bool inside = strncmp(dir, vault_root, root_len) == 0 &&
                      (dir[root_len] == '/' || dir[root_len] == '\0' || root_len == 1);
        uint64_t mnt = mount_id_of(dir);
        if (!inside || mnt == 0)
                return 0; /* no way to climb safely: the directory itself */

        char probe[PATH_MAX];
        memcpy(probe, dir, len + 1);
        while (len > root_len) {
                char *slash = strrchr(probe, '/');
                if (!slash)
                        break;
                size_t parent_len = slash == probe ? 1 : (size_t)(slash - probe);
                if (parent_len < root_len)
                        break;
                probe[parent_len] = '\0';
                if (mount_id_of(probe) != mnt)
                        break;
                memcpy(out, probe, parent_len + 1);
                len = parent_len;
        }
        return 0;
}

/* A record at path, live or set aside as kept. */
static bool record_at(const char *path)
{
        char kept[PATH_MAX + 80];
        struct stat st;
        struct vs_buf b;
        vs_buf_init(&b, kept, sizeof(kept));
        vs_buf_puts(&b, path);
        vs_buf_puts(&b, VS_JOURNAL_KEPT_SUFFIX);
        return lstat(path, &st) == 0 || lstat(kept, &st) == 0;
}

bool vs_journal_record_exists(const char *staging)
{
        char dir[PATH_MAX], probe[PATH_MAX + 64];
        const char *base;
        const char *id = NULL;
        if (vs_journal_path_split(staging, dir, sizeof(dir), &base) < 0 ||
            !(id = vs_journal_id_of_name(base)))
                return false;
        struct vs_buf b;
        vs_buf_init(&b, probe, sizeof(probe));
        vs_buf_puts(&b, dir);
        vs_buf_puts(&b, "/" VS_JOURNAL_BESIDE_PREFIX);
        vs_buf_puts(&b, id);
        if (record_at(probe))
                return true;
        /* Whatever vault root the mover used, its journal is on one of these. */
        uint64_t mnt = mount_id_of(dir);
        for (;;) {
                vs_buf_init(&b, probe, sizeof(probe));
                vs_buf_puts(&b, strcmp(dir, "/") == 0 ? "" : dir);
                vs_buf_puts(&b, "/" VS_JOURNAL_DIR "/");
                vs_buf_puts(&b, id);
                if (record_at(probe))
                        return true;
                char *slash = strrchr(dir, '/');
                if (!slash || strcmp(dir, "/") == 0)
                        return false;
                slash[slash == dir ? 1 : 0] = '\0';
                if (mount_id_of(dir) != mnt)
                        return false;
        }
}

/* Open (creating) <mount root>/.vaultshim/journal; -errno when that is impossible. */
static int open_journal_dir(const char *mount_root)
{
        int rootfd = open(mount_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return -errno;
        int r = vs_journal_mkdir_durable(rootfd, ".vaultshim");
        int topfd = -1, fd = -1;
        if (r == 0) {
                topfd = openat(rootfd, ".vaultshim", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = topfd < 0 ? -errno : vs_journal_mkdir_durable(topfd, "journal");
        }
        if (r == 0) {
                fd = openat(topfd, "journal", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = fd < 0 ? -errno : 0;
        }
        /* Someone else's journal directory would be useless to us: we must create files. */
        if (r == 0 && faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) < 0)
                r = -errno;
        if (topfd >= 0)
                close(topfd);
        close(rootfd);
        if (r < 0) {
                if (fd >= 0)
                        close(fd);
                return r;
        }
        return fd;
}

static void make_id(char *buf, size_t size)
{
        static atomic_uint counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned n = atomic_fetch_add(&counter, 1);
        struct vs_buf b;
        vs_buf_init(&b, buf, size);
        vs_buf_putx(&b, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, 0);
        vs_buf_puts(&b, ".");
        vs_buf_putd(&b, getpid());
        vs_buf_puts(&b, ".");
        vs_buf_putu(&b, n, 0);
}

static int write_line(struct vs_journal *j, bool durable)
{
        char line[RECORD_LINE_MAX];
        int len = vs_journal_format(&j->entry, line, sizeof(line));
        if (len < 0)
                return len;
        /* O_APPEND and one write(): a line is either whole or torn at the end. */
        ssize_t n = write(j->fd, line, (size_t)len);
        if (n < 0)
                return -errno;
        if (n != len)
                return -EIO;
        if (!durable)
                return 0;
        if (fdatasync(j->fd) < 0)
                return -errno;
        /* The record's name must survive too; once is enough. */
        if (!j->name_durable) {
                if (fsync(j->dirfd) < 0)
                        return -errno;
                j->name_durable = true;
        }
        return 0;
}

/* Create and lock a fresh record file; retry when recovery removed it under us. */
static int create_record(struct vs_journal *j)
{
        for (int attempt = 0; attempt < 8; attempt++) {
                make_id(j->entry.id, sizeof(j->entry.id));
                struct vs_buf name;
                vs_buf_init(&name, j->name, sizeof(j->name));
                vs_buf_puts(&name, j->beside ? VS_JOURNAL_BESIDE_PREFIX : "");
                vs_buf_puts(&name, j->entry.id);
                int fd = openat(j->dirfd, j->name,
                                O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0) {
                        if (errno == EEXIST)
                                continue;
                        return -errno;
                }
                struct stat st;
                if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
                        int r = -errno;
                        unlinkat(j->dirfd, j->name, 0);
                        close(fd);
                        return r;
                }
                /* Between open and flock a recovery may have seen it empty and dropped it. */
                if (st.st_nlink == 0) {
                        close(fd);
                        continue;
                }
                j->fd = fd;
                return 0;
        }
        return -EEXIST;
}

int vs_journal_begin(struct vs_journal *j, const char *vault_root, enum vs_journal_kind kind,
                     const char *source, const char *target,
                     const struct vs_identity *source_id,
                     const struct vs_identity *target_prev_id)
{
        struct vs_journal_entry *e = &j->entry;
        char target_dir[PATH_MAX], mount_root[PATH_MAX];
        const char *target_base;
        int r;

        j->dirfd = j->fd = -1;
        j->beside = false;
        j->name_durable = false;
        if (source[0] != '/' || target[0] != '/')
                return -EINVAL;
        if (strlen(source) >= sizeof(e->source) || strlen(target) >= sizeof(e->target))
                return -ENAMETOOLONG;
        r = vs_journal_path_split(target, target_dir, sizeof(target_dir), &target_base);
        if (r < 0)
                return r;
        r = mount_root_of(target_dir, vault_root ? vault_root : "/", mount_root, sizeof(mount_root));
        if (r < 0)
                return r;

        int dirfd = open_journal_dir(mount_root);
        if (dirfd >= 0) {
                if (vs_journal_dir_has_entries(dirfd))
                        vs_journal_recover_dir(dirfd, NULL, VS_RECOVER_LAZY, NULL, NULL);
        } else {
                /* The mount root is not ours to write (or .vaultshim is something else):
                 * keep the record beside the target, where the move must write anyway. */
                dirfd = open(target_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dirfd < 0)
                        return -errno;
                j->beside = true;
        }
        j->dirfd = dirfd;

        e->kind = kind;
        e->phase = VS_JOURNAL_STAGED;
        strcpy(e->source, source);
        strcpy(e->target, target);
        e->source_id = *source_id;
        e->staging_id = (struct vs_identity){ 0 };
        e->target_prev_id = target_prev_id ? *target_prev_id : (struct vs_identity){ 0 };

        r = create_record(j);
        if (r < 0)
                goto fail;
        struct vs_buf staging;
        vs_buf_init(&staging, e->staging, sizeof(e->staging));
        vs_buf_puts(&staging, target_dir);
        vs_buf_puts(&staging, strcmp(target_dir, "/") == 0 ? "" : "/");
        vs_buf_puts(&staging,
                    kind == VS_JOURNAL_TREE ? VS_STAGING_TREE_PREFIX : VS_STAGING_FILE_PREFIX);
        vs_buf_puts(&staging, e->id);
        if (staging.overflow) {
                r = -ENAMETOOLONG;
                goto fail_record;
        }
        r = write_line(j, false);
        if (r < 0)
                goto fail_record;
        return 0;

fail_record:
        unlinkat(j->dirfd, j->name, 0);
        close(j->fd);
        j->fd = -1;
fail:
        close(j->dirfd);
        j->dirfd = -1;
        return r;
}

int vs_journal_update(struct vs_journal *j, bool durable)
{
        if (j->fd < 0)
                return -EBADF;
        return write_line(j, durable);
}

void vs_journal_finish(struct vs_journal *j)
{
        if (j->fd >= 0) {
                /* No sync: a surviving record of a finished move recovers to "nothing to do". */
                unlinkat(j->dirfd, j->name, 0);
                close(j->fd);
        }
        if (j->dirfd >= 0)
                close(j->dirfd);
        j->fd = j->dirfd = -1;
}

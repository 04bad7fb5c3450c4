/* SPDX-License-Identifier: MIT */
/* The writing side of the journal: identities, names, and making each state durable. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/path.h"
#include "base/syscall.h"
#include "fmt/fmt.h"
#include "journal/journal.h"

/* Four escaped paths, two mounts and five identities (a file handle each, in hex);
 * escaping rarely grows a path much. */
#define RECORD_LINE_MAX (6 * PATH_MAX + 5 * (2 * VS_HANDLE_MAX + 160) + 512)

static int name_with(const char *prefix, const char *id, char *buf, size_t size)
{
        struct vs_buf b;
        vs_buf_init(&b, buf, size);
        vs_buf_puts(&b, prefix);
        vs_buf_puts(&b, id);
        return b.overflow ? -ENAMETOOLONG : 0;
}

int vs_journal_staging_name(const struct vs_journal_entry *e, char *buf, size_t size)
{
        return name_with(e->kind == VS_JOURNAL_TREE ? VS_TEMP_STAGE_PREFIX : VS_TEMP_FILE_PREFIX,
                         e->id, buf, size);
}

int vs_journal_aside_legacy_name(const struct vs_journal_entry *e, char *buf, size_t size)
{
        return name_with(VS_TEMP_ASIDE_PREFIX, e->id, buf, size);
}

int vs_journal_aside_name(const struct vs_journal_entry *e, char *buf, size_t size)
{
        int r = vs_journal_aside_legacy_name(e, buf, size);
        if (r == 0) {
                const char *slash = strrchr(e->source, '/');
                vs_aside_name_add_source(buf, size, slash ? slash + 1 : e->source);
        }
        return r;
}

void vs_aside_name_add_source(char *aside, size_t size, const char *source_name)
{
        size_t len = strlen(aside), add = strlen(source_name);
        /* Too long for one name: the leftover then goes back under its kept name. */
        if (len + 1 + add > NAME_MAX || len + 1 + add >= size)
                return;
        aside[len] = VS_ASIDE_NAME_SEP;
        memcpy(aside + len + 1, source_name, add + 1);
}

/* A name an object can go back to: not empty, ".", "..", and without a slash. */
static bool plain_name(const char *name)
{
        return *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && !strchr(name, '/');
}

int vs_aside_leftover_names(const char *aside, char *home, char *kept, size_t size)
{
        size_t plen = strlen(VS_TEMP_ASIDE_PREFIX);
        if (strncmp(aside, VS_TEMP_ASIDE_PREFIX, plen) != 0 || !aside[plen])
                return -EINVAL;
        const char *sep = strchr(aside + plen, VS_ASIDE_NAME_SEP);
        struct vs_buf b;
        vs_buf_init(&b, kept, size);
        vs_buf_puts(&b, VS_ASIDE_KEPT_PREFIX);
        vs_buf_puts(&b, aside + plen);
        if (b.overflow || strlen(kept) > NAME_MAX)
                return -ENAMETOOLONG;
        if (sep && plain_name(sep + 1) && strlen(sep + 1) < size)
                strcpy(home, sep + 1);
        else
                strcpy(home, kept); /* an older version's: its name is not known */
        return 0;
}

void vs_journal_display_path(const struct vs_mount_identity *m, const char *rel, char *buf,
                             size_t size)
{
        struct vs_buf b;
        vs_buf_init(&b, buf, size);
        vs_buf_puts(&b, strcmp(m->point, "/") == 0 ? "" : m->point);
        vs_buf_puts(&b, "/");
        vs_buf_puts(&b, rel);
}

/* The directory holding rel, opened beneath the mount point mnt (verified to show the
 * recorded mount): must be dirfd's. */
static int check_reachable(int mnt, const char *rel, int dirfd)
{
        struct vs_path_split split;
        int fd = vs_path_split(rel, &split);
        if (fd == 0)
                fd = vs_open_beneath(mnt, split.parent, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return -EXDEV;
        struct stat a, b;
        int r = fstat(fd, &a) == 0 && fstat(dirfd, &b) == 0 && a.st_ino == b.st_ino &&
                                a.st_dev == b.st_dev
                        ? 0
                        : -EXDEV;
        close(fd);
        return r;
}

/* Time, pid, counter and 64 random bits: the staging and set-aside names derived from it
 * cannot be guessed before they appear in the vault. */
static void make_id(char *buf, size_t size)
{
        static atomic_uint counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned n = atomic_fetch_add(&counter, 1);
        uint64_t nonce;
        if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce))
                nonce = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)buf;
        struct vs_buf b;
        vs_buf_init(&b, buf, size);
        vs_buf_putx(&b, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, 0);
        vs_buf_puts(&b, ".");
        vs_buf_putd(&b, getpid());
        vs_buf_puts(&b, ".");
        vs_buf_putu(&b, n, 0);
        vs_buf_puts(&b, ".");
        vs_buf_putx(&b, nonce, 16);
}

static int write_line(struct vs_journal *j)
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
        return 0;
}

/* A directory entry is durable once its directory is synced. */
static int sync_parent_of(struct vs_journal *j, const char *path)
{
        struct vs_path_split split;
        int r = vs_path_split(path, &split);
        if (r < 0)
                return r;
        int fd = open(split.parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        j->flushes++;
        r = fsync(fd) < 0 ? -errno : 0;
        close(fd);
        return r;
}

int vs_journal_sync(struct vs_journal *j, enum vs_journal_sync how)
{
        if (j->fd < 0)
                return -EBADF;
        switch (how) {
        case VS_JOURNAL_SYNC_NONE:
                return 0;
        case VS_JOURNAL_SYNC_START:
                j->started = true;
                return sync_file_range(j->fd, 0, 0, SYNC_FILE_RANGE_WRITE) < 0 ? -errno : 0;
        case VS_JOURNAL_SYNC_ORDER:
                j->started = false;
                return vs_sys_writeback(j->fd);
        case VS_JOURNAL_SYNC_DATA:
                j->started = false;
                j->flushes++;
                return fdatasync(j->fd) < 0 ? -errno : 0;
        case VS_JOURNAL_SYNC_FULL:
                break;
        }
        j->started = false;
        j->flushes += 2;
        if (fdatasync(j->fd) < 0 || fsync(j->dirfd) < 0)
                return -errno;
        /* The directory's own name, once: made by this move's begin. */
        int r = j->dir_created && j->dir_path ? sync_parent_of(j, j->dir_path) : 0;
        if (r == 0)
                j->dir_created = false;
        return r;
}

/*
 * Create and lock a fresh record file.  The directory may vanish under us (another move of
 * ours removed it, empty, as we opened it): then make it again.
 */
static int create_record(struct vs_journal *j, const char *dir, bool *dir_created)
{
        for (int attempt = 0; attempt < 8; attempt++) {
                if (j->dirfd < 0) {
                        bool created;
                        j->dirfd = vs_journal_dir_open(dir, true, &created);
                        if (j->dirfd < 0)
                                return j->dirfd;
                        *dir_created |= created;
                }
                make_id(j->entry.id, sizeof(j->entry.id));
                struct vs_buf name;
                vs_buf_init(&name, j->name, sizeof(j->name));
                vs_buf_puts(&name, j->entry.id);
                int fd = openat(j->dirfd, j->name,
                                O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                                0600);
                if (fd < 0 && errno == ENOENT) {
                        close(j->dirfd);
                        j->dirfd = -1;
                        continue;
                }
                if (fd < 0) {
                        if (errno == EEXIST)
                                continue;
                        return -errno;
                }
                struct stat st, named;
                if (fstat(fd, &st) < 0) {
                        int r = -errno;
                        unlinkat(j->dirfd, j->name, 0);
                        close(fd);
                        return r;
                }
                if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        /* Another move's lazy recovery found it empty and is dropping it:
                         * never wait, start over with a new one. */
                        if (fstatat(j->dirfd, j->name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
                            named.st_ino == st.st_ino)
                                unlinkat(j->dirfd, j->name, 0);
                        close(fd);
                        continue;
                }
                if (fstat(fd, &st) < 0) {
                        close(fd);
                        return -EIO;
                }
                if (st.st_nlink == 0) { /* removed between open and flock */
                        close(fd);
                        continue;
                }
                j->fd = fd;
                return 0;
        }
        return -EEXIST;
}

/* Both sides named by their mount (statmount, or one read of the mount table), and checked
 * to lead here from the mount point as it was verified: the way recovery will look them up. */
static int describe_sides(struct vs_journal_entry *e, int source_dirfd, const char *source_path,
                          int target_dirfd, const char *target_path)
{
        struct vs_mount_table table = { 0 }; /* read only where statmount(2) is missing */
        int source_mnt = -1, target_mnt = -1;
        int r = vs_mount_identify_open(&table, source_dirfd, &e->source_mount, &source_mnt);
        if (r == 0)
                r = vs_mount_identify_open(&table, target_dirfd, &e->target_mount, &target_mnt);
        vs_mount_table_free(&table);
        if (r == 0)
                r = vs_mount_relative(&e->source_mount, source_path, e->source, sizeof(e->source));
        if (r == 0)
                r = vs_mount_relative(&e->target_mount, target_path, e->target, sizeof(e->target));
        if (r == 0)
                r = check_reachable(source_mnt, e->source, source_dirfd);
        if (r == 0)
                r = check_reachable(target_mnt, e->target, target_dirfd);
        if (source_mnt >= 0)
                close(source_mnt);
        if (target_mnt >= 0)
                close(target_mnt);
        return r;
}

int vs_journal_prepare(struct vs_journal *j, const struct vs_journal_config *cfg,
                       enum vs_journal_kind kind, int source_dirfd, const char *source_path,
                       int target_dirfd, const char *target_path,
                       const struct vs_identity *source_id,
                       const struct vs_identity *target_prev_id)
{
        struct vs_journal_entry *e = &j->entry;
        j->dirfd = j->fd = -1;
        j->transient = cfg && cfg->transient;
        j->dir_created = false;
        j->flushes = 0;
        j->started = false;
        j->dir_path = NULL;
        if (!cfg || !cfg->dir || !source_path || !target_path || source_path[0] != '/' ||
            target_path[0] != '/')
                return -EXDEV;
        memset(e, 0, sizeof(*e));
        e->kind = kind;
        e->phase = VS_JOURNAL_STAGED;
        e->source_id = *source_id;
        if (target_prev_id)
                e->target_prev_id = *target_prev_id;
        int r = describe_sides(e, source_dirfd, source_path, target_dirfd, target_path);
        if (r < 0)
                return -EXDEV;

        j->dirfd = vs_journal_dir_open(cfg->dir, true, &j->dir_created);
        return j->dirfd < 0 ? -EXDEV : 0;
}

int vs_journal_begin(struct vs_journal *j, const struct vs_journal_config *cfg)
{
        bool dir_created = j->dir_created;
        int r = create_record(j, cfg->dir, &dir_created);
        if (r < 0)
                goto fail;
        /* Durable before any name of ours exists in the vault: a crash after this point
         * always finds the record that explains what it left.  A deferring caller makes it
         * so itself, before it makes any such name. */
        j->dir_path = cfg->dir;
        j->dir_created = dir_created;
        r = write_line(j);
        if (r == 0 && !cfg->defer_sync)
                r = vs_journal_sync(j, VS_JOURNAL_SYNC_FULL);
        if (r < 0) {
                unlinkat(j->dirfd, j->name, 0);
                close(j->fd);
                j->fd = -1;
                goto fail;
        }
        return 0;
fail:
        if (j->dirfd >= 0)
                close(j->dirfd);
        j->dirfd = -1;
        if (j->transient)
                vs_journal_dir_remove_if_empty(cfg->dir);
        return -EXDEV;
}

int vs_journal_update(struct vs_journal *j, enum vs_journal_sync how)
{
        if (j->fd < 0)
                return -EBADF;
        int r = write_line(j);
        return r < 0 ? r : vs_journal_sync(j, how);
}

static void release(struct vs_journal *j, bool drop)
{
        if (j->fd >= 0) {
                /* No sync: a surviving record of a finished move recovers to "nothing to do". */
                if (drop)
                        unlinkat(j->dirfd, j->name, 0);
                close(j->fd);
        }
        if (j->dirfd >= 0)
                close(j->dirfd);
        if (j->fd >= 0 && j->transient && j->dir_path)
                vs_journal_dir_remove_if_empty(j->dir_path);
        j->fd = j->dirfd = -1;
}

void vs_journal_finish(struct vs_journal *j)
{
        release(j, true);
}

void vs_journal_abandon(struct vs_journal *j)
{
        release(j, false);
}

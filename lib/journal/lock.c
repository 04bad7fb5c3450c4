/* SPDX-License-Identifier: MIT */
/*
 * Emulated moves of one source, from any thread or process, take turns: the kernel's
 * rename is atomic, so of two racing renames of one name exactly one succeeds and the other
 * gets ENOENT.  A copy-based move is not atomic, so without this two of them could both
 * copy the source and leave two copies, and one could replace (rename over) the source
 * of another between that one's identity check and its unlink, losing both.  So a move
 * locks its source and the target it replaces.
 *
 * The lock is flock() on a lock file of our own named after the object's dev:ino, in
 * <mount root of the object>/.vaultshim/locks (every mover of the object reaches that one,
 * whatever its target; /tmp/vaultshim-locks-<euid> when that is not writable), never on the
 * user's file: other programs flock their files, and rename(2) ignores that.  flock is per
 * open file description (threads exclude each other too) and released if the process dies.
 * The holder unlinks the lock file before closing it, so a waiter that then gets the lock on
 * the unlinked file opens the name again; then the lock directories are removed once empty.
 *
 * The lock files live in a shared folder, so anyone may hold one: no wait is unbounded.  A
 * move waits at most VS_LOCK_WAIT_MS (polling with LOCK_NB), then fails with EBUSY having
 * changed nothing.  Lock files are opened O_NONBLOCK and must be regular files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fmt/fmt.h"
#include "journal/journal.h"

static bool same_mount(const struct statx *a, const struct statx *b)
{
        if ((a->stx_mask & STATX_MNT_ID) && (b->stx_mask & STATX_MNT_ID))
                return a->stx_mnt_id == b->stx_mnt_id;
        return a->stx_dev_major == b->stx_dev_major && a->stx_dev_minor == b->stx_dev_minor;
}

/* The topmost directory above dirfd on dirfd's mount (".." of a mount root is on another). */
static int open_mount_root(int dirfd)
{
        int fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct statx here;
        if (fd < 0 || statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &here) < 0)
                goto fail;
        for (;;) {
                struct statx up;
                int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (parent < 0 || statx(parent, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &up) < 0) {
                        if (parent >= 0)
                                close(parent);
                        goto fail;
                }
                if (!same_mount(&here, &up) || up.stx_ino == here.stx_ino) {
                        close(parent);
                        /* fsync (of a new .vaultshim) needs a real descriptor, not O_PATH. */
                        int root = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (root < 0)
                                goto fail;
                        close(fd);
                        return root;
                }
                close(fd);
                fd = parent;
                here = up;
        }
fail:;
        int e = errno;
        if (fd >= 0)
                close(fd);
        return -e;
}

uint64_t vs_journal_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* <mount root>/.vaultshim/locks, created if needed (not synced: locks need no durability). */
static int open_lock_dir(int dirfd, struct vs_journal_lock *lock)
{
        lock->rootfd = open_mount_root(dirfd);
        if (lock->rootfd < 0)
                return lock->rootfd;
        int r = 0;
        if (mkdirat(lock->rootfd, ".vaultshim", 0700) < 0 && errno != EEXIST)
                r = -errno;
        if (r == 0) {
                lock->topfd = openat(lock->rootfd, ".vaultshim",
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = lock->topfd < 0 ? -errno : 0;
        }
        if (r == 0 && mkdirat(lock->topfd, "locks", 0700) < 0 && errno != EEXIST)
                r = -errno;
        if (r == 0) {
                lock->dirfd = openat(lock->topfd, "locks", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = lock->dirfd < 0 ? -errno : faccessat(lock->dirfd, ".", W_OK | X_OK, AT_EACCESS) < 0 ? -errno : 0;
        }
        return r;
}

/*
 * The mount root is not ours to write: a per-user directory outside the vault (dev:ino
 * names objects host-wide), never a file in the user's folders.  Only if its owner is us
 * and nobody else can write it, so no one else decides who takes our locks.
 */
static int open_fallback_lock_dir(void)
{
        char path[64];
        struct vs_buf b;
        vs_buf_init(&b, path, sizeof(path));
        vs_buf_puts(&b, "/tmp/vaultshim-locks-");
        vs_buf_putu(&b, geteuid(), 0);
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022))) {
                close(fd);
                return -EPERM;
        }
        return fd < 0 ? -errno : fd;
}

static void close_dirs(struct vs_journal_lock *lock)
{
        int *fds[] = { &lock->dirfd, &lock->topfd, &lock->rootfd };
        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
                if (*fds[i] >= 0)
                        close(*fds[i]);
                *fds[i] = -1;
        }
}

/* The lock directories go once empty: the kernel's rename leaves nothing, neither do we.
 * A mover that opened them meanwhile finds them gone when it creates its lock file, and
 * makes them again. */
static void remove_lock_dirs(struct vs_journal_lock *lock)
{
        if (lock->topfd >= 0 && unlinkat(lock->topfd, "locks", AT_REMOVEDIR) == 0)
                (void)unlinkat(lock->rootfd, ".vaultshim", AT_REMOVEDIR);
}

void vs_journal_unlock_object(struct vs_journal_lock *lock)
{
        if (lock->fd < 0)
                return;
        /* Unlinked while held: a waiter that then gets the lock on this (unlinked) file sees
         * that the name no longer leads to it and takes the name's new file instead. */
        unlinkat(lock->dirfd, lock->name, 0);
        close(lock->fd);
        lock->fd = -1;
        remove_lock_dirs(lock);
        close_dirs(lock);
}

static void pause_ms(unsigned ms)
{
        struct timespec ts = { 0, (long)ms * 1000000L };
        nanosleep(&ts, NULL);
}

/* 0 with lock->fd held, -ENOENT when the lock directory vanished, -EBUSY past the deadline. */
static int take_lock_file(struct vs_journal_lock *lock, uint64_t deadline_ms)
{
        for (unsigned tries = 0;; tries++) {
                int fd = openat(lock->dirfd, lock->name,
                                O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
                if (fd < 0)
                        return -errno;
                struct stat held, named;
                if (fstat(fd, &held) < 0 || !S_ISREG(held.st_mode)) {
                        close(fd);
                        return -EOPNOTSUPP; /* not a lock file of ours */
                }
                if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
                        if (fstat(fd, &held) == 0 &&
                            fstatat(lock->dirfd, lock->name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
                            held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
                                lock->fd = fd;
                                return 0;
                        }
                        close(fd); /* the previous holder unlinked it: take the name's new file */
                        continue;
                }
                int e = errno;
                close(fd);
                if (e != EWOULDBLOCK && e != EINTR)
                        return -e;
                if (vs_journal_now_ms() >= deadline_ms)
                        return -EBUSY;
                pause_ms(1 + tries % 8);
        }
}

int vs_journal_lock_object(int dirfd, const char *name, const struct vs_identity *expect,
                           uint64_t deadline_ms, struct vs_journal_lock *out)
{
        struct vs_journal_lock lock = { .fd = -1, .dirfd = -1, .topfd = -1, .rootfd = -1 };
        struct vs_buf lock_name;
        vs_buf_init(&lock_name, lock.name, sizeof(lock.name));
        vs_buf_putx(&lock_name, expect->dev, 0);
        vs_buf_puts(&lock_name, "-");
        vs_buf_putx(&lock_name, expect->ino, 0);
        int r = -ENOENT;
        for (int attempt = 0; attempt < 8 && r == -ENOENT; attempt++) {
                close_dirs(&lock);
                if (open_lock_dir(dirfd, &lock) < 0) {
                        close_dirs(&lock);
                        lock.dirfd = open_fallback_lock_dir();
                        if (lock.dirfd < 0)
                                return -EOPNOTSUPP;
                }
                r = take_lock_file(&lock, deadline_ms);
        }
        if (r < 0) {
                remove_lock_dirs(&lock);
                close_dirs(&lock);
                return r == -EBUSY ? r : -EOPNOTSUPP;
        }
        /* The lock is ours once the name still leads to the object the move planned for. */
        struct stat named;
        if (fstatat(dirfd, name, &named, AT_SYMLINK_NOFOLLOW) < 0 ||
            (uint64_t)named.st_ino != expect->ino || (uint64_t)named.st_dev != expect->dev) {
                vs_journal_unlock_object(&lock);
                return -ESTALE;
        }
        *out = lock;
        return 0;
}

int vs_journal_remove_stale_lock(int dirfd, const char *name)
{
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        int r = 0;
        struct stat held, named;
        /* Held: a live move's.  Not held: its mover died; the protocol allows unlinking it. */
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                r = errno == EWOULDBLOCK ? 0 : -errno;
        else if (fstat(fd, &held) == 0 && S_ISREG(held.st_mode) && held.st_size == 0 &&
                 fstatat(dirfd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
                 held.st_dev == named.st_dev && held.st_ino == named.st_ino)
                r = unlinkat(dirfd, name, 0) < 0 ? -errno : 1;
        close(fd);
        return r;
}

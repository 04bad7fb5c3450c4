/*
 * Emulated moves of one source, from any thread, process or container, take turns: the
 * kernel's rename is atomic, so of two racing renames of one name exactly one succeeds and
 * the other gets ENOENT.  A copy-based move is not atomic, so without this two of them could
 * both copy the source and leave two copies, and one could replace (rename over) the source
 * of another between that one's identity check and its unlink, losing both.  So a move
 * locks its source and the target it replaces.
 *
 * The lock is flock() on a lock file of our own, .vaultshim-lock-<dev>-<ino>, in the
 * object's own directory: every mover of the object renames it out of that directory, so
 * every mover reaches that one lock, and the move changes that directory anyway (as the
 * kernel's rename does), so a lock file that comes and goes there leaves no trace.  Never
 * on the user's file: other programs flock their files, and rename(2) ignores that.  flock
 * is per open file description (threads exclude each other too) and released if the
 * process dies.  The holder unlinks the lock file before closing it, so a waiter that then
 * gets the lock on the unlinked file sees that the name no longer leads to it and takes the
 * name's new file.  Where that directory is not writable, a per-user directory outside the
 * vault serves instead.
 *
 * The lock files live in shared folders, so anyone may hold one: no wait is unbounded.  A
 * move waits (polling with LOCK_NB) until the deadline its caller gives, the one deadline of
 * the whole rename() call (VS_MOVE_BOUND_MS after its entry, however often another user
 * makes it plan again), then fails with EBUSY having changed nothing.  Lock files are
 * opened O_NONBLOCK and must be regular files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "fmt/fmt.h"
#include "journal/journal.h"

/*
 * The object's directory is not ours to write: a per-user directory outside the vault
 * (dev:ino names objects host-wide).  Only if its owner is us and nobody else can write
 * it, so no one else decides who takes our locks.
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

void vs_journal_unlock_object(struct vs_journal_lock *lock)
{
        if (lock->fd < 0)
                return;
        /* Unlinked while held: a waiter that then gets the lock on this (unlinked) file sees
         * that the name no longer leads to it and takes the name's new file instead. */
        unlinkat(lock->dirfd, lock->name, 0);
        close(lock->fd);
        close(lock->dirfd);
        lock->fd = lock->dirfd = -1;
}

static void pause_ms(unsigned ms)
{
        struct timespec ts = { 0, (long)ms * 1000000L };
        nanosleep(&ts, NULL);
}

/* 0 with lock->fd held, -EBUSY past the deadline, or -errno. */
static int take_lock_file(struct vs_journal_lock *lock, uint64_t deadline_ms)
{
        for (unsigned tries = 0;; tries++) {
                int fd = openat(lock->dirfd, lock->name,
                                O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                                0600);
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
                        /* The previous holder unlinked it: take the name's new file (a
                         * name replaced again and again is contention too: bounded). */
                        close(fd);
                        if (vs_now_ms() >= deadline_ms)
                                return -EBUSY;
                        continue;
                }
                int e = errno;
                close(fd);
                if (e != EWOULDBLOCK && e != EINTR)
                        return -e;
                uint64_t now = vs_now_ms();
                if (now >= deadline_ms)
                        return -EBUSY;
                /* Never sleep past the deadline. */
                uint64_t left = deadline_ms - now;
                pause_ms(left < 1 + tries % 8 ? (unsigned)left : 1 + tries % 8);
        }
}

static int try_lock_in(int dirfd, const struct vs_identity *expect, uint64_t deadline_ms,
                       struct vs_journal_lock *lock)
{
        struct vs_buf name;
        vs_buf_init(&name, lock->name, sizeof(lock->name));
        vs_buf_puts(&name, VS_LOCK_PREFIX);
        vs_buf_putx(&name, expect->dev, 0);
        vs_buf_puts(&name, "-");
        vs_buf_putx(&name, expect->ino, 0);
        lock->fd = -1;
        lock->dirfd = dirfd;
        int r = take_lock_file(lock, deadline_ms);
        if (r < 0) {
                close(dirfd);
                lock->dirfd = -1;
        }
        return r;
}

int vs_journal_lock_object(int dirfd, const char *name, const struct vs_identity *expect,
                           uint64_t deadline_ms, struct vs_journal_lock *out)
{
        struct vs_journal_lock lock;
        int here = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r = here < 0 ? -errno : try_lock_in(here, expect, deadline_ms, &lock);
        if (r < 0 && r != -EBUSY) {
                int fallback = open_fallback_lock_dir();
                r = fallback < 0 ? -EOPNOTSUPP : try_lock_in(fallback, expect, deadline_ms, &lock);
        }
        if (r < 0)
                return r == -EBUSY ? r : -EOPNOTSUPP;
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

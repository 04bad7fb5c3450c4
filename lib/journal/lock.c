/* SPDX-License-Identifier: MIT */
/*
 * Emulated moves of one source, from any thread or process, take turns: the kernel's
 * rename is atomic, so of two racing renames of one name exactly one succeeds and the other
 * gets ENOENT.  A copy-based move is not atomic, so without this two of them could both
 * copy the source and leave two copies, and one could replace (rename over) the source
 * of another between that one's identity check and its unlink, losing both.  So a move
 * locks its source and the target it replaces: flock() on the objects themselves (per open
 * file description, so threads exclude each other too), released if the process dies.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal/journal.h"

#define LOCK_POLL_NS (2 * 1000 * 1000)
#define LOCK_WAIT_NS (60LL * 1000 * 1000 * 1000)

int vs_journal_lock_object(int dirfd, const char *name, const struct vs_identity *expect,
                           bool wait)
{
        if (S_ISLNK(expect->mode))
                return -EOPNOTSUPP; /* a symlink cannot be opened, and carries no data */
        /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESTALE : -EOPNOTSUPP;

        long long waited = 0;
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                /* Someone else's flock on a note must not hang the rename forever. */
                if (errno != EWOULDBLOCK || !wait || waited >= LOCK_WAIT_NS) {
                        int e = errno == EWOULDBLOCK && wait ? EBUSY : errno;
                        close(fd);
                        return -e;
                }
                struct timespec ts = { 0, LOCK_POLL_NS };
                nanosleep(&ts, NULL);
                waited += LOCK_POLL_NS;
        }
        /* The lock is ours once the name still leads to the object the move planned for. */
        struct stat held, named;
        if (fstat(fd, &held) < 0 || fstatat(dirfd, name, &named, AT_SYMLINK_NOFOLLOW) < 0 ||
            held.st_dev != named.st_dev || held.st_ino != named.st_ino ||
            held.st_ino != expect->ino || (uint64_t)held.st_dev != expect->dev) {
                close(fd);
                return -ESTALE;
        }
        return fd;
}

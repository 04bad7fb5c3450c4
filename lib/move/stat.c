/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "move/internal.h"

bool vs_same_inode(const struct statx *a, const struct statx *b)
{
        return a->stx_ino == b->stx_ino && a->stx_dev_major == b->stx_dev_major &&
               a->stx_dev_minor == b->stx_dev_minor;
}

bool vs_same_object_on(const struct vs_fscaps *caps, const struct statx *a,
                       const struct statx *b)
{
        if ((a->stx_mode & S_IFMT) != (b->stx_mode & S_IFMT))
                return false;
        if (caps && caps->stable_inodes == VS_CAP_NO)
                return a->stx_dev_major == b->stx_dev_major &&
                       a->stx_dev_minor == b->stx_dev_minor &&
                       (!S_ISREG(a->stx_mode) || a->stx_size == b->stx_size);
        return vs_same_inode(a, b);
}

bool vs_same_time(const struct statx_timestamp *a, const struct statx_timestamp *b)
{
        return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

bool vs_time_after(const struct statx_timestamp *a, const struct statx_timestamp *b)
{
        return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

bool vs_unchanged(const struct statx *before, const struct statx *after)
{
        return vs_same_inode(before, after) && before->stx_size == after->stx_size &&
               vs_same_time(&before->stx_mtime, &after->stx_mtime) &&
               vs_same_time(&before->stx_ctime, &after->stx_ctime);
}

bool vs_unchanged_on(const struct vs_fscaps *caps, const struct statx *before,
                     const struct statx *after)
{
        if (!vs_same_object_on(caps, before, after) || before->stx_size != after->stx_size)
                return false;
        if (caps && caps->stable_times == VS_CAP_NO)
                return true;
        return vs_same_time(&before->stx_mtime, &after->stx_mtime) &&
               vs_same_time(&before->stx_ctime, &after->stx_ctime);
}

bool vs_copy_matches(const struct statx *src, const struct statx *copy, unsigned dropped)
{
        if ((src->stx_mode & S_IFMT) != (copy->stx_mode & S_IFMT))
                return false;
        if (S_ISDIR(src->stx_mode))
                return true;
        if (src->stx_size != copy->stx_size)
                return false;
        if (dropped & VS_DROPPED_TIMES)
                return true;
        if (dropped & VS_DROPPED_TIME_NSEC)
                return src->stx_mtime.tv_sec == copy->stx_mtime.tv_sec;
        return vs_same_time(&src->stx_mtime, &copy->stx_mtime);
}

/*
 * rclone 1.60 (--vfs-cache-mode writes) shows a file that waits for its upload with the time
 * of its cache file.  Any open that reads the file truncates that cache file to its own size
 * (vfscache Item.open), which sets the cache file's time to that instant; rclone puts the
 * file's time back only when the last descriptor is released, and the kernel sends that
 * release after close() has returned (here up to 24 ms later for a 4 MiB file, at load 16).
 * So a file another program has just read, or still reads, shows "now": never earlier than
 * its own time.  Such a time, read recently enough to be one, is read again with growing
 * pauses until it goes back; a move waits at most VS_SETTLE_BUDGET_NS in all.
 */
#define VS_NS_PER_SEC 1000000000LL
#define VS_SETTLE_RECENT_NS (2 * VS_NS_PER_SEC)

static int64_t ns_of(const struct statx_timestamp *t)
{
        return (int64_t)t->tv_sec * VS_NS_PER_SEC + t->tv_nsec;
}


bool vs_settle_times(int dirfd, const char *name, const struct vs_fscaps *caps,
                     struct statx *st, int64_t *budget_ns)
{
        if (!caps || caps->stable_times != VS_CAP_NO || !S_ISREG(st->stx_mode) ||
            ns_of(&st->stx_mtime) < vs_clock_ns(CLOCK_REALTIME) - VS_SETTLE_RECENT_NS)
                return false;
        int64_t pause = 1000000; /* 1 ms, doubled up to 32 ms */
        while (*budget_ns > 0) {
                if (pause > *budget_ns)
                        pause = *budget_ns;
                int64_t start = vs_clock_ns(CLOCK_MONOTONIC);
                struct timespec ts = { .tv_sec = pause / VS_NS_PER_SEC,
                                       .tv_nsec = pause % VS_NS_PER_SEC };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                *budget_ns -= vs_clock_ns(CLOCK_MONOTONIC) - start;
                struct statx again;
                /* Gone, replaced or rewritten: the move's own checks deal with that. */
                if (vs_statx(dirfd, name, &again) < 0 || !vs_same_object_on(caps, st, &again) ||
                    again.stx_size != st->stx_size)
                        return false;
                if (ns_of(&again.stx_mtime) < ns_of(&st->stx_mtime)) {
                        st->stx_atime = again.stx_atime;
                        st->stx_mtime = again.stx_mtime;
                        st->stx_ctime = again.stx_ctime;
                        return true;
                }
                if (pause < 32000000)
                        pause *= 2;
        }
        return false;
}

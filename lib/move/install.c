/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "move/internal.h"

int vs_temp_name(char *buf, size_t size, const char *prefix)
{
        static unsigned counter;
        uint64_t nonce;
        if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce)) {
                int64_t ns = vs_clock_ns(CLOCK_MONOTONIC);
                nonce = (uint64_t)(ns % 1000000000) ^ ((uint64_t)(ns / 1000000000) << 30);
        }
        struct vs_buf b;
        vs_buf_init(&b, buf, size);
        vs_buf_puts(&b, prefix);
        vs_buf_putx(&b, (uint64_t)getpid(), 0);
        vs_buf_puts(&b, "-");
        vs_buf_putx(&b, __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED), 0);
        vs_buf_puts(&b, "-");
        vs_buf_putx(&b, nonce, 0);
        return b.overflow ? -ENAMETOOLONG : 0;
}

/* The object at dirfd/name is the staged one: same inode (where the filesystem keeps inode
 * numbers), same type, never followed. */
static bool is_staged(const struct vs_fscaps *caps, int dirfd, const char *name,
                      const struct statx *staged)
{
        struct statx now;
        return vs_statx(dirfd, name, &now) == 0 && vs_same_object_on(caps, &now, staged);
}

int vs_install_verified(const struct vs_side *new, const char *staged_name,
                        const struct statx *staged, bool in_place, unsigned flags)
{
        int r = vs_fault_at(VS_STEP_INSTALL);
        if (r < 0)
                return r;
        struct vs_fscaps caps;
        vs_fscaps_get(new->dirfd, &new->dir, &caps);
        /* The staging name is in a folder others can write: whatever is there now must be
         * what this move staged, or it is not installed. */
        if (!in_place) {
                if (!is_staged(&caps, new->dirfd, staged_name, staged))
                        return -EBUSY;
                r = vs_install(new->dirfd, &new->dir, staged_name, new->path.last,
                               S_ISDIR(staged->stx_mode), flags);
                if (r < 0)
                        return r;
        }
        r = vs_fault_at(VS_STEP_VERIFY_INSTALL);
        if (r == 0 && is_staged(&caps, new->dirfd, new->path.last, staged))
                return 0;
        /* Not proven (replaced between the check and the rename): the target name gets back
         * what it had (nothing) where that is possible; what is there goes back to the
         * staging name, which the caller removes only if it is ours. */
        if (!in_place && !new->exists)
                (void)vs_rename_to_fresh_name(new->dirfd, &new->dir, new->path.last,
                                              staged_name);
        return r < 0 ? r : -EBUSY;
}

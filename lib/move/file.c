/* SPDX-License-Identifier: MIT */
/*
 * A non-directory move: hidden temp copy in the target directory, durable, then one
 * rename over the target (never unlink it first), then the source goes.  Every byte is
 * in at least one complete, named copy at every instant.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "move/internal.h"

/* After the install, only the source's unlink is left; never unlink a different inode. */
static int remove_source(const struct vs_side *old)
{
        struct statx now;
        int r = vs_fault_at(VS_STEP_UNLINK_SOURCE);
        if (r < 0)
                return r;
        if (vs_statx(old->dirfd, old->path.last, &now) == 0 && vs_same_inode(&now, &old->st) &&
            unlinkat(old->dirfd, old->path.last, 0) < 0)
                return -errno;
        r = vs_fault_at(VS_STEP_FSYNC_SOURCE_DIR);
        if (r == 0)
                (void)vs_fsync_dir(old->dirfd);
        return r;
}

int vs_file_move(const struct vs_plan *plan, struct vs_move_stats *stats)
{
        const struct vs_side *old = &plan->old, *new = &plan->new;
        struct vs_copy_ctx ctx;
        struct vs_journal journal;
        vs_copy_ctx_init(&ctx, plan);
        char temp[128];
        int temp_fd = -1; /* a regular file's copy, synced once the record is durable */

        int r = vs_move_journal_begin(plan, new->exists ? VS_JOURNAL_OVERWRITE : VS_JOURNAL_FILE,
                                      &journal, temp, sizeof(temp));
        if (r < 0)
                return r;
        r = vs_node_copy(old->dirfd, old->path.last, &old->st, new->dirfd, temp, &ctx, &temp_fd);
        stats->bytes = ctx.bytes;
        stats->methods = ctx.methods;
        stats->dropped = ctx.dropped;
        if (r < 0) {
                vs_move_journal_end(&journal, true);
                return r;
        }

        /* From the install on, a crash must find the copy named in a durable record.  The
         * data after the record: on xfs the record's sync forces the log with the temp's
         * metadata in it, so the temp's fsync finds little left to do (the order of the two
         * is free: nothing is installed until both are durable). */
        r = vs_move_journal_staged(&journal, new->dirfd, temp, true);
        if (r == 0 && temp_fd >= 0)
                r = vs_fault_at(VS_STEP_FSYNC_TEMP);
        if (r == 0 && temp_fd >= 0 && fsync(temp_fd) < 0)
                r = -errno;
        if (temp_fd >= 0)
                close(temp_fd);

        /* Last, right before the install: a write during the fsync must not be lost. */
        struct statx now;
        if (r == 0)
                r = vs_fault_at(VS_STEP_VERIFY_SOURCE);
        if (r == 0)
                r = vs_statx(old->dirfd, old->path.last, &now);
        if (r == 0 && !vs_unchanged_on(&ctx.src_caps, &old->st, &now))
                r = -EAGAIN; /* replaced or written meanwhile: start over */
        if (r == 0)
                r = vs_fault_at(VS_STEP_INSTALL);
        if (r == 0)
                r = vs_install(new->dirfd, &new->dir, temp, new->path.last, false,
                               plan->flags);
        if (r < 0) {
                unlinkat(new->dirfd, temp, 0);
                vs_move_journal_end(&journal, true);
                return r;
        }
        stats->entries = 1;

        vs_move_journal_phase(&journal, VS_JOURNAL_INSTALLED);
        r = vs_fault_at(VS_STEP_FSYNC_TARGET_DIR);
        if (r == 0)
                r = vs_fsync_dir(new->dirfd);
        if (r == 0) { /* not durable: keep the source */
                vs_move_journal_phase(&journal, VS_JOURNAL_SOURCE_REMOVAL);
                r = remove_source(old);
        }
        /* Installed but the source stayed: the record lets recovery finish the move. */
        vs_move_journal_end(&journal, r == 0);
        return r;
}

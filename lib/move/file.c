/* SPDX-License-Identifier: MIT */
/*
 * A non-directory move: durable record, source set aside (the move's instant for everyone
 * else), hidden temp copy of it in the target directory, durable, then one rename over the
 * target (never unlink it first), then the set-aside source goes if nothing wrote to it
 * since its copy.  Every byte is in at least one complete, named copy at every instant.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "move/internal.h"

#define COPY_ATTEMPTS 3 /* copies spoiled by a writer holding the file open */

/* Copy the set-aside source into the temp and make both the copy and its record durable;
 * -EAGAIN when a writer changed the source meanwhile (*st is then its new state). */
static int stage_copy(const struct vs_plan *plan, const char *aside, struct statx *st,
                      const char *temp, struct vs_copy_ctx *ctx, struct vs_journal *journal)
{
        const struct vs_side *old = &plan->old, *new = &plan->new;
        int temp_fd = -1;
        ctx->journal = journal;
        int r = vs_node_copy(old->dirfd, aside, st, new->dirfd, temp, ctx, &temp_fd);
        /* From the install on, a crash must find the copy named in a durable record.  The
         * data after the record: on xfs the record's sync forces the log with the temp's
         * metadata in it, so the temp's fsync finds little left to do. */
        if (r == 0)
                r = vs_move_journal_staged(journal, new->dirfd, temp, true);
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
                r = vs_statx(old->dirfd, aside, &now);
        if (r == 0 && !vs_unchanged_on(&ctx->src_caps, st, &now)) {
                *st = now;
                r = -EAGAIN;
        }
        if (r < 0)
                unlinkat(new->dirfd, temp, 0);
        if (r == -EAGAIN) {
                struct statx again;
                if (vs_statx(old->dirfd, aside, &again) == 0)
                        *st = again;
        }
        return r;
}

int vs_file_move(const struct vs_plan *plan, struct vs_move_stats *stats)
{
        const struct vs_side *old = &plan->old, *new = &plan->new;
        struct vs_copy_ctx ctx;
        struct vs_journal journal;
        char temp[128], aside[128];
        struct statx st;
        vs_copy_ctx_init(&ctx, plan);

        int r = vs_move_journal_begin(plan, new->exists ? VS_JOURNAL_OVERWRITE : VS_JOURNAL_FILE,
                                      &journal, temp, aside, sizeof(temp));
        if (r < 0)
                return r;
        r = vs_aside_take(old, aside, &st);
        if (r < 0) {
                vs_move_journal_end(&journal, r != -EBUSY);
                return r;
        }
        vs_move_journal_aside(&journal, &st);

        for (int attempt = 1;; attempt++) {
                r = stage_copy(plan, aside, &st, temp, &ctx, &journal);
                if (r != -EAGAIN || attempt == COPY_ATTEMPTS)
                        break;
        }
        stats->bytes = ctx.bytes;
        stats->methods = ctx.methods;
        stats->dropped = ctx.dropped;
        if (r == 0)
                r = vs_fault_at(VS_STEP_INSTALL);
        if (r == 0)
                r = vs_install(new->dirfd, &new->dir, temp, new->path.last, false,
                               plan->flags);
        if (r < 0) {
                unlinkat(new->dirfd, temp, 0);
                /* Not installed: the source goes back, unless a save took its name meanwhile
                 * (then both stay, and the record tells vault-fsck to report it). */
                bool restored = vs_aside_restore(old, aside) == 0;
                vs_move_journal_end(&journal, restored);
                return r == -EAGAIN ? -EBUSY : r;
        }
        stats->entries = 1;

        vs_move_journal_phase(&journal, VS_JOURNAL_INSTALLED);
        r = vs_fault_at(VS_STEP_FSYNC_TARGET_DIR);
        if (r == 0)
                r = vs_fsync_dir(new->dirfd);
        int kept = 0;
        if (r == 0) { /* not durable: keep the source */
                vs_move_journal_phase(&journal, VS_JOURNAL_SOURCE_REMOVAL);
                r = vs_fault_at(VS_STEP_UNLINK_SOURCE);
        }
        if (r == 0)
                r = kept = vs_aside_release(old, aside, &st);
        if (r >= 0)
                r = vs_fault_at(VS_STEP_FSYNC_SOURCE_DIR);
        if (r == 0)
                (void)vs_fsync_dir(old->dirfd);
        /* Installed but the source stayed: the record lets recovery finish the move or
         * report what was kept. */
        vs_move_journal_end(&journal, r == 0 && !kept);
        return r;
}

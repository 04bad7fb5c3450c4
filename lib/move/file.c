/* SPDX-License-Identifier: MIT */
/*
 * A non-directory move: durable record, source set aside (the move's instant for everyone
 * else), hidden temp copy of it in the target directory, durable, then one rename over the
 * target (never unlink it first), then the set-aside source goes if nothing wrote to it
 * since its copy.  Every byte is in at least one complete, named copy at every instant.
 * "Durable" means flushed, or ordered before what depends on it (durable.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "move/internal.h"

#define COPY_ATTEMPTS 3 /* copies spoiled by a writer holding the file open */

/* Copy the set-aside source into the temp and make both the copy and its record durable;
 * -EAGAIN when a writer changed the source meanwhile (*st is then its new state). */
static int stage_copy(const struct vs_plan *plan, const char *aside, struct statx *st,
                      const char *temp, struct vs_copy_ctx *ctx, struct vs_journal *journal,
                      struct vs_durability *d)
{
        const struct vs_side *old = &plan->old, *new = &plan->new;
        int temp_fd = -1;
        ctx->journal = journal;
        int r = vs_node_copy(old->dirfd, aside, st, new->dirfd, temp, ctx, &temp_fd);
        /* From the install on, a crash should find the copy's identity in the record (its
         * line was written when the copy was created) and the proof that it is complete;
         * then the copy's data, before the install can reach the disk. */
        if (r == 0)
                r = vs_move_journal_copied(journal, temp_fd, new->dirfd, temp,
                                           vs_durability_record_staged(d, false));
        if (r == 0 && temp_fd >= 0)
                r = vs_fault_at(VS_STEP_FSYNC_TEMP);
        if (r == 0 && temp_fd >= 0)
                r = vs_durable_copy(d, temp_fd);
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
        struct vs_durability d;
        char temp[128], aside[128];
        struct statx st;
        vs_copy_ctx_init(&ctx, plan);

        int r = vs_move_journal_begin(plan, new->exists ? VS_JOURNAL_OVERWRITE : VS_JOURNAL_FILE,
                                      &journal, &d, temp, aside, sizeof(temp));
        if (r < 0)
                return r;
        r = vs_aside_take(old, aside, &st);
        if (r < 0) {
                stats->flushes += vs_durability_flushes(&d, &journal);
                vs_move_journal_end(&journal, r != -EBUSY);
                return r;
        }
        vs_move_journal_aside(&journal, &st);

        for (int attempt = 1;; attempt++) {
                r = stage_copy(plan, aside, &st, temp, &ctx, &journal, &d);
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
                stats->flushes += vs_durability_flushes(&d, &journal);
                vs_move_journal_end(&journal, restored);
                return r == -EAGAIN ? -EBUSY : r;
        }
        stats->entries = 1;

        vs_move_journal_phase(&journal, VS_JOURNAL_INSTALLED);
        r = vs_fault_at(VS_STEP_FSYNC_TARGET_DIR);
        if (r == 0)
                r = vs_durable_installed(&d, new->dirfd);
        int kept = 0;
        if (r == 0) { /* not durable: keep the source */
                vs_move_journal_phase(&journal, VS_JOURNAL_SOURCE_REMOVAL);
                r = vs_fault_at(VS_STEP_UNLINK_SOURCE);
        }
        if (r == 0)
                r = kept = vs_aside_release(old, aside, &st);
        if (r >= 0)
                r = vs_fault_at(VS_STEP_FSYNC_SOURCE_DIR);
        /* The record goes only once the source's removal is as durable as it must be; if
         * that flush fails the move still succeeded, and the record stays for recovery. */
        bool flushed = r == 0 && vs_durable_removed(&d, old->dirfd) == 0;
        stats->flushes += vs_durability_flushes(&d, &journal);
        /* Installed but the source stayed: the record lets recovery finish the move or
         * report what was kept. */
        vs_move_journal_end(&journal, r == 0 && !kept && flushed);
        return r;
}

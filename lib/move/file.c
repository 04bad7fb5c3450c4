/* SPDX-License-Identifier: MIT */
/*
 * A non-directory move: durable record, a hidden temp copy of the source (read at its own
 * name) in the target directory, durable, the source verified unchanged, then one rename
 * over the target (never unlink it first), proven to have installed the copy; only then is
 * the source set aside, and it goes if nothing wrote to it since its copy.  The new name
 * exists before the old one goes, so every user of either folder sees the note under one
 * of its names at every instant, also after a crash nobody recovers; and every byte is in
 * at least one complete, named copy.  "Durable" means flushed, or ordered before what
 * depends on it (durable.c).  Past the install the move has happened: a later failure keeps
 * the source as a duplicate that the record reports, and rename() returns 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "move/internal.h"

#define COPY_ATTEMPTS 3 /* copies spoiled by a writer holding the file open */

/* Remove the temp copy, unless someone replaced it: then it is not ours to remove. */
static void drop_temp(const struct vs_copy_ctx *ctx, int dirfd, const char *temp,
                      const struct statx *staged)
{
        struct statx now;
        if (vs_statx(dirfd, temp, &now) == 0 &&
            (!staged->stx_mode || vs_same_object_on(&ctx->caps, &now, staged)))
                (void)unlinkat(dirfd, temp, 0);
}

/* Copy the source into the temp and make both the copy and its record durable; *staged:
 * the copy (from its own descriptor where it has one).  -EAGAIN when a writer changed the
 * source meanwhile (*st is then its new state), -ESTALE when its name now leads to another
 * object than the planned one.  last: a copy that was whole when made is kept although the
 * source changed after it (a colleague saving every few milliseconds): it is installed, and
 * the changed source stays at its name, a duplicate the record reports, as the kernel's
 * rename would leave a save by path after it; failing would leave the caller with EBUSY,
 * which the kernel's rename never returns. */
static int stage_copy(const struct vs_plan *plan, struct statx *st, const char *temp,
                      struct statx *staged, struct vs_copy_ctx *ctx, struct vs_journal *journal,
                      struct vs_durability *d, bool last)
{
        const struct vs_side *old = &plan->old, *new = &plan->new;
        int temp_fd = -1;
        ctx->journal = journal;
        *staged = (struct statx){ 0 };
        int r = vs_node_copy(old->dirfd, old->path.last, st, new->dirfd, temp, ctx, &temp_fd);
        if (r == 0)
                r = vs_statx(temp_fd >= 0 ? temp_fd : new->dirfd, temp_fd >= 0 ? "" : temp,
                             staged);
        /* From the install on, a crash should find the copy's identity in the record (its
         * line was written when the copy was created) and the proof that it is complete;
         * then the copy's data, before the install can reach the disk.  Both write-outs
         * run at once: the copy's began when its data was written (node.c), the record's
         * begins here, and each is waited for only now, right before the install. */
        enum vs_journal_sync how = vs_durability_record_staged(d, false);
        if (r == 0)
                r = vs_move_journal_copied(journal, temp_fd, new->dirfd, temp,
                                           how == VS_JOURNAL_SYNC_ORDER ? VS_JOURNAL_SYNC_START
                                                                        : how);
        if (r == 0 && temp_fd >= 0)
                r = vs_fault_at(VS_STEP_FSYNC_TEMP);
        if (r == 0 && temp_fd >= 0)
                r = vs_durable_copy(d, temp_fd);
        if (r == 0)
                r = vs_move_journal_ordered(journal);
        if (temp_fd >= 0)
                close(temp_fd);
        /* Last, right before the install: a write during the fsync must not be lost. */
        struct statx now;
        if (r == 0)
                r = vs_fault_at(VS_STEP_VERIFY_SOURCE);
        if (r == 0 || r == -EAGAIN) {
                int s = vs_statx(old->dirfd, old->path.last, &now);
                if (s == -ENOENT || (s == 0 && !vs_same_object_on(&ctx->src_caps, &now, st)))
                        r = -ESTALE; /* moved, removed or replaced since the plan: plan again */
                else if (s < 0 && r == 0)
                        r = s;
                else if (s == 0 && (r == -EAGAIN || (!last &&
                                                     !vs_unchanged_on(&ctx->src_caps, st, &now)))) {
                        *st = now;
                        r = -EAGAIN;
                }
        }
        if (r < 0)
                drop_temp(ctx, new->dirfd, temp, staged);
        return r;
}

/* The move has happened: remove the source if it is still the one copied and unchanged.
 * Returns whether the record may go (nothing left for recovery to finish or report); a
 * source that left its name meanwhile (another host moved it) is -ENOENT. */
static int remove_source(const struct vs_plan *plan, const char *aside, const struct statx *st,
                         const struct vs_copy_ctx *ctx, struct vs_journal *journal,
                         struct vs_durability *d, bool *done)
{
        const struct vs_side *old = &plan->old;
        struct statx taken;
        *done = false;
        vs_move_journal_phase(journal, VS_JOURNAL_SOURCE_REMOVAL);
        int r = vs_fault_at(VS_STEP_ASIDE);
        if (r == 0)
                r = vs_aside_take(old, aside, &taken);
        if (r == -ESTALE) {
                *done = true; /* replaced by a new file since the copy: nothing of ours left */
                return 0;
        }
        if (r < 0)
                return r;
        vs_move_journal_aside(journal, &taken);
        r = vs_fault_at(VS_STEP_UNLINK_SOURCE);
        if (r < 0) {
                /* A duplicate at its name, never hidden; as it is there now (its ctime moved
                 * again) it is recorded, so that recovery can still prove it unchanged. */
                struct statx back;
                if (vs_aside_restore(old, aside) == 0 &&
                    vs_statx(old->dirfd, old->path.last, &back) == 0 &&
                    vs_same_object_on(&ctx->src_caps, &back, st) &&
                    vs_copy_matches(st, &back, 0))
                        vs_move_journal_aside(journal, &back);
                return r;
        }
        int kept = vs_aside_release(old, aside, st, &taken);
        if (kept < 0)
                (void)vs_aside_restore(old, aside);
        if (kept != 0)
                return kept;
        r = vs_fault_at(VS_STEP_FSYNC_SOURCE_DIR);
        /* The record goes only once the source's removal is as durable as it must be. */
        if (r == 0)
                r = vs_durable_removed(d, old->dirfd);
        *done = r == 0;
        return r;
}

/* Another host moved or removed the source between the install and its setting aside (its
 * lock is local to each kernel): the kernel's rename would have found no source, so the
 * copy installed here goes again, if nobody changed it since. */
static int undo_install(const struct vs_plan *plan, const char *temp, const struct statx *staged,
                        const struct vs_copy_ctx *ctx)
{
        const struct vs_side *new = &plan->new;
        struct statx now;
        if (plan->new.exists || vs_statx(new->dirfd, new->path.last, &now) < 0 ||
            !vs_same_object_on(&ctx->caps, &now, staged) || !vs_copy_matches(staged, &now, 0))
                return 0; /* the replaced target is gone, or the copy is someone's now: kept */
        if (vs_rename_to_fresh_name(new->dirfd, &new->dir, new->path.last, temp) == 0)
                drop_temp(ctx, new->dirfd, temp, staged);
        return -ENOENT;
}

int vs_file_move(const struct vs_plan *plan, struct vs_move_stats *stats)
{
        const struct vs_side *new = &plan->new;
        struct vs_copy_ctx ctx;
        struct vs_journal journal;
        struct vs_durability d;
        char temp[NAME_MAX + 1], aside[NAME_MAX + 1];
        struct statx st = plan->old.st, staged;
        struct vs_link_move link;
        vs_copy_ctx_init(&ctx, plan);
        ctx.start_writeback = true;

        int r = vs_move_journal_begin(plan, new->exists ? VS_JOURNAL_OVERWRITE : VS_JOURNAL_FILE,
                                      &journal, &d, temp, aside, sizeof(temp));
        if (r < 0)
                return r;
        /* Another name of an inode moved before: a link of its copy (link-install.c). */
        r = vs_link_stage_file(plan, &ctx, &link, &journal, &d, temp, &staged);
        if (r == 0)
                ctx.methods = VS_METHOD_HARDLINK;
        bool copy = r == 1;
        for (int attempt = 1; copy; attempt++) {
                r = stage_copy(plan, &st, temp, &staged, &ctx, &journal, &d,
                               attempt == COPY_ATTEMPTS);
                if (r != -EAGAIN || attempt == COPY_ATTEMPTS)
                        break;
        }
        stats->bytes = ctx.bytes;
        stats->methods = ctx.methods;
        stats->dropped = ctx.dropped;
        if (r == 0)
                r = vs_install_verified(new, temp, &staged, false, plan->flags);
        if (r < 0) {
                /* Not installed: the source never left its name. */
                drop_temp(&ctx, new->dirfd, temp, &staged);
                stats->flushes += vs_durability_flushes(&d, &journal);
                vs_move_journal_end(&journal, true);
                return r; /* -EAGAIN: vs_move() plans and copies again, in its bound */
        }
        stats->entries = 1;
        vs_link_installed_file(plan, &link, &st, &staged);

        /* The point of no return: the copy is at the target, proven.  Whatever fails from
         * here keeps the source where it is (a duplicate, never a loss) and leaves the
         * record for vault-fsck to finish or report: the move happened, rename() says so. */
        vs_move_journal_phase(&journal, VS_JOURNAL_INSTALLED);
        r = vs_fault_at(VS_STEP_FSYNC_TARGET_DIR);
        if (r == 0)
                r = vs_durable_installed(&d, new->dirfd);
        bool done = false;
        if (r == 0) /* not durable: keep the source */
                r = remove_source(plan, aside, &st, &ctx, &journal, &d, &done);
        if (r == -ENOENT) {
                r = undo_install(plan, temp, &staged, &ctx);
                done = true;
        }
        stats->flushes += vs_durability_flushes(&d, &journal);
        vs_move_journal_end(&journal, done);
        return r == -ENOENT ? r : 0;
}

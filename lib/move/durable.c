/* SPDX-License-Identifier: MIT */
/*
 * Which steps of a move are flushed to the disk, and how many flushes that took.
 *
 * What a power cut may leave is decided per filesystem.  On one that commits in order
 * (fscaps.h: ext4 with its journal, xfs) a crash leaves a prefix of the changes made to it,
 * and data written back and waited for (sync_file_range, no flush) before a change is on
 * the disk before that change; so a step needs no flush of its own when everything it
 * depends on was made earlier on the same filesystem: the record before our names, the
 * copy's data (a tree's: every staged file's, by writeback.c, whatever the tree's size)
 * before its install, the install before the source's removal.  A flush is needed only
 * where one step depends on another made on a different filesystem, and the one that
 * would keep a record beside the target from going before the source's removal is left
 * out: a crash between the two keeps the note twice, never loses it.  On one
 * such filesystem a move then makes no flush at all and is durable when the kernel's rename
 * would be: at the filesystem's next commit, or when the caller fsyncs the target's
 * directory (on ext4 and xfs that forces the journal up to the install, and with it every
 * earlier step; a removal of the source not yet committed then is finished by recovery from
 * the record, which is removed only after it).  VAULTSHIM_DURABLE=return asks for one
 * flush at the end instead, so that the move is durable when rename() returns.  On any
 * other filesystem (btrfs, FUSE, NFS, SMB) every step is flushed as it always was, a tree's
 * files and folders each on its own; in memory (tmpfs) a tree's files are not.  Never a
 * syncfs: it would also wait for every other program's dirty data on that filesystem.
 * vaultshim(7), DURABILITY, has one sentence per remaining flush.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "move/internal.h"

static bool same_dev(const struct statx *a, const struct statx *b)
{
        return a->stx_dev_major == b->stx_dev_major && a->stx_dev_minor == b->stx_dev_minor;
}

void vs_durability_init(struct vs_durability *d, const struct vs_plan *plan,
                        const struct vs_journal *j)
{
        *d = (struct vs_durability){ .at_return = plan->opts && plan->opts->durable_at_return };
        struct vs_fscaps source, target, journal;
        vs_fscaps_get(plan->old.dirfd, &plan->old.dir, &source);
        vs_fscaps_get(plan->new.dirfd, &plan->new.dir, &target);
        /* A tree's files: each written back (and flushed unless the order is proven), never
         * a syncfs, which would make the move's time depend on what other programs have
         * written to the filesystem; in memory nothing survives a power cut to flush for. */
        d->tree_writeback = target.in_memory ? VS_WRITEBACK_NONE : VS_WRITEBACK_FLUSH;
        d->source_ordered = source.ordered == VS_CAP_YES;
        d->target_ordered = target.ordered == VS_CAP_YES;
        d->source_is_target = same_dev(&plan->old.dir, &plan->new.dir);
        struct statx jdir;
        if (!j || j->fd < 0 || vs_statx(j->dirfd, "", &jdir) < 0)
                return; /* no record: every step flushed */
        vs_fscaps_get(j->dirfd, &jdir, &journal);
        d->journaled = true;
        if (d->target_ordered)
                d->tree_writeback = VS_WRITEBACK_ORDERED;
        d->journal_ordered = journal.ordered == VS_CAP_YES;
        d->journal_on_source = same_dev(&jdir, &plan->old.dir);
        d->journal_on_target = same_dev(&jdir, &plan->new.dir);
}

/* Whether the install is flushed by itself: the source may go only once the target is
 * durable, which ordering alone gives only when both are on one ordered filesystem. */
static bool install_flushed(const struct vs_durability *d)
{
        return !d->journaled || !d->target_ordered || !d->source_is_target;
}

enum vs_journal_sync vs_durability_record_begin(const struct vs_durability *d, bool tree)
{
        if (!d->journal_ordered)
                return VS_JOURNAL_SYNC_FULL;
        /* The record must be on the disk before the set-aside source or the staging copy
         * is: ordering is enough when both are made on the record's filesystem (for a tree
         * as for a file: nothing syncs a filesystem whole), and when the record is on the
         * target's alone: ordered before the staging copy there, and flushed with the
         * install (vs_durable_installed), before the source is set aside. */
        (void)tree;
        bool ordered = d->journal_on_target && (d->journal_on_source || install_flushed(d));
        return ordered ? VS_JOURNAL_SYNC_ORDER : VS_JOURNAL_SYNC_DATA;
}

enum vs_journal_sync vs_durability_record_staged(const struct vs_durability *d, bool tree)
{
        /* The staging object's identity lets recovery prove the installed target ours;
         * where it is lost (another filesystem's commit came first) the source is put back
         * beside it: a duplicate, never a loss. */
        if (d->journal_ordered)
                return VS_JOURNAL_SYNC_ORDER;
        /* Elsewhere synced now, for a tree as for a file. */
        (void)tree;
        return VS_JOURNAL_SYNC_DATA;
}

int vs_durable_copy(struct vs_durability *d, int fd)
{
        if (d->journaled && d->target_ordered)
                return vs_sys_writeback(fd);
        d->flushes++;
        return fsync(fd) < 0 ? -errno : 0;
}

enum vs_writeback_mode vs_durability_tree_writeback(const struct vs_durability *d)
{
        return d->tree_writeback;
}

int vs_durable_staged_dir(struct vs_durability *d, int fd)
{
        if (d->tree_writeback != VS_WRITEBACK_FLUSH)
                return 0;
        d->flushes++;
        return fsync(fd) < 0 && errno != EINVAL ? -errno : 0;
}

/* An entry's creation, rename or removal is durable once its directory is synced.  A
 * caller with W+X but no R on the directory cannot open it: best effort then. */
static int fsync_dir(struct vs_durability *d, int dirfd)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == EACCES ? 0 : -errno;
        d->flushes++;
        int r = fsync(fd) < 0 && errno != EINVAL ? -errno : 0;
        close(fd);
        return r;
}

int vs_durable_installed(struct vs_durability *d, int target_dirfd)
{
        return install_flushed(d) ? fsync_dir(d, target_dirfd) : 0;
}

int vs_durable_removed(struct vs_durability *d, int source_dirfd)
{
        /* Needed when the record is on a third filesystem (its removal must not reach the
         * disk before the source's: a set-aside source would be left that nothing
         * explains), and, asked for, as the move's one flush when the install had none
         * (else the filesystem's next commit makes it durable, as it does the kernel's
         * rename).  Not for a record on the target's filesystem, whose install was flushed:
         * a crash that finds the record gone and the source's removal not yet committed
         * finds the note at both places, put back by vault-fsck if it was set aside; a
         * duplicate, never a loss, for one flush less per move (vaultshim(7)). */
        bool beside_target = d->journal_on_target && d->journal_ordered && install_flushed(d);
        bool needed = !d->journaled || !d->source_ordered ||
                      (!d->journal_on_source && !beside_target) ||
                      (d->at_return && !install_flushed(d));
        return needed ? fsync_dir(d, source_dirfd) : 0;
}

unsigned vs_durability_flushes(const struct vs_durability *d, const struct vs_journal *j)
{
        return d->flushes + (j ? j->flushes : 0);
}

/* SPDX-License-Identifier: MIT */
/* The engine's side of the crash-recovery journal (lib/journal, vault-fsck(8)). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "move/internal.h"

static int copy_name(char *dst, size_t size, const char *name)
{
        if (strlen(name) >= size)
                return -ENAMETOOLONG;
        strcpy(dst, name);
        return 0;
}

/* The source's file handle and birth time, which let recovery prove it is the object it
 * removes: taken only from the planned object (a name saved over since has none, and
 * recovery then keeps it, whatever it is). */
static void add_proof(struct vs_identity *id, int dirfd, const char *name)
{
        struct vs_identity now;
        if (vs_identity_at_cached(dirfd, name, &now) < 0 || !vs_identity_same_object(id, &now))
                return;
        id->has_btime = now.has_btime;
        id->btime_sec = now.btime_sec;
        id->btime_nsec = now.btime_nsec;
        id->handle_type = now.handle_type;
        id->handle_len = now.handle_len;
        memcpy(id->handle, now.handle, now.handle_len);
}

int vs_move_journal_begin(const struct vs_plan *plan, enum vs_journal_kind kind,
                          struct vs_journal *j, struct vs_durability *d, char *staging,
                          char *aside, size_t size)
{
        const struct vs_move_opts *opts = plan->opts;
        j->fd = j->dirfd = -1;
        j->flushes = 0;
        j->started = false;
        if (!opts || !opts->source_path || !opts->target_path) {
                vs_durability_init(d, plan, NULL);
                int r = vs_temp_name(staging, size, kind == VS_JOURNAL_TREE ? VS_TEMP_STAGE_PREFIX
                                                                            : VS_TEMP_FILE_PREFIX);
                if (r == 0)
                        r = vs_temp_name(aside, size, VS_TEMP_ASIDE_PREFIX);
                if (r == 0)
                        vs_aside_name_add_source(aside, size, plan->old.path.last);
                return r;
        }
        struct vs_identity source, target;
        vs_identity_from_statx(&source, &plan->old.st);
        add_proof(&source, plan->old.dirfd, plan->old.path.last);
        if (plan->new.exists)
                vs_identity_from_statx(&target, &plan->new.st);
        const struct vs_journal_config cfg = { .dir = opts->journal_dir,
                                               .transient = opts->journal_transient,
                                               .defer_sync = true };
        int r = vs_journal_prepare(j, &cfg, kind, plan->old.dirfd, opts->source_path,
                                   plan->new.dirfd, opts->target_path, &source,
                                   plan->new.exists ? &target : NULL);
        /* The lazy recovery: this user's moves that a crash left are finished or rolled back
         * before another begins (lib/journal/recover.c; what it cannot prove it keeps). */
        if (r == 0 && vs_journal_dir_has_entries(j->dirfd))
                vs_journal_recover_dir(j->dirfd, cfg.dir, VS_RECOVER_LAZY, NULL, NULL);
        if (r == 0)
                r = vs_journal_begin(j, &cfg);
        if (r == -EXDEV)
                return vs_not_emulated(VS_NOT_EMULATED_JOURNAL_UNUSABLE);
        if (r < 0)
                return r;
        vs_durability_init(d, plan, j);
        enum vs_journal_sync how = vs_durability_record_begin(d, kind == VS_JOURNAL_TREE);
        /* A file's record is only started here: its write-out overlaps opening the source,
         * and vs_move_journal_ordered() waits for it before the staging name is made. */
        if (how == VS_JOURNAL_SYNC_ORDER && kind != VS_JOURNAL_TREE)
                how = VS_JOURNAL_SYNC_START;
        if (vs_journal_sync(j, how) < 0) {
                vs_journal_finish(j);
                /* as when the record cannot be made */
                return vs_not_emulated(VS_NOT_EMULATED_JOURNAL_UNUSABLE);
        }
        vs_fault_watch(j->dirfd, plan->old.dirfd, plan->new.dirfd);
        char name[NAME_MAX + 1];
        r = vs_journal_staging_name(&j->entry, name, sizeof(name));
        if (r == 0)
                r = copy_name(staging, size, name);
        if (r == 0)
                r = vs_journal_aside_name(&j->entry, name, sizeof(name));
        if (r == 0)
                r = copy_name(aside, size, name);
        if (r == 0)
                r = vs_fault_at(VS_STEP_JOURNAL);
        if (r < 0) {
                vs_fault_watch(-1, -1, -1);
                vs_journal_finish(j);
        }
        return r;
}

/* The identity of what is open as fd, or when fd < 0 of what dirfd/name holds. */
static int identity_of(int fd, int dirfd, const char *name, struct vs_identity *id)
{
        return fd >= 0 ? vs_identity_of_fd(fd, id) : vs_identity_at(dirfd, name, id);
}

int vs_move_journal_staged(struct vs_journal *j, int fd, int dirfd, const char *name,
                           enum vs_journal_sync how)
{
        if (!j || j->fd < 0)
                return 0;
        struct vs_identity staged;
        int r = identity_of(fd, dirfd, name, &staged);
        if (r < 0)
                return r;
        j->entry.staging_id = staged;
        j->entry.copied_id = (struct vs_identity){ 0 }; /* a new copy: not complete yet */
        return vs_journal_update(j, how);
}

int vs_move_journal_copied(struct vs_journal *j, int fd, int dirfd, const char *name,
                           enum vs_journal_sync how)
{
        if (!j || j->fd < 0)
                return 0;
        struct vs_identity copied;
        int r = identity_of(fd, dirfd, name, &copied);
        if (r < 0)
                return r;
        /* What was copied into must be what the record names: someone who swapped the
         * staging name in the shared folder gets no proof of ours. */
        const struct vs_identity *staged = &j->entry.staging_id;
        if (!vs_identity_same_object(staged, &copied) ||
            (vs_identity_has_proof(staged) && !vs_identity_proven(staged, &copied)))
                return -EBUSY;
        j->entry.copied_id = copied;
        return vs_journal_update(j, how);
}

int vs_move_journal_ordered(struct vs_journal *j)
{
        return !j || j->fd < 0 || !j->started ? 0 : vs_journal_sync(j, VS_JOURNAL_SYNC_ORDER);
}

int vs_move_journal_sync(struct vs_journal *j, enum vs_journal_sync how)
{
        return !j || j->fd < 0 ? 0 : vs_journal_sync(j, how);
}

void vs_move_journal_aside(struct vs_journal *j, const struct statx *st)
{
        if (j->fd < 0)
                return;
        vs_identity_from_statx(&j->entry.aside_id, st);
        (void)vs_journal_update(j, VS_JOURNAL_SYNC_NONE);
}

void vs_move_journal_phase(struct vs_journal *j, enum vs_journal_phase phase)
{
        if (j->fd < 0)
                return;
        j->entry.phase = phase;
        (void)vs_journal_update(j, VS_JOURNAL_SYNC_NONE);
}

void vs_move_journal_end(struct vs_journal *j, bool done)
{
        vs_time_reached(VS_TIME_FINISH);
        vs_fault_watch(-1, -1, -1);
        if (done)
                vs_journal_finish(j);
        else
                vs_journal_abandon(j); /* the record stays; its lock goes: recovery may act */
}

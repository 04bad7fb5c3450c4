/* SPDX-License-Identifier: MIT */
/* The engine's side of the crash-recovery journal (lib/journal, vault-fsck(8)). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "move/internal.h"

int vs_move_journal_begin(const struct vs_plan *plan, enum vs_journal_kind kind,
                          struct vs_journal *j, char *staging, size_t size)
{
        const struct vs_move_opts *opts = plan->opts;
        const char *prefix = kind == VS_JOURNAL_TREE ? VS_TEMP_STAGE_PREFIX : VS_TEMP_FILE_PREFIX;
        j->fd = j->dirfd = -1;
        if (!opts || !opts->source_path || !opts->target_path)
                return vs_temp_name(staging, size, prefix);

        struct vs_identity source, target;
        vs_identity_from_statx(&source, &plan->old.st);
        if (plan->new.exists)
                vs_identity_from_statx(&target, &plan->new.st);
        int r = vs_journal_begin(j, opts->vault_root, kind, opts->source_path, opts->target_path,
                                 &source, plan->new.exists ? &target : NULL);
        if (r < 0)
                return r;
        const char *name = strrchr(j->entry.staging, '/') + 1;
        if (strlen(name) >= size) {
                vs_journal_finish(j);
                return -ENAMETOOLONG;
        }
        strcpy(staging, name);
        r = vs_fault_at(VS_STEP_JOURNAL);
        if (r < 0)
                vs_journal_finish(j);
        return r;
}

int vs_move_journal_staged(struct vs_journal *j, int dirfd, const char *name, bool durable)
{
        if (j->fd < 0)
                return 0;
        struct statx st;
        int r = vs_statx(dirfd, name, &st);
        if (r < 0)
                return r;
        vs_identity_from_statx(&j->entry.staging_id, &st);
        return vs_journal_update(j, durable);
}

void vs_move_journal_phase(struct vs_journal *j, enum vs_journal_phase phase)
{
        if (j->fd < 0)
                return;
        j->entry.phase = phase;
        (void)vs_journal_update(j, false);
}

void vs_move_journal_end(struct vs_journal *j, bool done)
{
        if (done) {
                vs_journal_finish(j);
                return;
        }
        if (j->fd >= 0)
                close(j->fd); /* the record stays; its lock goes: recovery may act */
        if (j->dirfd >= 0)
                close(j->dirfd);
        j->fd = j->dirfd = -1;
}

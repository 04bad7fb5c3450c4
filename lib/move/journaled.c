/* SPDX-License-Identifier: MIT */
/*
 * The engine's side of the journal protocol (lib/journal): a durable record before the
 * first named temporary, the staging identity before the install, the record dropped when
 * the source is gone.  Without a journal root the same calls only pick temporary names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "move/internal.h"

/* The absolute path of dirfd/name, through the kernel's own idea of the fd's path. */
static int absolute_path(int dirfd, const char *name, char *out, size_t size)
{
        char proc[64];
        struct vs_buf b;
        vs_buf_init(&b, proc, sizeof(proc));
        vs_buf_puts(&b, "/proc/self/fd/");
        vs_buf_putu(&b, (uint64_t)dirfd, 0);
        ssize_t len = readlink(proc, out, size);
        if (len < 0)
                return -errno;
        if ((size_t)len >= size)
                return -ENAMETOOLONG;
        out[len] = '\0';
        vs_buf_init(&b, out + len, size - (size_t)len);
        if (len > 1)
                vs_buf_puts(&b, "/");
        vs_buf_puts(&b, name);
        return b.overflow ? -ENAMETOOLONG : 0;
}

int vs_mj_begin(struct vs_move_journal *mj, const struct vs_plan *plan, char *temp_name,
                size_t size)
{
        bool tree = S_ISDIR(plan->old.st.stx_mode);
        mj->journal = NULL;
        if (!plan->journal_root)
                return vs_temp_name(temp_name, size,
                                    tree ? VS_TEMP_STAGE_PREFIX : VS_TEMP_FILE_PREFIX);

        struct vs_journal *j = malloc(sizeof(*j));
        char *paths = malloc(2 * PATH_MAX);
        int r = j && paths ? 0 : -ENOMEM;
        if (r == 0)
                r = absolute_path(plan->old.dirfd, plan->old.path.last, paths, PATH_MAX);
        if (r == 0)
                r = absolute_path(plan->new.dirfd, plan->new.path.last, paths + PATH_MAX, PATH_MAX);
        struct vs_identity source_id, target_id;
        vs_identity_from_statx(&source_id, &plan->old.st);
        if (plan->new.exists)
                vs_identity_from_statx(&target_id, &plan->new.st);
        enum vs_journal_kind kind = tree ? VS_JOURNAL_TREE
                                    : plan->new.exists ? VS_JOURNAL_OVERWRITE : VS_JOURNAL_FILE;
        if (r == 0)
                r = vs_journal_begin(j, plan->journal_root, kind, paths, paths + PATH_MAX, &source_id,
                                     plan->new.exists ? &target_id : NULL);
        free(paths);
        if (r < 0) {
                free(j);
                return r;
        }
        mj->journal = j;

        const char *base = strrchr(j->entry.staging, '/');
        base = base ? base + 1 : j->entry.staging;
        if (strlen(base) >= size) {
                vs_mj_finish(mj);
                return -ENAMETOOLONG;
        }
        strcpy(temp_name, base);
        return 0;
}

int vs_mj_staged(struct vs_move_journal *mj, int dirfd, const char *temp_name)
{
        if (!mj->journal)
                return 0;
        struct statx st;
        int r = vs_statx(dirfd, temp_name, &st);
        if (r < 0)
                return r;
        vs_identity_from_statx(&mj->journal->entry.staging_id, &st);
        return vs_journal_update(mj->journal);
}

void vs_mj_finish(struct vs_move_journal *mj)
{
        if (!mj->journal)
                return;
        vs_journal_finish(mj->journal);
        free(mj->journal);
        mj->journal = NULL;
}

void vs_mj_abandon(struct vs_move_journal *mj)
{
        if (!mj->journal)
                return;
        /* Unlocked but kept: recovery (the next move, or vault-fsck) finishes this move. */
        close(mj->journal->fd);
        close(mj->journal->dirfd);
        free(mj->journal);
        mj->journal = NULL;
}

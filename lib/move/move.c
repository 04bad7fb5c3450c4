/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "move/internal.h"

#define VS_MOVE_ATTEMPTS 3

/*
 * Two emulated moves of one source take turns (the loser then sees ENOENT, as with the
 * kernel's rename); an object that cannot be locked moves without.
 */
static int locked_move(const struct vs_plan *plan, struct vs_move_stats *stats)
{
        struct vs_identity source;
        vs_identity_from_statx(&source, &plan->old.st);
        int lock = vs_journal_lock_source(plan->old.dirfd, plan->old.path.last, &source);
        if (lock < 0 && lock != -EOPNOTSUPP)
                return lock; /* -EAGAIN: another move took it, plan again */
        int r = S_ISDIR(plan->old.st.stx_mode) ? vs_tree_move(plan, stats)
                                                : vs_file_move(plan, stats);
        if (lock >= 0)
                close(lock);
        return r;
}

int vs_move(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags,
            const struct vs_move_opts *opts)
{
        /* A cancelled thread would leave a half-done move: finish it first. */
        int cancel_state;
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
        int saved_errno = errno;

        struct vs_move_stats local;
        struct vs_move_stats *stats = opts && opts->stats ? opts->stats : &local;
        memset(stats, 0, sizeof(*stats));

        struct vs_plan plan;
        int r = -EAGAIN;
        /* -EAGAIN: the source changed under the copy; never install a stale copy. */
        for (int attempt = 0; attempt < VS_MOVE_ATTEMPTS && r == -EAGAIN; attempt++) {
                r = vs_plan_check(&plan, olddirfd, oldpath, newdirfd, newpath, flags);
                if (r == VS_PLAN_NOTHING_TO_DO) {
                        r = 0;
                } else if (r == VS_PLAN_PROCEED) {
                        stats->type = plan.old.st.stx_mode & S_IFMT;
                        plan.opts = opts;
                        r = locked_move(&plan, stats);
                }
                vs_plan_release(&plan);
        }
        if (r == -EAGAIN)
                r = -EBUSY;

        errno = saved_errno;
        pthread_setcancelstate(cancel_state, NULL);
        return r;
}

const char *vs_copy_method_name(unsigned methods)
{
        switch (methods) {
        case 0:
                return "none";
        case VS_METHOD_REFLINK:
                return "reflink";
        case VS_METHOD_COPY_FILE_RANGE:
                return "copy_file_range";
        case VS_METHOD_READ_WRITE:
                return "read_write";
        default:
                return "mixed";
        }
}

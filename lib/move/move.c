/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "move/internal.h"

#define VS_MOVE_ATTEMPTS 3

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
                        plan.journal_root = opts ? opts->journal_root : NULL;
                        stats->type = plan.old.st.stx_mode & S_IFMT;
                        r = S_ISDIR(plan.old.st.stx_mode) ? vs_tree_move(&plan, stats)
                                                           : vs_file_move(&plan, stats);
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

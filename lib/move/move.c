/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "move/internal.h"

#define VS_MOVE_ATTEMPTS 3 /* copies spoiled by a writer before giving up with EBUSY */
#define VS_MOVE_REPLAN 2

/*
 * Emulated moves that share a source, or whose target is another's source, take turns (the
 * loser then sees what the kernel's rename would have left: ENOENT, or a plain name).  The
 * source lock is waited for; the replaced target's is only tried, and on contention both
 * are dropped and taken again, so two moves swapping two names cannot deadlock.  Lock files
 * live in shared folders, where anyone can hold one: at the call's deadline the move fails
 * with EBUSY, having changed nothing.
 */
static int lock_move(const struct vs_plan *plan, uint64_t deadline,
                     struct vs_journal_lock *source_lock, struct vs_journal_lock *target_lock)
{
        struct vs_identity source, target = { 0 };
        vs_identity_from_statx(&source, &plan->old.st);
        if (plan->new.exists)
                vs_identity_from_statx(&target, &plan->new.st);
        for (unsigned tries = 0;; tries++) {
                int s = vs_journal_lock_object(plan->old.dirfd, plan->old.path.last, &source,
                                               deadline, source_lock);
                if (s == -ESTALE)
                        return VS_MOVE_REPLAN; /* another move took it */
                if (s < 0 && s != -EOPNOTSUPP)
                        return s;
                int t = plan->new.exists ? vs_journal_lock_object(plan->new.dirfd,
                                                                  plan->new.path.last, &target,
                                                                  0, target_lock)
                                         : -EOPNOTSUPP;
                if (t == 0 || t == -EOPNOTSUPP)
                        return 0;
                vs_journal_unlock_object(source_lock);
                if (t == -ESTALE)
                        return VS_MOVE_REPLAN; /* the target was replaced meanwhile */
                if (t != -EBUSY)
                        return t;
                if (vs_now_ms() >= deadline)
                        return -EBUSY;
                struct timespec pause = { 0, (long)(1 + tries % 3) * 1000000L };
                nanosleep(&pause, NULL);
        }
}

static int locked_move(const struct vs_plan *plan, uint64_t deadline, struct vs_move_stats *stats)
{
        struct vs_journal_lock source_lock = { .fd = -1, .dirfd = -1 };
        struct vs_journal_lock target_lock = { .fd = -1, .dirfd = -1 };
        int r = lock_move(plan, deadline, &source_lock, &target_lock);
        if (r != 0)
                return r;
        vs_time_reached(VS_TIME_RECORD);
        r = S_ISDIR(plan->old.st.stx_mode) ? vs_tree_move(plan, stats) : vs_file_move(plan, stats);
        vs_journal_unlock_object(&source_lock);
        vs_journal_unlock_object(&target_lock);
        /* The source was no longer the planned object when it was set aside. */
        return r == -ESTALE ? VS_MOVE_REPLAN : r;
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
        vs_time_start(stats);
        /* One deadline for the whole call: a re-plan or a retry never restarts it, or another
         * user who re-saves the note under the move every few seconds could hold it forever. */
        uint64_t deadline = (opts && opts->started_ms ? opts->started_ms : vs_now_ms()) +
                            VS_MOVE_BOUND_MS;

        (void)vs_not_emulated_take(); /* nothing left from an earlier call */
        struct vs_plan plan;
        int r, attempts = 0;
        for (;;) {
                r = vs_plan_check(&plan, olddirfd, oldpath, newdirfd, newpath, flags);
                if (r == VS_PLAN_NOTHING_TO_DO) {
                        r = 0;
                } else if (r == VS_PLAN_PROCEED) {
                        stats->type = plan.old.st.stx_mode & S_IFMT;
                        plan.opts = opts;
                        r = locked_move(&plan, deadline, stats);
                }
                vs_plan_release(&plan);
                bool in_time = vs_now_ms() < deadline;
                /* Another move of the same name finished meanwhile (the kernel would have
                 * serialised the two): planning again makes progress, until the deadline. */
                if (r == VS_MOVE_REPLAN && in_time)
                        continue;
                /* -EAGAIN: the source changed under the copy; never install a stale copy. */
                if (r == -EAGAIN && ++attempts < VS_MOVE_ATTEMPTS && in_time)
                        continue;
                break;
        }
        if (r == -EAGAIN || r == VS_MOVE_REPLAN)
                r = -EBUSY;
        stats->not_emulated = r == -EXDEV ? vs_not_emulated_take() : NULL;
        vs_time_stop();

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
        case VS_METHOD_HARDLINK:
                return "hardlink";
        default:
                return "mixed";
        }
}

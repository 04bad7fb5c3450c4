/* SPDX-License-Identifier: MIT */
/*
 * The source set aside: one rename within its own directory (same mount, so atomic) to a
 * hidden name, only once its copy is installed under the new name, to decide whether it may
 * go.  Whatever reaches it by path from then on finds the new name's copy or a new file, as
 * after the kernel's rename; the set-aside object is removed only if nothing wrote to it
 * since it was copied (a writer that opened it earlier), else it goes back to its name, and
 * never stays hidden: when a new file took the name meanwhile, it goes to a visible kept
 * name.  The set-aside name carries the source's name, so that any session that finds one
 * left over can put it back (vs_aside_leftover_names()).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/install-back.h"
#include "move/internal.h"

int vs_aside_take(const struct vs_side *old, const char *aside, struct statx *st)
{
        struct vs_fscaps caps;
        vs_fscaps_get(old->dirfd, &old->dir, &caps);
        /* The aside name is random: only the atomic leaving of the old matters. */
        int r = vs_rename_to_fresh_name(old->dirfd, &old->dir, old->path.last, aside);
        if (r < 0)
                return r;
        r = vs_statx(old->dirfd, aside, st);
        if (r == 0 && !vs_same_object_on(&caps, st, &old->st))
                r = -ESTALE; /* another object had taken the name meanwhile: not ours */
        if (r < 0)
                (void)vs_aside_restore(old, aside);
        return r;
}

int vs_aside_restore(const struct vs_side *old, const char *aside)
{
        /* Never over a note saved at the name meanwhile, also without renameat2 flags. */
        bool is_dir = S_ISDIR(old->st.stx_mode);
        int r = vs_install_back(old->dirfd, aside, old->path.last, is_dir);
        if (r != -EEXIST)
                return r;
        char home[NAME_MAX + 1], kept[NAME_MAX + 1];
        r = vs_aside_leftover_names(aside, home, kept, sizeof(home));
        if (r == 0)
                r = vs_install_back(old->dirfd, aside, kept, is_dir);
        return r == 0 ? 1 : r;
}

/* Where times are unstable (rclone), a write that keeps the size shows only as a later
 * mtime, and so does a reader's "now" (or the copy's own read, released a moment after its
 * close), which goes back once rclone has the reader's release: a later time that does not
 * go back within the settling bound is a write.  An earlier one is the copy's own early
 * "now" gone. */
static bool written_since(int dirfd, const char *aside, const struct vs_fscaps *caps,
                          const struct statx *copied, struct statx *now)
{
        int64_t budget = VS_SETTLE_BUDGET_NS;
        if (vs_time_after(&now->stx_mtime, &copied->stx_mtime))
                (void)vs_settle_times(dirfd, aside, caps, now, &budget);
        return vs_time_after(&now->stx_mtime, &copied->stx_mtime);
}

int vs_aside_release(const struct vs_side *old, const char *aside, const struct statx *copied,
                     const struct statx *taken)
{
        struct vs_fscaps caps;
        vs_fscaps_get(old->dirfd, &old->dir, &caps);
        /* Setting it aside moved its ctime (taken is right after that); a write since the copy
         * moved its size or mtime, or its ctime after it was set aside. */
        struct statx now;
        int r = vs_statx(old->dirfd, aside, &now);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        bool unchanged = vs_same_object_on(&caps, copied, &now) &&
                         (caps.stable_times == VS_CAP_NO
                                  ? copied->stx_size == now.stx_size &&
                                            !written_since(old->dirfd, aside, &caps, copied, &now)
                                  : vs_copy_matches(copied, &now, 0) && vs_unchanged(taken, &now));
        if (unchanged)
                return unlinkat(old->dirfd, aside, 0) < 0 && errno != ENOENT ? -errno : 0;
        /* Written through a descriptor opened before the move: never lose that. */
        (void)vs_aside_restore(old, aside);
        return 1;
}

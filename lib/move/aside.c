/* SPDX-License-Identifier: MIT */
/*
 * The source set aside: one rename within its own directory (same mount, so atomic) to a
 * hidden name, before the copy of a file and before the install of a tree.  From that
 * instant the source's name is free, so a colleague's save by path creates a new file there,
 * exactly as after the kernel's rename; and the set-aside object is removed at the end only
 * if nothing wrote to it since it was copied (a writer that opened it earlier), else it is
 * kept where it was and reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "move/internal.h"

int vs_aside_take(const struct vs_side *old, const char *aside, struct statx *st)
{
        int r = vs_fault_at(VS_STEP_ASIDE);
        if (r == 0) /* the aside name is random: only the atomic leaving of the old matters */
                r = vs_rename_to_fresh_name(old->dirfd, &old->dir, old->path.last, aside);
        if (r == -ENOENT)
                return -ESTALE; /* moved or removed since the plan: plan again */
        if (r < 0)
                return r;
        r = vs_statx(old->dirfd, aside, st);
        if (r == 0 && !vs_same_inode(st, &old->st))
                r = -ESTALE; /* another object had taken the name since the plan */
        if (r < 0 && vs_aside_restore(old, aside) < 0)
                return -EBUSY; /* cannot happen unless a new file took the name meanwhile */
        return r;
}

int vs_aside_restore(const struct vs_side *old, const char *aside)
{
        /* Never over a note saved at the name meanwhile, also without renameat2 flags. */
        return vs_install(old->dirfd, &old->dir, aside, old->path.last,
                          S_ISDIR(old->st.stx_mode), RENAME_NOREPLACE);
}

int vs_aside_release(const struct vs_side *old, const char *aside, const struct statx *copied)
{
        struct statx now;
        int r = vs_statx(old->dirfd, aside, &now);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        struct vs_fscaps caps;
        vs_fscaps_get(old->dirfd, &old->dir, &caps);
        if (vs_unchanged_on(&caps, copied, &now))
                return unlinkat(old->dirfd, aside, 0) < 0 && errno != ENOENT ? -errno : 0;
        /* Written through a descriptor opened before the move: never lose that. */
        (void)vs_aside_restore(old, aside);
        return 1;
}

/* SPDX-License-Identifier: MIT */
/*
 * The kernel's errno precedence for renameat2(), all in one place.  The kernel answers
 * EXDEV right after looking up the two parents, so every later check of do_renameat2()
 * and vfs_rename() is re-derived here, in the same order, before anything is copied.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "move/internal.h"

static int open_parent(int dirfd, struct vs_side *side)
{
        int fd = openat(dirfd, side->path.parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        side->dirfd = fd;
        return vs_statx(fd, "", &side->dir);
}

static bool on_read_only_mount(int fd)
{
        struct statvfs sv;
        return fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

/*
 * Is `candidate` the directory start_fd or one of its ancestors?  Walks ".." and compares
 * dev/ino, which holds across bind mounts of one filesystem (st_dev is shared there).
 */
static bool is_self_or_ancestor(int start_fd, const struct statx *candidate)
{
        int fd = openat(start_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        bool found = false;
        struct statx cur;
        if (fd < 0 || vs_statx(fd, "", &cur) < 0)
                goto out;
        for (unsigned depth = 0; depth < PATH_MAX / 2; depth++) {
                if (vs_same_inode(&cur, candidate)) {
                        found = true;
                        break;
                }
                int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                struct statx up;
                if (parent < 0)
                        break;
                if (vs_statx(parent, "", &up) < 0 ||
                    (vs_same_inode(&up, &cur) && up.stx_mnt_id == cur.stx_mnt_id)) {
                        close(parent);
                        break;
                }
                close(fd);
                fd = parent;
                cur = up;
        }
out:
        if (fd >= 0)
                close(fd);
        return found;
}

static bool is_mount_root(const struct vs_side *side)
{
        return side->st.stx_mnt_id != side->dir.stx_mnt_id ||
               (side->st.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* 1 empty, 0 not empty, <0 cannot tell (e.g. unreadable: the install step will tell). */
static int dir_is_empty(int dirfd, const char *name)
{
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        char buf[1024] __attribute__((aligned(8)));
        int result = 1;
        ssize_t n;
        while (result == 1 && (n = getdents64(fd, buf, sizeof(buf))) > 0) {
                for (ssize_t off = 0; off < n;) {
                        const struct dirent64 *d = (const struct dirent64 *)(void *)(buf + off);
                        const char *s = d->d_name;
                        if (!(s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0')))) {
                                result = 0;
                                break;
                        }
                        off += d->d_reclen;
                }
        }
        if (result == 1 && n < 0)
                result = -errno;
        close(fd);
        return result;
}

static bool emulable_type(mode_t mode)
{
        return S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode) || S_ISFIFO(mode);
}

int vs_plan_check(struct vs_plan *plan, int olddirfd, const char *oldpath, int newdirfd,
                  const char *newpath, unsigned flags)
{
        struct vs_side *old = &plan->old, *new = &plan->new;
        old->dirfd = new->dirfd = -1;
        old->exists = new->exists = false;
        plan->flags = flags;

        /* Only 0 and RENAME_NOREPLACE are emulated; the caller keeps its EXDEV otherwise. */
        if (flags & ~(unsigned)RENAME_NOREPLACE)
                return vs_not_emulated(VS_NOT_EMULATED_FLAGS);

        int r = vs_path_split(oldpath, &old->path);
        if (r < 0)
                return r;
        r = vs_path_split(newpath, &new->path);
        if (r < 0)
                return r;
        r = open_parent(olddirfd, old);
        if (r < 0)
                return r;
        r = open_parent(newdirfd, new);
        if (r < 0)
                return r;

        if (old->path.type != VS_LAST_NORM)
                return -EBUSY;
        if (new->path.type != VS_LAST_NORM)
                return (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;

        /* The kernel checks only the one shared mount; across two mounts check both. */
        if (on_read_only_mount(old->dirfd) || on_read_only_mount(new->dirfd))
                return -EROFS;

        r = vs_statx(old->dirfd, old->path.last, &old->st);
        if (r < 0)
                return r;
        old->exists = true;
        r = vs_statx(new->dirfd, new->path.last, &new->st);
        if (r == 0)
                new->exists = true;
        else if (r != -ENOENT)
                return r;

        /* A dangling symlink is a positive dentry: it counts as existing. */
        if ((flags & RENAME_NOREPLACE) && new->exists)
                return -EEXIST;

        bool isdir = S_ISDIR(old->st.stx_mode);
        if (!isdir && (old->path.trailing_slash || new->path.trailing_slash))
                return -ENOTDIR;

        if (isdir && is_self_or_ancestor(new->dirfd, &old->st))
                return -EINVAL;
        if (new->exists && S_ISDIR(new->st.stx_mode) && is_self_or_ancestor(old->dirfd, &new->st))
                return -ENOTEMPTY;

        if (new->exists && vs_same_inode(&old->st, &new->st))
                return VS_PLAN_NOTHING_TO_DO;

        vs_creds_load(&plan->creds);
        r = vs_may_delete(&plan->creds, old->dirfd, &old->dir, &old->st, isdir);
        if (r < 0)
                return r;
        if (new->exists)
                r = vs_may_delete(&plan->creds, new->dirfd, &new->dir, &new->st, isdir);
        else
                r = vs_may_create(new->dirfd);
        if (r < 0)
                return r;

        /* A directory changing parent gets its ".." rewritten: W on itself. */
        plan->same_parent = vs_same_inode(&old->dir, &new->dir);
        if (isdir && !plan->same_parent) {
                r = vs_access(old->dirfd, old->path.last, W_OK);
                if (r < 0)
                        return r;
        }

        /* Where the kernel would say EBUSY for a mount point, a copy must not start:
         * keep EXDEV.  Sockets and devices cannot be recreated faithfully either. */
        if (is_mount_root(old) || (new->exists && is_mount_root(new)))
                return vs_not_emulated(VS_NOT_EMULATED_MOUNT_POINT);
        if (!emulable_type(old->st.stx_mode))
                return vs_not_emulated(VS_NOT_EMULATED_SPECIAL);

        if (isdir && new->exists && dir_is_empty(new->dirfd, new->path.last) == 0)
                return -ENOTEMPTY;

        r = vs_fault_at(VS_STEP_CHECK);
        if (r < 0)
                return r;
        return isdir ? vs_tree_check(plan) : VS_PLAN_PROCEED;
}

void vs_plan_release(struct vs_plan *plan)
{
        if (plan->old.dirfd >= 0)
                close(plan->old.dirfd);
        if (plan->new.dirfd >= 0)
                close(plan->new.dirfd);
        plan->old.dirfd = plan->new.dirfd = -1;
}

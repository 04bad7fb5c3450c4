/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/remove.h"
#include "base/walk.h"

struct remover {
        bool dry_run;
        unsigned long *removed, *kept;
        unsigned max_depth;
        unsigned long *kept_before; /* by depth: *kept when that directory was entered */
};

int vs_remove_entry(int dirfd, const char *name, bool isdir, bool dry_run,
                    unsigned long *removed, unsigned long *kept)
{
        if (!dry_run && unlinkat(dirfd, name, isdir ? AT_REMOVEDIR : 0) < 0) {
                if (errno == ENOENT)
                        return 0;
                if (isdir && (errno == ENOTEMPTY || errno == EEXIST)) {
                        (*kept)++; /* something appeared meanwhile: it stays */
                        return 0;
                }
                return -errno;
        }
        (*removed)++;
        return 0;
}

static int remove_entry(struct remover *rm, int dirfd, const char *name, bool isdir)
{
        return vs_remove_entry(dirfd, name, isdir, rm->dry_run, rm->removed, rm->kept);
}

static bool same_device(const struct statx *a, const struct statx *b)
{
        return a->stx_dev_major == b->stx_dev_major && a->stx_dev_minor == b->stx_dev_minor;
}

static int enter(void *ctx, const struct vs_walk_entry *e)
{
        struct remover *rm = ctx;
        if (!same_device(e->st, e->dir_st)) {
                (*rm->kept)++; /* another mount: never ours to remove */
                return VS_WALK_SKIP;
        }
        rm->kept_before[e->depth] = *rm->kept;
        if (!rm->dry_run && e->depth <= rm->max_depth)
                (void)fchmodat(e->dirfd, e->name, S_IRWXU, 0);
        return 0;
}

static int leaf(void *ctx, const struct vs_walk_entry *e)
{
        return remove_entry(ctx, e->dirfd, e->name, false);
}

static int leave(void *ctx, const struct vs_walk_entry *e)
{
        struct remover *rm = ctx;
        if (*rm->kept != rm->kept_before[e->depth])
                return 0; /* something below stays, so does the directory */
        return remove_entry(rm, e->dirfd, e->name, true);
}

static int too_deep(void *ctx, const struct vs_walk_entry *e)
{
        struct remover *rm = ctx;
        (*rm->kept)++;
        return 0;
}

static const struct vs_walk_ops ops = {
        .enter = enter, .leaf = leaf, .leave = leave, .too_deep = too_deep,
};

int vs_remove_tree(int dirfd, const char *name, bool dry_run, unsigned long *removed,
                   unsigned long *kept)
{
        struct remover rm = { .dry_run = dry_run, .removed = removed, .kept = kept,
                              .max_depth = vs_walk_depth() };
        struct statx st;
        int r = vs_statx(dirfd, name, &st);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (!S_ISDIR(st.stx_mode))
                return remove_entry(&rm, dirfd, name, false);
        rm.kept_before = calloc(rm.max_depth + 2, sizeof(*rm.kept_before));
        if (!rm.kept_before)
                return -ENOMEM;
        if (!dry_run)
                (void)fchmodat(dirfd, name, S_IRWXU, 0);
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
        } else {
                unsigned long kept_before = *kept;
                r = vs_walk_tree(fd, &st, &ops, &rm);
                close(fd);
                if (r == 0 && *kept == kept_before)
                        r = remove_entry(&rm, dirfd, name, true);
        }
        free(rm.kept_before);
        return r;
}

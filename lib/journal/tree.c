/* SPDX-License-Identifier: MIT */
/*
 * The set-aside source entries that the installed copy holds, removed: lib/base's walker
 * over the source, with the copy's directory at each level beside it (O_PATH).  Nothing is
 * followed: no symlink, no other filesystem; what is too deep to walk is kept and counted,
 * never a crash or EMFILE halfway.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/remove.h"
#include "base/walk.h"
#include "journal/tree.h"

struct copied {
        bool dry_run;
        unsigned long *removed, *kept;
        int *dst_fds;               /* by depth: the copy of the directory walked there */
        unsigned long *kept_before; /* by depth: *kept when that directory was entered */
        unsigned open_depth;        /* deepest dst_fds entry open */
};

/* The copy of a non-directory carries its type, size and mtime (the engine sets them). */
static bool copy_matches(const struct statx *src, const struct statx *copy)
{
        return (src->stx_mode & S_IFMT) == (copy->stx_mode & S_IFMT) &&
               src->stx_size == copy->stx_size &&
               src->stx_mtime.tv_sec == copy->stx_mtime.tv_sec &&
               src->stx_mtime.tv_nsec == copy->stx_mtime.tv_nsec;
}

/* A non-directory goes when its copy (dst/dst_name) matches it. */
static int leaf_at(struct copied *c, int dirfd, const char *name, const struct statx *st,
                   int dst, const char *dst_name)
{
        struct statx copy;
        if (vs_statx(dst, dst_name, &copy) < 0 || !copy_matches(st, &copy)) {
                (*c->kept)++;
                return 0;
        }
        return vs_remove_entry(dirfd, name, false, c->dry_run, c->removed, c->kept);
}

/* The copy of the directory dst/dst_name, O_PATH: the fd, 1 when there is none, or -errno. */
static int open_copy(int dst, const char *dst_name)
{
        struct statx copy;
        if (vs_statx(dst, dst_name, &copy) < 0 || !S_ISDIR(copy.stx_mode))
                return -ENOENT;
        int fd = openat(dst, dst_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int enter(void *ctx, const struct vs_walk_entry *e)
{
        struct copied *c = ctx;
        if (e->st->stx_dev_major != e->dir_st->stx_dev_major ||
            e->st->stx_dev_minor != e->dir_st->stx_dev_minor) {
                (*c->kept)++; /* another mount: kept */
                return VS_WALK_SKIP;
        }
        int fd = open_copy(c->dst_fds[e->depth - 1], e->name);
        if (fd == -ENOENT) {
                (*c->kept)++; /* no copy of this directory: keep all of it */
                return VS_WALK_SKIP;
        }
        if (fd < 0)
                return fd;
        c->dst_fds[e->depth] = fd;
        c->open_depth = e->depth;
        c->kept_before[e->depth] = *c->kept;
        return 0;
}

static int leaf(void *ctx, const struct vs_walk_entry *e)
{
        struct copied *c = ctx;
        return leaf_at(c, e->dirfd, e->name, e->st, c->dst_fds[e->depth - 1], e->name);
}

static int leave(void *ctx, const struct vs_walk_entry *e)
{
        struct copied *c = ctx;
        close(c->dst_fds[e->depth]);
        c->open_depth = e->depth - 1;
        if (*c->kept != c->kept_before[e->depth])
                return 0;
        return vs_remove_entry(e->dirfd, e->name, true, c->dry_run, c->removed, c->kept);
}

static int too_deep(void *ctx, const struct vs_walk_entry *e)
{
        struct copied *c = ctx;
        (*c->kept)++;
        return 0;
}

static const struct vs_walk_ops ops = {
        .enter = enter, .leaf = leaf, .leave = leave, .too_deep = too_deep,
};

/* The directory src_dirfd/src_name (st) beside its copy dst_dirfd/dst_name. */
static int walk_dir(struct copied *c, int src_dirfd, const char *src_name,
                    const struct statx *st, int dst_dirfd, const char *dst_name)
{
        int fd = open_copy(dst_dirfd, dst_name);
        if (fd == -ENOENT) {
                (*c->kept)++;
                return 0;
        }
        if (fd < 0)
                return fd;
        c->dst_fds[0] = fd;
        int src = openat(src_dirfd, src_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int r = src < 0 ? -errno : 0;
        unsigned long kept_before = *c->kept;
        if (r == 0) {
                r = vs_walk_tree(src, st, &ops, c);
                close(src);
        }
        while (c->open_depth > 0)
                close(c->dst_fds[c->open_depth--]);
        close(c->dst_fds[0]);
        if (r == 0 && *c->kept == kept_before)
                r = vs_remove_entry(src_dirfd, src_name, true, c->dry_run, c->removed, c->kept);
        return r;
}

int vs_journal_remove_copied(int src_dirfd, const char *src_name, int dst_dirfd,
                             const char *dst_name, bool dry_run, unsigned long *removed,
                             unsigned long *kept)
{
        struct copied c = { .dry_run = dry_run, .removed = removed, .kept = kept };
        struct statx st;
        int r = vs_statx(src_dirfd, src_name, &st);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (!S_ISDIR(st.stx_mode))
                return leaf_at(&c, src_dirfd, src_name, &st, dst_dirfd, dst_name);
        size_t levels = vs_walk_depth() + 2;
        c.dst_fds = calloc(levels, sizeof(*c.dst_fds));
        c.kept_before = calloc(levels, sizeof(*c.kept_before));
        r = c.dst_fds && c.kept_before
                    ? walk_dir(&c, src_dirfd, src_name, &st, dst_dirfd, dst_name)
                    : -ENOMEM;
        free(c.dst_fds);
        free(c.kept_before);
        return r;
}

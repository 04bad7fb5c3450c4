/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/walk.h"

struct frame {
        DIR *dir;
        struct statx st;
        char name[NAME_MAX + 1];
};

struct walker {
        const struct vs_walk_ops *ops;
        void *ctx;
        struct frame *stack;
        size_t cap, n;
};

unsigned vs_walk_depth(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur <= VS_WALK_FD_RESERVE)
                return 8;
        rlim_t levels = (rl.rlim_cur - VS_WALK_FD_RESERVE) / VS_WALK_FDS_PER_LEVEL;
        return levels < VS_WALK_DEPTH_CAP ? (unsigned)levels : VS_WALK_DEPTH_CAP;
}

static bool is_dot_or_dotdot(const char *s)
{
        return s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0'));
}

/* fd (taken) becomes the next level. */
static int push(struct walker *w, int fd, const struct statx *st, const char *name)
{
        if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 8;
                struct frame *grown = realloc(w->stack, cap * sizeof(*grown));
                if (!grown) {
                        close(fd);
                        return -ENOMEM;
                }
                w->stack = grown;
                w->cap = cap;
        }
        DIR *dir = fdopendir(fd);
        if (!dir) {
                int r = -errno;
                close(fd);
                return r;
        }
        struct frame *f = &w->stack[w->n++];
        f->dir = dir;
        f->st = *st;
        size_t len = strlen(name);
        memcpy(f->name, name, len < NAME_MAX ? len + 1 : NAME_MAX + 1);
        f->name[NAME_MAX] = '\0';
        return 0;
}

static int failed(struct walker *w, const struct vs_walk_entry *e, int err)
{
        return w->ops->failed ? w->ops->failed(w->ctx, e, err) : err;
}

static int leave(struct walker *w, const struct vs_walk_entry *e)
{
        return w->ops->leave ? w->ops->leave(w->ctx, e) : 0;
}

/* The top level is done (or could not be read further): closed, and left. */
static int pop(struct walker *w)
{
        struct frame *top = &w->stack[w->n - 1];
        int r = 0;
        if (w->n > 1) {
                struct frame *parent = &w->stack[w->n - 2];
                struct vs_walk_entry e = {
                        .dirfd = dirfd(parent->dir), .name = top->name, .st = &top->st,
                        .dir_st = &parent->st, .fd = dirfd(top->dir),
                        .depth = (unsigned)(w->n - 1),
                };
                r = leave(w, &e);
        }
        closedir(top->dir);
        w->n--;
        return r;
}

/* A directory entry e (its statx in e->st): entered, passed by, or opened as the next level. */
static int directory(struct walker *w, struct vs_walk_entry *e, unsigned max_depth)
{
        int r = w->ops->enter ? w->ops->enter(w->ctx, e) : 0;
        if (r == VS_WALK_SKIP || r < 0)
                return r == VS_WALK_SKIP ? 0 : r;
        if (w->n > max_depth) {
                r = w->ops->too_deep ? w->ops->too_deep(w->ctx, e) : -ELOOP;
                return r < 0 ? r : leave(w, e);
        }
        int fd = openat(e->dirfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = failed(w, e, -errno);
                return r < 0 ? r : leave(w, e);
        }
        return push(w, fd, e->st, e->name);
}

/* The next entry of the top level. */
static int step(struct walker *w, unsigned max_depth)
{
        struct frame *top = &w->stack[w->n - 1];
        errno = 0;
        struct dirent *d = readdir(top->dir);
        if (!d && errno) {
                struct frame *parent = w->n > 1 ? &w->stack[w->n - 2] : NULL;
                struct vs_walk_entry e = {
                        .dirfd = parent ? dirfd(parent->dir) : dirfd(top->dir),
                        .name = parent ? top->name : ".", .st = &top->st,
                        .dir_st = parent ? &parent->st : &top->st, .fd = dirfd(top->dir),
                        .depth = (unsigned)(w->n - 1),
                };
                int r = failed(w, &e, -errno);
                return r < 0 ? r : pop(w);
        }
        if (!d)
                return pop(w);
        if (is_dot_or_dotdot(d->d_name))
                return 0;

        struct statx st;
        struct vs_walk_entry e = {
                .dirfd = dirfd(top->dir), .name = d->d_name, .st = &st, .dir_st = &top->st,
                .fd = -1, .depth = (unsigned)w->n,
        };
        int r = vs_statx(e.dirfd, d->d_name, &st);
        if (r < 0) {
                e.st = NULL;
                if (!w->ops->failed)
                        return r == -ENOENT ? 0 : r; /* removed meanwhile: nothing to do */
                return w->ops->failed(w->ctx, &e, r);
        }
        if (!S_ISDIR(st.stx_mode))
                return w->ops->leaf ? w->ops->leaf(w->ctx, &e) : 0;
        return directory(w, &e, max_depth);
}

int vs_walk_tree(int root_fd, const struct statx *root_st, const struct vs_walk_ops *ops,
                 void *ctx)
{
        unsigned max_depth = vs_walk_depth();
        struct walker w = { .ops = ops, .ctx = ctx };
        int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = fd < 0 ? -errno : push(&w, fd, root_st, ".");
        while (r >= 0 && w.n > 0)
                r = step(&w, max_depth);
        while (w.n > 0)
                closedir(w.stack[--w.n].dir);
        free(w.stack);
        return r < 0 ? r : 0;
}

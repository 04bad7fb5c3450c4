/* SPDX-License-Identifier: MIT */
/*
 * Iterative depth-first walk: one open directory per level and nothing else, so memory
 * grows with the depth of the tree, never with its width or size.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "move/internal.h"

#define VS_WALK_DEPTH_CAP 1024u
/* Each level may hold the source directory plus a parallel target directory. */
#define VS_WALK_FDS_PER_LEVEL 3u
#define VS_WALK_FD_RESERVE 64u

struct frame {
        DIR *dir;
        struct statx st;
        char name[NAME_MAX + 1];
};

unsigned vs_walk_max_depth(void)
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

static int push(struct frame **stack, size_t *cap, size_t *n, int fd, const struct statx *st,
                const char *name)
{
        if (*n == *cap) {
                size_t new_cap = *cap ? *cap * 2 : 8;
                struct frame *grown = realloc(*stack, new_cap * sizeof(**stack));
                if (!grown) {
                        close(fd);
                        return -ENOMEM;
                }
                *stack = grown;
                *cap = new_cap;
        }
        DIR *dir = fdopendir(fd);
        if (!dir) {
                int r = -errno;
                close(fd);
                return r;
        }
        struct frame *f = &(*stack)[(*n)++];
        f->dir = dir;
        f->st = *st;
        strcpy(f->name, name);
        return 0;
}

int vs_walk(int root_fd, const struct statx *root_st, const struct vs_walk_ops *ops, void *ctx)
{
        unsigned max_depth = vs_walk_max_depth();
        struct frame *stack = NULL;
        size_t cap = 0, n = 0;
        /* A fresh open file description: the caller's fd keeps its own offset. */
        int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = fd < 0 ? -errno : push(&stack, &cap, &n, fd, root_st, ".");

        while (r >= 0 && n > 0) {
                struct frame *top = &stack[n - 1];
                errno = 0;
                struct dirent *d = readdir(top->dir);
                if (!d) {
                        if (errno) {
                                r = -errno;
                                break;
                        }
                        if (n > 1 && ops->leave) {
                                struct frame *parent = &stack[n - 2];
                                struct vs_walk_entry e = {
                                        .dirfd = dirfd(parent->dir), .name = top->name,
                                        .st = &top->st, .dir_st = &parent->st,
                                        .fd = dirfd(top->dir), .depth = (unsigned)(n - 1),
                                };
                                r = ops->leave(ctx, &e);
                        }
                        closedir(top->dir);
                        n--;
                        continue;
                }
                if (is_dot_or_dotdot(d->d_name))
                        continue;

                struct statx st;
                r = vs_statx(dirfd(top->dir), d->d_name, &st);
                if (r == -ENOENT) { /* removed meanwhile: nothing to do for it */
                        r = 0;
                        continue;
                }
                if (r < 0)
                        break;
                struct vs_walk_entry e = {
                        .dirfd = dirfd(top->dir), .name = d->d_name, .st = &st,
                        .dir_st = &top->st, .fd = -1, .depth = (unsigned)n,
                };
                if (!S_ISDIR(st.stx_mode)) {
                        r = ops->leaf ? ops->leaf(ctx, &e) : 0;
                        continue;
                }
                r = ops->enter ? ops->enter(ctx, &e) : 0;
                if (r == VS_WALK_SKIP) {
                        r = 0;
                        continue;
                }
                if (r < 0)
                        break;
                if (n > max_depth) {
                        r = vs_not_emulated(VS_NOT_EMULATED_TOO_DEEP); /* past the fd budget */
                        break;
                }
                int child = openat(dirfd(top->dir), d->d_name,
                                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = child < 0 ? -errno : push(&stack, &cap, &n, child, &st, d->d_name);
        }
        while (n > 0)
                closedir(stack[--n].dir);
        free(stack);
        return r < 0 ? r : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The tree operations recovery needs: remove a staging copy, or remove the set-aside
 * source entries that the installed copy holds.  Iterative, one directory stream (and one
 * target directory) per level, at most TREE_DEPTH_MAX levels: a directory nested deeper
 * than that (someone's `mkdir -p` of 800 levels) is kept and counted, never a crash or
 * EMFILE halfway.  Nothing is followed: no symlink, no other mount.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/tree.h"

#define TREE_DEPTH_MAX 512u
#define TREE_FD_RESERVE 32u

struct frame {
        DIR *src;
        int dst; /* counterpart in the copy (O_PATH), or -1 when removing everything */
        unsigned long kept_before;
        dev_t dev;
        char name[NAME_MAX + 1];
};

struct walk {
        bool copied_only;
        bool dry_run;
        unsigned long *removed;
        unsigned long *kept;
        unsigned max_depth;
};

static unsigned max_depth(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur <= 2 * TREE_FD_RESERVE)
                return 8;
        rlim_t levels = (rl.rlim_cur - TREE_FD_RESERVE) / 2;
        return levels < TREE_DEPTH_MAX ? (unsigned)levels : TREE_DEPTH_MAX;
}

static bool is_dot(const char *name)
{
        return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static bool same_time(const struct timespec *a, const struct timespec *b)
{
        return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* The copy of a non-directory carries its type, size and mtime (the engine sets them). */
static bool copy_matches(const struct stat *src, const struct stat *copy)
{
        return (src->st_mode & S_IFMT) == (copy->st_mode & S_IFMT) &&
               src->st_size == copy->st_size && same_time(&src->st_mtim, &copy->st_mtim);
}

static int remove_entry(struct walk *w, int dirfd, const char *name, bool isdir)
{
        if (!w->dry_run && unlinkat(dirfd, name, isdir ? AT_REMOVEDIR : 0) < 0) {
                if (errno == ENOENT)
                        return 0;
                if (isdir && (errno == ENOTEMPTY || errno == EEXIST)) {
                        (*w->kept)++; /* something appeared meanwhile: it stays */
                        return 0;
                }
                return -errno;
        }
        (*w->removed)++;
        return 0;
}

/* A non-directory: removed when removing everything, or when its copy matches it. */
static int leaf(struct walk *w, int dirfd, const char *name, const struct stat *st, int dst,
                const char *dst_name)
{
        if (w->copied_only) {
                struct stat copy;
                if (dst < 0 || fstatat(dst, dst_name, &copy, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !copy_matches(st, &copy)) {
                        (*w->kept)++;
                        return 0;
                }
        }
        return remove_entry(w, dirfd, name, false);
}

/* Open the directory dirfd/name for the walk, and its counterpart in the copy. */
static int open_level(struct walk *w, int dirfd, const char *name, const struct stat *st,
                      int dst_parent, const char *dst_name, struct frame *f)
{
        f->dst = -1;
        if (w->copied_only) {
                struct stat copy;
                if (dst_parent < 0 ||
                    fstatat(dst_parent, dst_name, &copy, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISDIR(copy.st_mode))
                        return 1; /* no copy of this directory: keep all of it */
                f->dst =
                        openat(dst_parent, dst_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (f->dst < 0)
                        return -errno;
        } else if (!w->dry_run) {
                (void)fchmodat(dirfd, name, S_IRWXU, 0); /* staged dirs may be read-only */
        }
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        f->src = fd < 0 ? NULL : fdopendir(fd);
        if (!f->src) {
                int r = -errno;
                if (fd >= 0)
                        close(fd);
                if (f->dst >= 0)
                        close(f->dst);
                return r;
        }
        f->dev = st->st_dev;
        f->kept_before = *w->kept;
        size_t len = strlen(name);
        memcpy(f->name, name, len < NAME_MAX ? len + 1 : NAME_MAX + 1);
        f->name[NAME_MAX] = '\0';
        return 0;
}

static void close_level(struct frame *f)
{
        closedir(f->src);
        if (f->dst >= 0)
                close(f->dst);
}

/* dst_parentfd/dst_name: the copy of parentfd/name (removing copied entries only). */
static int walk(struct walk *w, int parentfd, const char *name, int dst_parentfd,
                const char *dst_name)
{
        struct stat st;
        if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return leaf(w, parentfd, name, &st, dst_parentfd, dst_name);

        struct frame *stack = calloc(w->max_depth + 1, sizeof(*stack));
        if (!stack)
                return -ENOMEM;
        size_t n = 0;
        int r = open_level(w, parentfd, name, &st, dst_parentfd, dst_name, &stack[0]);
        if (r == 1) {
                (*w->kept)++;
                r = 0;
        } else if (r == 0) {
                n = 1;
        }
        while (r >= 0 && n > 0) {
                struct frame *top = &stack[n - 1];
                errno = 0;
                struct dirent *de = readdir(top->src);
                if (!de) {
                        if (errno) {
                                r = -errno;
                                break;
                        }
                        bool emptied = *w->kept == top->kept_before;
                        char done[NAME_MAX + 1];
                        memcpy(done, top->name, sizeof(done));
                        close_level(top);
                        n--;
                        int holder = n ? dirfd(stack[n - 1].src) : parentfd;
                        if (emptied)
                                r = remove_entry(w, holder, done, true);
                        continue;
                }
                if (is_dot(de->d_name))
                        continue;
                int here = dirfd(top->src);
                if (fstatat(here, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)
                                r = -errno;
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        r = leaf(w, here, de->d_name, &st, top->dst, de->d_name);
                        continue;
                }
                if (st.st_dev != top->dev || n >= w->max_depth) {
                        (*w->kept)++; /* another mount, or too deep to walk: kept */
                        continue;
                }
                r = open_level(w, here, de->d_name, &st, top->dst, de->d_name, &stack[n]);
                if (r == 1) {
                        (*w->kept)++;
                        r = 0;
                } else if (r == 0) {
                        n++;
                }
        }
        while (n > 0)
                close_level(&stack[--n]);
        free(stack);
        return r < 0 ? r : 0;
}

int vs_journal_tree_remove(int dirfd, const char *name, bool dry_run, unsigned long *removed,
                           unsigned long *kept)
{
        struct walk w = { .copied_only = false, .dry_run = dry_run, .removed = removed,
                          .kept = kept, .max_depth = max_depth() };
        return walk(&w, dirfd, name, -1, NULL);
}

int vs_journal_remove_copied(int src_dirfd, const char *src_name, int dst_dirfd,
                             const char *dst_name, bool dry_run, unsigned long *removed,
                             unsigned long *kept)
{
        struct walk w = { .copied_only = true, .dry_run = dry_run, .removed = removed,
                          .kept = kept, .max_depth = max_depth() };
        return walk(&w, src_dirfd, src_name, dst_dirfd, dst_name);
}

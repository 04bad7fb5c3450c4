/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The one directory walker, for every layer (the move engine's checks, copies and removals,
 * recovery's removals, vault-fsck's search for leftovers): iterative and depth-first, one
 * open directory per level and nothing else, so memory grows with the depth of a tree, never
 * with its width or size.  Nothing is followed: no symlink, and a directory is entered only
 * when a callback lets it.  libc only, no stdio: it runs inside every application.
 */

#include <stdbool.h>
#include <sys/stat.h>

#include "base/stat.h" /* vs_statx(): how the walker looks at each entry */

struct vs_walk_entry {
        int dirfd;                  /* the directory holding the entry */
        const char *name;
        const struct statx *st;     /* NULL only in `failed`, when the statx failed */
        const struct statx *dir_st; /* the holding directory */
        int fd;                     /* directories in leave: the entry's own fd (-1 when it
                                       was passed by as too deep or unreadable) */
        unsigned depth;             /* 1 for children of the root, 0 for the root itself */
};

/* From enter: walk past this directory without opening it (leave is not called). */
#define VS_WALK_SKIP 1

/* Every callback returns 0 to go on or a negative errno, which stops the walk and is its
 * result.  Each may be NULL. */
struct vs_walk_ops {
        /* A directory, before it is opened: 0, VS_WALK_SKIP or -errno. */
        int (*enter)(void *ctx, const struct vs_walk_entry *e);
        /* Anything that is not a directory. */
        int (*leaf)(void *ctx, const struct vs_walk_entry *e);
        /* An entered directory, after its last entry (its fd still open). */
        int (*leave)(void *ctx, const struct vs_walk_entry *e);
        /* An entered directory as deep as the descriptor budget allows (vs_walk_depth()): 0
         * passes it by unopened (leave is called next), NULL stops the walk with -ELOOP. */
        int (*too_deep)(void *ctx, const struct vs_walk_entry *e);
        /* err from the statx of an entry (e->st NULL), from opening an entered directory or
         * reading one (depth 0: the root): 0 goes on without it (an entered directory then
         * gets its leave), NULL stops the walk with err, except a statx's -ENOENT (removed
         * meanwhile), which is passed by. */
        int (*failed)(void *ctx, const struct vs_walk_entry *e, int err);
};

/* Walks the children of the directory open as root_fd (not closed; a fresh open file
 * description is used, so its offset stays), root_st its statx.  0 or the first error. */
int vs_walk_tree(int root_fd, const struct statx *root_st, const struct vs_walk_ops *ops,
                 void *ctx);

/*
 * How deep vs_walk_tree() goes with the descriptors this process may still open: each level
 * may hold the walked directory, a counterpart in a copy and one file at a time
 * (VS_WALK_FDS_PER_LEVEL), and VS_WALK_FD_RESERVE stay for everything else; never deeper
 * than VS_WALK_DEPTH_CAP.
 */
#define VS_WALK_DEPTH_CAP 1024u
#define VS_WALK_FDS_PER_LEVEL 3u
#define VS_WALK_FD_RESERVE 64u
unsigned vs_walk_depth(void);

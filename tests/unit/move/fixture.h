/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Test fixtures for the move engine: build a tree from a small spec, snapshot a tree as
 * comparable text (type, mode, owner, size, content, mtime_ns, link target, user xattrs),
 * remove a tree.  Spec lines (paths relative to the root):
 *   "d PATH [MODE]"         directory          "f PATH CONTENT [MODE]"  regular file
 *   "l PATH TARGET"         symlink            "p PATH"                 FIFO
 *   "s PATH"                sparse file: 4 KiB data, 1 MiB hole, 4 KiB data, 1 MiB hole
 *   "x PATH NAME=VALUE"     extended attribute "o PATH UID:GID"         owner
 *   "k PATH"                hard link PATH.link to PATH
 * Every non-directory gets a fixed mtime so that two builds compare equal.
 */
#include <stdbool.h>

char *fx_tmpdir(void);
/* fx_tmpdir(), its path in *dir, and an O_PATH descriptor of it (returned). */
int fx_tmpdir_open(char **dir);
/* Close dirfd, remove dir and everything below it, free dir. */
void fx_tmpdir_close(char *dir, int dirfd);
void fx_build(const char *root, const char *const *spec);
char *fx_snapshot(const char *root);
void fx_rm_rf(const char *root);
/* Runs fn(arg) in a forked child as uid/gid `uid` (0: unchanged); returns its exit status. */
int fx_run_as(unsigned uid, int (*fn)(void *), void *arg);
bool fx_is_root(void);

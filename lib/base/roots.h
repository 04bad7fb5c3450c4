/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The vault roots (VAULTSHIM_ROOTS) and the inside-a-root check, for the preload library
 * (which emulates a move only between two paths under a root) and for vault-fsck.  libc
 * only, no allocation: it runs inside every application.
 */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define VS_ROOTS_MAX 16
#define VS_ROOTS_DEFAULT "/vault"

struct vs_roots {
        size_t count;
        char paths[VS_ROOTS_MAX][PATH_MAX]; /* absolute, no trailing slash (but "/") */
};

/*
 * Parse a colon-separated list of absolute directories; NULL or "" is VS_ROOTS_DEFAULT.
 * A root that exists is kept as realpath(3) resolves it (vs_canonical_path; a symlinked
 * root still counts); one that does not exist (yet) as written, without trailing slashes.
 * Empty, relative and too long entries, and those beyond VS_ROOTS_MAX, are ignored.
 */
void vs_roots_parse(struct vs_roots *roots, const char *list);

/* vs_roots_parse() of VAULTSHIM_ROOTS, read with secure_getenv(3): a setuid or setgid
 * program gets the default, never a list its caller chose. */
void vs_roots_from_env(struct vs_roots *roots);

/* The root an absolute, already resolved path is in (the root itself counts), or NULL. */
const char *vs_roots_find(const struct vs_roots *roots, const char *resolved);

/*
 * Is path (relative to dirfd, or AT_FDCWD) inside a root, reached as the kernel would
 * reach it?  The parent is resolved as realpath(3) does (vs_canonical_path), so a symlink
 * cannot lead out of (or into) a root; the final component is taken as given (a rename
 * acts on the link itself, and trailing slashes are dropped).  On true, resolved (PATH_MAX
 * bytes) holds the absolute path.
 */
bool vs_roots_resolve(const struct vs_roots *roots, int dirfd, const char *path,
                      char *resolved);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A directory's canonical path (no symlinks, no "." or ".."), as realpath(3) gives it, for
 * the shim's configuration and the inside-a-root check.  libc only, no allocation: it runs
 * inside every application.
 */

/*
 * realpath(3) of path, into out (PATH_MAX bytes), in one lookup where it can: an absolute
 * path the kernel walks to a directory without meeting a symlink (openat2(2),
 * RESOLVE_NO_SYMLINKS) is its own canonical path once "." and ".." are taken out as
 * written, where realpath(3) reads one link per component to learn the same.  Anything
 * else (a relative path, a symlink on the way, not a directory, no openat2 here) is
 * realpath(3)'s.  Returns 0, or a negative errno: -ENOENT as soon as the kernel finds no
 * such path, as realpath(3) would.  out is untouched on failure.
 */
int vs_canonical_path(const char *path, char *out);

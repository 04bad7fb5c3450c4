/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The one whole-file reader, for every layer (a record, /proc/self/mountinfo, a policy).  A
 * file someone else may have put there is opened O_NONBLOCK, so that a FIFO or device named
 * like it never blocks the open, and must then be a regular file; /proc and /sys files are
 * regular too (their size says 0, so the size is only a hint).  Never more than the caller's
 * bound.  libc only, no stdio: it runs inside every application.
 */

#include <stddef.h>

/* vs_open_regular() flags. */
#define VS_OPEN_NOFOLLOW 1u /* a symlink as final component is refused (ELOOP) */

/* dirfd/path (AT_FDCWD or an absolute path: path alone) opened read-only, O_NONBLOCK cleared
 * once it is known to be regular: the fd, -EISDIR for a directory, -EINVAL for any other
 * file that is not regular, or -errno. */
int vs_open_regular(int dirfd, const char *path, unsigned flags);

/* The whole of the open file fd from its offset 0 into a NUL-terminated buffer the caller
 * frees: -EFBIG when it holds more than max bytes (decided from its size before anything is
 * read, and again while reading a file that grows).  0 or -errno; *text and *len untouched
 * on failure. */
int vs_read_fd(int fd, size_t max, char **text, size_t *len);

/* vs_open_regular() and vs_read_fd(). */
int vs_read_file(int dirfd, const char *path, unsigned flags, size_t max, char **text,
                 size_t *len);

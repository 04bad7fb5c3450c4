/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * Split an absolute path into its directory (written to dir) and last component (*base
 * points into path).  Trailing slashes are not accepted: journal paths name an entry.
 */
int vs_journal_path_split(const char *path, char *dir, size_t size, const char **base);

/* Open the directory holding `path` (O_RDONLY|O_DIRECTORY); *base as for vs_journal_path_split. */
int vs_journal_open_parent(const char *path, const char **base);

/* mkdirat(parentfd, name, 0700), synced into the parent; 0 when it already exists. */
int vs_journal_mkdir_durable(int parentfd, const char *name);

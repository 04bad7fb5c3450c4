/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* Find an executable on $PATH (or an absolute/relative path as given); NULL if none. */
char *fl_find_program(const char *name);

/*
 * Run argv with stdin from /dev/null, extra "K=V" environment entries added, stdout and
 * stderr captured together into *output.  Returns the exit status (0..255), or a negative
 * errno when it could not run or died from a signal.
 */
int fl_run(const char *const argv[], const char *const extra_env[], char **output);

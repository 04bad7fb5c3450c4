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
/* fl_run, but a child still running after timeout_ms (0: no limit) is killed: -ETIMEDOUT,
 * with what it printed until then in *output. */
int fl_run_deadline(const char *const argv[], const char *const extra_env[], char **output,
                    unsigned timeout_ms);

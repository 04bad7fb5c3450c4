/* SPDX-License-Identifier: MIT */
#pragma once

/* The scratch directory the lib/base tests work in: one per test group. */

#include <stdbool.h>

extern char scratch_top[256];
extern int scratch_fd; /* scratch_top, open */

/* cmocka group setup and teardown: a fresh /tmp/vs-test-<group>.XXXXXX, then removed. */
int scratch_setup(void **state);
int scratch_teardown(void **state);
/* rel (relative to the scratch directory) made: a directory, or an empty file. */
void scratch_make(const char *rel, bool dir);
/* rel exists (a symlink itself counts). */
bool scratch_exists(const char *rel);
/* fn run in a forked child (a namespace or a filter of its own): its exit status 0 passes,
 * 77 skips the test, anything else fails it. */
void scratch_in_child(int (*fn)(void));

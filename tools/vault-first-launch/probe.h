/* SPDX-License-Identifier: MIT */
#pragma once

#include "report.h"

/*
 * Is the shim moving files between folders here?  Renames a probe file from from_dir to
 * to_dir (in a child of this process, so that the preloaded shim, if any, does the move)
 * and reports the outcome; when the shim passed the kernel's EXDEV through, the reason it
 * logged.  Ends within FL_PROBE_BOUND_MS whatever other users of to_dir do.  fix: what to
 * do when no shim is active at all.
 */
void fl_probe_rename(struct fl_report *r, const char *from_dir, const char *to_dir,
                     const char *fix);

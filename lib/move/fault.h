/* SPDX-License-Identifier: MIT */
#pragma once

#include "move/step-time.h"
#include "move/steps.h"

/*
 * VAULTSHIM_FAULT=<step>[:<action>][@<n>]: at the n-th (default first) time the process
 * reaches <step>, do <action>: an errno (a number or a name such as EIO) makes the step
 * fail with it; "exit" (the default) is _exit(137) as a kill -9 would end it; "sleep=<ms>"
 * pauses there (for races in tests).  Returns 0 or the injected negative errno.
 */
/*
 * VAULTSHIM_FAULT_COMMITS=1: at every step, each filesystem the move has named with
 * vs_fault_watch() (the record's, the source's and the target's directories) commits what it
 * holds, as the kernel's own periodic commit may at any instant: an fsync of a new unnamed
 * file there, which writes back no other file's data.  The power-cut recorder then finds a
 * crash state at every step.  vs_fault_watch(-1, -1, -1) stops it.
 */
#ifdef VS_FAULT_INJECTION
int vs_fault_at(enum vs_step step);
void vs_fault_watch(int journal_dirfd, int source_dirfd, int target_dirfd);
#else
static inline int vs_fault_at(enum vs_step step)
{
        vs_time_reached(VS_TIME_STEP0 + step);
        return 0;
}
static inline void vs_fault_watch(int journal_dirfd, int source_dirfd, int target_dirfd)
{
        (void)journal_dirfd;
        (void)source_dirfd;
        (void)target_dirfd;
}
#endif

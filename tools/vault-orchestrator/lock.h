/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * One orchestrator per Kasm: an exclusive flock(2) on the lock file, held for the life of
 * apply or run, with the holder's pid and start time written in it so that a second one can
 * say who holds it.  The kernel drops the lock when the holder dies: no stale locks.
 */

#define LOCK_WHY_MAX 512

/* 0 with *fd held; -EBUSY (why names the holder) or another -errno (why says so). */
int orch_lock_take(const char *path, int *fd, char why[LOCK_WHY_MAX]);

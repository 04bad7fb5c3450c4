/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The named steps of a move, in a file move's execution order (a tree stages where a file
 * copies).  The new name exists before the old one goes: the copy is made from the source
 * at its own name, installed and proven, and only then is the source set aside, to decide
 * whether it may be removed.  The journal records the step an interrupted move reached; the
 * fault-injection hook fails or crashes at any of them.
 */
#define VS_STEPS(X)                                                                        \
        X(CHECK, "check")                     /* precedence checks, nothing changed yet */ \
        X(JOURNAL, "journal")                 /* move recorded, nothing staged yet */      \
        X(TEMP_CREATE, "temp-create")         /* hidden temp file in the target dir */     \
        X(COPY_DATA, "copy-data")                                                          \
        X(COPY_ATTRS, "copy-attrs")           /* times, owner, xattrs, mode */             \
        X(FSYNC_TEMP, "fsync-temp")           /* after the journal record is durable */    \
        X(STAGE_CREATE, "stage-create")       /* hidden staging dir beside the target */   \
        X(STAGE_ENTRY, "stage-entry")         /* one entry copied into the staging tree */ \
        X(STAGE_SYNC, "stage-sync")           /* the staged tree is durable (durable.c) */ \
        X(VERIFY_SOURCE, "verify-source")     /* the source unchanged since its copy */    \
        X(INSTALL, "install")                 /* renameat2 temp/stage -> target */         \
        X(VERIFY_INSTALL, "verify-install")   /* the target is the staged object */        \
        X(FSYNC_TARGET_DIR, "fsync-target-dir") /* from here on the move has happened */   \
        X(ASIDE, "aside")                     /* source renamed to its hidden aside name */ \
        X(UNLINK_SOURCE, "unlink-source")     /* per entry for a tree */                   \
        X(FSYNC_SOURCE_DIR, "fsync-source-dir")

enum vs_step {
#define VS_STEP_ENUM(id, name) VS_STEP_##id,
        VS_STEPS(VS_STEP_ENUM)
#undef VS_STEP_ENUM
        VS_STEP_COUNT
};

const char *vs_step_name(enum vs_step step);

/*
 * The time split by step (step-time.c): a slot per step, each getting the time from
 * reaching it to reaching the next, and three that are no step of their own (no fault
 * can be injected there): "plan", from the entry into vs_move() to the first step;
 * "record", from the move's locks held to its record written ("check" then is the time
 * the locks took); "finish", from the record's end to the return.
 */
enum {
        VS_TIME_PLAN,
        VS_TIME_STEP0, /* VS_TIME_STEP0 + enum vs_step */
        VS_TIME_RECORD = VS_TIME_STEP0 + VS_STEP_COUNT,
        VS_TIME_FINISH,
        VS_TIME_COUNT
};
struct vs_move_stats;
/* Start charging time to stats->step_ns ("plan" first); stop: the rest to the last slot. */
void vs_time_start(struct vs_move_stats *stats);
void vs_time_stop(void);
/* From now on time goes to this slot (a VS_TIME_* value); nothing outside a move. */
void vs_time_reached(unsigned slot);
/* The slot's name in VAULTSHIM_LOG's "steps", NULL for none. */
const char *vs_time_slot_name(unsigned slot);

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

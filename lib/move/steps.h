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

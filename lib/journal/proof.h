/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What recovery needs before it deletes anything (vault-fsck(8), "Proof, not coincidence"):
 * an object proven to be the recorded one (identity.c: the same inode and generation), and
 * for the target, evidence in the durable record that the copy there was complete.
 */
#include <stdbool.h>

#include "journal/journal.h"

enum vs_target_proof {
        VS_TARGET_OTHER,    /* another inode number: this move never installed it */
        VS_TARGET_COMPLETE, /* this move's staging object, complete as the copy left it */
        /* The staging object's inode number, and nothing more proven: */
        VS_TARGET_UNPROVEN_OBJECT,   /* another generation or birth time, or no handle */
        VS_TARGET_UNPROVEN_COMPLETE, /* no record that the copy ever completed */
        VS_TARGET_UNPROVEN_CONTENT,  /* not the size or mtime the completed copy had */
};

/* What the object now at the target name is, for the record e. */
enum vs_target_proof vs_proof_target(const struct vs_journal_entry *e,
                                     const struct vs_identity *target);
/* Why a target is not proven the move's complete copy, for a report. */
const char *vs_proof_target_why(enum vs_target_proof proof);
/* now is provably the record's source (set aside or still at its name). */
bool vs_proof_source(const struct vs_journal_entry *e, const struct vs_identity *now);
/* now, under the staging name, is provably this move's staging object. */
bool vs_proof_staging(const struct vs_journal_entry *e, const struct vs_identity *now);

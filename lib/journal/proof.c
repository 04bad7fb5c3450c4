/* SPDX-License-Identifier: MIT */
/*
 * The evidence recovery acts on.  The staging object lives in a folder every colleague can
 * write: they can rename it onto the target before it is complete, or delete it and save
 * a new file that the filesystem gives the freed inode number.  So the target counts as
 * this move's copy only when it is provably the staging object (same inode and
 * generation: identity.c) and the record says the copy was complete, with its size and
 * the times it set; whatever falls short of that is kept, with the source.
 */
#include "journal/proof.h"

static bool same_mtime(const struct vs_identity *a, const struct vs_identity *b)
{
        return a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec;
}

enum vs_target_proof vs_proof_target(const struct vs_journal_entry *e,
                                     const struct vs_identity *target)
{
        if (!vs_identity_same_object(&e->staging_id, target))
                return VS_TARGET_OTHER;
        const struct vs_identity *copied = &e->copied_id;
        if (!vs_identity_proven(&e->staging_id, target))
                return VS_TARGET_UNPROVEN_OBJECT;
        if (!copied->known)
                return VS_TARGET_UNPROVEN_COMPLETE;
        if (!vs_identity_proven(copied, target))
                return VS_TARGET_UNPROVEN_OBJECT;
        /* A tree's entries are compared one by one before any source entry goes
         * (tree.c); its root directory's own size and mtime move with every save in it. */
        if (e->kind == VS_JOURNAL_TREE)
                return VS_TARGET_COMPLETE;
        /* The install (a rename) moves the ctime, never the size or the mtime the copy
         * gave it. */
        return target->size == copied->size && same_mtime(target, copied)
                       ? VS_TARGET_COMPLETE
                       : VS_TARGET_UNPROVEN_CONTENT;
}

const char *vs_proof_target_why(enum vs_target_proof proof)
{
        switch (proof) {
        case VS_TARGET_UNPROVEN_OBJECT:
                return "but not its generation and birth time (another file was given the "
                       "number, or the filesystem gives no file handles)";
        case VS_TARGET_UNPROVEN_COMPLETE:
                return "but the record has no proof that the copy ever completed (was it "
                       "renamed there half-made?)";
        case VS_TARGET_UNPROVEN_CONTENT:
                return "but not the size and modification time the completed copy had";
        case VS_TARGET_OTHER:
        case VS_TARGET_COMPLETE:
                break;
        }
        return "";
}

bool vs_proof_source(const struct vs_journal_entry *e, const struct vs_identity *now)
{
        return vs_identity_proven(&e->source_id, now);
}

/* Source and target on one filesystem: their inode numbers can be compared. */
static bool same_filesystem(const struct vs_journal_entry *e)
{
        const struct vs_mount_identity *a = &e->source_mount, *b = &e->target_mount;
        if (a->fsid && b->fsid)
                return a->fsid == b->fsid;
        return a->dev_major == b->dev_major && a->dev_minor == b->dev_minor;
}

bool vs_proof_staging(const struct vs_journal_entry *e, const struct vs_identity *now)
{
        if (e->staging_id.known)
                return vs_identity_proven(&e->staging_id, now);
        /*
         * No identity recorded yet (a power cut between the staging object's creation and
         * the sync of the line naming it): its name, 64 random bits, was durable in the
         * record before it existed, so what holds it is this move's or was put there on
         * purpose.  Never the source, though, renamed there by someone on its filesystem
         * (on another filesystem an equal inode number is only a coincidence).
         */
        return !same_filesystem(e) || (!vs_identity_same_object(&e->source_id, now) &&
                                       !vs_identity_same_object(&e->aside_id, now));
}

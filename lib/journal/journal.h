/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The move journal: one small record per in-flight emulated move, kept on the target's
 * filesystem so that a crash at any instant can be finished or rolled back by the next
 * move (lazily) or by vault-fsck.  libc only: it is linked into libvaultshim.so.
 *
 * Where: <mount root of the target>/.vaultshim/journal/<id>, where the mount root is the
 * highest ancestor of the target's directory that is on the same mount and inside the vault
 * root.  When that directory cannot be used (not writable, or .vaultshim is not a directory
 * of ours), the record goes beside the target as .vaultshim-journal-<id>; vault-fsck finds
 * those by walking the root.
 *
 * Protocol, as the move engine drives it:
 *   vs_journal_begin()        record created and locked, phase STAGED, before any named
 *                             staging object exists (not synced: see below);
 *   create the staging object under j->entry.staging, copy into it;
 *   vs_journal_update()       with the staging identity (dev, ino), made durable together
 *                             with the staging copy — by its own fdatasync (durable=true) or
 *                             by the engine's syncfs of that filesystem afterwards;
 *   rename(staging, target)   the first irreversible step;
 *   vs_journal_update(INSTALLED / SOURCE_REMOVAL) optional progress marks;
 *   vs_journal_finish()       source removed: drop the record.
 * Only the state written before the install must be durable: a staging object whose record
 * was lost in a power cut was never installed (the install removes its name), so its source
 * is whole and the residue may go.  The record file is flock()ed while its move is live, so
 * recovery never touches a move that is still running in another thread or process.
 *
 * Recovery never trusts the phase alone: "installed" means the target has the staging
 * identity, and a source entry is removed only when it is provably the copied one
 * (unchanged identity, or byte-identical to the target).
 */

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define VS_JOURNAL_DIR ".vaultshim/journal"
/* The engine names its temporaries .vaultshim-tmp-* / .vaultshim-stage-* (vaultshim/move.h);
 * journaled ones carry the record id after the prefix. */
#define VS_JOURNAL_BESIDE_PREFIX ".vaultshim-journal-"
#define VS_STAGING_FILE_PREFIX ".vaultshim-tmp-"
#define VS_STAGING_TREE_PREFIX ".vaultshim-stage-"
#define VS_JOURNAL_ID_MAX 48

enum vs_journal_kind {
        VS_JOURNAL_FILE,      /* a non-directory moved to a free name */
        VS_JOURNAL_OVERWRITE, /* a non-directory replacing an existing target */
        VS_JOURNAL_TREE,      /* a directory tree */
};

enum vs_journal_phase {
        VS_JOURNAL_STAGED,         /* staging being built or complete; nothing installed */
        VS_JOURNAL_INSTALLED,      /* staging renamed onto the target */
        VS_JOURNAL_SOURCE_REMOVAL, /* removing the source entries */
};

/* What proves that an object is the one the move saw: all fields from one lstat. */
struct vs_identity {
        bool known;
        uint64_t dev;
        uint64_t ino;
        uint32_t mode;
        int64_t size;
        int64_t mtime_sec;
        int64_t mtime_nsec;
        int64_t ctime_sec;
        int64_t ctime_nsec;
};

struct vs_journal_entry {
        char id[VS_JOURNAL_ID_MAX];
        enum vs_journal_kind kind;
        enum vs_journal_phase phase;
        char source[PATH_MAX];  /* absolute */
        char target[PATH_MAX];  /* absolute */
        char staging[PATH_MAX]; /* absolute; beside the target */
        struct vs_identity source_id;
        struct vs_identity staging_id;     /* known once the staging copy exists */
        struct vs_identity target_prev_id; /* the replaced target, for OVERWRITE */
};

/* A live record, owned by the move that writes it. */
struct vs_journal {
        int dirfd;    /* directory holding the record */
        int fd;       /* the record, flock()ed */
        bool beside;  /* record lives beside the target, not in a journal dir */
        bool name_durable; /* the journal directory was synced after creating the record */
        char name[VS_JOURNAL_ID_MAX + sizeof(VS_JOURNAL_BESIDE_PREFIX)];
        struct vs_journal_entry entry;
};

void vs_identity_from_stat(struct vs_identity *id, const struct stat *st);
void vs_identity_from_statx(struct vs_identity *id, const struct statx *stx);
/* Same object, unchanged: dev, ino, type, size, mtime and ctime all equal. */
bool vs_identity_unchanged(const struct vs_identity *a, const struct vs_identity *b);
/* Same object: dev and ino (rename changes ctime, so the installed staging is matched so). */
bool vs_identity_same_object(const struct vs_identity *a, const struct vs_identity *b);

/*
 * Start a record for moving `source` to `target` (absolute, resolved paths) under
 * `vault_root`.  Fills j->entry (id, kind, paths, staging path beside the target named with
 * the id) and makes the record durable.  Before creating it, recovers any abandoned records
 * in the same journal directory (the lazy recovery).  Returns 0 or a negative errno; on
 * failure nothing is left behind.
 */
int vs_journal_begin(struct vs_journal *j, const char *vault_root, enum vs_journal_kind kind,
                     const char *source, const char *target,
                     const struct vs_identity *source_id,
                     const struct vs_identity *target_prev_id);

/* Append the current j->entry (new phase, identities); with durable, fdatasync it (and,
 * the first time, the journal directory). */
int vs_journal_update(struct vs_journal *j, bool durable);

/* The move is complete or fully undone: drop the record.  Always releases j. */
void vs_journal_finish(struct vs_journal *j);

/* Serialisation, for the journal itself and for tests: one self-checking line per state. */
int vs_journal_format(const struct vs_journal_entry *e, char *buf, size_t size);
/* Parse a whole record file's text: the last valid line wins.  -ENODATA when none. */
int vs_journal_parse(const char *text, size_t len, struct vs_journal_entry *out);

const char *vs_journal_kind_name(enum vs_journal_kind kind);
const char *vs_journal_phase_name(enum vs_journal_phase phase);

/* A move lock: flock held on `name` (a lock file named after the object) in dirfd. */
struct vs_journal_lock {
        int fd;
        int dirfd;
        char name[64];
};

/*
 * Take the move lock of `name` in dirfd (a move's source, or the target it replaces), which
 * the move planned as `expect`; only vaultshim takes it, never another program's flock.
 * Returns 0 and fills *out (release with vs_journal_unlock_object), -ESTALE when the name
 * no longer leads to that object (plan again), -EOPNOTSUPP when no lock file can be made
 * (the move goes on without), -EWOULDBLOCK when busy and !wait, or -errno.  (Not -EAGAIN
 * for a stale plan: on Linux EAGAIN == EWOULDBLOCK, and "busy" must not read as "stale".)
 */
int vs_journal_lock_object(int dirfd, const char *name, const struct vs_identity *expect,
                           bool wait, struct vs_journal_lock *out);
/* Release a lock taken by vs_journal_lock_object (its lock file is removed); idempotent. */
void vs_journal_unlock_object(struct vs_journal_lock *lock);
/* Remove dirfd/name, a lock file left by a mover that died (1), unless a move holds it (0). */
int vs_journal_remove_stale_lock(int dirfd, const char *name);

/* --- recovery --------------------------------------------------------------------- */

enum vs_recovery_outcome {
        VS_RECOVERY_LIVE,          /* the move is still running: left alone */
        VS_RECOVERY_EMPTY,         /* record of a move that never started: record dropped */
        VS_RECOVERY_ROLLED_BACK,   /* staging removed; the source is whole */
        VS_RECOVERY_ROLLED_FORWARD,/* target installed; copied source entries removed */
        VS_RECOVERY_CLOSED,        /* nothing left to do for this move: record dropped */
        VS_RECOVERY_KEPT,          /* could not prove a copy: data kept, needs a person */
};

struct vs_recovery_result {
        char record[PATH_MAX];     /* where the record was */
        bool parsed;
        struct vs_journal_entry entry;
        enum vs_recovery_outcome outcome;
        unsigned long staging_removed; /* staging entries removed (or that would be) */
        unsigned long source_removed;  /* source entries removed (or that would be) */
        unsigned long source_kept;     /* source entries that differ from the target */
        int error;                     /* negative errno of the first failure, or 0 */
        char detail[256];              /* one human sentence on why */
};

typedef void (*vs_recovery_report_fn)(const struct vs_recovery_result *r, void *userdata);

/*
 * Recover one record `name` in `dirfd` (displayed as `record_path`).  With dry_run, decide
 * and report but change nothing.  Returns 0 (see r->outcome) or a negative errno when the
 * record could not be read at all.
 */
int vs_journal_recover_record(int dirfd, const char *name, const char *record_path,
                              bool dry_run, struct vs_recovery_result *r);

enum vs_recovery_mode {
        VS_RECOVER_REPAIR,  /* vault-fsck */
        VS_RECOVER_DRY_RUN, /* vault-fsck --dry-run: decide and report only */
        VS_RECOVER_LAZY,    /* inside a move: repair, but skip records already kept */
};

/*
 * Recover every record in a journal directory; `report` (may be NULL) sees each result.
 * A record whose move had to be kept is renamed <name>.kept, so that lazy recovery does
 * not redo its work on every move; vault-fsck reports it each time.
 * Returns the number of records that were acted on (or would be), or a negative errno.
 */
int vs_journal_recover_dir(int dirfd, const char *dir_path, enum vs_recovery_mode mode,
                           vs_recovery_report_fn report, void *userdata);

/* True when the directory has any entry besides . and .. — the cheap check. */
bool vs_journal_dir_has_entries(int dirfd);

/* Does a record (live or not) exist for the staging object at this path?  Looks beside it
 * and in every journal directory of the mount it is on. */
bool vs_journal_record_exists(const char *staging);

/* Is `name` one of ours (staging residue or a beside-the-target record)? */
bool vs_journal_is_staging_name(const char *name);
bool vs_journal_is_beside_record_name(const char *name);
#define VS_JOURNAL_KEPT_SUFFIX ".kept"
/* The journal id embedded in a staging or beside-record name, or NULL. */
const char *vs_journal_id_of_name(const char *name);

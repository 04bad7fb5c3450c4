/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The move journal: one small record per in-flight emulated move, so that a crash at any
 * instant can be finished or rolled back by the same user's next move (lazily) or by
 * vault-fsck.  libc only: it is linked into libvaultshim.so.
 *
 * Trust model (vaultshim(7)): a shared folder is mounted into many users' containers, all
 * uid 1000, and the same path means different things in each.  So a record lives only in
 * the private journal directory of the session that writes it (the user's personal folder
 * or $XDG_STATE_HOME: see location.c), never in a shared folder or beside a target, and it
 * names each object by the identity of its mount (as /proc/self/mountinfo shows it) and a
 * path beneath that mount, plus the object's inode identity.  Recovery opens every path
 * beneath the verified mount root without following symlinks, "..", or other mounts, acts
 * only on objects whose identity matches, and keeps and reports everything else.
 *
 * Protocol, as the move engine drives it:
 *   vs_journal_prepare(), the lazy recovery of abandoned records, then
 *   vs_journal_begin()   record created, locked and durable before any name of ours exists
 *                        in the vault (so every staging or set-aside name is covered);
 *   stage the copy (a temp file or directory beside the target), record its identity;
 *   install (rename staging -> target; proven to be the staged object), the move's instant:
 *                        the source never left its name before it;
 *   set the source aside: a same-directory rename to a hidden name that carries its own
 *                        name, then remove it if unchanged (else put it back);
 *   vs_journal_finish()  drop the record.
 * The record file is flock()ed while its move is live, so recovery never touches a move
 * that is still running in another thread or process.
 */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <vaultshim/move.h> /* the names of our objects in the vault: VS_TEMP_*_PREFIX */

#include "base/mount.h" /* struct vs_mount_identity: where each side of a move is */

/* Where records were kept before the trust model (never acted on; vault-fsck lists them). */
#define VS_JOURNAL_OLD_DIR ".vaultshim/journal"
#define VS_JOURNAL_OLD_BESIDE_PREFIX ".vaultshim-journal-"
#define VS_JOURNAL_ID_MAX 64
#define VS_JOURNAL_KEPT_SUFFIX ".kept"
/* A record file is a few lines of at most a few KiB each; anything bigger is not ours. */
#define VS_JOURNAL_RECORD_MAX (256 * 1024)

enum vs_journal_kind {
        VS_JOURNAL_FILE,      /* a non-directory moved to a free name */
        VS_JOURNAL_OVERWRITE, /* a non-directory replacing an existing target */
        VS_JOURNAL_TREE,      /* a directory tree */
};

enum vs_journal_phase {
        VS_JOURNAL_STAGED,         /* staging being built; the source at its name (an older
                                      version's move may have set it aside) */
        VS_JOURNAL_INSTALLED,      /* staging renamed onto the target */
        VS_JOURNAL_SOURCE_REMOVAL, /* setting the source aside and removing it */
};

/* Bytes of a file handle kept (the kernel's MAX_HANDLE_SZ). */
#define VS_HANDLE_MAX 128

/*
 * What proves that an object is the one the move saw.  dev is filled from stat for the
 * engine's own use (lock names) but never recorded nor compared: st_dev changes across a
 * reboot for btrfs, overlayfs, NFS, device-mapper and loop devices; the object is instead
 * looked up beneath a verified mount (struct vs_mount_identity).  The inode number is
 * reused as soon as it is freed, so the proof is the filesystem's file handle (its
 * generation is in it) and the birth time, which no one can set (identity.c).
 */
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
        bool has_btime; /* the filesystem reports a birth time */
        int64_t btime_sec;
        int64_t btime_nsec;
        uint32_t handle_type;
        uint32_t handle_len; /* 0: the filesystem gives no handle, nothing is provable */
        unsigned char handle[VS_HANDLE_MAX];
};

struct vs_journal_entry {
        char id[VS_JOURNAL_ID_MAX];
        enum vs_journal_kind kind;
        enum vs_journal_phase phase;
        struct vs_mount_identity source_mount, target_mount;
        char source[PATH_MAX]; /* relative to source_mount.point; never "", "..", or "//" */
        char target[PATH_MAX]; /* relative to target_mount.point */
        struct vs_identity source_id;      /* the source as planned */
        struct vs_identity aside_id;       /* the source once set aside (its ctime moved), or
                                              put back by the mover after a failure */
        struct vs_identity staging_id;     /* known once the staging object exists */
        /* The staging object as the complete copy left it (its size, the times the copy
         * set), durable before the install: without it nothing proves the copy whole. */
        struct vs_identity copied_id;
        struct vs_identity target_prev_id; /* the replaced target, for OVERWRITE */
};

/* Where this process keeps its records. */
struct vs_journal_config {
        const char *dir;  /* absolute path of the private journal directory */
        bool transient;   /* inside a vault mount: removed whenever it is empty */
        /* vs_journal_begin() writes the first record line and leaves making it durable to
         * the caller's vs_journal_sync(), which knows the filesystems of the move. */
        bool defer_sync;
};

/* How far a record line is made durable. */
enum vs_journal_sync {
        VS_JOURNAL_SYNC_NONE,
        /* Written back and waited for, no flush (sync_file_range): on a filesystem that
         * commits in order, the bytes are on the disk before any later change of that
         * filesystem's metadata is. */
        VS_JOURNAL_SYNC_ORDER,
        /* Written back, not waited for (sync_file_range WRITE): the write-out overlaps
         * what the move does next, and a later SYNC_ORDER, before anything that depends
         * on the record, waits for it. */
        VS_JOURNAL_SYNC_START,
        /* fdatasync: on a filesystem that commits in order, also the record's name. */
        VS_JOURNAL_SYNC_DATA,
        /* fdatasync, and the directory (and a parent just created) fsynced: anywhere. */
        VS_JOURNAL_SYNC_FULL,
};

/* A live record, owned by the move that writes it. */
struct vs_journal {
        int dirfd;         /* the journal directory */
        int fd;            /* the record, flock()ed */
        bool transient;
        const char *dir_path; /* the configuration's, for removing it when empty */
        char name[VS_JOURNAL_ID_MAX];
        bool dir_created;  /* prepare made the directory: SYNC_FULL syncs its parent too */
        unsigned flushes;  /* fsync and fdatasync calls made for this record */
        bool started;      /* a SYNC_START write-out not yet waited for */
        struct vs_journal_entry entry;
};

/* --- identity.c: what an object is, and what proves it is the recorded one ---------- */

/* From a stat alone: no handle, so nothing it names is provable (tests, old callers). */
void vs_identity_from_stat(struct vs_identity *id, const struct stat *st);
/* From a statx: the birth time when the mask has it, no handle. */
void vs_identity_from_statx(struct vs_identity *id, const struct statx *stx);
/* The identity of dirfd/name (never following a symlink) or of the object fd (O_PATH will
 * do), with birth time and file handle where the filesystem has them.  0 or -errno. */
int vs_identity_at(int dirfd, const char *name, struct vs_identity *out);
int vs_identity_of_fd(int fd, struct vs_identity *out);
/* The same from what the kernel has cached, without asking a network or FUSE filesystem's
 * server again (birth time then often unknown): for an object just looked at. */
int vs_identity_at_cached(int dirfd, const char *name, struct vs_identity *out);
/* Same inode number and type: a hint, never a proof (numbers are reused). */
bool vs_identity_same_object(const struct vs_identity *a, const struct vs_identity *b);
/* The identity carries a file handle: a later object can be proven to be it, or not. */
bool vs_identity_has_proof(const struct vs_identity *id);
/* Provably the recorded object: the same inode, the same file handle (so the same
 * generation) and, when recorded, the same birth time.  False whenever either side lacks
 * a handle: recovery then deletes nothing. */
bool vs_identity_proven(const struct vs_identity *recorded, const struct vs_identity *now);
/* Same object, contents unchanged: also size and mtime (a rename moves ctime). */
bool vs_identity_same_content(const struct vs_identity *a, const struct vs_identity *b);
/* Same object, untouched: also ctime. */
bool vs_identity_unchanged(const struct vs_identity *a, const struct vs_identity *b);

/* The staging and set-aside names of a record (in the target's / source's directory).  A
 * set-aside name carries the source's own name after VS_ASIDE_NAME_SEP when both fit in
 * NAME_MAX, so that any session finding it left over can put it back (vaultshim(7)); the
 * legacy name (older versions, or a name too long) is the prefix and the id alone. */
int vs_journal_staging_name(const struct vs_journal_entry *e, char *buf, size_t size);
int vs_journal_aside_name(const struct vs_journal_entry *e, char *buf, size_t size);
int vs_journal_aside_legacy_name(const struct vs_journal_entry *e, char *buf, size_t size);

/* Neither the journal's ids nor the engine's temporary names contain it. */
#define VS_ASIDE_NAME_SEP '_'
/* Where a set-aside leftover goes when its own name is taken or unknown: visible. */
#define VS_ASIDE_KEPT_PREFIX "vaultshim-kept-"
/* Append VS_ASIDE_NAME_SEP and source_name to the set-aside name in aside (a buffer of
 * size bytes) when the result fits in one name; else leave it as it is. */
void vs_aside_name_add_source(char *aside, size_t size, const char *source_name);
/* For a set-aside name: home, the name it goes back to (its source's, or the kept name when
 * that is not known), and kept, VS_ASIDE_KEPT_PREFIX and the rest of the set-aside name;
 * each buffer of size bytes.  -EINVAL for any other name. */
int vs_aside_leftover_names(const char *aside, char *home, char *kept, size_t size);
/* point + "/" + rel, for display. */
void vs_journal_display_path(const struct vs_mount_identity *m, const char *rel, char *buf,
                             size_t size);

/* --- location.c: the private journal directory ------------------------------------- */

/*
 * The journal directory for this environment: $VAULTSHIM_JOURNAL, else
 * $XDG_STATE_HOME/vaultshim/journal, else $HOME/.local/state/vaultshim/journal.  Writes an
 * absolute path; -ENOENT when none is configured, -EINVAL when the setting is not absolute.
 */
int vs_journal_location(char *out, size_t size);
/*
 * Open the journal directory, creating it mode 0700 when create: with every missing
 * ancestor for the default location (XDG), with at most two for a VAULTSHIM_JOURNAL that
 * is set.
 * Refuses with -EPERM anything that is not a directory owned by this effective uid and
 * writable by nobody else.  *created tells whether this call made it (its parent then
 * needs a sync).  Returns an fd or -errno.
 */
int vs_journal_dir_open(const char *path, bool create, bool *created);
/*
 * The journal directory `dir` (absolute) with its deepest existing ancestor resolved
 * (realpath) and the rest as written: the place to compare with the vault roots.
 */
int vs_journal_resolve(const char *dir, char *out, size_t size);
/*
 * A journal inside the vault (in_vault: `resolved` is below a vault root) is private only
 * below the personal folder that the image names (VAULTSHIM_PERSONAL, read with
 * secure_getenv) and on that folder's own mount: every other vault folder may be mounted
 * into other users' sessions, where anyone could read, forge or remove its records.  0, or
 * -EPERM with *why one of these (a word for the log and the reports):
 */
#define VS_JOURNAL_PERSONAL_UNKNOWN "journal-personal-unknown" /* no VAULTSHIM_PERSONAL */
#define VS_JOURNAL_OUTSIDE_PERSONAL "journal-outside-personal" /* another vault folder */
#define VS_JOURNAL_OTHER_MOUNT "journal-on-other-mount" /* a mount inside the personal one */
int vs_journal_check_place(const char *resolved, bool in_vault, const char **why);
/* The directory is empty: remove it (inside a vault mount it must leave no trace). */
void vs_journal_dir_remove_if_empty(const char *path);

/* --- journal.c: writing ------------------------------------------------------------- */

/*
 * A record for moving the entry source_path (absolute, in the directory source_dirfd) to
 * target_path (in target_dirfd), in two steps; -EXDEV from either whenever the move cannot
 * be journaled in a private place (the caller then does not emulate it), and nothing is left.
 * vs_journal_prepare(): both sides named by their mount and a path beneath it, checked to
 * lead here, and the private journal directory opened (j->dirfd), made if missing.
 * Between the two the engine recovers this user's abandoned records in j->dirfd (the lazy
 * recovery: lib/move/journal.c).  vs_journal_begin(): the record created, locked and
 * written, durable unless cfg->defer_sync.
 */
int vs_journal_prepare(struct vs_journal *j, const struct vs_journal_config *cfg,
                       enum vs_journal_kind kind, int source_dirfd, const char *source_path,
                       int target_dirfd, const char *target_path,
                       const struct vs_identity *source_id,
                       const struct vs_identity *target_prev_id);
int vs_journal_begin(struct vs_journal *j, const struct vs_journal_config *cfg);
/* Make what the record holds durable as far as `how` says (after a deferred begin). */
int vs_journal_sync(struct vs_journal *j, enum vs_journal_sync how);
/* Append the current j->entry, then vs_journal_sync(how). */
int vs_journal_update(struct vs_journal *j, enum vs_journal_sync how);
/* The move is complete or fully undone: drop the record.  Always releases j. */
void vs_journal_finish(struct vs_journal *j);
/* Leave the record for recovery (its lock goes with the fd).  Always releases j. */
void vs_journal_abandon(struct vs_journal *j);

/* --- record.c: one self-checking line per state ------------------------------------- */
int vs_journal_format(const struct vs_journal_entry *e, char *buf, size_t size);
/* Parse a whole record file's text: the last valid line wins.  -ENODATA when none. */
int vs_journal_parse(const char *text, size_t len, struct vs_journal_entry *out);
/* Does text start like a record of the old, shared-location format (vsj1)? */
bool vs_journal_is_old_format(const char *text, size_t len);
const char *vs_journal_kind_name(enum vs_journal_kind kind);
const char *vs_journal_phase_name(enum vs_journal_phase phase);

/* --- lock.c: ordering two containers' moves of one object (a lock file beside it) ---- */

#define VS_LOCK_PREFIX ".vaultshim-lock-"

struct vs_journal_lock {
        int fd;
        int dirfd; /* the object's directory (O_PATH), or the per-user fallback */
        char name[64];
};

/*
 * Take the move lock of `name` in dirfd, planned as `expect`, waiting until deadline_ms
 * (CLOCK_MONOTONIC milliseconds: the move's one deadline, VS_MOVE_BOUND_MS after the entry
 * into rename(), never restarted by a re-plan; 0 tries once).  Returns 0 and fills *out
 * (release with vs_journal_unlock_object), -ESTALE when the name no longer leads to that
 * object (plan again), -EOPNOTSUPP when no lock file can be made (the move goes on without),
 * -EBUSY when someone else holds it past the deadline, or -errno.
 */
int vs_journal_lock_object(int dirfd, const char *name, const struct vs_identity *expect,
                           uint64_t deadline_ms, struct vs_journal_lock *out);
/* Release a lock (its lock file is removed); idempotent. */
void vs_journal_unlock_object(struct vs_journal_lock *lock);
/* Remove dirfd/name, a lock file left by a mover that died (1), unless a move holds it (0). */
int vs_journal_remove_stale_lock(int dirfd, const char *name);

/* --- recover.c ---------------------------------------------------------------------- */

enum vs_recovery_outcome {
        VS_RECOVERY_LIVE,           /* the move is still running: left alone */
        VS_RECOVERY_EMPTY,          /* record of a move that never started: record dropped */
        VS_RECOVERY_ROLLED_BACK,    /* staging removed, the source back at its name */
        VS_RECOVERY_ROLLED_FORWARD, /* target installed; the set-aside source removed */
        VS_RECOVERY_CLOSED,         /* nothing left to do for this move: record dropped */
        VS_RECOVERY_KEPT,           /* could not prove something: data kept, needs a person */
        VS_RECOVERY_DEFERRED,       /* a mount is not the recorded one: record kept as is */
};

struct vs_recovery_result {
        char record[PATH_MAX]; /* where the record is */
        bool parsed;
        struct vs_journal_entry entry;
        enum vs_recovery_outcome outcome;
        unsigned long staging_removed; /* staging entries removed (or that would be) */
        unsigned long source_removed;  /* set-aside source entries removed */
        unsigned long source_kept;     /* source entries that differ from the target */
        int error;                     /* negative errno of the first failure, or 0 */
        char detail[512];              /* one sentence on why; paths in it are ours */
};

typedef void (*vs_recovery_report_fn)(const struct vs_recovery_result *r, void *userdata);

enum vs_recovery_mode {
        VS_RECOVER_REPAIR,  /* vault-fsck */
        VS_RECOVER_DRY_RUN, /* vault-fsck --dry-run: decide and report only */
        VS_RECOVER_LAZY,    /* inside a move: repair, skip records kept or deferred before */
};

/* Recover one record `name` of the journal directory dirfd (shown as under dir_path). */
int vs_journal_recover_record(int dirfd, const char *name, const char *dir_path,
                              enum vs_recovery_mode mode, struct vs_recovery_result *r);
/* Recover every record of a journal directory; returns how many were acted on (or would
 * be), or -errno.  A kept record is renamed <name>.kept so that lazy recovery passes it. */
int vs_journal_recover_dir(int dirfd, const char *dir_path, enum vs_recovery_mode mode,
                           vs_recovery_report_fn report, void *userdata);
/* True when the directory has any entry besides . and .. — the cheap check. */
bool vs_journal_dir_has_entries(int dirfd);

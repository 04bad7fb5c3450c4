/* SPDX-License-Identifier: MIT */
#pragma once

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <vaultshim/move.h>

#include "base/clock.h"
#include "base/path.h"
#include "base/stat.h"
#include "base/syscall.h"
#include "base/walk.h"
#include "fmt/fmt.h"
#include "journal/journal.h"
#include "move/fscaps.h"
#include "move/fault.h"
#include "move/step-time.h"
#include "move/steps.h"

/* ---- not-emulated.c: why the kernel's EXDEV is passed through ---- */
/* Note why (a VS_NOT_EMULATED_* word) for vs_move()'s stats; returns -EXDEV. */
int vs_not_emulated(const char *why);
/* The last reason noted on this thread, and forget it (NULL: none). */
const char *vs_not_emulated_take(void);

/* ---- stat.c: comparing statx results (taken with lib/base's vs_statx(), base/stat.h) ---- */
bool vs_same_inode(const struct statx *a, const struct statx *b);
/* The same object as far as the filesystem (caps, may be NULL) can tell: same type, and the
 * same inode where inode numbers are stable (fscaps.h). */
struct vs_fscaps;
bool vs_same_object_on(const struct vs_fscaps *caps, const struct statx *a,
                       const struct statx *b);
bool vs_same_time(const struct statx_timestamp *a, const struct statx_timestamp *b);
bool vs_time_after(const struct statx_timestamp *a, const struct statx_timestamp *b);
/* Same inode, size, mtime and ctime: nobody wrote to it in between. */
bool vs_unchanged(const struct statx *before, const struct statx *after);
/* The same, as far as the filesystem (caps, may be NULL) can show it. */
bool vs_unchanged_on(const struct vs_fscaps *caps, const struct statx *before,
                     const struct statx *after);
/* Same type, size and mtime: a copy made by the engine matches its source.  dropped
 * (enum vs_dropped): the times the target could hold, compared only as far as it could. */
bool vs_copy_matches(const struct statx *src, const struct statx *copy, unsigned dropped);
/* On storage whose times are unstable (caps), a regular file's time that may be a reader's
 * "now" is read again, pausing at most *budget_ns in all, until it goes back to an earlier
 * one: then st takes that time (true).  Nothing else of st changes. */
#define VS_SETTLE_BUDGET_NS (500 * 1000000LL)
bool vs_settle_times(int dirfd, const char *name, const struct vs_fscaps *caps,
                     struct statx *st, int64_t *budget_ns);

/* ---- creds.c: permission checks as the kernel makes them for the caller ---- */
struct vs_creds {
        uid_t fsuid;
        bool cap_fowner;
        bool cap_dac_override; /* read, write and search anything not immutable */
};

void vs_creds_load(struct vs_creds *creds);
int vs_access(int dirfd, const char *name, int mode);
int vs_may_delete(const struct vs_creds *creds, int dirfd, const struct statx *dir,
                  const struct statx *victim, bool isdir);
int vs_may_create(int dirfd);
/* The sticky, append-only and immutable rules for removing victim from dir. */
int vs_check_unlinkable(const struct vs_creds *creds, const struct statx *dir,
                        const struct statx *victim);

/* ---- attrs.c: metadata, applied after the data, mode last ---- */
/* What is known about every object a copy creates; all false: assume nothing. */
struct vs_attr_hints {
        bool owner_known;      /* new objects are owned by uid:gid */
        uid_t uid;
        gid_t gid;
        bool no_inherited_acl; /* no default ACL above them to inherit */
        /* Regular files are created with the source's permission bits (less umask), in a
         * staging directory only the mover can enter: no fchmod when that is the mode. */
        bool create_with_mode;
        mode_t umask;
        /* The filesystems of the copy and of its source (NULL: assume they hold all):
         * what the target cannot hold is dropped and recorded in *dropped. */
        const struct vs_fscaps *caps, *src_caps;
        unsigned *dropped;     /* OR of enum vs_dropped */
};

int vs_attrs_copy(int src_fd, int dst_fd, int dst_dirfd, const char *dst_name,
                  const struct statx *st, const struct vs_attr_hints *hints);

/* ---- copy.c: file data ---- */
struct vs_copy_ctx {
        struct vs_journal *journal; /* a file move's: the staging object's identity goes in
                                       as soon as it exists; NULL inside a tree */
        unsigned methods;
        uint64_t bytes;
        bool clone_unsupported; /* remembered across the files of a tree */
        bool cfr_unsupported;
        bool holes_unsupported; /* the target writes only sequentially (rclone, no cache) */
        bool start_writeback;   /* a kept copy's write-out begins as soon as its data is
                                   written, to overlap its attributes and its record line */
        bool planned_fresh;     /* a tree's: each entry's statx was taken by the walk right
                                   before its copy opens it (node.c describes the copy by it) */
        uint64_t writeback_chunk; /* set by node.c for such a copy: each chunk of this many
                                     bytes is written back as soon as it is copied, so that
                                     its write-out overlaps copying the next (0: none) */
        struct vs_attr_hints hints;
        struct vs_fscaps caps, src_caps;
        unsigned dropped;
        int64_t settle_budget_ns; /* what the move may still wait for unstable source times */
};

/* copy.c: a copy context for a move from the plan's old side to its new side. */
struct vs_plan;
void vs_copy_ctx_init(struct vs_copy_ctx *ctx, const struct vs_plan *plan);

/* maybe_sparse: look for holes (SEEK_DATA/SEEK_HOLE); else copy [0, size) as data. */
int vs_copy_data(int src_fd, int dst_fd, uint64_t size, bool maybe_sparse,
                 struct vs_copy_ctx *ctx);

/* ---- node.c: one non-directory object (regular file, symlink, FIFO) ---- */
/* Returns -EAGAIN when the source changed while it was copied.  The copy is not synced: the
 * caller makes it durable (a file move once its journal record is, a tree by its files'
 * writeback).  keep_fd: if not NULL, a regular file's copy is left open there, for that.
 * *st: the source as planned (by name); on success, a regular file as it was copied. */
int vs_node_copy(int src_dirfd, const char *src_name, struct statx *st, int dst_dirfd,
                 const char *dst_name, struct vs_copy_ctx *ctx, int *keep_fd);

/* ---- links.c: hard links inside a tree, by inode ---- */
struct vs_link_entry {
        uint64_t dev, ino;
        char *path; /* of the first copy, relative to the staging directory */
};

struct vs_links {
        struct vs_link_entry *slots;
        size_t cap, count;
};

const char *vs_links_find(const struct vs_links *links, const struct statx *st);
int vs_links_add(struct vs_links *links, const struct statx *st, const char *path);
void vs_links_free(struct vs_links *links);

/* ---- install.c: durability, temporary names (the rename itself: base/syscall.h) ---- */
/* exclusive.c: staged -> target in the directory dirfd (its statx in dir) as renameat2(flags)
 * would, RENAME_NOREPLACE kept also where the filesystem has no rename flags. */
int vs_install(int dirfd, const struct statx *dir, const char *staged, const char *target,
               bool is_dir, unsigned flags);
/* A source set aside going back: vs_install_back(), base/install-back.h. */
/* from -> fresh in the directory dirfd, where fresh is a name nobody else can have chosen
 * (random): RENAME_NOREPLACE where the filesystem has it, else a plain rename, which keeps
 * what matters here: the object leaves its old name atomically. */
int vs_rename_to_fresh_name(int dirfd, const struct statx *dir, const char *from,
                            const char *fresh);
int vs_temp_name(char *buf, size_t size, const char *prefix);
/* install.c: the staged object (its statx in *staged, taken from the copy's own descriptor)
 * installed at new's name and proven there, never following a link: 0; -EBUSY when the
 * staging name or, after the rename, the target held another object (someone swapped it:
 * the caller's data is where it was; a target that was free is freed again).  in_place: the
 * copy was built at the target's name (no rename), only the proof is made. */
struct vs_side;
int vs_install_verified(const struct vs_side *new, const char *staged_name,
                        const struct statx *staged, bool in_place, unsigned flags);

/* ---- precedence.c: the kernel's errno order ---- */
struct vs_side {
        struct vs_path_split path;
        int dirfd;              /* O_PATH fd of the parent directory */
        struct statx dir;       /* the parent directory */
        bool exists;
        struct statx st;        /* the entry itself (lstat) when it exists */
};

struct vs_plan {
        struct vs_side old, new;
        unsigned flags;
        struct vs_creds creds;
        bool same_parent;
        const struct vs_move_opts *opts; /* set by vs_move() after the checks; may be NULL */
};

enum { VS_PLAN_PROCEED = 0, VS_PLAN_NOTHING_TO_DO = 1 };

int vs_plan_check(struct vs_plan *plan, int olddirfd, const char *oldpath, int newdirfd,
                  const char *newpath, unsigned flags);
void vs_plan_release(struct vs_plan *plan);

/* ---- durable.c: which steps are flushed, and counting the flushes ---- */
/* How a staged tree is made durable before its install (writeback.c): never by a syncfs(). */
enum vs_writeback_mode {
        VS_WRITEBACK_NONE,    /* in memory (tmpfs): nothing survives a power cut */
        VS_WRITEBACK_ORDERED, /* each file written back and waited for, no flush */
        VS_WRITEBACK_FLUSH,   /* each file written back and fsynced, each directory fsynced */
};
struct vs_durability {
        bool journaled;        /* a private record is kept (else every step is flushed) */
        bool source_ordered, target_ordered, journal_ordered; /* fscaps.h: ordered */
        bool source_is_target; /* one filesystem (dev) */
        bool journal_on_source, journal_on_target;
        enum vs_writeback_mode tree_writeback; /* vs_durability_tree_writeback() */
        bool at_return;        /* vs_move_opts.durable_at_return */
        unsigned flushes;      /* fsync and fdatasync calls; the record's apart */
};

/* j: the move's record, NULL or not open when there is none. */
void vs_durability_init(struct vs_durability *d, const struct vs_plan *plan,
                        const struct vs_journal *j);
/* How the record's first line is made durable, before any name of ours exists. */
enum vs_journal_sync vs_durability_record_begin(const struct vs_durability *d, bool tree);
/* How the line naming the staging object's identity is. */
enum vs_journal_sync vs_durability_record_staged(const struct vs_durability *d, bool tree);
/* A file's copy (open as fd) before its install: fsync, or where ordering is enough,
 * its data written back and waited for. */
int vs_durable_copy(struct vs_durability *d, int fd);
/* A staged tree's files: written back and waited for where ordering is enough, in memory
 * nothing, else each fsynced. */
enum vs_writeback_mode vs_durability_tree_writeback(const struct vs_durability *d);
/* A staged directory, complete, where VS_WRITEBACK_FLUSH asks for it (else nothing). */
int vs_durable_staged_dir(struct vs_durability *d, int fd);

/* The staged files of a tree whose writeback is in flight (writeback.c): handed to one helper
 * thread that writes them back beside the copy, at most VS_WRITEBACK_QUEUE descriptors held
 * (inside the walker's reserve: base/walk.h). */
#define VS_WRITEBACK_QUEUE 32
struct vs_writeback {
        enum vs_writeback_mode mode;
        pthread_mutex_t lock;
        pthread_cond_t wake;       /* the helper: files queued; the caller: room again */
        pthread_t thread;
        bool threaded, no_helper, closing, helper_waiting, caller_waiting;
        int cancel_state;          /* the caller's, restored by the drain */
        int fds[VS_WRITEBACK_QUEUE];
        unsigned head, queued;     /* queued: handed over, not yet taken by the helper */
        unsigned outstanding;      /* handed over, not yet closed */
        unsigned flushes;          /* fsync calls (VS_WRITEBACK_FLUSH) */
        int error;                 /* the first failure */
};
/* Before the first file of a tree; cancellation is off until the drain. */
void vs_writeback_start(struct vs_writeback *w, enum vs_writeback_mode mode);
/* Takes the descriptor of a staged file, complete: its writeback begins. */
void vs_writeback_add(struct vs_writeback *w, int fd);
/* Waits for all of them and closes them: 0 or the first failure. */
int vs_writeback_drain(struct vs_writeback *w);
/* After the install: the target's directory, when the install needs its own flush. */
int vs_durable_installed(struct vs_durability *d, int target_dirfd);
/* After the source's removal, before the record goes: the source's directory, when the
 * record's removal or the move's durability needs it. */
int vs_durable_removed(struct vs_durability *d, int source_dirfd);
/* The flush calls made so far, the record's included. */
unsigned vs_durability_flushes(const struct vs_durability *d, const struct vs_journal *j);

/* ---- journal.c: the move's crash-recovery record (lib/journal), when opts give paths ---- */
/* Starts the durable record and names the staging object and the set-aside source (each
 * written to a buffer of size bytes); without paths in the opts, only names them (j->fd <
 * 0).  Fills *d for the filesystems of the move and the record.  -EXDEV when the move
 * cannot be journaled privately: it is then not emulated. */
int vs_move_journal_begin(const struct vs_plan *plan, enum vs_journal_kind kind,
                          struct vs_journal *j, struct vs_durability *d, char *staging,
                          char *aside, size_t size);
/* The staging object exists (open as fd, the one made at dirfd/name; or when fd < 0, what
 * dirfd/name holds): record its identity, synced as `how` says. */
int vs_move_journal_staged(struct vs_journal *j, int fd, int dirfd, const char *name,
                           enum vs_journal_sync how);
/* The staging copy is complete (fd, or dirfd/name when fd < 0): record its size and the
 * times the copy set, the evidence recovery needs before it removes the source, synced as
 * `how` says.  -EBUSY when the object is not the staging object the record names. */
int vs_move_journal_copied(struct vs_journal *j, int fd, int dirfd, const char *name,
                           enum vs_journal_sync how);
/* Wait for the record's write-out that VS_JOURNAL_SYNC_START began (none: nothing to do),
 * before a step that depends on the record: the staging name, the install. */
int vs_move_journal_ordered(struct vs_journal *j);
/* Make the record as durable as `how` says (no record: nothing to do). */
int vs_move_journal_sync(struct vs_journal *j, enum vs_journal_sync how);
/* The source is set aside (st: as it is there), a progress mark, not synced. */
void vs_move_journal_aside(struct vs_journal *j, const struct statx *st);
/* A progress mark for vault-fsck's report, not synced: recovery decides from the disk. */
void vs_move_journal_phase(struct vs_journal *j, enum vs_journal_phase phase);
/* done: the move finished or was undone, drop the record; otherwise keep it for recovery
 * (installed but the source could not be removed, or kept for a person). */
void vs_move_journal_end(struct vs_journal *j, bool done);

/* ---- aside.c: the installed move's source renamed to a hidden name to decide its fate ---- */
/* Set the source aside: 0 and *st as it is there; -ESTALE (put back) when the name led to
 * another object than the planned one; -ENOENT when the name is gone; or -errno. */
int vs_aside_take(const struct vs_side *old, const char *aside, struct statx *st);
/* Back at its name, never over anything: 0; when a new object took the name, under its
 * visible kept name (1); or -errno: it stays aside, and the record says so. */
int vs_aside_restore(const struct vs_side *old, const char *aside);
/* Remove the set-aside object if it is unchanged since `copied` (the state its copy was made
 * from; taken: right after it was set aside): 0; else it goes back (1: kept, the record
 * stays). */
int vs_aside_release(const struct vs_side *old, const char *aside, const struct statx *copied,
                     const struct statx *taken);

/* ---- file.c / tree.c: the moves themselves, after vs_plan_check() said proceed ---- */
int vs_file_move(const struct vs_plan *plan, struct vs_move_stats *stats);
/* The tree rules checked before anything is copied: every entry readable, every
 * subdirectory removable, no mount point, socket or device inside. */
int vs_tree_check(const struct vs_plan *plan);
int vs_tree_move(const struct vs_plan *plan, struct vs_move_stats *stats);
/* ---- link-memory.c: earlier moves of hard-linked files, remembered in this process ---- */
/*
 * A file of link count > 1 moved by copying leaves its other names behind; when one of them
 * is moved next onto the same filesystem, it becomes a link of that copy (link-install.c),
 * as rename(2) and GNU mv keep such pairs.  The table is per process, fixed in size (no
 * allocation), and never makes a move wait: a table held by another thread for longer than
 * a few yields is a miss, and the move copies as it did before.  When full, the entry stored
 * longest ago gives way.  Whatever it holds is verified before use.
 */
#define VS_LINK_MEMORY_SLOTS 64
#define VS_LINK_PATH_MAX 1024 /* a longer target path is not remembered */

struct vs_link_memory_entry {
        /* The source inode as its copy was made: file handle and birth time (the proof that
         * it is the same object), size, mtime and mode (that it is unchanged). */
        struct vs_identity source;
        /* The copy as installed, as proven by its own handle; copy.dev: its filesystem. */
        struct vs_identity copy;
        char copy_path[VS_LINK_PATH_MAX]; /* absolute, as the move's caller named it */
};

struct vs_link_memory {
        unsigned char busy; /* __atomic_test_and_set */
        uint64_t clock;
        /* What a lookup reads, apart from the entries: a move of a file that was never
         * remembered (nearly all of them) touches one page of the table, not its ~100 KiB,
         * whose first touch in a fresh process costs a page fault per page (~170 us). */
        struct {
                uint64_t stored; /* 0: free, else clock at the store (the oldest gives way) */
                uint64_t dev, ino; /* the entry's source inode */
        } slots[VS_LINK_MEMORY_SLOTS];
        struct vs_link_memory_entry entries[VS_LINK_MEMORY_SLOTS];
};

/* The process's table. */
struct vs_link_memory *vs_link_memory(void);
/* Store e, replacing an entry of the same source inode (dev, ino): 0, -EBUSY when the table
 * could not be taken, -ENAMETOOLONG for a copy path that does not fit, -EINVAL for an
 * entry without proof (no file handle on either side: it could never be verified). */
int vs_link_memory_put(struct vs_link_memory *m, const struct vs_link_memory_entry *e);
/* The entry for the source inode (dev, ino) into *out: 0, -ENOENT, or -EBUSY. */
int vs_link_memory_get(struct vs_link_memory *m, uint64_t dev, uint64_t ino,
                       struct vs_link_memory_entry *out);
/* Forget the entry for source (dev, ino) if it still names the copy inode copy_ino. */
void vs_link_memory_forget(struct vs_link_memory *m, uint64_t dev, uint64_t ino,
                           uint64_t copy_ino);

/* ---- link-install.c: another name of an inode moved before, installed as a link ---- */
struct vs_link_move {
        bool candidate;           /* a regular file: remembered or to remember */
        bool linked;              /* staged as a link of the earlier copy */
        struct vs_identity source; /* the source with its proof, before the copy */
};

/* A file move (its record begun): when the source is another name of an inode this process
 * moved onto new's filesystem before, and both that copy and the source are provably the
 * objects and unchanged, the staging name `temp` becomes a link of the copy, recorded as the
 * move's complete staging object: 0, *staged its statx.  1: no such copy, or not proven
 * (the caller copies; nothing is left at temp).  Or -errno: a fault's, -ESTALE when the
 * source left its name (plan again), -EBUSY when someone swapped the staging name. */
int vs_link_stage_file(const struct vs_plan *plan, const struct vs_copy_ctx *ctx,
                       struct vs_link_move *lm, struct vs_journal *j, struct vs_durability *d,
                       const char *temp, struct statx *staged);
/* After a file move's proven install (st: the source as copied): remember the copy for the
 * source's other names, or forget it once the last name has moved. */
void vs_link_installed_file(const struct vs_plan *plan, const struct vs_link_move *lm,
                            const struct statx *st, const struct statx *staged);
/* Inside a tree: the entry src_dirfd/name (st) of link count > 1, met for the first time in
 * this tree, linked as dst_dirfd/name from a copy this process made before (*linked), else
 * nothing done (0).  Only a fault's -errno fails. */
int vs_link_stage_tree_entry(int src_dirfd, const char *name, const struct statx *st,
                             int dst_dirfd, bool *linked);
/* Inside a tree, after src_dirfd/name (st: as copied) was copied to dst_dirfd/name: remember
 * the copy under target_path (the tree's target) + "/" + rel, its name once installed. */
void vs_link_staged_tree_entry(int src_dirfd, const char *name, const struct statx *st,
                               int dst_dirfd, const char *target_path, const char *rel);

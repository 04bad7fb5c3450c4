/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The move engine: a rename(2) across two mounts of the same vault, emulated as
 * copy -> fsync -> atomic install -> unlink so that the caller cannot tell it from the
 * kernel's rename (same return value, same errno precedence, same resulting tree).
 *
 * libc only; linked whole into libvaultshim.so and usable by tools (vault-fsck).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <vaultshim/export.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

/* Every temporary name the engine creates starts with this prefix (a hidden dot-name in
 * the target's directory), so recovery tools can recognise residue. */
#define VS_TEMP_PREFIX ".vaultshim-"
#define VS_TEMP_FILE_PREFIX ".vaultshim-tmp-"
#define VS_TEMP_STAGE_PREFIX ".vaultshim-stage-"
#define VS_TEMP_ASIDE_PREFIX ".vaultshim-aside-" /* the source, set aside during a move */

/* How file data reached the target (OR-ed over the files of a tree). */
enum vs_copy_method {
        VS_METHOD_REFLINK = 1u << 0,         /* ioctl(FICLONE) */
        VS_METHOD_COPY_FILE_RANGE = 1u << 1, /* copy_file_range(2), may reflink in-kernel */
        VS_METHOD_READ_WRITE = 1u << 2,      /* pread/pwrite through a buffer */
        VS_METHOD_HARDLINK = 1u << 3,        /* a link of the copy of another name, moved by
                                                an earlier call (no data copied) */
};

/* Metadata the target's filesystem could not hold, dropped as GNU mv drops it (the move
 * succeeds); OR-ed over the objects of a tree. */
enum vs_dropped {
        VS_DROPPED_XATTRS = 1u << 0,    /* extended attributes */
        VS_DROPPED_ACL = 1u << 1,       /* POSIX ACLs (the mode bits stay) */
        VS_DROPPED_MODE = 1u << 2,      /* permission bits */
        VS_DROPPED_OWNER = 1u << 3,     /* owner or group */
        VS_DROPPED_TIMES = 1u << 4,     /* modification time not set at all */
        VS_DROPPED_TIME_NSEC = 1u << 5, /* kept at a coarser precision (sshfs: seconds) */
};

/* What an emulated move did; filled by vs_move() when opts->stats is set. */
#define VS_MOVE_STEP_SLOTS 24

struct vs_move_stats {
        uint64_t bytes;     /* file data bytes copied (holes excluded) */
        uint64_t entries;   /* objects created at the target (1 for a file) */
        unsigned methods;   /* OR of enum vs_copy_method; 0 when no data was copied */
        mode_t type;        /* S_IFREG, S_IFDIR, S_IFLNK or S_IFIFO of the source; 0 if none */
        unsigned dropped;   /* OR of enum vs_dropped */
        unsigned flushes;   /* fsync, fdatasync and syncfs calls the move made (its record's
                               included; sync_file_range, which never flushes, is not) */
        const char *not_emulated; /* the move was not emulated and the caller gets the
                                     kernel's EXDEV: why (a VS_NOT_EMULATED_* word); else NULL */
        /* Nanoseconds from reaching each step of the move to reaching the next, summed over
         * its retries: VAULTSHIM_LOG's "steps" (vaultshim(7) names them). */
        uint64_t step_ns[VS_MOVE_STEP_SLOTS];
};

/* Why a move between two paths under the roots is not emulated (the kernel's EXDEV passes
 * through, nothing changes): the "reason" of a "not-emulated" line of VAULTSHIM_LOG. */
#define VS_NOT_EMULATED_FLAGS "flags"               /* RENAME_EXCHANGE, RENAME_WHITEOUT */
#define VS_NOT_EMULATED_NO_JOURNAL "no-journal"     /* no journal location configured */
#define VS_NOT_EMULATED_JOURNAL_UNUSABLE "journal-unusable" /* cannot be made, not ours alone,
                                                               or a side's mount unknown */
#define VS_NOT_EMULATED_MOUNT_POINT "mount-point"   /* a mount point, or one inside a tree */
#define VS_NOT_EMULATED_SPECIAL "special-file"      /* a socket or a device */
#define VS_NOT_EMULATED_TOO_DEEP "too-deep"         /* a tree deeper than the fd budget */
/* A journal that is not private: "journal-personal-unknown", "journal-outside-personal",
 * "journal-on-other-mount" (lib/journal/journal.h, vs_journal_check_place). */

struct vs_move_opts {
        struct vs_move_stats *stats; /* optional out-parameter, also written on failure */
        /* Absolute source and target paths and the private journal directory: with them
         * the move keeps a crash-recovery record (vaultshim(7), vault-fsck(8)), and without
         * a journal it is not emulated (-EXDEV).  NULL paths: no journal (tests only). */
        const char *source_path;
        const char *target_path;
        const char *journal_dir;
        bool journal_transient; /* the journal directory is inside a vault mount: removed
                                   whenever it is empty, so that it leaves no trace */
        /* CLOCK_MONOTONIC milliseconds at the entry into the caller's rename() (0: at the
         * entry into vs_move()).  Every wait of the move, over all its re-plans and retries,
         * ends VS_MOVE_BOUND_MS after it. */
        uint64_t started_ms;
        /* Durable when rename() returns (VAULTSHIM_DURABLE=return): one flush more where the
         * filesystem's own order would leave the move to its next commit, as the kernel's
         * rename does (vaultshim(7), DURABILITY). */
        bool durable_at_return;
};

/* One deadline per call: what another user can make a move wait for (a lock file held in a
 * shared folder, a note re-saved under the move again and again) ends this long after the
 * entry into rename(), and the move then fails with EBUSY having changed nothing
 * (vaultshim(7)). */
#define VS_MOVE_BOUND_MS 3000

/*
 * Move old (relative to olddirfd) to new (relative to newdirfd) as renameat2(2) would,
 * by copying.  flags: 0 or RENAME_NOREPLACE; anything else returns -EXDEV (the caller's
 * original failure).  Returns 0, or the negative errno the kernel would have returned for
 * a same-mount rename; -EXDEV also for what cannot be emulated (mount points, sockets,
 * devices, trees deeper than the fd budget).  A failure before the install step leaves the
 * source untouched and no temporary file behind.  opts may be NULL.
 */
VS_EXPORT int vs_move(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                      unsigned flags, const struct vs_move_opts *opts);

/* "reflink", "copy_file_range", "read_write", "hardlink", "none", or "mixed" for a
 * combination. */
VS_EXPORT const char *vs_copy_method_name(unsigned methods);

/* The name of one enum vs_dropped bit ("xattrs", "acl", "mode", "owner", "times",
 * "time-nsec"), NULL for anything else. */
const char *vs_dropped_name(unsigned bit);

/* One line of the VAULTSHIM_LOG audit log. */
struct vs_log_record {
        const char *src;            /* absolute paths where known */
        const char *dst;
        const struct vs_move_stats *stats;
        int result;                 /* 0 or negative errno, as returned by vs_move() */
        uint64_t duration_ns;
};

/*
 * Append one JSON line {"time","pid","src","dst","type","bytes","entries","method",
 * "flushes","duration_ns","steps":{step:microseconds},"result","errno","dropped":[names]}
 * to log_path with a single O_APPEND write, so concurrent writers never interleave; "result"
 * is "ok", "error", or "not-emulated" followed by "reason" (stats->not_emulated).  Returns 0
 * or a negative errno.
 */
VS_EXPORT int vs_log_append(const char *log_path, const struct vs_log_record *rec);

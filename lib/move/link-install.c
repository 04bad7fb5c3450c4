/* SPDX-License-Identifier: MIT */
/*
 * Hard links kept across separate renames.  `mv f g DIR` renames f, then g: two calls, and
 * across mounts each would be copied on its own, splitting one inode into two.  So the first
 * copy of a source inode with other names is remembered (link-memory.c), and when a later
 * call moves another name of it onto the same filesystem, the staging name becomes a link
 * of that copy instead of a second copy.  Everything after the staging is the file move's
 * own (file.c): the record names the link as the complete staging object, the same
 * renameat2 installs it (RENAME_NOREPLACE and the kernel's errno order kept: the plan's
 * checks ran before, the install is unchanged), and the source goes as any moved source.
 *
 * A link is made only from proof, since the copy sits in a folder others write to and the
 * source may have been written since: the source is the remembered inode by its file
 * handle and birth time, with the size, mtime and mode it had when copied; the copy, opened
 * by its remembered path, is the remembered object by its own handle, with the size, mtime
 * and mode it was installed with.  A copy renamed, modified or deleted since, a source
 * written to, a filesystem without handles: the move copies, as it did before, and the pair
 * stays split.  The link is made from the descriptor that was proven (/proc/self/fd), so
 * the name cannot be swapped between the proof and the link.
 *
 * Recovery needs nothing new: the staging object is a name of the copy, so removing it
 * (rolling back) removes that name only, and a link install rolled forward leaves the
 * copy's other name as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "move/internal.h"

static uint64_t dev_of(const struct statx *st)
{
        return makedev(st->stx_dev_major, st->stx_dev_minor);
}

/* The object is provably the remembered one, and what a link shares is as remembered. */
static bool same_state(const struct vs_identity *was, const struct vs_identity *now)
{
        return vs_identity_proven(was, now) && vs_identity_same_content(was, now) &&
               was->mode == now->mode;
}

/* dirfd/name's identity with its proof, when it is the object st describes. */
static bool proven_identity(int dirfd, const char *name, const struct statx *st,
                            struct vs_identity *out)
{
        return vs_identity_at_cached(dirfd, name, out) == 0 && out->ino == st->stx_ino &&
               out->dev == dev_of(st) && vs_identity_has_proof(out);
}

/* The state st (as copied) with the proof of the same object. */
static void identity_as(struct vs_identity *out, const struct vs_identity *proof,
                        const struct statx *st)
{
        vs_identity_from_statx(out, st);
        out->has_btime = proof->has_btime;
        out->btime_sec = proof->btime_sec;
        out->btime_nsec = proof->btime_nsec;
        out->handle_type = proof->handle_type;
        out->handle_len = proof->handle_len;
        memcpy(out->handle, proof->handle, proof->handle_len);
}

/* The remembered copy, opened (O_PATH) and proven: its fd; -EXDEV on another filesystem
 * than target_dev (the entry stays for a move there), -ESTALE when it is not provably the
 * copy as installed (renamed, modified, deleted), or -errno. */
static int open_copy(const struct vs_link_memory_entry *e, uint64_t target_dev)
{
        if (e->copy.dev != target_dev)
                return -EXDEV;
        int fd = open(e->copy_path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? -ESTALE : -errno;
        struct vs_identity now;
        if (vs_identity_of_fd(fd, &now) < 0 || !same_state(&e->copy, &now)) {
                close(fd);
                return -ESTALE;
        }
        return fd;
}

/* A new name dirfd/name for the object open as fd, which may be an O_PATH descriptor:
 * through its /proc link, which needs no privilege as AT_EMPTY_PATH would. */
static int link_fd(int fd, int dirfd, const char *name)
{
        char proc[32];
        struct vs_buf b;
        vs_buf_init(&b, proc, sizeof(proc));
        vs_buf_puts(&b, "/proc/self/fd/");
        vs_buf_putu(&b, (uint64_t)fd, 0);
        if (b.overflow)
                return -ENAMETOOLONG;
        return linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}

/* The remembered copy of the source inode st (found by the caller's lookup into *e), proven
 * with the source's identity now (source): its fd open, or -errno (the move copies). */
static int proven_copy(const struct vs_link_memory_entry *e, const struct vs_identity *source,
                       uint64_t target_dev)
{
        struct vs_link_memory *m = vs_link_memory();
        if (!same_state(&e->source, source)) {
                /* written to, or another file given the number: that copy is history */
                vs_link_memory_forget(m, e->source.dev, e->source.ino, e->copy.ino);
                return -ESTALE;
        }
        int fd = open_copy(e, target_dev);
        if (fd == -ESTALE)
                vs_link_memory_forget(m, e->source.dev, e->source.ino, e->copy.ino);
        return fd;
}

/* The staging name no longer needed: removed if it is still the link made (else it is not
 * ours to remove: -EBUSY, nothing installed). */
static int unstage(int dirfd, const char *temp, const struct statx *staged)
{
        struct statx now;
        if (vs_statx(dirfd, temp, &now) < 0 || !vs_same_inode(&now, staged))
                return -EBUSY;
        (void)unlinkat(dirfd, temp, 0);
        return 1;
}

int vs_link_stage_file(const struct vs_plan *plan, const struct vs_copy_ctx *ctx,
                       struct vs_link_move *lm, struct vs_journal *j, struct vs_durability *d,
                       const char *temp, struct statx *staged)
{
        const struct vs_side *old = &plan->old, *new = &plan->new;
        *lm = (struct vs_link_move){ 0 };
        if (!S_ISREG(old->st.stx_mode) || ctx->caps.stable_inodes == VS_CAP_NO ||
            ctx->src_caps.stable_inodes == VS_CAP_NO)
                return 1;
        struct vs_link_memory_entry e;
        bool known = vs_link_memory_get(vs_link_memory(), dev_of(&old->st), old->st.stx_ino,
                                        &e) == 0;
        if (!known && old->st.stx_nlink < 2)
                return 1;
        if (!proven_identity(old->dirfd, old->path.last, &old->st, &lm->source))
                return 1;
        lm->candidate = true;
        /* The target is that copy already: the install would be a rename of one inode onto
         * itself, which the kernel does nothing for (the staging name would stay). */
        if (!known || (new->exists && new->st.stx_ino == e.copy.ino &&
                       dev_of(&new->st) == e.copy.dev))
                return 1;
        int fd = proven_copy(&e, &lm->source, dev_of(&new->dir));
        if (fd < 0)
                return 1;
        /* *staged is the copy from here on: whatever else the staging name may come to
         * hold is never taken for ours, by this file or by the caller's cleanup. */
        if (vs_statx(fd, "", staged) < 0) {
                close(fd);
                return 1;
        }
        int r = vs_fault_at(VS_STEP_TEMP_CREATE);
        int linked = r == 0 ? link_fd(fd, new->dirfd, temp) : r;
        close(fd);
        if (r < 0)
                return r;
        if (linked < 0)
                return 1; /* EMLINK, protected_hardlinks, another mount of the filesystem... */

        /* From here as a copy would be: named in the record, then recorded complete. */
        struct statx now;
        r = vs_statx(new->dirfd, temp, &now);
        if (r == 0 && !vs_same_inode(&now, staged))
                return -EBUSY; /* swapped already: not ours, and never installed */
        if (r == 0)
                *staged = now;
        if (r == 0)
                r = vs_move_journal_staged(j, -1, new->dirfd, temp, VS_JOURNAL_SYNC_NONE);
        /* The copy's data was made durable by its own move, before its install. */
        if (r == 0)
                r = vs_move_journal_copied(j, -1, new->dirfd, temp,
                                           vs_durability_record_staged(d, false));
        if (r == 0)
                r = vs_fault_at(VS_STEP_VERIFY_SOURCE);
        if (r == 0)
                r = vs_statx(old->dirfd, old->path.last, &now);
        if (r == 0 && !vs_unchanged_on(&ctx->src_caps, &old->st, &now)) {
                /* Written (or replaced) since the plan: the copy no longer is the source's. */
                vs_link_memory_forget(vs_link_memory(), e.source.dev, e.source.ino, e.copy.ino);
                return unstage(new->dirfd, temp, staged);
        }
        if (r < 0) {
                (void)unstage(new->dirfd, temp, staged);
                return r == -ENOENT ? -ESTALE : r; /* the source went: plan again */
        }
        lm->linked = true;
        return 0;
}

void vs_link_installed_file(const struct vs_plan *plan, const struct vs_link_move *lm,
                            const struct statx *st, const struct statx *staged)
{
        const struct vs_side *old = &plan->old, *new = &plan->new;
        if (!lm->candidate)
                return;
        struct vs_link_memory *m = vs_link_memory();
        if (lm->linked) {
                /* Its last name has moved: nothing is left to link. */
                if (old->st.stx_nlink < 2)
                        vs_link_memory_forget(m, dev_of(&old->st), old->st.stx_ino,
                                              staged->stx_ino);
                return;
        }
        if (old->st.stx_nlink < 2 || !plan->opts || !plan->opts->target_path)
                return;
        struct vs_link_memory_entry e;
        identity_as(&e.source, &lm->source, st);
        /* The installed copy as the install proved it, with its own proof. */
        if (vs_identity_at(new->dirfd, new->path.last, &e.copy) < 0 ||
            e.copy.ino != staged->stx_ino || e.copy.size != (int64_t)staged->stx_size ||
            e.copy.mtime_sec != staged->stx_mtime.tv_sec ||
            e.copy.mtime_nsec != staged->stx_mtime.tv_nsec)
                return;
        size_t len = strlen(plan->opts->target_path);
        if (len >= sizeof(e.copy_path))
                return;
        memcpy(e.copy_path, plan->opts->target_path, len + 1);
        (void)vs_link_memory_put(m, &e); /* busy or unprovable: the next name is copied */
}

int vs_link_stage_tree_entry(int src_dirfd, const char *name, const struct statx *st,
                             int dst_dirfd, bool *linked)
{
        *linked = false;
        struct vs_link_memory_entry e;
        if (!S_ISREG(st->stx_mode) ||
            vs_link_memory_get(vs_link_memory(), dev_of(st), st->stx_ino, &e) < 0)
                return 0;
        struct vs_identity source;
        struct statx dir;
        if (!proven_identity(src_dirfd, name, st, &source) || vs_statx(dst_dirfd, "", &dir) < 0)
                return 0;
        /* As walked, too: the tree's removal compares the copy with the source as walked. */
        struct vs_identity walked;
        identity_as(&walked, &source, st);
        int fd = proven_copy(&e, &walked, dev_of(&dir));
        if (fd < 0)
                return 0;
        *linked = link_fd(fd, dst_dirfd, name) == 0;
        close(fd);
        return 0;
}

void vs_link_staged_tree_entry(int src_dirfd, const char *name, const struct statx *st,
                               int dst_dirfd, const char *target_path, const char *rel)
{
        struct vs_link_memory_entry e;
        struct vs_identity source;
        if (!S_ISREG(st->stx_mode) || st->stx_nlink < 2 || !target_path ||
            !proven_identity(src_dirfd, name, st, &source))
                return;
        identity_as(&e.source, &source, st);
        /* The staged copy carries the source's size and mtime; its install keeps its inode. */
        if (vs_identity_at(dst_dirfd, name, &e.copy) < 0 || !S_ISREG(e.copy.mode) ||
            e.copy.size != e.source.size ||
            e.copy.mtime_sec != e.source.mtime_sec || e.copy.mtime_nsec != e.source.mtime_nsec)
                return;
        struct vs_buf b;
        vs_buf_init(&b, e.copy_path, sizeof(e.copy_path));
        vs_buf_puts(&b, target_path);
        vs_buf_puts(&b, "/");
        vs_buf_puts(&b, rel);
        if (!b.overflow)
                (void)vs_link_memory_put(vs_link_memory(), &e);
}

/* SPDX-License-Identifier: MIT */
/*
 * Directory moves: check the whole tree, stage a complete copy in a hidden directory
 * beside the target, make it durable (every file written back: writeback.c, durable.c),
 * install it with one rename, and only then remove the source entries that the installed
 * copy matches.
 *
 * Each file costs five statx, each with its own job, and walks keep no per-entry memory
 * (bounded by depth), so none can stand in for another:
 *  1. the check walk: mount, type, owner and attributes, before anything is copied;
 *  2. the copy walk: what is about to be copied, the baseline of the writer check;
 *  3. the same file through the fd the copy read (node.c): no writer during the copy;
 *  4. the removal walk: the set-aside source now (written after its copy?);
 *  5. the installed copy now (still there and still the source's size and time?).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "base/remove.h"
#include "move/internal.h"

/* A tree deeper than the walker's descriptor budget is not emulated: the kernel's EXDEV
 * stands, before anything changed (or, removing the source, with what is left kept). */
static int too_deep(void *ctx, const struct vs_walk_entry *e)
{
        return vs_not_emulated(VS_NOT_EMULATED_TOO_DEEP);
}

/* ---- the checks made before anything is copied ---- */

struct tree_check {
        const struct vs_creds *creds;
        uint64_t mnt_id;
        const struct statx *target_dir; /* the target's parent */
        struct statx writable_dir; /* last directory found writable (its entries may go) */
        bool have_writable_dir;
};

static int check_entry(void *ctx, const struct vs_walk_entry *e)
{
        struct tree_check *c = ctx;
        mode_t mode = e->st->stx_mode;
        if (e->st->stx_mnt_id != c->mnt_id || (e->st->stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return vs_not_emulated(VS_NOT_EMULATED_MOUNT_POINT); /* never copy a mount */
        if (!(S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode) || S_ISFIFO(mode)))
                return vs_not_emulated(VS_NOT_EMULATED_SPECIAL); /* sockets and devices */
        /* The target's directory inside the source tree, reached through a bind mount of a
         * subdirectory that ".." cannot see past: the kernel's EINVAL, before any copy into
         * itself. */
        if (S_ISDIR(mode) && vs_same_inode(e->st, c->target_dir))
                return -EINVAL;

        /* Removing this entry later needs W on its directory and the unlink rules. */
        if (!c->have_writable_dir || !vs_same_inode(&c->writable_dir, e->dir_st)) {
                int r = c->creds->cap_dac_override
                                ? (e->dir_st->stx_attributes & STATX_ATTR_IMMUTABLE ? -EPERM : 0)
                                : vs_access(e->dirfd, "", W_OK | X_OK);
                if (r < 0)
                        return r;
                c->writable_dir = *e->dir_st;
                c->have_writable_dir = true;
        }
        int r = vs_check_unlinkable(c->creds, e->dir_st, e->st);
        if (r < 0 || c->creds->cap_dac_override)
                return r;
        if (S_ISREG(mode))
                return vs_access(e->dirfd, e->name, R_OK);
        if (S_ISDIR(mode))
                return vs_access(e->dirfd, e->name, R_OK | X_OK);
        return 0;
}

static int open_source_dir(const struct vs_plan *plan)
{
        int fd = openat(plan->old.dirfd, plan->old.path.last,
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int vs_tree_check(const struct vs_plan *plan)
{
        int fd = open_source_dir(plan);
        if (fd < 0)
                return fd;
        struct tree_check check = { .creds = &plan->creds, .mnt_id = plan->old.st.stx_mnt_id,
                                    .target_dir = &plan->new.dir };
        static const struct vs_walk_ops ops = {
                .enter = check_entry, .leaf = check_entry, .too_deep = too_deep,
        };
        int r = vs_access(fd, "", R_OK | X_OK);
        if (r == 0)
                r = vs_walk_tree(fd, &plan->old.st, &ops, &check);
        close(fd);
        return r;
}

/* ---- removal: the source entries matched by the installed copy ---- */

struct tree_remove {
        int *target_fds; /* by depth */
        unsigned dropped; /* what the copies could not hold (their time precision) */
        struct timespec staged_from; /* copies began; a later change keeps the source */
        bool source_times_unstable;  /* rclone: only sizes can be compared */
        size_t cap;
        unsigned open_depth;
};

/* A copy with coarse times (sshfs keeps seconds) cannot show a write in the same second:
 * the source's own mtime can, against when the copying began (less one tick of the
 * kernel's coarse clock).  Not its ctime: removing one name of a hard-linked source
 * changes the other's. */
static bool changed_since(const struct tree_remove *rm, const struct statx *st)
{
        if (rm->source_times_unstable ||
            !(rm->dropped & (VS_DROPPED_TIMES | VS_DROPPED_TIME_NSEC)))
                return false;
        int64_t mtime_ns = (int64_t)st->stx_mtime.tv_sec * 1000000000 + st->stx_mtime.tv_nsec;
        int64_t from_ns = (int64_t)rm->staged_from.tv_sec * 1000000000 +
                          rm->staged_from.tv_nsec - 10 * 1000000;
        return mtime_ns >= from_ns;
}

static int remove_enter(void *ctx, const struct vs_walk_entry *e)
{
        struct tree_remove *rm = ctx;
        if (e->depth >= rm->cap) {
                size_t cap = rm->cap * 2;
                int *grown = realloc(rm->target_fds, cap * sizeof(*grown));
                if (!grown)
                        return VS_WALK_SKIP;
                rm->target_fds = grown;
                rm->cap = cap;
        }
        int fd = openat(rm->target_fds[e->depth - 1], e->name,
                        O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return VS_WALK_SKIP; /* no copy to compare with: keep the source */
        rm->target_fds[e->depth] = fd;
        rm->open_depth = e->depth;
        return 0;
}

static int remove_leaf(void *ctx, const struct vs_walk_entry *e)
{
        struct tree_remove *rm = ctx;
        struct statx copy;
        if (vs_statx(rm->target_fds[e->depth - 1], e->name, &copy) < 0 ||
            !vs_copy_matches(e->st, &copy,
                             rm->dropped | (rm->source_times_unstable ? VS_DROPPED_TIMES : 0)) ||
            changed_since(rm, e->st))
                return 0; /* changed or new since the copy: keep it */
        int r = vs_fault_at(VS_STEP_UNLINK_SOURCE);
        if (r < 0)
                return r;
        (void)unlinkat(e->dirfd, e->name, 0);
        return 0;
}

static int remove_leave(void *ctx, const struct vs_walk_entry *e)
{
        struct tree_remove *rm = ctx;
        close(rm->target_fds[e->depth]);
        rm->open_depth = e->depth - 1;
        (void)unlinkat(e->dirfd, e->name, AT_REMOVEDIR); /* ENOTEMPTY: something was kept */
        return 0;
}

static const struct vs_walk_ops remove_ops = {
        .enter = remove_enter, .leaf = remove_leaf, .leave = remove_leave, .too_deep = too_deep,
};

/* Once the copy is installed: the source is set aside, and its entries go only when the
 * installed copy matches them; the rest goes back to its name.  Returns the fault, if any
 * (the source then back at its name too).  *kept: something stayed hidden (its name and the
 * kept name taken, or an error): the record reports it. */
static int remove_source(const struct vs_plan *plan, int source_fd, const char *aside,
                         const struct vs_copy_ctx *copy, const struct timespec *staged_from,
                         bool *kept)
{
        struct tree_remove rm = {
                .cap = 16, .dropped = copy->dropped, .staged_from = *staged_from,
                .source_times_unstable = copy->src_caps.stable_times == VS_CAP_NO,
        };
        struct statx taken;
        *kept = false;
        int r = vs_fault_at(VS_STEP_ASIDE);
        if (r == 0)
                r = vs_aside_take(&plan->old, aside, &taken);
        if (r == -ESTALE || r == -ENOENT)
                return 0; /* moved or replaced by someone since the copy: nothing of ours */
        if (r < 0)
                return r;
        rm.target_fds = calloc(rm.cap, sizeof(*rm.target_fds));
        if (!rm.target_fds)
                r = -ENOMEM;
        else
                rm.target_fds[0] = openat(plan->new.dirfd, plan->new.path.last,
                                          O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rm.target_fds && rm.target_fds[0] >= 0) {
                r = vs_walk_tree(source_fd, &plan->old.st, &remove_ops, &rm);
                while (rm.open_depth > 0)
                        close(rm.target_fds[rm.open_depth--]);
                close(rm.target_fds[0]);
        }
        free(rm.target_fds);
        struct statx now;
        if (vs_statx(plan->old.dirfd, aside, &now) == 0 &&
            vs_same_object_on(&copy->src_caps, &now, &plan->old.st) &&
            (r < 0 || unlinkat(plan->old.dirfd, aside, AT_REMOVEDIR) < 0)) {
                /* Kept entries go back to where they were, beside nothing of ours. */
                *kept = vs_aside_restore(&plan->old, aside) != 0;
        }
        return r;
}

/* ---- staging ---- */

struct tree_copy {
        int *dst_fds;      /* by depth; [0] is the staging directory */
        size_t *path_lens; /* by depth: length of path for that directory */
        size_t cap;
        unsigned open_depth;
        struct vs_copy_ctx copy;
        struct vs_writeback *writeback; /* takes each staged file (writeback.c) */
        struct vs_durability *durability;
        uint64_t entries;
        struct vs_links links;
        const char *target_path; /* the tree's, absolute (link-install.c); NULL: unknown */
        char path[PATH_MAX];   /* the current directory, relative to the staging directory */
        unsigned too_long_from; /* depth where path outgrew PATH_MAX (links below copied) */
};

/* path + "/" + name, or false when it does not fit. */
static bool join_path(const struct tree_copy *tc, size_t len, const char *name, char *out)
{
        struct vs_buf b;
        vs_buf_init(&b, out, PATH_MAX);
        if (tc->too_long_from)
                return false;
        memcpy(out, tc->path, len);
        b.len = len;
        out[len] = '\0';
        if (len)
                vs_buf_puts(&b, "/");
        vs_buf_puts(&b, name);
        return !b.overflow;
}

static int copy_enter(void *ctx, const struct vs_walk_entry *e)
{
        struct tree_copy *tc = ctx;
        int r = vs_fault_at(VS_STEP_STAGE_ENTRY);
        if (r < 0)
                return r;
        if (e->depth >= tc->cap) {
                size_t cap = tc->cap * 2;
                int *grown = realloc(tc->dst_fds, cap * sizeof(*grown));
                if (grown)
                        tc->dst_fds = grown;
                size_t *lens = realloc(tc->path_lens, cap * sizeof(*lens));
                if (lens)
                        tc->path_lens = lens;
                if (!grown || !lens)
                        return -ENOMEM;
                tc->cap = cap;
        }
        int parent = tc->dst_fds[e->depth - 1];
        if (mkdirat(parent, e->name, S_IRWXU) < 0)
                return -errno;
        int fd = openat(parent, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        tc->dst_fds[e->depth] = fd;
        tc->open_depth = e->depth;
        tc->entries++;
        char joined[PATH_MAX];
        if (join_path(tc, tc->path_lens[e->depth - 1], e->name, joined)) {
                strcpy(tc->path, joined);
                tc->path_lens[e->depth] = strlen(joined);
        } else if (!tc->too_long_from) {
                tc->too_long_from = e->depth;
        }
        return 0;
}

/* A further name of an inode already copied into the staging tree: link it there too; or
 * of one this process moved by an earlier call: a link of that copy (link-install.c). */
static int copy_hard_link(struct tree_copy *tc, const struct vs_walk_entry *e, bool *linked)
{
        *linked = false;
        if (!S_ISREG(e->st->stx_mode))
                return 0;
        const char *first = e->st->stx_nlink < 2 ? NULL : vs_links_find(&tc->links, e->st);
        if (first) {
                if (linkat(tc->dst_fds[0], first, tc->dst_fds[e->depth - 1], e->name, 0) < 0)
                        return -errno;
                *linked = true;
                return 0;
        }
        int r = vs_link_stage_tree_entry(e->dirfd, e->name, e->st, tc->dst_fds[e->depth - 1],
                                         linked);
        if (*linked)
                tc->copy.methods |= VS_METHOD_HARDLINK;
        char joined[PATH_MAX];
        if (r < 0 || e->st->stx_nlink < 2 ||
            !join_path(tc, tc->path_lens[e->depth - 1], e->name, joined))
                return r;
        return vs_links_add(&tc->links, e->st, joined);
}

static int copy_leaf(void *ctx, const struct vs_walk_entry *e)
{
        struct tree_copy *tc = ctx;
        int r = vs_fault_at(VS_STEP_STAGE_ENTRY);
        if (r < 0)
                return r;
        bool linked;
        r = copy_hard_link(tc, e, &linked);
        if (r < 0 || linked) {
                tc->entries += linked;
                return r;
        }
        struct statx st = *e->st;
        int fd = -1;
        for (int attempt = 0; attempt < 3; attempt++) {
                r = vs_node_copy(e->dirfd, e->name, &st, tc->dst_fds[e->depth - 1], e->name,
                                 &tc->copy, &fd);
                if (r != -EAGAIN)
                        break;
                r = vs_statx(e->dirfd, e->name, &st); /* written meanwhile: copy again */
                if (r < 0)
                        return r;
                r = -EAGAIN;
        }
        if (fd >= 0)
                vs_writeback_add(tc->writeback, fd);
        char rel[PATH_MAX];
        if (r == 0 && st.stx_nlink > 1 && join_path(tc, tc->path_lens[e->depth - 1], e->name, rel))
                vs_link_staged_tree_entry(e->dirfd, e->name, &st, tc->dst_fds[e->depth - 1],
                                          tc->target_path, rel);
        if (r == 0)
                tc->entries++;
        return r;
}

static int copy_leave(void *ctx, const struct vs_walk_entry *e)
{
        struct tree_copy *tc = ctx;
        int fd = tc->dst_fds[e->depth];
        /* Directory times last: creating the children changed them. */
        int r = vs_attrs_copy(e->fd, fd, -1, NULL, e->st, &tc->copy.hints);
        if (r == 0)
                r = vs_durable_staged_dir(tc->durability, fd);
        close(fd);
        tc->open_depth = e->depth - 1;
        if (!tc->too_long_from)
                tc->path[tc->path_lens[e->depth - 1]] = '\0';
        else if (tc->too_long_from == e->depth)
                tc->too_long_from = 0;
        return r;
}

/* The caller's umask, read without changing it (umask(2) would, for every thread): false
 * when /proc does not show it. */
static bool read_umask(mode_t *out)
{
        char buf[512];
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        const char *p = strstr(buf, "\nUmask:\t");
        if (!p)
                return false;
        mode_t mask = 0;
        for (p += strlen("\nUmask:\t"); *p >= '0' && *p <= '7'; p++)
                mask = (mode_t)(mask * 8 + (mode_t)(*p - '0'));
        *out = mask & 0777;
        return *p == '\n';
}

static int stage_tree(const struct vs_plan *plan, int source_fd, int stage_fd,
                      struct tree_copy *tc, struct vs_durability *d, struct vs_journal *journal)
{
        struct vs_writeback writeback = { 0 };
        static const struct vs_walk_ops ops = {
                .enter = copy_enter, .leaf = copy_leaf, .leave = copy_leave,
                .too_deep = too_deep,
        };
        /* Everything created below the staging directory gets its owner, and inherits a
         * default ACL only if the staging directory inherited one. */
        struct statx stage;
        int r = vs_statx(stage_fd, "", &stage);
        if (r < 0)
                return r;
        /* The staging directory itself may have inherited a default ACL, and its owner
         * is the source's to restore. */
        struct vs_attr_hints stage_hints = tc->copy.hints;
        tc->copy.hints.owner_known = true;
        tc->copy.hints.uid = stage.stx_uid;
        tc->copy.hints.gid = stage.stx_gid;
        tc->copy.hints.no_inherited_acl = flistxattr(stage_fd, NULL, 0) == 0;
        /* Nobody but the mover enters the staging directory (S_IRWXU until its own attributes
         * come last): its files may carry their modes from the start. */
        tc->copy.hints.create_with_mode = read_umask(&tc->copy.hints.umask);
        tc->cap = 16;
        tc->dst_fds = calloc(tc->cap, sizeof(*tc->dst_fds));
        tc->path_lens = calloc(tc->cap, sizeof(*tc->path_lens));
        if (!tc->dst_fds || !tc->path_lens) {
                free(tc->dst_fds);
                free(tc->path_lens);
                return -ENOMEM;
        }
        tc->dst_fds[0] = stage_fd;
        tc->durability = d;
        tc->writeback = &writeback;
        vs_writeback_start(&writeback, vs_durability_tree_writeback(d));
        r = vs_walk_tree(source_fd, &plan->old.st, &ops, tc);
        while (tc->open_depth > 0)
                close(tc->dst_fds[tc->open_depth--]);
        free(tc->dst_fds);
        free(tc->path_lens);
        vs_links_free(&tc->links);
        tc->dst_fds = NULL;
        tc->path_lens = NULL;
        /* The staged files on the disk before the install can be: each written back and
         * waited for where the filesystem keeps that order, else each flushed (writeback.c). */
        int w = vs_writeback_drain(&writeback);
        d->flushes += writeback.flushes;
        tc->writeback = NULL;
        if (r == 0)
                r = w;
        if (r == 0)
                r = vs_attrs_copy(source_fd, stage_fd, -1, NULL, &plan->old.st, &stage_hints);
        /* Complete: the record says so; the staging directory's own entries are flushed
         * where the files were. */
        if (r == 0)
                r = vs_move_journal_copied(journal, stage_fd, -1, NULL,
                                           vs_durability_record_staged(d, true));
        if (r == 0)
                r = vs_fault_at(VS_STEP_STAGE_SYNC);
        if (r == 0)
                r = vs_durable_staged_dir(d, stage_fd);
        return r;
}

int vs_tree_move(const struct vs_plan *plan, struct vs_move_stats *stats)
{
        const struct vs_side *old = &plan->old, *new = &plan->new;
        char stage[NAME_MAX + 1], aside[NAME_MAX + 1];
        const char *built = stage; /* the staging directory, or the target built in place */
        int stage_fd = -1, r;
        bool staged = false, installed = false, kept = false;
        bool in_place = false;
        struct tree_copy tc = { 0 };
        struct vs_journal journal = { .fd = -1, .dirfd = -1 };
        struct vs_durability d = { 0 };
        vs_copy_ctx_init(&tc.copy, plan);
        tc.copy.planned_fresh = true;
        tc.target_path = plan->opts ? plan->opts->target_path : NULL;

        int source_fd = open_source_dir(plan);
        if (source_fd < 0)
                return source_fd;
        r = vs_move_journal_begin(plan, VS_JOURNAL_TREE, &journal, &d, stage, aside,
                                  sizeof(stage));
        if (r == 0)
                r = vs_fault_at(VS_STEP_STAGE_CREATE);
        if (r < 0)
                goto out;
        /* Storage that loses what is renamed while it uploads (rclone): no directory rename
         * after the copy, the tree is built where it belongs, as GNU mv builds it. */
        in_place = !new->exists && tc.copy.caps.rename_after_write == VS_CAP_NO;
        built = in_place ? new->path.last : stage;
        if (mkdirat(new->dirfd, built, S_IRWXU) < 0) {
                r = in_place && errno == EEXIST && !(plan->flags & RENAME_NOREPLACE) ? -EAGAIN
                                                                                      : -errno;
                goto out;
        }
        staged = true;
        stage_fd = openat(new->dirfd, built, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (stage_fd < 0) {
                r = -errno;
                goto out;
        }
        /* Before anything is staged in it: a staging tree on the disk whose identity the
         * record lacks is removed by recovery only by its name. */
        r = vs_move_journal_staged(&journal, -1, new->dirfd, built,
                                   vs_durability_record_staged(&d, true));
        if (r < 0)
                goto out;

        struct timespec staged_from;
        clock_gettime(CLOCK_REALTIME, &staged_from);
        r = stage_tree(plan, source_fd, stage_fd, &tc, &d, &journal);
        stats->bytes = tc.copy.bytes;
        stats->methods = tc.copy.methods;
        stats->dropped = tc.copy.dropped;
        stats->entries = tc.entries + 1;
        if (r < 0)
                goto out;

        /* The source stays at its name until its copy is installed and proven: saves into
         * it by path meanwhile are kept (its entries go only where the copy matches). */
        struct statx now, staged_st;
        r = vs_fault_at(VS_STEP_VERIFY_SOURCE);
        if (r == 0)
                r = vs_statx(old->dirfd, old->path.last, &now);
        if (r == -ENOENT || (r == 0 && !vs_same_object_on(&tc.copy.src_caps, &now, &old->st)))
                r = -ESTALE; /* moved, removed or replaced since the plan: plan again */
        if (r == 0)
                r = vs_statx(stage_fd, "", &staged_st);
        if (r == 0)
                r = vs_install_verified(new, stage, &staged_st, in_place, plan->flags);
        if (r < 0)
                goto out;
        staged = false;
        installed = true;

        /* The point of no return: a failure from here on keeps the source (a duplicate at
         * its name that the record reports) and rename() returns 0. */
        vs_move_journal_phase(&journal, VS_JOURNAL_INSTALLED);
        int late = vs_fault_at(VS_STEP_FSYNC_TARGET_DIR);
        if (late == 0) /* the copy must be durable under its new name before the source goes */
                late = vs_durable_installed(&d, new->dirfd);
        if (late == 0) {
                vs_move_journal_phase(&journal, VS_JOURNAL_SOURCE_REMOVAL);
                late = remove_source(plan, source_fd, aside, &tc.copy, &staged_from, &kept);
        }
        if (late == 0)
                late = vs_fault_at(VS_STEP_FSYNC_SOURCE_DIR);
        /* The record goes only once the removal is as durable as it must be. */
        if (late == 0)
                late = vs_durable_removed(&d, old->dirfd);
        kept = kept || late < 0;
out:
        stats->flushes += vs_durability_flushes(&d, &journal);
        if (stage_fd >= 0) {
                /* Removed only while its name still leads to it: a staging directory that
                 * someone swapped is not ours. */
                struct statx mine, there;
                if (staged && vs_statx(stage_fd, "", &mine) == 0 &&
                    vs_statx(new->dirfd, built, &there) == 0 &&
                    vs_same_object_on(&tc.copy.caps, &mine, &there)) {
                        unsigned long removed = 0, left = 0;
                        (void)vs_remove_tree(new->dirfd, built, false, &removed, &left);
                }
                close(stage_fd);
        } else if (staged) {
                (void)unlinkat(new->dirfd, built, AT_REMOVEDIR); /* made but not opened */
        }
        /* Not installed: the source never left its name, and the record goes.  Installed
         * but the source stayed: the record lets recovery finish the move or report it. */
        vs_move_journal_end(&journal, !installed || !kept);
        close(source_fd);
        return r;
}

/* SPDX-License-Identifier: MIT */
/* One non-directory object copied to a new name: regular file, symlink or FIFO. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "move/internal.h"

/* A kept copy is written back a chunk at a time as it is copied (copy.c).  Measured on
 * ext4 on a loop device, a 1 MiB copy written back and waited for (medians of 100-150):
 * whole 755-837 us, 128 KiB chunks 657-796, 256 KiB 638-704, 512 KiB 629-690; the disk
 * writes one chunk while the next is copied, where a second core is free. */
#define VS_WRITEBACK_CHUNK (256 * 1024)

static int copy_regular(int src_dirfd, const char *src_name, struct statx *planned,
                        int dst_dirfd, const char *dst_name, struct vs_copy_ctx *ctx, int *keep_fd)
{
        int dst_fd = -1, r;
        /* Before this copy opens it: reading makes rclone show "now" until released. */
        struct statx settled = *planned, opened, after;
        vs_settle_times(src_dirfd, src_name, &ctx->src_caps, &settled, &ctx->settle_budget_ns);
        /* Reading must not touch the source's atime: a move that fails changes nothing.
         * O_NOATIME is the owner's (or CAP_FOWNER's) privilege; others read as usual. */
        const int flags = O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;
        int src_fd = openat(src_dirfd, src_name, flags | O_NOATIME);
        if (src_fd < 0 && errno == EPERM)
                src_fd = openat(src_dirfd, src_name, flags);
        if (src_fd < 0)
                return -errno;

        /* The copy describes the file as it is when opened (planned by name before: it must
         * be that object), and the final check below proves it unchanged until the copy is
         * whole, so a writer saving by path between the two looks spoils nothing.  Where
         * times are not stable (rclone shows "now" once opened) the settled times stay.  A
         * tree's entry was looked at by its walk right before this open: the copy describes
         * that, and the final check (same inode, size, times) finds a change or another
         * object at the name since then as it finds one during the copy (the tree copies
         * again): one statx per file fewer. */
        const struct statx *st = &settled;
        bool stable = ctx->src_caps.stable_times != VS_CAP_NO;
        if (!(stable && ctx->planned_fresh)) {
                r = vs_statx(src_fd, "", &opened);
                if (r == 0 && !vs_same_object_on(&ctx->src_caps, planned, &opened))
                        r = -EAGAIN; /* the name leads elsewhere now: the caller finds out */
                if (r < 0)
                        goto out;
                if (stable)
                        st = &opened;
        }
        r = vs_fault_at(VS_STEP_TEMP_CREATE);
        if (r == 0) /* the record before any name of ours */
                r = vs_move_journal_ordered(ctx->journal);
        if (r < 0)
                goto out;
        mode_t mode = ctx->hints.create_with_mode ? st->stx_mode & 0777 : 0600;
        dst_fd = openat(dst_dirfd, dst_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        mode);
        if (dst_fd < 0) {
                r = -errno;
                goto out;
        }

        /* Named in the durable record already; its identity proves it ours to recovery: the
         * object this create made, from its own descriptor (no lookup of the name again). */
        r = vs_move_journal_staged(ctx->journal, dst_fd, dst_dirfd, dst_name,
                                   VS_JOURNAL_SYNC_NONE);
        if (r == 0)
                r = vs_fault_at(VS_STEP_COPY_DATA);
        ctx->writeback_chunk = keep_fd && ctx->start_writeback ? VS_WRITEBACK_CHUNK : 0;
        if (r == 0)
                r = vs_copy_data(src_fd, dst_fd, st->stx_size,
                                 st->stx_blocks * 512 < st->stx_size, ctx);
        /* Every chunk's writeback is only begun (copy.c): the caller waits for the whole
         * file (durable.c) once the attributes and the record's line are written too, and a
         * failure shows again at that wait. */
        ctx->writeback_chunk = 0;
        if (r == 0)
                r = vs_fault_at(VS_STEP_COPY_ATTRS);
        if (r == 0)
                r = vs_attrs_copy(src_fd, dst_fd, dst_dirfd, dst_name, st, &ctx->hints);
        if (r == 0)
                r = vs_statx(src_fd, "", &after);
        /* A writer during the copy: never install a stale copy (the caller retries). */
        if (r == 0 && !vs_unchanged_on(&ctx->src_caps, st, &after))
                r = -EAGAIN;
        if (r == 0)
                *planned = *st;
out:
        if (dst_fd >= 0 && r == 0 && keep_fd) {
                *keep_fd = dst_fd;
        } else if (dst_fd >= 0) {
                close(dst_fd);
                if (r < 0)
                        unlinkat(dst_dirfd, dst_name, 0);
        }
        close(src_fd);
        return r;
}

/* A symlink (to target) or, without a target, a FIFO; then its attributes, or gone again. */
static int create_special(const char *target, const struct statx *st, int dst_dirfd,
                          const char *dst_name, struct vs_copy_ctx *ctx)
{
        int r = vs_fault_at(VS_STEP_TEMP_CREATE);
        if (r == 0) /* the record before any name of ours */
                r = vs_move_journal_ordered(ctx->journal);
        if (r < 0)
                return r;
        r = target ? symlinkat(target, dst_dirfd, dst_name)
                   : mknodat(dst_dirfd, dst_name, S_IFIFO | 0600, 0);
        if (r < 0)
                return -errno;
        r = vs_move_journal_staged(ctx->journal, -1, dst_dirfd, dst_name, VS_JOURNAL_SYNC_NONE);
        if (r == 0)
                r = vs_fault_at(VS_STEP_COPY_ATTRS);
        if (r == 0)
                r = vs_attrs_copy(-1, -1, dst_dirfd, dst_name, st, &ctx->hints);
        if (r < 0)
                unlinkat(dst_dirfd, dst_name, 0);
        return r;
}

static int copy_symlink(int src_dirfd, const char *src_name, const struct statx *st,
                        int dst_dirfd, const char *dst_name, struct vs_copy_ctx *ctx)
{
        char target[PATH_MAX];
        ssize_t len = readlinkat(src_dirfd, src_name, target, sizeof(target));
        if (len < 0)
                return -errno;
        if ((size_t)len >= sizeof(target))
                return -ENAMETOOLONG;
        target[len] = '\0';
        return create_special(target, st, dst_dirfd, dst_name, ctx);
}

int vs_node_copy(int src_dirfd, const char *src_name, struct statx *st, int dst_dirfd,
                 const char *dst_name, struct vs_copy_ctx *ctx, int *keep_fd)
{
        if (S_ISREG(st->stx_mode))
                return copy_regular(src_dirfd, src_name, st, dst_dirfd, dst_name, ctx, keep_fd);
        if (S_ISLNK(st->stx_mode))
                return copy_symlink(src_dirfd, src_name, st, dst_dirfd, dst_name, ctx);
        if (S_ISFIFO(st->stx_mode))
                return create_special(NULL, st, dst_dirfd, dst_name, ctx);
        return vs_not_emulated(VS_NOT_EMULATED_SPECIAL);
}
